//! The gateway's metrics, and the typed events that update them.
//!
//! [`Metrics`] owns one Prometheus registry per gateway (no global recorder, so several
//! gateways in one test process keep their own numbers). Components do not touch the counters
//! directly: they emit an event from [`events`] (e.g. [`events::LineRejected`]), whose `emit`
//! writes the log line and bumps the counter together, so the log and `/metrics` never
//! disagree. The outbox gauges (depth, bytes, oldest unsent age) are read from the store when
//! `/metrics` is scraped; see [`Metrics::observe_outbox`].
//!
//! Every metric and its labels are listed in `docs/edge-operations.md`.

pub mod events;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::outbox::{OutboxLimits, OutboxUsage};

/// The `Content-Type` of [`Metrics::encode`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Labels naming a serial device.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeviceLabels {
    /// The configured `device_id`.
    pub device: String,
}

/// Labels naming a device and why its line or event was refused or lost.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeviceReasonLabels {
    /// The configured `device_id` (or the source, e.g. `truck-T7`).
    pub device: String,
    /// A short machine-readable reason, e.g. `no_shape`, `outbox_full`.
    pub reason: String,
}

/// Labels naming an input of the gateway (as `/healthz` lists it).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InputLabels {
    /// The input's name: `serial:<device_id>`, `mqtt:<link>` or `forwarder`.
    pub input: String,
    /// What it is: `serial`, `mqtt` or `forwarder`.
    pub kind: String,
}

/// A gauge holding an `f64` (seconds).
type SecondsGauge = Gauge<f64, AtomicU64>;

#[derive(Debug)]
struct Families {
    tag_reads: Family<DeviceLabels, Counter>,
    weighings: Family<DeviceLabels, Counter>,
    parse_errors: Family<DeviceReasonLabels, Counter>,
    device_errors: Family<DeviceReasonLabels, Counter>,
    events_lost: Family<DeviceReasonLabels, Counter>,
    events_forwarded: Counter,
    forward_failures: Counter,
    events_dead_lettered: Counter,
    kafka_last_round_ok: Gauge,
    outbox_depth: Gauge,
    outbox_bytes: Gauge,
    outbox_max_bytes: Gauge,
    outbox_max_entries: Gauge,
    outbox_oldest_unsent_age: SecondsGauge,
    outbox_full: Gauge,
    outbox_refused: Counter,
    outbox_commit_failures: Counter,
    outbox_commit_failing: Gauge,
    input_up: Family<InputLabels, Gauge>,
    outbox_volume_free: Gauge,
    outbox_volume_size: Gauge,
    mqtt_refusals: Family<DeviceReasonLabels, Counter>,
}

