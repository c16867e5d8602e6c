//! Bearer tokens and roles.

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiToken};

/// What a user does at the yard, and so what they may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Yard crew: arrivals, pen moves, deaths, shipments.
    Operator,
    /// Veterinarian: treatments and deaths.
    Vet,
    /// Manager: everything, including purchases, rations and yardage.
    Manager,
}

impl Role {
    /// The role's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Vet => "vet",
            Self::Manager => "manager",
        }
    }
}

/// The token presented in `Authorization: Bearer …`, matched against the configured ones.
pub fn authenticate<'a>(
    headers: &HeaderMap,
    tokens: &'a [ApiToken],
) -> Result<&'a ApiToken, ApiError> {
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthenticated)?;
    tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), presented.trim().as_bytes()))
        .ok_or(ApiError::Unauthenticated)
}

/// The token presented as `Authorization: Bearer <token>` or, for a browser (the chute tablet),
/// `Authorization: Basic` with the token as the password (any user name), matched against the
/// configured ones.
pub fn authenticate_page<'a>(
    headers: &HeaderMap,
    tokens: &'a [ApiToken],
) -> Result<&'a ApiToken, ApiError> {
    use base64::Engine;

    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let Some(basic) = basic else {
        return authenticate(headers, tokens);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .map_err(|_| ApiError::Unauthenticated)?;
    let decoded = String::from_utf8(decoded).map_err(|_| ApiError::Unauthenticated)?;
    let (_, presented) = decoded.split_once(':').ok_or(ApiError::Unauthenticated)?;
    tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), presented.as_bytes()))
        .ok_or(ApiError::Unauthenticated)
}

/// Compares without stopping at the first difference, so response times do not reveal how much
/// of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_bearer_token_authenticates() {
        let tokens = vec![ApiToken {
            token: "t-123".into(),
            user: "sam".into(),
            role: Role::Operator,
        }];
        let mut headers = HeaderMap::new();
        assert!(matches!(
            authenticate(&headers, &tokens),
            Err(ApiError::Unauthenticated)
        ));
        headers.insert("authorization", "Bearer t-124".parse().unwrap());
        assert!(authenticate(&headers, &tokens).is_err());
        headers.insert("authorization", "Bearer t-123".parse().unwrap());
        assert_eq!(authenticate(&headers, &tokens).unwrap().user, "sam");
    }

    #[test]
    fn a_page_takes_the_token_as_bearer_or_as_the_basic_password() {
        let tokens = vec![ApiToken {
            token: "t-123".into(),
            user: "sam".into(),
            role: Role::Vet,
        }];
        let mut headers = HeaderMap::new();
        assert!(authenticate_page(&headers, &tokens).is_err());
        // "chute:t-123" and "chute:t-124".
        headers.insert("authorization", "Basic Y2h1dGU6dC0xMjM=".parse().unwrap());
        assert_eq!(authenticate_page(&headers, &tokens).unwrap().user, "sam");
        headers.insert("authorization", "Basic Y2h1dGU6dC0xMjQ=".parse().unwrap());
        assert!(authenticate_page(&headers, &tokens).is_err());
        headers.insert("authorization", "Basic !!".parse().unwrap());
        assert!(authenticate_page(&headers, &tokens).is_err());
        headers.insert("authorization", "Bearer t-123".parse().unwrap());
        assert_eq!(authenticate_page(&headers, &tokens).unwrap().user, "sam");
    }
}
