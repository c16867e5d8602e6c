//! `[web]`: the listen address and who may read which yards' pages.
//!
//! Users are known by the SHA-256 of a bearer token (`dashboards hash-token` makes one); the token
//! itself is never stored. Each user reads only the yards in its `feedlots` (see
//! `docs/dashboards.md`).

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Web server settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Listen address, e.g. `127.0.0.1:8080`. Env: `DASHBOARDS_WEB_LISTEN`.
    pub listen: String,
    /// Who may read which yards, e.g.
    /// `[[web.users]] name = "sandhills-manager"  token_sha256 = "9f86…"  feedlots = ["sandhills"]`.
    /// With none (here or in `users_file`) no yard page is served to anyone.
    pub users: Vec<WebUserConfig>,
    /// A TOML file of more `[[users]]` (same fields), e.g. a mounted Kubernetes Secret at
    /// `/etc/feedlot-users/users.toml`. Env: `DASHBOARDS_WEB_USERS_FILE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_file: Option<PathBuf>,
    /// Key signing browser session cookies, at least 32 characters, the same on every replica,
    /// e.g. the output of `openssl rand -hex 32`. Empty: a random key per process (sessions end
    /// at restart and work only on the replica that issued them). Env:
    /// `DASHBOARDS_WEB_SESSION_SECRET`. Never printed.
    pub session_secret: String,
    /// How long a browser session lasts after login, hours, e.g. `12` (1 to 720).
    pub session_hours: u32,
    /// A browser session unused for this long ends, minutes, e.g. `60` (1 to 10080).
    pub session_idle_minutes: u32,
    /// Marks the session cookie `Secure` (sent over HTTPS only). On by default; turn it off only
    /// for plain HTTP on loopback, e.g. `false` for a local demo.
    pub secure_cookie: bool,
    /// A second listener for `/metrics` and `/healthz` (Prometheus, probes), e.g.
    /// `0.0.0.0:9090`; keep it off the public network. Empty: `/metrics` is served nowhere.
    /// The public listener never serves `/metrics`. Env: `DASHBOARDS_WEB_OPS_LISTEN`.
    pub ops_listen: String,
    /// Cold reports (a lot, pen, feed or animals dashboard not in the cache: read from the
    /// yard's facts in ClickHouse, ~0.1-0.3 s on a big yard) running at once on this replica,
    /// e.g. `4` (1 to 256). Cache hits never wait for one.
    pub cold_reports: u32,
    /// Cold reports one user may have running at once, e.g. `2` (1 to `cold_reports`); one more
    /// is refused at once with 429 and `Retry-After`, never queued.
    pub cold_reports_per_user: u32,
    /// How long a cold report waits for one of `cold_reports` before it is refused with 503 and
    /// `Retry-After` (the server, not the user, is busy), ms, e.g. `10000` (1 to 60000).
    pub cold_report_wait_ms: u64,
    /// Yard reports kept in memory at once, all yards together, e.g. `64` (1 to 4096). When
    /// full, the yard holding the most explicit `?as_of=` reports loses its oldest.
    pub report_cache_slots: u32,
    /// Explicit `?as_of=` reports one yard may hold, e.g. `8` (1 to `report_cache_slots`): a
    /// new one evicts that yard's oldest, never another yard's. A yard's "now" reports do not
    /// count here and are kept in preference.
    pub report_cache_slots_per_yard: u32,
    /// The units of a user who has not chosen (each user switches on any page), `"us"` (lb,
    /// $/cwt) or `"metric"` (kg, $/kg).
    pub default_units: crate::web::units::Units,
}

/// One user of the pages and API.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebUserConfig {
    /// Who this is, for logs and the page header, e.g. `sandhills-manager` (letters, digits,
    /// `-`, `_`, `.`, `@`; unique).
    pub name: String,
    /// SHA-256 of the user's token as 64 hex digits, from `dashboards hash-token`, e.g.
    /// `"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`. Never printed.
    pub token_sha256: String,
    /// The yards (feedlot ids) this user reads, e.g. `["sandhills", "platte-north"]`; at least one.
    pub feedlots: Vec<String>,
}

/// The layout of `users_file`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    users: Vec<WebUserConfig>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            users: Vec::new(),
            users_file: None,
            session_secret: String::new(),
            session_hours: 12,
            session_idle_minutes: 60,
            secure_cookie: true,
            ops_listen: String::new(),
            cold_reports: 4,
            cold_reports_per_user: 2,
            cold_report_wait_ms: 10_000,
            report_cache_slots: 64,
            report_cache_slots_per_yard: 8,
            default_units: crate::web::units::Units::Us,
        }
    }
}