/// The gateway's metrics: cheap to clone, every clone updates the same numbers.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    m: Arc<Families>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Counts `edge_mqtt_refusals_total{device, reason}` (the MQTT front logs the refusal).
    pub fn count_mqtt_refusal(&self, account: &str, reason: &str) {
        self.m
            .mqtt_refusals
            .get_or_create(&reason_labels(account, reason))
            .inc();
    }

    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let m = Families {
            tag_reads: Family::default(),
            weighings: Family::default(),
            parse_errors: Family::default(),
            device_errors: Family::default(),
            events_lost: Family::default(),
            events_forwarded: Counter::default(),
            forward_failures: Counter::default(),
            events_dead_lettered: Counter::default(),
            kafka_last_round_ok: Gauge::default(),
            outbox_depth: Gauge::default(),
            outbox_bytes: Gauge::default(),
            outbox_max_bytes: Gauge::default(),
            outbox_max_entries: Gauge::default(),
            outbox_oldest_unsent_age: SecondsGauge::default(),
            outbox_full: Gauge::default(),
            outbox_refused: Counter::default(),
            outbox_commit_failures: Counter::default(),
            outbox_commit_failing: Gauge::default(),
            input_up: Family::default(),
            outbox_volume_free: Gauge::default(),
            outbox_volume_size: Gauge::default(),
            mqtt_refusals: Family::default(),
        };
        m.kafka_last_round_ok.set(-1);
        let mut r = Registry::with_prefix("edge");
        r.register(
            "tag_reads",
            "Tag reads captured (after dedup, committed to the outbox), per RFID reader",
            m.tag_reads.clone(),
        );
        r.register(
            "weighings",
            "Weighings captured (tag paired with a stable weight, committed), per scale",
            m.weighings.clone(),
        );
        r.register(
            "parse_errors",
            "Serial lines not accepted, per device and reason",
            m.parse_errors.clone(),
        );
        r.register(
            "device_errors",
            "Serial port failures, per device and reason (read, poll_write); the port is reopened",
            m.device_errors.clone(),
        );
        r.register(
            "events_lost",
            "Events that could not be captured, per device and reason (each also logged as an error)",
            m.events_lost.clone(),
        );
        r.register(
            "mqtt_refusals",
            "MQTT device connections or packets the front refused, per account (`anonymous`, `unknown`) and reason",
            m.mqtt_refusals.clone(),
        );
        r.register(
            "events_forwarded",
            "Events acknowledged by Kafka and removed from the outbox",
            m.events_forwarded.clone(),
        );
        r.register(
            "forward_failures",
            "Event sends Kafka did not acknowledge (kept in the outbox and retried)",
            m.forward_failures.clone(),
        );
        r.register(
            "events_dead_lettered",
            "Events Kafka will never accept (e.g. too large), moved from the outbox to its local dead-letter table",
            m.events_dead_lettered.clone(),
        );
        r.register(
            "kafka_last_round_ok",
            "1 if the last forwarding round was fully acknowledged, 0 if not, -1 before the first round",
            m.kafka_last_round_ok.clone(),
        );
        r.register(
            "outbox_depth",
            "Events in the outbox waiting for Kafka",
            m.outbox_depth.clone(),
        );
        r.register(
            "outbox_bytes",
            "Bytes of events stored in the outbox (keys and payloads), counted against outbox.max_bytes",
            m.outbox_bytes.clone(),
        );
        r.register(
            "outbox_max_bytes",
            "The configured outbox.max_bytes (0: unlimited)",
            m.outbox_max_bytes.clone(),
        );
        r.register(
            "outbox_max_entries",
            "The configured outbox.max_entries (0: unlimited)",
            m.outbox_max_entries.clone(),
        );
        r.register(
            "outbox_oldest_unsent_age_seconds",
            "Age of the oldest event in the outbox (0 when empty)",
            m.outbox_oldest_unsent_age.clone(),
        );
        r.register(
            "outbox_full",
            "ALARM: 1 since the outbox refused an append for lack of room, 0 again after the next accepted one",
            m.outbox_full.clone(),
        );
        r.register(
            "outbox_refused_events",
            "Events the outbox refused because it was full",
            m.outbox_refused.clone(),
        );
        r.register(
            "outbox_commit_failures",
            "Outbox commits that failed with a storage error (retried)",
            m.outbox_commit_failures.clone(),
        );
        r.register(
            "outbox_commit_failing",
            "1 while the last outbox commit failed with a storage error",
            m.outbox_commit_failing.clone(),
        );
        r.register(
            "input_up",
            "1 while the input (serial device, MQTT link, forwarder) is up, 0 while starting, down or stopped",
            m.input_up.clone(),
        );
        r.register(
            "outbox_volume_free_bytes",
            "Bytes free for the gateway on the file system holding data_dir (the outbox)",
            m.outbox_volume_free.clone(),
        );
        r.register(
            "outbox_volume_size_bytes",
            "Size in bytes of the file system holding data_dir (the outbox)",
            m.outbox_volume_size.clone(),
        );
        Self {
            registry: Arc::new(r),
            m: Arc::new(m),
        }
    }

    /// Every metric in the Prometheus text format (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }

    /// Sets the outbox gauges from a reading of the store.
    pub fn observe_outbox(
        &self,
        usage: OutboxUsage,
        limits: OutboxLimits,
        oldest_age_seconds: f64,
    ) {
        self.m.outbox_depth.set(to_i64(usage.entries));
        self.m.outbox_bytes.set(to_i64(usage.bytes));
        self.m.outbox_max_bytes.set(to_i64(limits.max_bytes));
        self.m.outbox_max_entries.set(to_i64(limits.max_entries));
        self.m.outbox_oldest_unsent_age.set(oldest_age_seconds);
    }

    /// Sets `edge_input_up` for every input in `inputs` (name, kind, up or not).
    pub fn observe_inputs<'a>(&self, inputs: impl IntoIterator<Item = (&'a str, &'a str, bool)>) {
        for (input, kind, up) in inputs {
            self.m
                .input_up
                .get_or_create(&InputLabels {
                    input: input.to_owned(),
                    kind: kind.to_owned(),
                })
                .set(i64::from(up));
        }
    }

    /// Sets the outbox volume gauges: bytes free for the gateway and the file system's size.
    pub fn observe_volume(&self, free_bytes: u64, size_bytes: u64) {
        self.m.outbox_volume_free.set(to_i64(free_bytes));
        self.m.outbox_volume_size.set(to_i64(size_bytes));
    }

    /// Whether the outbox-full alarm is raised.
    pub fn outbox_full(&self) -> bool {
        self.m.outbox_full.get() != 0
    }

    /// Whether the last outbox commit failed with a storage error.
    pub fn outbox_commit_failing(&self) -> bool {
        self.m.outbox_commit_failing.get() != 0
    }

    /// The last forwarding round's outcome: `None` before the first round.
    pub fn kafka_last_round_ok(&self) -> Option<bool> {
        match self.m.kafka_last_round_ok.get() {
            -1 => None,
            v => Some(v == 1),
        }
    }

    /// Tag reads captured from `device` so far.
    pub fn tag_reads(&self, device: &str) -> u64 {
        self.m.tag_reads.get_or_create(&device_labels(device)).get()
    }

    /// Weighings captured from `device` so far.
    pub fn weighings(&self, device: &str) -> u64 {
        self.m.weighings.get_or_create(&device_labels(device)).get()
    }

    /// Lines from `device` not accepted for `reason` so far.
    pub fn parse_errors(&self, device: &str, reason: &str) -> u64 {
        self.m
            .parse_errors
            .get_or_create(&reason_labels(device, reason))
            .get()
    }

    /// Port failures of `device` for `reason` (`read`, `poll_write`) so far.
    pub fn device_errors(&self, device: &str, reason: &str) -> u64 {
        self.m
            .device_errors
            .get_or_create(&reason_labels(device, reason))
            .get()
    }

    /// Events from `device` lost for `reason` so far.
    pub fn events_lost(&self, device: &str, reason: &str) -> u64 {
        self.m
            .events_lost
            .get_or_create(&reason_labels(device, reason))
            .get()
    }

    /// Events the outbox refused for lack of room so far.
    pub fn outbox_refused_events(&self) -> u64 {
        self.m.outbox_refused.get()
    }
}

