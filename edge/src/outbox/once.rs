//! Idempotency keys: a record sent again with the key of its first send is recorded once.
//!
//! Table `outbox_idempotency_v1` maps a client-made UUIDv7 (as `u128`) to `(event_id,
//! fingerprint)`: the event the first send recorded and a SHA-256 of what was sent. The key is
//! inserted in the same write transaction as the record's outbox entry, so after a crash either
//! both exist or neither. Keys are kept [`RETENTION_DAYS`] by the time inside the UUIDv7
//! (pruned in every keyed append); a key older than that is refused up front
//! ([`key_in_window`]) rather than silently recording twice.

use uuid::Uuid;

/// How long a key is remembered, days (by the time the client wrote into the key).
pub const RETENTION_DAYS: i64 = 7;

/// How far a key's time may be ahead of the gateway's clock, ms (a phone's clock is often off;
/// a key far in the future would never be pruned).
pub const MAX_KEY_AHEAD_MS: i64 = 24 * 3600 * 1000;

/// What a keyed append asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The client's key (a UUIDv7).
    pub key: Uuid,
    /// The event this send would record.
    pub event_id: Uuid,
    /// SHA-256 of what was sent (who, which kind, the body, the time asked for).
    pub fingerprint: [u8; 32],
}

/// What a keyed append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once {
    /// First send: recorded at this sequence number.
    Appended(u64),
    /// The key was seen with the same request: nothing recorded; this is the event it made.
    Replayed(Uuid),
    /// The key was seen with a different request (the event it made): nothing recorded.
    Conflict(Uuid),
}

/// The key's time, ms since the Unix epoch (the first 48 bits of a UUIDv7).
pub fn key_time_ms(key: Uuid) -> i64 {
    // 48 bits always fit an i64.
    i64::try_from(key.as_u128() >> 80).unwrap_or(i64::MAX)
}

/// The smallest key still kept at `now_ms`: every key below it is older than the retention.
pub fn oldest_kept(now_ms: i64) -> u128 {
    let cutoff = now_ms.saturating_sub(RETENTION_DAYS * 86_400_000).max(0);
    u128::from(cutoff.unsigned_abs()) << 80
}

/// Whether a key's time lies in what the gateway remembers: not older than the retention,
/// not more than [`MAX_KEY_AHEAD_MS`] ahead. Outside it a retry could not be recognised.
pub fn key_in_window(key: Uuid, now_ms: i64) -> bool {
    key.as_u128() >= oldest_kept(now_ms) && key_time_ms(key) <= now_ms + MAX_KEY_AHEAD_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_remembered_for_seven_days_by_the_time_inside_it() {
        let now_ms = 1_780_000_000_000;
        let at = |ms: i64| {
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                u64::try_from(ms / 1000).unwrap(),
                u32::try_from((ms % 1000) * 1_000_000).unwrap(),
            );
            Uuid::new_v7(ts)
        };
        assert_eq!(key_time_ms(at(now_ms)), now_ms);
        assert!(key_in_window(at(now_ms), now_ms));
        assert!(key_in_window(at(now_ms - 6 * 86_400_000), now_ms));
        assert!(!key_in_window(at(now_ms - 8 * 86_400_000), now_ms));
        assert!(key_in_window(at(now_ms + 3_600_000), now_ms));
        assert!(!key_in_window(at(now_ms + 2 * 86_400_000), now_ms));
    }
}
