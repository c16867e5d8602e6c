//! The durable outbox between capture and Kafka.
//!
//! Design (longer version: `docs/outbox.md`):
//! - **Format.** One redb file, `<data_dir>/outbox.redb`. Table `outbox_entries_v1` maps a
//!   `u64` sequence number to `(enqueued_at_ms, kafka key, payload)`, where the payload is the
//!   wire bytes of one envelope (`schemas::encode`, signed with the gateway's key: see
//!   `crate::identity`) and the key its feedlot id. Table
//!   `outbox_meta_v1` holds `next_seq`, so sequence numbers never repeat, across restarts and
//!   even after the outbox drained. A format change gets new table names (`_v2`).
//! - **Capture.** [`OutboxWriter::append`] returns only after the redb write transaction holding
//!   the records committed with immediate durability (fsync). That is the moment an event counts
//!   as captured. Concurrent appends are group-committed: the writer task takes every request
//!   waiting in its queue into one transaction, then answers each.
//! - **Crash consistency.** redb commits are atomic: after a crash the file holds exactly the
//!   committed transactions, so an entry is either wholly present or absent, never torn.
//! - **Ordering.** Sequence numbers increase in commit order; the forwarder reads them in that
//!   order.
//! - **Bound.** `[outbox] max_bytes` / `max_entries` limit what may wait for Kafka. The byte
//!   count is kept in `outbox_meta_v1` (`stored_bytes`) in the same transaction as the entries.
//!   An append that does not fit is refused whole ([`OutboxError::Full`]): nothing stored is
//!   dropped and nothing is half-written; the caller reports it (serial capture logs and counts
//!   the lost events, MQTT does not acknowledge, the records API refuses the record).
//! - **Deletion.** An entry is deleted only by [`Outbox::remove`] after Kafka acknowledged it
//!   (`acks=all`). A crash between the acknowledgement and the removal sends it again on
//!   restart: at least once, never lost; consumers deduplicate on `event_id`.
//! - **Idempotency keys.** Table `outbox_idempotency_v1` remembers, for 7 days, the event a
//!   records-API request with an `Idempotency-Key` made, written in the same transaction as
//!   its entry, so a retried POST records once, across restarts too ([`once`]).

mod limits;
pub mod once;
mod store;
mod writer;

use std::path::PathBuf;

pub use limits::{OutboxConfig, OutboxFull, OutboxLimits, OutboxUsage};
pub use store::Outbox;
pub use writer::OutboxWriter;

/// One thing to forward: a Kafka key and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The Kafka message key (the feedlot id).
    pub key: String,
    /// The Kafka message value (an encoded envelope).
    pub payload: Vec<u8>,
    /// When it was appended, ms since the Unix epoch (for the oldest-unsent age).
    pub enqueued_at_ms: u64,
}

impl OutboxRecord {
    /// The record for an envelope: keyed by its feedlot, valued by its wire bytes (unsigned;
    /// the gateway appends through [`Self::signed`]).
    pub fn from_envelope(envelope: &schemas::Envelope) -> Self {
        Self {
            key: envelope.feedlot_id.clone(),
            payload: schemas::encode(envelope),
            enqueued_at_ms: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0),
        }
    }

    /// The record for an envelope signed with `key` (when given): what the gateway sends.
    pub fn signed(envelope: &schemas::Envelope, key: Option<&schemas::GatewayKey>) -> Self {
        match key {
            Some(key) => Self {
                payload: key.encode_signed(envelope),
                ..Self::from_envelope(envelope)
            },
            None => Self::from_envelope(envelope),
        }
    }
}

/// A stored record and its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Position in the outbox; increases with every append.
    pub seq: u64,
    /// The record.
    pub record: OutboxRecord,
}

/// Why the outbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The file could not be opened (missing directory, no permission, already open elsewhere).
    #[error("cannot open outbox {path}: {source}")]
    Open {
        /// The outbox file.
        path: PathBuf,
        /// The storage error.
        source: redb::Error,
    },
    /// A read or write transaction failed (disk full, I/O error).
    #[error("outbox storage error: {0}")]
    Storage(#[from] redb::Error),
    /// The append does not fit within the configured limits; nothing of it was written.
    #[error(transparent)]
    Full(OutboxFull),
    /// The writer task is gone (the gateway is shutting down) or it failed to commit a group;
    /// the records were not captured.
    #[error("outbox append failed: {0}")]
    Append(String),
}

macro_rules! storage_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for OutboxError {
            fn from(e: $t) -> Self {
                Self::Storage(e.into())
            }
        }
    )*};
}

storage_error_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
