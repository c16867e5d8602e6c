//! Typed telemetry events: each `emit` writes its log line and updates its metrics together,
//! so a log and a dashboard never disagree.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Metrics;
use super::metrics::{KindLabels, PartitionLabels, ReasonLabels};

/// A batch came off the topic.
#[derive(Debug)]
pub struct BatchConsumed {
    /// Messages in it.
    pub messages: usize,
}

impl BatchConsumed {
    /// Records the batch size.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::trace!(messages = self.messages, "batch consumed");
        metrics.batch_messages.observe(self.messages as f64);
    }
}

/// ClickHouse accepted a batch's insert.
#[derive(Debug)]
pub struct BatchStored<'a> {
    /// Events per kind (`EventKind::as_str`).
    pub by_kind: &'a BTreeMap<&'static str, u64>,
    /// How long the successful insert took.
    pub insert_duration: Duration,
    /// Messages dead-lettered from the same batch.
    pub dead_letters: usize,
}

impl BatchStored<'_> {
    /// Counts the stored events by kind and records the insert latency.
    pub fn emit(&self, metrics: &Metrics) {
        let rows: u64 = self.by_kind.values().sum();
        tracing::debug!(
            rows,
            dead_letters = self.dead_letters,
            insert_ms = self.insert_duration.as_millis() as u64,
            "batch stored"
        );
        metrics
            .insert_seconds
            .observe(self.insert_duration.as_secs_f64());
        for (kind, n) in self.by_kind {
            metrics
                .stored
                .get_or_create(&KindLabels {
                    kind: (*kind).to_owned(),
                })
                .inc_by(*n);
        }
    }
}

/// A ClickHouse insert attempt failed; the same batch is retried after `retry_in`.
pub struct InsertFailed<'a> {
    /// What ClickHouse (or the connection) said.
    pub error: &'a dyn std::fmt::Display,
    /// Attempts so far for this batch, starting at 1.
    pub attempt: u32,
    /// The back-off before the next attempt.
    pub retry_in: Duration,
}

impl InsertFailed<'_> {
    /// Logs the failure and counts it (and the retry it causes).
    pub fn emit(&self, metrics: &Metrics) {
        tracing::warn!(
            error = %self.error,
            attempt = self.attempt,
            retry_in_ms = self.retry_in.as_millis() as u64,
            "clickhouse insert failed; retrying the same batch, nothing committed"
        );
        metrics.insert_failures.inc();
        metrics.insert_retries.inc();
    }
}

/// Why a message was dead-lettered, as a small fixed set for metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonClass {
    /// Not JSON, a missing or mistyped field, or an unknown kind.
    Undecodable,
    /// A newer major `schema_version` than this build reads.
    UnsupportedVersion,
    /// Decoded, but a value failed `Envelope::validate`.
    InvalidEvent,
    /// Valid, but ClickHouse refuses to store its row (see `sink::rejection`).
    Rejected,
    /// Not signed by an active key its gateway is enrolled with for its feedlot (unsigned,
    /// unknown key, bad signature, revoked key, feedlot not allowed; see `gateways::Refusal`).
    Unauthenticated,
}

impl ReasonClass {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::UnsupportedVersion => "unsupported_version",
            Self::InvalidEvent => "invalid_event",
            Self::Rejected => "rejected",
            Self::Unauthenticated => "unauthenticated",
        }
    }

    /// The class of a decode error.
    pub fn of_decode_error(error: &schemas::DecodeError) -> Self {
        match error {
            schemas::DecodeError::UnsupportedVersion { .. } => Self::UnsupportedVersion,
            _ => Self::Undecodable,
        }
    }
}

/// The dead-letter topic acknowledged a message.
#[derive(Debug)]
pub struct DeadLettered {
    /// Why it was dead-lettered.
    pub class: ReasonClass,
}

impl DeadLettered {
    /// Counts it by reason class (the dead-letter producer logs the full reason).
    pub fn emit(&self, metrics: &Metrics) {
        metrics
            .dead_letters
            .get_or_create(&ReasonLabels {
                reason: self.class.as_str().to_owned(),
            })
            .inc();
    }
}

/// Sending a dead letter failed; retried.
pub struct DeadLetterFailed<'a> {
    /// What the producer said.
    pub error: &'a dyn std::fmt::Display,
}

impl DeadLetterFailed<'_> {
    /// Logs and counts it.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::warn!(error = %self.error, "dead letter send failed; retrying");
        metrics.dead_letter_failures.inc();
    }
}

/// A stored batch's offsets were committed.
#[derive(Debug)]
pub struct OffsetsCommitted<'a> {
    /// `(topic, partition) -> next offset`.
    pub next: &'a BTreeMap<(String, i32), i64>,
}

impl OffsetsCommitted<'_> {
    /// Records the committed offset per partition.
    pub fn emit(&self, metrics: &Metrics) {
        for ((topic, partition), offset) in self.next {
            metrics
                .committed
                .get_or_create(&PartitionLabels {
                    topic: topic.clone(),
                    partition: *partition,
                })
                .set(*offset);
        }
    }
}

/// The broker refused an offset commit: the batch may be delivered again (and deduplicated).
pub struct OffsetCommitFailed<'a> {
    /// What the broker said.
    pub error: &'a dyn std::fmt::Display,
}

impl OffsetCommitFailed<'_> {
    /// Logs and counts it.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::warn!(error = %self.error, "offset commit failed; the batch may be delivered again");
        metrics.commit_failures.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_events_dead_letters_and_failures_appear_in_the_text_format() {
        let metrics = Metrics::new();
        let by_kind = BTreeMap::from([("weighing", 3), ("tag_read", 2)]);
        BatchConsumed { messages: 6 }.emit(&metrics);
        BatchStored {
            by_kind: &by_kind,
            insert_duration: Duration::from_millis(12),
            dead_letters: 1,
        }
        .emit(&metrics);
        DeadLettered {
            class: ReasonClass::Undecodable,
        }
        .emit(&metrics);
        InsertFailed {
            error: &"connection refused",
            attempt: 1,
            retry_in: Duration::from_millis(200),
        }
        .emit(&metrics);
        let text = metrics.encode();
        assert!(
            text.contains("ingest_events_stored_total{kind=\"weighing\"} 3"),
            "{text}"
        );
        assert!(text.contains("ingest_events_stored_total{kind=\"tag_read\"} 2"));
        assert!(text.contains("ingest_dead_letters_total{reason=\"undecodable\"} 1"));
        assert!(text.contains("ingest_insert_failures_total 1"));
        assert!(text.contains("ingest_batch_messages_count 1"));
        assert!(text.contains("ingest_insert_duration_seconds_count 1"));
    }
}
