//! Delivery by webhook: a JSON `POST` of the alert, signed like Stripe's webhooks so a receiver
//! can tell it came from us and is fresh.
//!
//! Headers: `X-Alert-Id` (the alert's id: the same on every retry, the receiver's idempotency
//! key), `X-Alert-Timestamp` (unix seconds) and `X-Alert-Signature: t=<timestamp>,v1=<hex>`,
//! where `<hex>` is HMAC-SHA256, keyed with the yard's `webhook_secret`, of
//! `<timestamp>.<body>`. See [`verify`] and `docs/alerts.md`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::Alert;

/// What a try came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Worth another try (connection failure, timeout, 408, 429, 5xx).
    Retry(String),
    /// Another try would fare the same (another 4xx, a bad URL).
    Permanent(String),
}

/// The body sent: the alert and a link to it.
#[derive(Debug, Serialize)]
struct Body<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    /// The alert's page, absolute when `alerts.public_url` is set.
    url: String,
}

/// The `X-Alert-Signature` value of `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &str, timestamp: u64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: this never fails.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Whether `header` (an `X-Alert-Signature`) signs `body` with `secret`, and its timestamp is
/// within `tolerance_secs` of `now_secs`: what a receiver checks. Compares in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8], now_secs: u64, tolerance_secs: u64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<u64>().ok(),
            Some(("v1", s)) => signatures.extend(hex::decode(s).ok()),
            _ => {}
        }
    }
    let Some(t) = timestamp else {
        return false;
    };
    if t.abs_diff(now_secs) > tolerance_secs {
        return false;
    }
    let expected = mac(secret, t, body);
    !expected.is_empty()
        && signatures
            .iter()
            .any(|s| subtle::ConstantTimeEq::ct_eq(s.as_slice(), expected.as_slice()).into())
}

/// Sends `alert` to `url`, signed with `secret`; `public_url` makes its link absolute.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    alert: &Alert,
    public_url: &str,
    timeout: Duration,
) -> Outcome {
    let body = match serde_json::to_vec(&Body {
        alert,
        url: format!("{}{}", public_url.trim_end_matches('/'), alert.link),
    }) {
        Ok(b) => b,
        Err(e) => return Outcome::Permanent(format!("cannot encode the alert: {e}")),
    };
    let timestamp = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let sent = http
        .post(url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("x-alert-id", &alert.alert_id)
        .header("x-alert-timestamp", timestamp.to_string())
        .header("x-alert-signature", signature(secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) => {
            let status = r.status();
            let reason = format!("{url} answered {status}");
            if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                Outcome::Retry(reason)
            } else {
                Outcome::Permanent(reason)
            }
        }
        Err(e) if e.is_builder() => Outcome::Permanent(format!("{url}: {e}")),
        Err(e) => Outcome::Retry(format!("{url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_body_and_a_fresh_timestamp() {
        let body = br#"{"alert_id":"abc"}"#;
        let header = signature("s3cret-0123456789", 1_000, body);
        assert!(header.starts_with("t=1000,v1="));
        assert!(verify("s3cret-0123456789", &header, body, 1_010, 300));
        assert!(!verify("other-secret-0123", &header, body, 1_010, 300));
        assert!(!verify("s3cret-0123456789", &header, b"{}", 1_010, 300));
        assert!(!verify("s3cret-0123456789", &header, body, 2_000, 300));
        assert!(!verify("s3cret-0123456789", "v1=00", body, 1_000, 300));
    }
}
