//! The benchmark harness: each measured case runs in its own child process (so its peak RSS is
//! its own), next to a baseline doing the same work with the bare library, in the same run.
//! Results are reported as ratios (ours / baseline), never as absolute pass/fail thresholds.
//!
//! Cases (see `docs/benchmarks.md`):
//! - `outbox`: gateway capture into the redb outbox (concurrent appends, group commit) vs redb's
//!   raw batched writes of the same records.
//! - `forwarder`: the gateway forwarder draining an outbox to Kafka vs a bare rdkafka producer
//!   with the same settings sending the same bytes.
//! - `ingest`: the ingest pipeline (Kafka → ClickHouse) vs `clickhouse-client` inserting the
//!   same rows.
//! - `mqtt`: the gateway's embedded broker vs mosquitto under the same publish/subscribe load;
//!   the memory reported is the broker process's (see [`mqtt`](mod@mqtt)).

mod cases;
mod data;
pub mod mqtt;

use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::Value;

pub use cases::{CaseOptions, run_case};
pub use mqtt::serve_embedded_broker;

/// One measurement.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The case name, e.g. `outbox.gateway`.
    pub case: String,
    /// Events processed.
    pub events: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The child process's peak resident memory, KiB.
    pub peak_rss_kib: u64,
}

impl Measurement {
    /// Events per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.events as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// The pairs to run: (name, ours, baseline).
pub const PAIRS: [(&str, &str, &str); 5] = [
    ("outbox", "outbox.gateway", "outbox.redb_raw"),
    ("forwarder", "forwarder.gateway", "forwarder.rdkafka_raw"),
    ("ingest", "ingest.pipeline", "ingest.clickhouse_client"),
    ("mqtt", "mqtt.embedded_rumqttd", "mqtt.mosquitto"),
    ("consumer", "consumer.ingest", "consumer.rdkafka_bulk"),
];

/// Runs `case` in a child process (`firmware-sim bench-case`) and reads its one JSON line.
/// For an MQTT case, first starts its broker in a process of its own, and reports that
/// process's peak RSS instead of the load's.
pub fn measure_in_child(case: &str, options: &CaseOptions) -> anyhow::Result<Measurement> {
    let broker = mqtt::Broker::for_case(case)
        .map(mqtt::BrokerProcess::start)
        .transpose()?;
    let exe = std::env::current_exe().context("locating firmware-sim")?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["bench-case", case])
        .args(["--events", &options.events.to_string()])
        .args(["--kafka-brokers", &options.kafka_brokers])
        .args(["--clickhouse-url", &options.clickhouse_url]);
    if let Some(cluster) = &options.clickhouse_cluster {
        command.args(["--clickhouse-cluster", cluster]);
    }
    if let Some(broker) = &broker {
        command.args(["--mqtt-broker", &broker.addr]);
    }
    let out = command.stderr(Stdio::inherit()).output()?;
    if !out.status.success() {
        bail!("bench case {case} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line)
        .with_context(|| format!("bench case {case} printed {text:?}"))?;
    let peak_rss_kib = match &broker {
        Some(broker) => {
            let peak_rss_kib = broker.peak_rss_kib()?;
            tracing::info!(
                case,
                idle_rss_kib = broker.idle_rss_kib,
                peak_rss_kib,
                "broker memory"
            );
            peak_rss_kib
        }
        None => v["peak_rss_kib"].as_u64().unwrap_or(0),
    };
    Ok(Measurement {
        case: case.to_owned(),
        events: v["events"].as_u64().unwrap_or(0),
        seconds: v["seconds"].as_f64().unwrap_or(0.0),
        peak_rss_kib,
    })
}

/// This process's peak resident set size (VmHWM), KiB; 0 where /proc is unavailable.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Runs the selected pairs and prints a Markdown table of rates, ratios and memory.
pub fn run_pairs(only: Option<&str>, options: &CaseOptions) -> anyhow::Result<()> {
    println!(
        "| benchmark | ours (events/s) | baseline (events/s) | ratio ours/baseline | peak RSS ours / baseline (MiB) |"
    );
    println!("|---|---|---|---|---|");
    for (name, ours, baseline) in PAIRS {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let b = measure_in_child(baseline, options)?;
        let o = measure_in_child(ours, options)?;
        println!(
            "| {name} ({} events) | {:.0} | {:.0} | {:.2} | {:.1} / {:.1} |",
            options.events,
            o.rate(),
            b.rate(),
            if b.rate() > 0.0 {
                o.rate() / b.rate()
            } else {
                0.0
            },
            o.peak_rss_kib as f64 / 1024.0,
            b.peak_rss_kib as f64 / 1024.0
        );
    }
    Ok(())
}
