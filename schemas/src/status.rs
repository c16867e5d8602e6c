//! A gateway's own state, reported to the cloud while it runs: how much is waiting in its outbox
//! and how much it had to set aside. The cloud raises `outbox_backlog` from it (a yard's records
//! are late even though the gateway is heard from). A status is telemetry, not a record: the
//! gateway sends it past its outbox, so a backlog cannot delay it, and a lost one is replaced by
//! the next.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Reason, ValidationError};

/// A gateway's outbox as it was at the envelope's `captured_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GatewayStatus {
    /// Records stored and acknowledged at the yard but not yet accepted by Kafka.
    pub outbox_pending: u64,
    /// When the oldest of them was stored, ms since the Unix epoch UTC; absent when none waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_pending_ms: Option<u64>,
    /// Records Kafka will never take (too large, refused), kept in the outbox's dead-letter
    /// table, in all.
    pub dead_lettered: u64,
    /// How often the gateway sends its status, seconds: the cloud knows when the next is due.
    pub interval_secs: u32,
}

impl GatewayStatus {
    /// Checks the oldest entry's time is given exactly when something waits, and the interval
    /// is at least a second.
    pub fn validate(&self) -> Checked {
        match (self.outbox_pending, self.oldest_pending_ms) {
            (0, Some(_)) => Err(ValidationError::new(
                "oldest_pending_ms",
                Reason::RequiredWith("a non-zero outbox_pending"),
            )),
            (1.., None) => Err(ValidationError::new(
                "oldest_pending_ms",
                Reason::RequiredWith("outbox_pending"),
            )),
            _ if self.interval_secs == 0 => Err(ValidationError::new(
                "interval_secs",
                Reason::NotPositive(0.0),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> GatewayStatus {
        GatewayStatus {
            outbox_pending: 120,
            oldest_pending_ms: Some(1_764_000_000_000),
            dead_lettered: 0,
            interval_secs: 60,
        }
    }

    #[test]
    fn a_waiting_outbox_names_its_oldest_entry_and_an_empty_one_does_not() {
        assert!(status().validate().is_ok());
        let mut s = status();
        s.oldest_pending_ms = None;
        assert_eq!(s.validate().unwrap_err().field, "oldest_pending_ms");
        let mut s = status();
        s.outbox_pending = 0;
        assert_eq!(s.validate().unwrap_err().field, "oldest_pending_ms");
        s.oldest_pending_ms = None;
        assert!(s.validate().is_ok());
        s.interval_secs = 0;
        assert_eq!(s.validate().unwrap_err().field, "interval_secs");
    }
}
