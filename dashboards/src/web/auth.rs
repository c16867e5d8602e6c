//! Who may read what: every route is closed by default and each yard's routes are open only to
//! that yard's users.
//!
//! **Users** come from `[[web.users]]` (see [`crate::config::WebConfig`]): a name, the SHA-256 of
//! a bearer token and the feedlots the user reads. Only the hash is kept; a presented token is
//! hashed and compared with every user's hash in constant time.
//!
//! **Credentials**: `Authorization: Bearer <token>` (API clients, scripts), else the
//! `feedlot_session` cookie that `/login` sets for browsers. The cookie is not the token: it is
//! `v2.<user>.<issued ms>.<last seen s>.<HMAC-SHA256 hex>`, signed with `web.session_secret`
//! over the user, both times and the user's token hash ([`session`]), so it expires
//! (`web.session_hours` after issue, `web.session_idle_minutes` after last use; the guard
//! re-signs it at most once a minute), cannot be forged without the secret, dies when the
//! user's token is changed or the user removed, and when the user signs out everywhere
//! ([`store`], shared by every replica through ClickHouse). It is `HttpOnly; SameSite=Strict;
//! Secure` (`Secure` unless `web.secure_cookie = false`).
//!
//! **Signing in**: the form (`POST /login`, the token in the body) or a one-time login code
//! from `dashboards login-link` (`GET /login?code=`, [`code`]): short-lived, used once across
//! replicas. No route takes the permanent token in a URL. Failed attempts are limited per
//! client address and per user name ([`limit`]): the 11th in 5 minutes answers 429.
//!
//! **The guard** ([`guard`]) is one layer over the whole router, deciding by path before routing,
//! so a route added later is covered without anyone remembering to:
//!
//! | path | no or expired credentials | bad bearer token | valid user |
//! |---|---|---|---|
//! | `/healthz`, `/login`, `/logout` | open | open | open |
//! | `/logout/everywhere` (POST) | as any other page | 401 | revokes the user's sessions |
//! | `/api/feedlots/{id}/…` | 401 JSON | 401 JSON | 403 JSON unless `id` is one of theirs |
//! | `/feedlots/{id}/…` | 303 to `/login?next=…` | 401 | 403 unless `id` is one of theirs |
//! | any other `/api/…` | 401 JSON | 401 JSON | served |
//! | any other page (`/`, …) | 303 to `/login?next=…` | 401 | served |
//!
//! Another yard's paths answer 403 with the same body whether that yard exists or not, and
//! before any query runs. `{id}` is percent-decoded as axum's `Path` decodes it, so the yard
//! checked is the yard the handler queries.

pub mod code;
pub mod limit;
mod login;
mod session;
pub mod store;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::config::{ConfigError, WebConfig};

/// The users and the session key; built once from the config.
#[derive(Default)]
pub struct Auth {
    users: Vec<User>,
    session_key: Vec<u8>,
    session_secs: u64,
    idle_secs: u64,
    secure_cookie: bool,
    limiter: limit::Limiter,
}

struct User {
    name: String,
    token_sha256: [u8; 32],
    feedlots: Arc<BTreeSet<String>>,
}

/// The authenticated user of a request, in its extensions for handlers that need it.
#[derive(Debug, Clone)]
pub struct Caller {
    name: String,
    feedlots: Arc<BTreeSet<String>>,
}

impl Caller {
    /// The user's name from the config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The feedlots this user reads, sorted.
    pub fn feedlots(&self) -> impl Iterator<Item = &str> {
        self.feedlots.iter().map(String::as_str)
    }

    /// Whether this user reads `feedlot_id`.
    pub fn may_read(&self, feedlot_id: &str) -> bool {
        self.feedlots.contains(feedlot_id)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
        f.debug_struct("Auth")
            .field("users", &names)
            .field("session_secs", &self.session_secs)
            .finish_non_exhaustive()
    }
}

