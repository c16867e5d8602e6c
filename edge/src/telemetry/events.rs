//! Typed telemetry events: each `emit` writes the log line and updates the metric together.

use schemas::{Envelope, EventKind};

use super::{Metrics, device_labels, reason_labels};
use crate::outbox::OutboxFull;

/// A serial line that did not give a reading.
#[derive(Debug)]
pub struct LineRejected<'a> {
    /// The device that sent it.
    pub device: &'a str,
    /// Short reason label, see [`crate::readers::ParseError::reason`].
    pub reason: &'static str,
    /// The full error.
    pub error: &'a dyn std::error::Error,
    /// The line (empty when the bytes were not a line).
    pub line: &'a str,
}

impl LineRejected<'_> {
    /// Logs a warning and counts `edge_parse_errors_total{device, reason}`.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::warn!(device = self.device, reason = self.reason, error = %self.error, line = self.line, "device line not accepted");
        metrics
            .m
            .parse_errors
            .get_or_create(&reason_labels(self.device, self.reason))
            .inc();
    }
}

/// A serial port failed (a read, or writing a poll command); the reader reopens it.
#[derive(Debug)]
pub struct DeviceFailed<'a> {
    /// The device.
    pub device: &'a str,
    /// Short reason label: `read` or `poll_write`.
    pub reason: &'static str,
    /// The full error.
    pub error: &'a dyn std::error::Error,
}

impl DeviceFailed<'_> {
    /// Logs a warning and counts `edge_device_errors_total{device, reason}`.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::warn!(device = self.device, reason = self.reason, error = %self.error, "serial port failed; reopening");
        metrics
            .m
            .device_errors
            .get_or_create(&reason_labels(self.device, self.reason))
            .inc();
    }
}

/// Events whose outbox transaction committed: they are captured.
#[derive(Debug)]
pub struct EventsCaptured<'a> {
    /// The committed envelopes.
    pub envelopes: &'a [Envelope],
}

impl EventsCaptured<'_> {
    /// Logs `captured event_id=… device=… kind=…` at info for each (only ever after the
    /// commit: tests and operators may rely on it), and counts tag reads and weighings.
    pub fn emit(&self, metrics: &Metrics) {
        for envelope in self.envelopes {
            let kind = envelope.event.kind();
            tracing::info!(
                event_id = %envelope.event_id,
                device = %envelope.device_id,
                kind = kind.as_str(),
                "captured"
            );
            let family = match kind {
                EventKind::TagRead => &metrics.m.tag_reads,
                EventKind::Weighing => &metrics.m.weighings,
                _ => continue,
            };
            family
                .get_or_create(&device_labels(&envelope.device_id))
                .inc();
        }
    }
}

/// Events that were produced but could not be captured: they are lost, and said so.
#[derive(Debug)]
pub struct EventsLost<'a> {
    /// The envelopes that did not reach the outbox.
    pub envelopes: &'a [Envelope],
    /// Short reason label: `outbox_full` or `shutdown`.
    pub reason: &'static str,
    /// The outbox's error.
    pub error: &'a dyn std::error::Error,
}

impl EventsLost<'_> {
    /// Logs an error per event (with its id, device and kind) and counts
    /// `edge_events_lost_total{device, reason}`.
    pub fn emit(&self, metrics: &Metrics) {
        for envelope in self.envelopes {
            tracing::error!(
                event_id = %envelope.event_id,
                device = %envelope.device_id,
                kind = envelope.event.kind().as_str(),
                reason = self.reason,
                error = %self.error,
                "event LOST: not captured"
            );
            metrics
                .m
                .events_lost
                .get_or_create(&reason_labels(&envelope.device_id, self.reason))
                .inc();
        }
    }
}

/// The outbox refused an append because it is full.
#[derive(Debug)]
pub struct OutboxRefused<'a> {
    /// Why, with the numbers.
    pub full: &'a OutboxFull,
}

impl OutboxRefused<'_> {
    /// Logs an error, raises the `edge_outbox_full` alarm and counts the refused events.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::error!(
            stored_events = self.full.stored_entries,
            stored_bytes = self.full.stored_bytes,
            max_entries = self.full.max_entries,
            max_bytes = self.full.max_bytes,
            refused_events = self.full.refused_events,
            "ALARM outbox full: new events are refused until Kafka drains it"
        );
        metrics.m.outbox_full.set(1);
        metrics.m.outbox_refused.inc_by(self.full.refused_events);
    }
}

/// An outbox commit succeeded.
#[derive(Debug)]
pub struct OutboxCommitted {
    /// Events in it.
    pub events: usize,
}

impl OutboxCommitted {
    /// Clears the full alarm and the failing flag (there was room and the disk took it).
    pub fn emit(&self, metrics: &Metrics) {
        tracing::trace!(events = self.events, "outbox commit");
        metrics.m.outbox_full.set(0);
        metrics.m.outbox_commit_failing.set(0);
    }
}

/// An outbox commit failed with a storage error.
#[derive(Debug)]
pub struct OutboxCommitFailed<'a> {
    /// Requests in the failed group.
    pub requests: usize,
    /// The error.
    pub error: &'a str,
}

impl OutboxCommitFailed<'_> {
    /// Logs an error and counts it; raises `edge_outbox_commit_failing`.
    pub fn emit(&self, metrics: &Metrics) {
        tracing::error!(
            reason = self.error,
            requests = self.requests,
            "outbox commit failed"
        );
        metrics.m.outbox_commit_failures.inc();
        metrics.m.outbox_commit_failing.set(1);
    }
}

/// A forwarding round ended.
#[derive(Debug)]
pub struct ForwardRound<'a> {
    /// Events Kafka acknowledged (and that were removed).
    pub acked: usize,
    /// Events Kafka will never accept, moved to the outbox's dead-letter table.
    pub dead_lettered: usize,
    /// Events it did not acknowledge.
    pub failed: usize,
    /// The first failure.
    pub error: Option<&'a str>,
}

impl ForwardRound<'_> {
    /// Logs (debug when all went, a warning otherwise) and counts forwarded events and failures.
    pub fn emit(&self, metrics: &Metrics) {
        metrics.m.events_forwarded.inc_by(self.acked as u64);
        if self.dead_lettered > 0 {
            tracing::error!(
                dead_lettered = self.dead_lettered,
                "Kafka will never accept these events (see the outbox's dead-letter table); the events behind them go on"
            );
            metrics
                .m
                .events_dead_lettered
                .inc_by(self.dead_lettered as u64);
        }
        if self.failed == 0 {
            tracing::debug!(acked = self.acked, "forwarded");
            metrics.m.kafka_last_round_ok.set(1);
        } else {
            tracing::warn!(
                acked = self.acked,
                failed = self.failed,
                error = self.error.unwrap_or_default(),
                "Kafka did not acknowledge every event; they stay in the outbox and are retried"
            );
            metrics.m.forward_failures.inc_by(self.failed as u64);
            metrics.m.kafka_last_round_ok.set(0);
        }
    }
}