impl fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebConfig")
            .field("listen", &self.listen)
            .field("users", &self.users)
            .field("users_file", &self.users_file)
            .field("session_secret", &redacted(&self.session_secret))
            .field("session_hours", &self.session_hours)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("secure_cookie", &self.secure_cookie)
            .field("ops_listen", &self.ops_listen)
            .field("cold_reports", &self.cold_reports)
            .field("cold_reports_per_user", &self.cold_reports_per_user)
            .field("cold_report_wait_ms", &self.cold_report_wait_ms)
            .field("report_cache_slots", &self.report_cache_slots)
            .field(
                "report_cache_slots_per_yard",
                &self.report_cache_slots_per_yard,
            )
            .finish()
    }
}

impl fmt::Debug for WebUserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebUserConfig")
            .field("name", &self.name)
            .field("token_sha256", &redacted(&self.token_sha256))
            .field("feedlots", &self.feedlots)
            .finish()
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "<redacted>" }
}

impl WebUserConfig {
    /// The token hash as bytes, if it is 64 hex digits.
    pub fn token_digest(&self) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(self.token_sha256.trim(), &mut out).ok()?;
        Some(out)
    }
}

impl WebConfig {
    /// Appends the users of `users_file`, if one is set ([`crate::Config::load`] does this; a
    /// caller building its config by hand calls it before `validate`).
    pub fn load_users_file(&mut self) -> Result<(), ConfigError> {
        let Some(path) = &self.users_file else {
            return Ok(());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        // `e` reads " field `users[0].name`: …" (the path inside the users file) or ": …".
        let file: UsersFile =
            ingest::config::parse_toml(&text).map_err(|e| ConfigError::Invalid {
                field: "web.users_file",
                reason: format!("{}{e}", path.display()),
            })?;
        self.users.extend(file.users);
        Ok(())
    }

    /// Checks users and session settings.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: String| Err(ConfigError::Invalid { field, reason });
        if !(1..=720).contains(&self.session_hours) {
            return invalid("web.session_hours", "must be 1 to 720".into());
        }
        if !(1..=10_080).contains(&self.session_idle_minutes) {
            return invalid("web.session_idle_minutes", "must be 1 to 10080".into());
        }
        if !self.ops_listen.is_empty() && self.ops_listen == self.listen {
            return invalid(
                "web.ops_listen",
                "must differ from web.listen (the public listener never serves /metrics)".into(),
            );
        }
        if !self.session_secret.is_empty() && self.session_secret.len() < 32 {
            return invalid(
                "web.session_secret",
                "must be at least 32 characters (or empty for a per-process key)".into(),
            );
        }
        self.validate_limits()?;
        let (mut names, mut hashes) = (BTreeSet::new(), BTreeSet::new());
        for user in &self.users {
            let name = &user.name;
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
            if !name_ok {
                return invalid(
                    "web.users.name",
                    format!("{name:?}: 1 to 64 letters, digits, '-', '_', '.', '@'"),
                );
            }
            if !names.insert(name.as_str()) {
                return invalid("web.users.name", format!("{name:?} appears twice"));
            }
            let Some(digest) = user.token_digest() else {
                return invalid(
                    "web.users.token_sha256",
                    format!("user {name:?}: must be 64 hex digits (see `dashboards hash-token`)"),
                );
            };
            if !hashes.insert(digest) {
                return invalid(
                    "web.users.token_sha256",
                    format!("user {name:?} shares its token with another user"),
                );
            }
            if user.feedlots.is_empty() {
                return invalid(
                    "web.users.feedlots",
                    format!("user {name:?}: list at least one feedlot"),
                );
            }
            if let Some(bad) = user
                .feedlots
                .iter()
                .find(|f| f.trim().is_empty() || f.chars().any(char::is_control))
            {
                return invalid(
                    "web.users.feedlots",
                    format!("user {name:?}: {bad:?} is not a feedlot id"),
                );
            }
        }
        Ok(())
    }
}