fn device_labels(device: &str) -> DeviceLabels {
    DeviceLabels {
        device: device.to_owned(),
    }
}

fn reason_labels(device: &str, reason: &str) -> DeviceReasonLabels {
    DeviceReasonLabels {
        device: device.to_owned(),
        reason: reason.to_owned(),
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_every_metric_with_the_edge_prefix() {
        let metrics = Metrics::new();
        metrics.observe_outbox(
            OutboxUsage {
                entries: 3,
                bytes: 1200,
            },
            OutboxLimits {
                max_bytes: 10_000,
                max_entries: 0,
            },
            2.5,
        );
        let text = metrics.encode();
        for line in [
            "edge_outbox_depth 3",
            "edge_outbox_bytes 1200",
            "edge_outbox_max_bytes 10000",
            "edge_outbox_oldest_unsent_age_seconds 2.5",
            "edge_outbox_full 0",
            "edge_events_forwarded_total 0",
            "edge_forward_failures_total 0",
            "edge_kafka_last_round_ok -1",
            "edge_outbox_volume_free_bytes 0",
            "edge_outbox_volume_size_bytes 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
    }

    #[test]
    fn inputs_and_the_volume_show_as_gauges() {
        let metrics = Metrics::new();
        metrics.observe_inputs([
            ("serial:rfid-1", "serial", true),
            ("serial:scale-1", "serial", false),
        ]);
        metrics.observe_volume(1_000, 4_000);
        let text = metrics.encode();
        for line in [
            "edge_input_up{input=\"serial:rfid-1\",kind=\"serial\"} 1",
            "edge_input_up{input=\"serial:scale-1\",kind=\"serial\"} 0",
            "edge_outbox_volume_free_bytes 1000",
            "edge_outbox_volume_size_bytes 4000",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        // A device that comes back is up again on the same series.
        metrics.observe_inputs([("serial:scale-1", "serial", true)]);
        assert!(
            metrics
                .encode()
                .lines()
                .any(|l| l == "edge_input_up{input=\"serial:scale-1\",kind=\"serial\"} 1")
        );
    }
}

#[cfg(test)]
mod exported {
    use super::*;

    use testkit::metrics::{listed_names, sample_names};

    /// The checked-in list the chart's dashboards and alerting rules are checked against
    /// (scripts/check-monitoring.sh): it must name exactly what the gateway exports.
    #[test]
    fn the_chart_list_of_exported_metrics_is_what_the_registry_exports() {
        let listed = listed_names(include_str!(
            "../../../helm/feedlot/files/prometheus/exported/edge.txt"
        ));
        let metrics = Metrics::new();
        // A family shows in the exposition once it has a series: give each one.
        metrics.tag_reads("d");
        metrics.weighings("d");
        metrics.parse_errors("d", "r");
        metrics.events_lost("d", "r");
        metrics.observe_inputs([("forwarder", "forwarder", true)]);
        let exported = sample_names(&metrics.encode());
        assert_eq!(
            listed,
            exported,
            "update helm/feedlot/files/prometheus/exported/edge.txt to:\n{}",
            exported.join("\n")
        );
    }
}
