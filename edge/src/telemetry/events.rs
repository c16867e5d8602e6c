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
    /// Counts forwarded events and failures, and logs a condition once when it begins and
    /// once when it ends: a warning at the first failed round (with the error), `debug` for
    /// every failed round after it (the outbox keeps the events, nothing new to say), `info`
    /// at the first fully acknowledged round after failures, `debug` otherwise. Whether the
    /// last round failed is the `edge_kafka_last_round_ok` gauge the forwarder alone sets.
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
        let was_failing = metrics.m.kafka_last_round_ok.get() == 0;
        if self.failed == 0 {
            if was_failing {
                tracing::info!(
                    acked = self.acked,
                    "Kafka acknowledges events again; the outbox drains"
                );
            } else {
                tracing::debug!(acked = self.acked, "forwarded");
            }
            metrics.m.kafka_last_round_ok.set(1);
        } else {
            if was_failing {
                tracing::debug!(
                    acked = self.acked,
                    failed = self.failed,
                    error = self.error.unwrap_or_default(),
                    "Kafka still does not acknowledge every event"
                );
            } else {
                tracing::warn!(
                    acked = self.acked,
                    failed = self.failed,
                    error = self.error.unwrap_or_default(),
                    "Kafka did not acknowledge every event; they stay in the outbox and are retried (logged again when Kafka acknowledges them)"
                );
            }
            metrics.m.forward_failures.inc_by(self.failed as u64);
            metrics.m.kafka_last_round_ok.set(0);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

    use std::sync::{Arc, Mutex};

    use super::*;

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn round(failed: usize) -> ForwardRound<'static> {
        ForwardRound {
            acked: 1,
            dead_lettered: 0,
            failed,
            error: (failed > 0).then_some("Message timed out"),
        }
    }

    #[test]
    fn an_unreachable_broker_is_warned_about_once_and_its_recovery_logged_once() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let metrics = Metrics::new();
        tracing::subscriber::with_default(subscriber, || {
            round(0).emit(&metrics);
            for _ in 0..5 {
                round(3).emit(&metrics);
            }
            round(0).emit(&metrics);
            round(0).emit(&metrics);
            round(2).emit(&metrics);
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].contains("WARN") && lines[0].contains("Message timed out"),
            "{text}"
        );
        assert!(
            lines[1].contains("INFO") && lines[1].contains("acknowledges events again"),
            "{text}"
        );
        assert!(
            lines[2].contains("WARN"),
            "a new outage is warned about: {text}"
        );
        assert_eq!(metrics.kafka_last_round_ok(), Some(false));
    }
}