/// The hex SHA-256 of `token`, as `[[web.users]] token_sha256` wants it.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token: 32 bytes from the OS, as 64 hex digits.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn now_unix() -> u64 {
    now_unix_ms() / 1000
}

/// Why `dashboards login-link` cannot make a link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginLinkError {
    /// No user of that name in the config.
    #[error("no web user named {0:?}")]
    UnknownUser(String),
    /// Minutes out of range.
    #[error("--minutes must be 1 to {max}", max = code::MAX_MINUTES)]
    Minutes,
    /// No randomness for the nonce.
    #[error("no OS randomness: {0}")]
    Random(getrandom::Error),
}

/// What a request's credentials come to.
enum Credentials<'a> {
    /// None sent.
    Missing,
    /// A bearer token (or `Authorization` header) no user has.
    BadToken,
    /// A session cookie that is expired, idle too long, tampered with or of a removed user.
    StaleSession,
    /// A known user by bearer token.
    Valid(Caller),
    /// A signed, unexpired session cookie (revocation still to check).
    Session(session::Session<'a>),
}

impl Auth {
    /// Users and session settings from validated `[web]` config. Without a session secret the
    /// key is random, so sessions last as long as this process.
    pub fn from_config(web: &WebConfig) -> Result<Self, ConfigError> {
        let mut users = Vec::with_capacity(web.users.len());
        for user in &web.users {
            let token_sha256 = user.token_digest().ok_or_else(|| ConfigError::Invalid {
                field: "web.users.token_sha256",
                reason: format!("user {:?}: must be 64 hex digits", user.name),
            })?;
            users.push(User {
                name: user.name.clone(),
                token_sha256,
                feedlots: Arc::new(user.feedlots.iter().cloned().collect()),
            });
        }
        let session_key = if web.session_secret.is_empty() {
            let mut key = vec![0u8; 32];
            getrandom::fill(&mut key).map_err(|e| ConfigError::Invalid {
                field: "web.session_secret",
                reason: format!("no OS randomness for a per-process key ({e}); set one"),
            })?;
            key
        } else {
            web.session_secret.as_bytes().to_vec()
        };
        Ok(Self {
            users,
            session_key,
            session_secs: u64::from(web.session_hours) * 3600,
            idle_secs: u64::from(web.session_idle_minutes) * 60,
            secure_cookie: web.secure_cookie,
            limiter: limit::Limiter::default(),
        })
    }

    /// `/login?code=…&next=…` (a path; prefix the site's address): a one-time login link for
    /// `user`, valid for `minutes`. Needs the servers' `web.session_secret` to be accepted.
    pub fn login_link(
        &self,
        user: &str,
        minutes: u32,
        next: &str,
    ) -> Result<String, LoginLinkError> {
        if !(1..=code::MAX_MINUTES).contains(&minutes) {
            return Err(LoginLinkError::Minutes);
        }
        let found = self
            .user_by_name(user)
            .ok_or_else(|| LoginLinkError::UnknownUser(user.to_owned()))?;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(LoginLinkError::Random)?;
        let expires = now_unix() + u64::from(minutes) * 60;
        let code = code::issue(self, found, expires, &hex::encode(nonce))
            .ok_or_else(|| LoginLinkError::UnknownUser(user.to_owned()))?;
        let next = percent_encoding::utf8_percent_encode(
            login::local_path(Some(next)),
            percent_encoding::NON_ALPHANUMERIC,
        );
        Ok(format!("/login?code={code}&next={next}"))
    }

    /// The user whose token this is. Every user's hash is compared, in constant time.
    fn user_by_token(&self, token: &str) -> Option<&User> {
        let digest = Sha256::digest(token.as_bytes());
        let mut found = None;
        for user in &self.users {
            if bool::from(user.token_sha256.ct_eq(digest.as_slice())) {
                found = Some(user);
            }
        }
        found
    }

    fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    fn credentials(&self, headers: &HeaderMap, now: u64) -> Credentials<'_> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .filter(|token| !token.is_empty());
            return match token.and_then(|t| self.user_by_token(t)) {
                Some(user) => Credentials::Valid(user.caller()),
                None => Credentials::BadToken,
            };
        }
        match session::from_headers(headers) {
            None => Credentials::Missing,
            Some(cookie) => match session::verify(self, cookie, now) {
                Some(session) => Credentials::Session(session),
                None => Credentials::StaleSession,
            },
        }
    }
}

impl User {
    fn caller(&self) -> Caller {
        Caller {
            name: self.name.clone(),
            feedlots: Arc::clone(&self.feedlots),
        }
    }
}

/// What a path needs.
#[derive(Debug, PartialEq)]
enum Scope {
    /// Anyone: health, login.
    Open,
    /// Any known user; `api` paths answer JSON.
    User { api: bool },
    /// A user of this yard (`None`: the path names no yard, e.g. `/feedlots`).
    Yard { api: bool, feedlot: Option<String> },
}

impl Scope {
    fn of(path: &str) -> Self {
        if matches!(path, "/healthz" | "/login" | "/logout") {
            return Self::Open;
        }
        let (api, rest) = match path.strip_prefix("/api") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => (true, rest),
            _ => (false, path),
        };
        let Some(after) = rest.strip_prefix("/feedlots") else {
            return Self::User { api };
        };
        if after.is_empty() {
            return Self::Yard { api, feedlot: None };
        }
        let Some(after) = after.strip_prefix('/') else {
            return Self::User { api }; // e.g. `/feedlotsx`: not a yard path.
        };
        let segment = after.split('/').next().unwrap_or_default();
        // Undecodable (not UTF-8) names no yard anyone has: refused below.
        let feedlot = percent_decode_str(segment)
            .decode_utf8()
            .map(|s| s.into_owned())
            .unwrap_or_else(|_| String::from("\u{fffd}invalid"));
        Self::Yard {
            api,
            feedlot: Some(feedlot),
        }
    }
}

/// The layer's function: refuses what the caller may not read (see the module doc), and puts
/// the [`Caller`] into the request's extensions.
pub(super) async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let scope = Scope::of(req.uri().path());
    if scope == Scope::Open {
        return next.run(req).await;
    }
    let api = matches!(
        scope,
        Scope::User { api: true } | Scope::Yard { api: true, .. }
    );
    let now_ms = now_unix_ms();
    let mut refreshed = None;
    let credentials = match state.auth.credentials(req.headers(), now_ms / 1000) {
        Credentials::Session(session) => {
            match state.sessions.valid_after_ms(&session.user.name).await {
                Ok(after) if session.issued_ms > after => {
                    refreshed = state.auth.refreshed_cookie(&session, now_ms / 1000);
                    Credentials::Valid(session.user.caller())
                }
                Ok(_) => Credentials::StaleSession,
                Err(e) => {
                    tracing::error!(error = %e, "sign-in state unavailable");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "sign-in state unavailable, try again",
                    )
                        .into_response();
                }
            }
        }
        other => other,
    };
    match credentials {
        Credentials::Valid(caller) => {
            if let Scope::Yard {
                feedlot: Some(feedlot),
                ..
            } = &scope
                && !caller.may_read(feedlot)
            {
                tracing::warn!(user = %caller.name, path = %req.uri().path(), "refused: not this user's feedlot");
                return login::forbidden(api);
            }
            let user = caller.name.clone();
            req.extensions_mut().insert(caller);
            // The reader's units (`super::units`); the default when the setting is unreadable.
            let units = match state.sessions.units_of(&user).await {
                Ok(chosen) => chosen.unwrap_or(state.default_units),
                Err(e) => {
                    tracing::warn!(error = %e, "user settings unavailable; default units");
                    state.default_units
                }
            };
            // The user of the cold-work limits (`super::cold`).
            let mut response =
                super::cold::with_user(user, super::units::with_units(units, next.run(req))).await;
            if let Some(cookie) = refreshed.and_then(|c| c.parse().ok())
                && !response.headers().contains_key(header::SET_COOKIE)
            {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Credentials::BadToken => {
            tracing::warn!(path = %req.uri().path(), "refused: unknown bearer token");
            unauthorized(api, "invalid_token", "that token is not valid")
        }
        Credentials::Missing if api => {
            unauthorized(true, "missing", "send Authorization: Bearer <token>")
        }
        // (`Session` was resolved above; it cannot reach here.)
        Credentials::StaleSession | Credentials::Session(_) if api => {
            unauthorized(true, "expired", "session expired")
        }
        stale_or_missing => {
            let clear = !matches!(stale_or_missing, Credentials::Missing);
            login::to_login(req.uri(), clear.then(|| state.auth.clear_cookie()))
        }
    }
}

fn unauthorized(api: bool, code: &'static str, message: &'static str) -> Response {
    let challenge = match code {
        "invalid_token" => r#"Bearer realm="feedlot", error="invalid_token""#,
        _ => r#"Bearer realm="feedlot""#,
    };
    let headers = [(header::WWW_AUTHENTICATE, challenge)];
    if api {
        let body = serde_json::json!({ "error": "unauthorized", "message": message });
        (StatusCode::UNAUTHORIZED, headers, axum::Json(body)).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            headers,
            login::message_page(message),
        )
            .into_response()
    }
}

