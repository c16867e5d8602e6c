//! One-time login codes: `c1.<user>.<expires unix s>.<nonce hex>.<HMAC-SHA256 hex>`, signed with
//! the session key over the user, the expiry, a random nonce and the user's token hash.
//! `dashboards login-link` makes one; `GET /login?code=` exchanges it once for a session. A
//! code is refused after it expires, once its nonce is recorded as used (see [`super::store`]),
//! when the user's token changes or the user is removed. The permanent token never goes into a
//! URL.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Auth, User};

/// The longest a code may live, minutes.
pub const MAX_MINUTES: u32 = 60;

/// Why a code is refused.
#[derive(Debug, PartialEq)]
pub(super) enum Refused {
    /// Malformed, forged, of another key, or of a changed or removed user.
    Invalid,
    /// Past its expiry.
    Expired,
}

/// A verified code: its user and its nonce (to record as used).
pub(super) struct Code<'a> {
    pub(super) user: &'a User,
    pub(super) nonce: String,
}

fn mac(key: &[u8], name: &str, expires: u64, nonce: &str, user: &User) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(b"login code v1\n");
    mac.update(name.as_bytes());
    mac.update(format!("\n{expires}\n{nonce}\n").as_bytes());
    mac.update(&user.token_sha256);
    Some(mac)
}

/// A code for `user`, valid until `expires` (unix seconds), with `nonce` (hex).
pub(super) fn issue(auth: &Auth, user: &User, expires: u64, nonce: &str) -> Option<String> {
    let signature = mac(&auth.session_key, &user.name, expires, nonce, user)?
        .finalize()
        .into_bytes();
    Some(format!(
        "c1.{}.{expires}.{nonce}.{}",
        user.name,
        hex::encode(signature)
    ))
}

/// The user name a code claims, unverified (to rate-limit attempts by user).
pub(super) fn claimed_user(code: &str) -> Option<&str> {
    let rest = code.strip_prefix("c1.")?;
    let mut parts = rest.rsplitn(4, '.');
    parts.nth(3)
}

/// The user and nonce of `code`, if it is well formed, correctly signed and not expired at `now`.
pub(super) fn verify<'a>(auth: &'a Auth, code: &str, now: u64) -> Result<Code<'a>, Refused> {
    let rest = code.strip_prefix("c1.").ok_or(Refused::Invalid)?;
    let mut parts = rest.rsplitn(4, '.');
    let (Some(signature), Some(nonce), Some(expires), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused::Invalid);
    };
    let expires: u64 = expires.parse().map_err(|_| Refused::Invalid)?;
    let signature = hex::decode(signature).map_err(|_| Refused::Invalid)?;
    let nonce_ok = nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
    let user = auth.user_by_name(name).ok_or(Refused::Invalid)?;
    if !nonce_ok {
        return Err(Refused::Invalid);
    }
    mac(&auth.session_key, name, expires, nonce, user)
        .ok_or(Refused::Invalid)?
        .verify_slice(&signature)
        .map_err(|_| Refused::Invalid)?;
    if now >= expires {
        return Err(Refused::Expired);
    }
    Ok(Code {
        user,
        nonce: nonce.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{WebConfig, WebUserConfig};

    fn auth(secret: &str, token: &str) -> Auth {
        let web = WebConfig {
            session_secret: secret.into(),
            users: vec![WebUserConfig {
                name: "ops.a".into(),
                token_sha256: super::super::hash_token(token),
                feedlots: vec!["y".into()],
            }],
            ..WebConfig::default()
        };
        Auth::from_config(&web).unwrap()
    }

    #[test]
    fn a_code_verifies_until_it_expires_and_not_when_forged_or_the_user_changed() {
        let secret = "s".repeat(32);
        let a = auth(&secret, "token-one-0123456789");
        let nonce = "0123456789abcdef0123456789abcdef";
        let code = issue(&a, &a.users[0], 1_000, nonce).unwrap();
        assert_eq!(claimed_user(&code), Some("ops.a"));
        let ok = verify(&a, &code, 999).unwrap();
        assert_eq!((ok.user.name.as_str(), ok.nonce.as_str()), ("ops.a", nonce));
        assert_eq!(verify(&a, &code, 1_000).err(), Some(Refused::Expired));
        let later = code.replace(".1000.", ".9999.");
        assert_eq!(verify(&a, &later, 999).err(), Some(Refused::Invalid));
        let other_nonce = code.replace(nonce, &nonce.replace('0', "f"));
        assert_eq!(verify(&a, &other_nonce, 999).err(), Some(Refused::Invalid));
        let rotated = auth(&secret, "token-two-0123456789");
        assert_eq!(verify(&rotated, &code, 999).err(), Some(Refused::Invalid));
        // A session cookie is not a code, nor the reverse.
        let cookie = super::super::session::issue(&a, &a.users[0], 0, 0).unwrap();
        assert_eq!(verify(&a, &cookie, 1).err(), Some(Refused::Invalid));
        assert!(super::super::session::verify(&a, &code, 1).is_none());
    }
}
