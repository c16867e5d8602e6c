//! Delivery by email over SMTP (`lettre`, tokio, rustls): one plain-text message per alert to
//! the yard's recipients. Its `Message-ID` is derived from the alert's id
//! (`<id@feedlot-alerts>`), so a retry after a lost answer is the same message to mail clients.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Alert;
use super::webhook::Outcome;

/// The SMTP client.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// A client of the server at `url` (`smtp://`, `smtps://`; see `alerts.smtp_url`).
pub fn transport(url: &str, timeout: Duration) -> Result<Transport, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|b| b.timeout(Some(timeout)).build())
        .map_err(|e| format!("alerts.smtp_url: {e}"))
}

/// The `Message-ID` of `alert`'s email.
pub fn message_id(alert: &Alert) -> String {
    format!("<{}@feedlot-alerts>", alert.alert_id)
}

/// `alert`'s email from `from` to `to`; `public_url` makes its link absolute.
pub fn message(
    from: &str,
    to: &[&str],
    alert: &Alert,
    public_url: &str,
) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("alerts.email_from: {e}"))?,
        )
        .subject(format!("[{}] {}", alert.feedlot_id, alert.title))
        .message_id(Some(message_id(alert)))
        .header(ContentType::TEXT_PLAIN);
    for address in to {
        builder = builder.to(address
            .parse()
            .map_err(|e| format!("recipient {address:?}: {e}"))?);
    }
    let link = format!("{}{}", public_url.trim_end_matches('/'), alert.link);
    let alerts = format!(
        "{}/feedlots/{}/alerts",
        public_url.trim_end_matches('/'),
        alert.feedlot_id
    );
    let body = format!(
        "{}\n\n{}\n\nYard: {}\nRule: {}\nAlert id: {}\n\nDetails: {link}\nAcknowledge: {alerts}\n",
        alert.title, alert.detail, alert.feedlot_id, alert.rule, alert.alert_id
    );
    builder
        .body(body)
        .map_err(|e| format!("building the email: {e}"))
}

/// Sends `alert` to the comma-separated `recipients` through `transport`, giving up after
/// `timeout` for the whole session (lettre bounds the connection, not a server that stops
/// answering mid-session, e.g. to `QUIT`).
pub async fn send(
    transport: &Transport,
    from: &str,
    recipients: &str,
    alert: &Alert,
    public_url: &str,
    timeout: Duration,
) -> Outcome {
    let to: Vec<&str> = recipients
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    let message = match message(from, &to, alert, public_url) {
        Ok(m) => m,
        Err(e) => return Outcome::Permanent(e),
    };
    match tokio::time::timeout(timeout, transport.send(message)).await {
        Ok(Ok(_)) => Outcome::Delivered,
        Ok(Err(e)) if e.is_permanent() => Outcome::Permanent(format!("smtp: {e}")),
        Ok(Err(e)) => Outcome::Retry(format!("smtp: {e}")),
        Err(_) => Outcome::Retry(format!("smtp: no answer within {timeout:?}")),
    }
}