/// `GET /` (the caller's yards), `GET|POST /login`, `POST /logout` and
/// `POST /logout/everywhere`, as (path, methods) for [`super::routes`].
pub(super) fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(login::index)),
        ("/login", get(login::form_or_code).post(login::submit)),
        ("/logout", post(login::logout)),
        ("/logout/everywhere", post(login::logout_everywhere)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_of_a_path_is_decided_by_its_first_segments() {
        let yard = |api, f: &str| Scope::Yard {
            api,
            feedlot: Some(f.into()),
        };
        assert_eq!(Scope::of("/healthz"), Scope::Open);
        assert_eq!(Scope::of("/metrics"), Scope::User { api: false });
        assert_eq!(Scope::of("/logout/everywhere"), Scope::User { api: false });
        assert_eq!(Scope::of("/healthz/x"), Scope::User { api: false });
        assert_eq!(Scope::of("/"), Scope::User { api: false });
        assert_eq!(Scope::of("/api/benchmarks"), Scope::User { api: true });
        assert_eq!(Scope::of("/apifeedlots/a"), Scope::User { api: false });
        assert_eq!(Scope::of("/feedlots/a/animals"), yard(false, "a"));
        assert_eq!(Scope::of("/api/feedlots/a%2Fb/x"), yard(true, "a/b"));
        assert_eq!(Scope::of("/feedlots/%3Cb%3E"), yard(false, "<b>"));
        assert_eq!(Scope::of("/feedlots//animals"), yard(false, ""));
        assert_eq!(
            Scope::of("/api/feedlots"),
            Scope::Yard {
                api: true,
                feedlot: None
            }
        );
        assert_eq!(Scope::of("/feedlots/%FF/x"), yard(false, "\u{fffd}invalid"));
    }

    #[test]
    fn a_token_finds_its_user_and_nothing_else_does() {
        let mut web = WebConfig::default();
        web.users.push(crate::config::WebUserConfig {
            name: "a".into(),
            token_sha256: hash_token("token-of-a-0123456789"),
            feedlots: vec!["yard-a".into()],
        });
        let auth = Auth::from_config(&web).unwrap();
        let user = auth.user_by_token("token-of-a-0123456789").unwrap();
        assert_eq!(user.name, "a");
        assert!(auth.user_by_token("token-of-a-012345678").is_none());
        assert!(auth.user_by_token("").is_none());
        assert_eq!(generate_token().unwrap().len(), 64);
        assert_ne!(generate_token().unwrap(), generate_token().unwrap());
    }
}
