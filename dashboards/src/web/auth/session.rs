//! The browser session cookie: `v2.<user>.<issued unix ms>.<last seen unix s>.<HMAC-SHA256 hex>`,
//! signed over the user, both times and the user's token hash (see the parent module). It ends
//! `session_hours` after it was issued, after `session_idle_minutes` unused, when the user signs
//! out everywhere (issued before the user's "valid after" in [`super::store`]), or when the
//! user's token changes or the user is removed.

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Auth, User};

/// The cookie's name.
pub(super) const COOKIE: &str = "feedlot_session";

/// A seen time older than this is refreshed (the cookie re-signed) on the next request.
pub(super) const REFRESH_SECS: u64 = 60;

/// A verified session cookie.
pub(super) struct Session<'a> {
    pub(super) user: &'a User,
    /// When it was issued, unix milliseconds (compared with a sign-out-everywhere).
    pub(super) issued_ms: u64,
    /// When it was last refreshed, unix seconds.
    pub(super) seen: u64,
}

fn mac(key: &[u8], name: &str, issued_ms: u64, seen: u64, user: &User) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(b"session v2\n");
    mac.update(name.as_bytes());
    mac.update(format!("\n{issued_ms}\n{seen}\n").as_bytes());
    mac.update(&user.token_sha256);
    Some(mac)
}

/// A session value for `user` issued at `issued_ms` and last seen at `seen` (unix seconds).
pub(super) fn issue(auth: &Auth, user: &User, issued_ms: u64, seen: u64) -> Option<String> {
    let signature = mac(&auth.session_key, &user.name, issued_ms, seen, user)?
        .finalize()
        .into_bytes();
    Some(format!(
        "v2.{}.{issued_ms}.{seen}.{}",
        user.name,
        hex::encode(signature)
    ))
}

/// The session of a value, if it is well formed, correctly signed, and neither expired nor idle
/// too long at `now` (unix seconds). Revocation is the caller's to check.
pub(super) fn verify<'a>(auth: &'a Auth, value: &str, now: u64) -> Option<Session<'a>> {
    let rest = value.strip_prefix("v2.")?;
    let (rest, signature) = rest.rsplit_once('.')?;
    let (rest, seen) = rest.rsplit_once('.')?;
    let (name, issued_ms) = rest.rsplit_once('.')?;
    let issued_ms: u64 = issued_ms.parse().ok()?;
    let seen: u64 = seen.parse().ok()?;
    let signature = hex::decode(signature).ok()?;
    let user = auth.user_by_name(name)?;
    mac(&auth.session_key, name, issued_ms, seen, user)?
        .verify_slice(&signature)
        .ok()?;
    let expires = issued_ms / 1000 + auth.session_secs;
    let idle_until = seen.saturating_add(auth.idle_secs);
    (now < expires && now < idle_until).then_some(Session {
        user,
        issued_ms,
        seen,
    })
}

/// The session cookie's value among the request's `Cookie` headers.
pub(super) fn from_headers(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

impl Auth {
    /// `Set-Cookie` for a new session of `user` at `now_ms` (unix milliseconds).
    pub(super) fn session_cookie(&self, user: &User, now_ms: u64) -> Option<String> {
        let value = issue(self, user, now_ms, now_ms / 1000)?;
        Some(self.cookie(&value, self.session_secs))
    }

    /// `Set-Cookie` re-signing `session` as seen at `now`, if it was last seen a while ago.
    pub(super) fn refreshed_cookie(&self, session: &Session<'_>, now: u64) -> Option<String> {
        if now < session.seen + REFRESH_SECS {
            return None;
        }
        let value = issue(self, session.user, session.issued_ms, now)?;
        let left = (session.issued_ms / 1000 + self.session_secs).saturating_sub(now);
        Some(self.cookie(&value, left))
    }

    /// `Set-Cookie` that deletes the session.
    pub(super) fn clear_cookie(&self) -> String {
        self.cookie("", 0)
    }

    fn cookie(&self, value: &str, max_age_secs: u64) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!(
            "{COOKIE}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{WebConfig, WebUserConfig};

    fn auth(secret: &str, token: &str, user: &str) -> Auth {
        let mut web = WebConfig {
            session_secret: secret.into(),
            ..WebConfig::default()
        };
        web.users.push(WebUserConfig {
            name: user.into(),
            token_sha256: super::super::hash_token(token),
            feedlots: vec!["y".into()],
        });
        Auth::from_config(&web).unwrap()
    }

    #[test]
    fn a_session_verifies_until_it_expires_and_not_after_tampering_rotation_or_removal() {
        let secret = "s".repeat(32);
        let a = auth(&secret, "token-one-0123456789", "ops.a");
        let value = issue(&a, &a.users[0], 1_000_000, 1_000).unwrap();
        assert!(value.starts_with("v2.ops.a.1000000.1000."), "{value}");
        assert_eq!(verify(&a, &value, 1_001).unwrap().user.name, "ops.a");
        let idle_end = 1_000 + 60 * 60;
        assert!(verify(&a, &value, idle_end - 1).is_some());
        assert!(verify(&a, &value, idle_end).is_none(), "idle too long");
        let later = value.replace(".1000.", ".9999.");
        assert!(verify(&a, &later, 1_001).is_none(), "seen moved");
        let mut flipped = value.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert!(verify(&a, &flipped, 1_001).is_none(), "signature changed");
        assert!(verify(&a, "v2.ops.a.1000000.1000", 1_001).is_none());
        assert!(verify(&a, "", 1_001).is_none());

        // Seen recently but issued longer ago than session_hours: expired.
        let old = issue(&a, &a.users[0], 0, 12 * 3600 - 10).unwrap();
        assert!(verify(&a, &old, 12 * 3600 - 5).is_some());
        assert!(verify(&a, &old, 12 * 3600).is_none(), "expired");

        let other_key = auth(&"t".repeat(32), "token-one-0123456789", "ops.a");
        assert!(
            verify(&other_key, &value, 1_001).is_none(),
            "another secret"
        );
        let rotated = auth(&secret, "token-two-0123456789", "ops.a");
        assert!(
            verify(&rotated, &value, 1_001).is_none(),
            "the token changed"
        );
        let removed = auth(&secret, "token-one-0123456789", "ops.b");
        assert!(
            verify(&removed, &value, 1_001).is_none(),
            "the user removed"
        );
    }

    #[test]
    fn the_cookie_is_secure_http_only_and_strict_by_default_and_refreshed_after_a_minute() {
        let a = auth("", "token-one-0123456789", "ops.a");
        let set = a.session_cookie(&a.users[0], 0).unwrap();
        for part in ["; HttpOnly", "SameSite=Strict", "; Secure", "Max-Age=43200"] {
            assert!(set.contains(part), "{part} in {set}");
        }
        let value = set
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("feedlot_session=");
        let session = verify(&a, value.unwrap(), 30).unwrap();
        assert!(a.refreshed_cookie(&session, 30).is_none());
        let refreshed = a.refreshed_cookie(&session, 90).unwrap();
        assert!(refreshed.contains(".0.90."), "{refreshed}");
        assert!(refreshed.contains("Max-Age=43110"), "{refreshed}");
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; feedlot_session=v2.x.1.1.ab".parse().unwrap(),
        );
        assert_eq!(from_headers(&headers), Some("v2.x.1.1.ab"));
    }
}
