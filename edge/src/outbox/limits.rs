//! The outbox's disk bound: configuration, what is stored, and the refusal when full.

use serde::{Deserialize, Serialize};

/// Per stored event, the bytes counted besides its key and payload (sequence number and
/// enqueue time).
pub const ENTRY_OVERHEAD_BYTES: u64 = 16;

/// How much the outbox may hold (`[outbox]` in the config). When an append would go past a
/// limit it is refused whole with [`super::OutboxError::Full`]: nothing already stored is
/// dropped, nothing is half-written, and the alarm `edge_outbox_full` is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Most bytes of events (Kafka key + payload + 16 bytes each) kept waiting for Kafka; `0`
    /// means unlimited. The redb file itself is larger (B-tree pages, free space it reuses):
    /// allow about twice this on disk. Example: `1073741824` (1 GiB, ~2.5 million weighings).
    pub max_bytes: u64,
    /// Most events kept waiting for Kafka; `0` means unlimited. Example: `1000000`.
    pub max_entries: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 30,
            max_entries: 0,
        }
    }
}

/// The limits an open outbox enforces (`0` = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxLimits {
    /// See [`OutboxConfig::max_bytes`].
    pub max_bytes: u64,
    /// See [`OutboxConfig::max_entries`].
    pub max_entries: u64,
}

impl OutboxLimits {
    /// No limit at all.
    pub const UNLIMITED: Self = Self {
        max_bytes: 0,
        max_entries: 0,
    };

    /// Whether `usage` plus `events` more events of `bytes` more bytes stays within the limits.
    pub fn admits(&self, usage: OutboxUsage, events: u64, bytes: u64) -> bool {
        let within =
            |limit: u64, now: u64, more: u64| limit == 0 || now.saturating_add(more) <= limit;
        within(self.max_entries, usage.entries, events)
            && within(self.max_bytes, usage.bytes, bytes)
    }
}

impl From<&OutboxConfig> for OutboxLimits {
    fn from(config: &OutboxConfig) -> Self {
        Self {
            max_bytes: config.max_bytes,
            max_entries: config.max_entries,
        }
    }
}

/// What the outbox holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxUsage {
    /// Events waiting for Kafka.
    pub entries: u64,
    /// Their bytes as counted against [`OutboxLimits::max_bytes`].
    pub bytes: u64,
}

/// An append refused because it would not fit; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "outbox full: {stored_entries} events / {stored_bytes} bytes stored (limits: {max_entries} events, {max_bytes} bytes, 0 = none); refused {refused_events} new events of {refused_bytes} bytes until Kafka drains it"
)]
pub struct OutboxFull {
    /// Events stored.
    pub stored_entries: u64,
    /// Bytes stored.
    pub stored_bytes: u64,
    /// The entry limit.
    pub max_entries: u64,
    /// The byte limit.
    pub max_bytes: u64,
    /// Events refused.
    pub refused_events: u64,
    /// Their bytes.
    pub refused_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_unlimited_and_a_limit_is_inclusive() {
        let usage = OutboxUsage {
            entries: 10,
            bytes: 1000,
        };
        assert!(OutboxLimits::UNLIMITED.admits(usage, u64::MAX, u64::MAX));
        let limits = OutboxLimits {
            max_bytes: 1100,
            max_entries: 11,
        };
        assert!(limits.admits(usage, 1, 100));
        assert!(!limits.admits(usage, 2, 100));
        assert!(!limits.admits(usage, 1, 101));
    }
}