impl WebConfig {
    /// Checks the bounds on cold reports and the report cache.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: String| Err(ConfigError::Invalid { field, reason });
        if !(1..=256).contains(&self.cold_reports) {
            return invalid("web.cold_reports", "must be 1 to 256".into());
        }
        if !(1..=self.cold_reports).contains(&self.cold_reports_per_user) {
            return invalid(
                "web.cold_reports_per_user",
                format!("must be 1 to web.cold_reports ({})", self.cold_reports),
            );
        }
        if !(1..=60_000).contains(&self.cold_report_wait_ms) {
            return invalid("web.cold_report_wait_ms", "must be 1 to 60000".into());
        }
        if !(1..=4096).contains(&self.report_cache_slots) {
            return invalid("web.report_cache_slots", "must be 1 to 4096".into());
        }
        if !(1..=self.report_cache_slots).contains(&self.report_cache_slots_per_yard) {
            return invalid(
                "web.report_cache_slots_per_yard",
                format!(
                    "must be 1 to web.report_cache_slots ({})",
                    self.report_cache_slots
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn users(toml: &str) -> Result<Config, String> {
        let config = Config::from_toml(toml).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn users_parse_with_several_feedlots_and_their_hash_is_never_printed() {
        let config = users(&format!(
            "[web]\nsession_secret = \"{}\"\n[[web.users]]\nname = \"sandhills-manager\"\n\
             token_sha256 = \"{HASH}\"\nfeedlots = [\"sandhills\", \"platte-north\"]\n",
            "k".repeat(40)
        ))
        .unwrap();
        let user = &config.web.users[0];
        assert_eq!(user.feedlots, ["sandhills", "platte-north"]);
        assert_eq!(user.token_digest().unwrap()[0], 0x9f);
        let printed = format!("{config:?}");
        assert!(
            !printed.contains(HASH) && !printed.contains("kkkk"),
            "{printed}"
        );
        assert!(printed.contains("sandhills-manager"), "{printed}");
    }

    #[test]
    fn bad_users_are_refused_naming_the_field() {
        let user = |name: &str, hash: &str, feedlots: &str| {
            format!(
                "[[web.users]]\nname = \"{name}\"\ntoken_sha256 = \"{hash}\"\nfeedlots = {feedlots}\n"
            )
        };
        let cases = [
            (user("a", "abc", "[\"y\"]"), "token_sha256"),
            (
                user("a", &HASH.replace('9', "g"), "[\"y\"]"),
                "token_sha256",
            ),
            (user("a", HASH, "[]"), "feedlots"),
            (user("a", HASH, "[\" \"]"), "feedlots"),
            (user("a b", HASH, "[\"y\"]"), "name"),
            (
                user("a", HASH, "[\"y\"]") + &user("a", &HASH.replace('9', "8"), "[\"y\"]"),
                "twice",
            ),
            (
                user("a", HASH, "[\"y\"]") + &user("b", HASH, "[\"y\"]"),
                "shares its token",
            ),
            ("[web]\nsession_secret = \"short\"".into(), "session_secret"),
            ("[web]\nsession_hours = 0".into(), "session_hours"),
            ("[web]\ncold_reports = 0".into(), "web.cold_reports"),
            (
                "[web]\ncold_reports = 2\ncold_reports_per_user = 3".into(),
                "web.cold_reports_per_user",
            ),
            (
                "[web]\ncold_report_wait_ms = 0".into(),
                "cold_report_wait_ms",
            ),
            (
                "[web]\nreport_cache_slots = 4\nreport_cache_slots_per_yard = 5".into(),
                "report_cache_slots_per_yard",
            ),
        ];
        for (toml, expected) in cases {
            let err = users(&toml).unwrap_err();
            assert!(err.contains(expected), "{toml}\n=> {err}");
        }
        assert!(users("[[web.users]]\nname = \"a\"\ntoken = \"x\"\nfeedlots = [\"y\"]").is_err());
    }

    #[test]
    fn a_users_file_named_by_the_environment_adds_its_users() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(
            &path,
            format!("[[users]]\nname = \"ops\"\ntoken_sha256 = \"{HASH}\"\nfeedlots = [\"y\"]\n"),
        )
        .unwrap();
        let mut config = Config::default();
        config.apply_env(|name| {
            (name == "DASHBOARDS_WEB_USERS_FILE").then(|| path.display().to_string())
        });
        config.web.load_users_file().unwrap();
        config.validate().unwrap();
        assert_eq!(config.web.users[0].name, "ops");

        std::fs::write(&path, "[[users]]\nname = \"ops\"\n").unwrap();
        let err = config.web.load_users_file().unwrap_err().to_string();
        assert!(err.contains("web.users_file"), "{err}");
    }
}
