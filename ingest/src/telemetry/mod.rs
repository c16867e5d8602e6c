//! The consumer's telemetry: typed events that write the log line and bump the Prometheus
//! metric together (served as text at `GET /metrics` of the ops listener, see [`crate::ops`]),
//! and the consumer-lag sampler. The pages' metrics are the `dashboards` crate's.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `ingest_consumer_lag_messages` | gauge | `topic`, `partition`: high watermark minus the consumer's position |
//! | `ingest_committed_offset` | gauge | `topic`, `partition`: next offset committed after a stored batch |
//! | `ingest_batch_messages` | histogram | messages per consumed batch |
//! | `ingest_insert_duration_seconds` | histogram | one batch's ClickHouse insert, successful attempts |
//! | `ingest_events_stored_total` | counter | `kind`: events in batches ClickHouse accepted |
//! | `ingest_dead_letters_total` | counter | `reason`: `undecodable`, `unsupported_version`, `invalid_event` |
//! | `ingest_insert_failures_total` | counter | failed insert attempts (each is retried) |
//! | `ingest_insert_retries_total` | counter | attempts after a failure |
//! | `ingest_dead_letter_failures_total` | counter | dead-letter sends that failed (retried) |
//! | `ingest_offset_commit_failures_total` | counter | offset commits the broker refused |
//!
//! Counts of stored events are of deliveries: a redelivered event is counted again, while
//! ClickHouse stores it once (see `docs/pipeline-operations.md`).

mod events;
mod lag;
mod metrics;

pub use events::{
    BatchConsumed, BatchStored, DeadLetterFailed, DeadLettered, InsertFailed, OffsetCommitFailed,
    OffsetsCommitted, ReasonClass,
};
pub use lag::sample_lag;
pub use metrics::Metrics;
