//! The gateways' own reports: `gateway_status`.

use schemas::GatewayStatus;

use super::{Meta, event_row, row};

event_row! {
    /// A row of `gateway_status`.
    GatewayStatusRow {
        /// Records waiting in the gateway's outbox.
        outbox_pending: u64,
        /// When the oldest waiting record was stored, ms since the epoch UTC; 0 when none.
        oldest_pending_ms: u64,
        /// Records in the gateway's dead-letter table, in all.
        dead_lettered: u64,
        /// Seconds between the gateway's reports.
        interval_secs: u32,
    }
}

impl GatewayStatusRow {
    pub(super) fn new(m: &Meta, s: &GatewayStatus) -> Self {
        row!(GatewayStatusRow, m, {
            outbox_pending: s.outbox_pending,
            oldest_pending_ms: s.oldest_pending_ms.unwrap_or(0),
            dead_lettered: s.dead_lettered,
            interval_secs: s.interval_secs,
        })
    }
}
