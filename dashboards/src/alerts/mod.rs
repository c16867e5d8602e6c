//! Alerts (issue 14, item 1; `docs/alerts.md`): facts the cloud derives from a yard's daily
//! facts and records, raised once, listed on `/feedlots/{id}/alerts` where a user acknowledges
//! them, and delivered by signed webhook and by email with retries.
//!
//! ```text
//! facts + records ─▶ rules (per yard, its settings) ─▶ alerts (id = hash of rule, yard,
//!   subject, period: insert if absent) ─▶ alert_deliveries (per channel: pending, attempts,
//!   next try) ─▶ claim (alert_delivery_claims: one replica per attempt) ─▶ webhook / SMTP
//! ```
//!
//! An alert's id is derived from what it is about, so re-evaluating, restarting or running the
//! worker on several replicas never raises one twice; the tables are read with `FINAL`.

pub mod email;
pub mod planned;
pub mod rules;
pub mod settings;
pub mod store;
pub mod webhook;
pub mod worker;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use worker::Worker;

/// Why an alerts operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// ClickHouse refused or was unreachable.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    /// A delivery could not be made (the message says which channel and why).
    #[error("delivery: {0}")]
    Delivery(String),
    /// The alerts' tables are missing: `ingest migrate` has not run migration 13.
    #[error("no alerts table(s) {0} in the database: run `ingest migrate` (migration 13, alerts)")]
    NotMigrated(String),
}

/// One alert, as stored in `alerts` and sent to receivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct Alert {
    /// The yard.
    pub feedlot_id: String,
    /// [`alert_id`] of the rule, yard, subject and period.
    pub alert_id: String,
    /// The rule that raised it, e.g. `pulled_twice`.
    pub rule: String,
    /// What it is about: an animal's EID, a lot, an ingredient, a gateway.
    pub subject: String,
    /// Which occurrence: a day (`2026-12-01`) or another mark that changes when the condition
    /// starts over.
    pub period: String,
    /// One line naming the subject, e.g. `Animal 982… (lot L-1) pulled twice`.
    pub title: String,
    /// The numbers behind it.
    pub detail: String,
    /// The page to look at, a path on the site.
    pub link: String,
    /// When it was raised, ms since the epoch UTC.
    pub raised_at_ms: u64,
}

/// The id of the alert of `rule` about `subject` in `period` at `feedlot_id`: the first 32 hex
/// digits of the SHA-256 of the four, so the same condition always has the same id.
pub fn alert_id(rule: &str, feedlot_id: &str, subject: &str, period: &str) -> String {
    let mut h = Sha256::new();
    for part in [rule, feedlot_id, subject, period] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())[..32].to_owned()
}

impl Alert {
    /// An alert of `rule` about `subject` in `period`, its id derived from the four.
    pub fn new(
        feedlot_id: &str,
        rule: &str,
        subject: &str,
        period: &str,
        title: String,
        detail: String,
        link: String,
    ) -> Self {
        Self {
            feedlot_id: feedlot_id.to_owned(),
            alert_id: alert_id(rule, feedlot_id, subject, period),
            rule: rule.to_owned(),
            subject: subject.to_owned(),
            period: period.to_owned(),
            title,
            detail,
            link,
            raised_at_ms: 0,
        }
    }
}

/// Now, ms since the epoch UTC.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// `ms` as a UTC day, `YYYY-MM-DD`.
pub fn day_text(ms: u64) -> String {
    utc_text(ms, "%Y-%m-%d")
}

/// `YYYY-MM-DD hh:mm` (UTC) of `ms` since the epoch, for an alert's text.
pub fn minute_text(ms: u64) -> String {
    utc_text(ms, "%Y-%m-%d %H:%M")
}

fn utc_text(ms: u64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alerts_id_depends_on_each_part_and_nothing_else() {
        let a = alert_id("pulled_twice", "yard-a", "982000000000101", "2026-12-01");
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            alert_id("pulled_twice", "yard-a", "982000000000101", "2026-12-01")
        );
        assert_ne!(
            a,
            alert_id("pulled_twice", "yard-b", "982000000000101", "2026-12-01")
        );
        // Parts are length-prefixed: moving a boundary changes the id.
        assert_ne!(alert_id("ab", "c", "", ""), alert_id("a", "bc", "", ""));
        assert_eq!(day_text(1_790_834_400_000), "2026-10-01");
    }
}
