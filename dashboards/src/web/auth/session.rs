//! The browser session cookie: `v1.<user>.<expires unix s>.<HMAC-SHA256 hex>`, signed over the
//! user, the expiry and the user's token hash (see the parent module).

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Auth, User};

/// The cookie's name.
pub(super) const COOKIE: &str = "feedlot_session";

fn mac(key: &[u8], name: &str, expires: u64, user: &User) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(b"v1\n");
    mac.update(name.as_bytes());
    mac.update(format!("\n{expires}\n").as_bytes());
    mac.update(&user.token_sha256);
    Some(mac)
}

/// A session value for `user` that expires at `expires` (unix seconds).
pub(super) fn issue(auth: &Auth, user: &User, expires: u64) -> Option<String> {
    let signature = mac(&auth.session_key, &user.name, expires, user)?
        .finalize()
        .into_bytes();
    Some(format!(
        "v1.{}.{expires}.{}",
        user.name,
        hex::encode(signature)
    ))
}

/// The user of a session value, if it is well formed, correctly signed and not expired at `now`.
pub(super) fn verify<'a>(auth: &'a Auth, value: &str, now: u64) -> Option<&'a User> {
    let rest = value.strip_prefix("v1.")?;
    let (rest, signature) = rest.rsplit_once('.')?;
    let (name, expires) = rest.rsplit_once('.')?;
    let expires: u64 = expires.parse().ok()?;
    let signature = hex::decode(signature).ok()?;
    let user = auth.user_by_name(name)?;
    mac(&auth.session_key, name, expires, user)?
        .verify_slice(&signature)
        .ok()?;
    (now < expires).then_some(user)
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
    /// `Set-Cookie` for a new session of `user` from `now`.
    pub(super) fn session_cookie(&self, user: &User, now: u64) -> Option<String> {
        let value = issue(self, user, now + self.session_secs)?;
        Some(self.cookie(&value, self.session_secs))
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

    fn auth(secret: &str, token: &str) -> Auth {
        let mut web = WebConfig {
            session_secret: secret.into(),
            ..WebConfig::default()
        };
        web.users.push(WebUserConfig {
            name: "ops.a".into(),
            token_sha256: super::super::hash_token(token),
            feedlots: vec!["y".into()],
        });
        Auth::from_config(&web).unwrap()
    }

    #[test]
    fn a_session_verifies_until_it_expires_and_not_after_tampering_or_rotation() {
        let secret = "s".repeat(32);
        let a = auth(&secret, "token-one-0123456789");
        let value = issue(&a, &a.users[0], 1_000).unwrap();
        assert!(value.starts_with("v1.ops.a.1000."), "{value}");
        assert_eq!(verify(&a, &value, 999).unwrap().name, "ops.a");
        assert!(verify(&a, &value, 1_000).is_none(), "expired");
        let later = value.replace(".1000.", ".9999.");
        assert!(verify(&a, &later, 999).is_none(), "expiry moved");
        let mut flipped = value.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert!(verify(&a, &flipped, 999).is_none(), "signature changed");
        assert!(verify(&a, "v1.ops.a.1000", 999).is_none());
        assert!(verify(&a, "", 999).is_none());

        let other_key = auth(&"t".repeat(32), "token-one-0123456789");
        assert!(verify(&other_key, &value, 999).is_none(), "another secret");
        let rotated = auth(&secret, "token-two-0123456789");
        assert!(verify(&rotated, &value, 999).is_none(), "the token changed");
    }

    #[test]
    fn the_cookie_is_http_only_and_strict_and_found_among_others() {
        let a = auth("", "token-one-0123456789");
        let set = a.session_cookie(&a.users[0], 0).unwrap();
        assert!(
            set.contains("; HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(set.contains("Max-Age=43200"), "{set}");
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; feedlot_session=v1.x.1.ab".parse().unwrap(),
        );
        assert_eq!(from_headers(&headers), Some("v1.x.1.ab"));
    }
}
