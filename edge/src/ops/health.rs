//! `GET /healthz` and `GET /metrics`.

use std::path::Path;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;

use std::collections::BTreeMap;

use super::AppState;
use super::inputs::{InputState, InputStatus};
use crate::outbox::{OutboxLimits, OutboxUsage};
use crate::telemetry::CONTENT_TYPE;

/// How long the Kafka reachability probe waits for a TCP connection to a bootstrap broker.
const KAFKA_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// The `/healthz` answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` (HTTP 200) when the outbox takes new events and every input is up, else
    /// `unavailable` (HTTP 503).
    pub status: &'static str,
    /// The outbox.
    pub outbox: OutboxHealth,
    /// The uplink.
    pub kafka: KafkaHealth,
    /// Every input (serial devices, MQTT links, the forwarder) by name, with its state.
    pub inputs: BTreeMap<String, InputStatus>,
}

/// The outbox part of `/healthz`.
#[derive(Debug, Serialize, Default)]
pub struct OutboxHealth {
    /// A write transaction can be committed, the last commit did not fail, and it is not full.
    pub writable: bool,
    /// The full alarm is raised (the last append was refused for lack of room).
    pub full: bool,
    /// Events waiting for Kafka.
    pub depth: u64,
    /// Their bytes, counted against `max_bytes`.
    pub bytes: u64,
    /// `outbox.max_bytes` (0: unlimited).
    pub max_bytes: u64,
    /// `outbox.max_entries` (0: unlimited).
    pub max_entries: u64,
    /// Age of the oldest waiting event.
    pub oldest_unsent_age_seconds: f64,
    /// What failed, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The Kafka part of `/healthz`.
#[derive(Debug, Serialize)]
pub struct KafkaHealth {
    /// A bootstrap broker accepted a TCP connection just now.
    pub reachable: bool,
    /// Whether the last forwarding round was fully acknowledged (`null` before the first).
    pub last_round_ok: Option<bool>,
}

/// Reads the outbox (on a blocking thread) and refreshes the outbox gauges; with
/// `probe_write`, also commits an empty write transaction.
async fn outbox_health(state: &AppState, probe_write: bool) -> OutboxHealth {
    let outbox = state.outbox.clone();
    let read = tokio::task::spawn_blocking(move || {
        let usage = outbox.usage()?;
        let oldest = outbox.oldest_enqueued_at_ms()?;
        let writable = if probe_write {
            outbox.check_writable()
        } else {
            Ok(())
        };
        Ok::<_, crate::outbox::OutboxError>((usage, oldest, writable, outbox.limits()))
    })
    .await;
    let (usage, oldest, writable, limits): (OutboxUsage, Option<u64>, _, OutboxLimits) = match read
    {
        Ok(Ok(read)) => read,
        Ok(Err(error)) => {
            return OutboxHealth {
                error: Some(error.to_string()),
                ..OutboxHealth::default()
            };
        }
        Err(error) => {
            return OutboxHealth {
                error: Some(error.to_string()),
                ..OutboxHealth::default()
            };
        }
    };
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let age = oldest.map_or(0.0, |at| now_ms.saturating_sub(at) as f64 / 1000.0);
    state.metrics.observe_outbox(usage, limits, age);
    let full = state.metrics.outbox_full();
    let error = match (&writable, state.metrics.outbox_commit_failing()) {
        (Err(error), _) => Some(error.to_string()),
        (Ok(()), true) => Some("the last outbox commit failed".into()),
        (Ok(()), false) if full => Some("outbox full: new events are refused".into()),
        (Ok(()), false) => None,
    };
    OutboxHealth {
        writable: error.is_none(),
        full,
        depth: usage.entries,
        bytes: usage.bytes,
        max_bytes: limits.max_bytes,
        max_entries: limits.max_entries,
        oldest_unsent_age_seconds: age,
        error,
    }
}

/// Whether any bootstrap broker accepts a TCP connection.
async fn kafka_reachable(brokers: &str) -> bool {
    let probes = brokers
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|broker| async move {
            matches!(
                tokio::time::timeout(KAFKA_PROBE_TIMEOUT, tokio::net::TcpStream::connect(broker))
                    .await,
                Ok(Ok(_))
            )
        });
    futures::future::join_all(probes)
        .await
        .into_iter()
        .any(|up| up)
}

/// `GET /healthz`: 200 when the outbox takes new events and every input is up, 503
/// otherwise; JSON either way.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (outbox, reachable) = tokio::join!(
        outbox_health(&state, true),
        kafka_reachable(&state.kafka_brokers)
    );
    let inputs = state.inputs.snapshot();
    let healthy = outbox.writable && inputs.values().all(|i| i.state == InputState::Up);
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if healthy { "ok" } else { "unavailable" },
        outbox,
        kafka: KafkaHealth {
            reachable,
            last_round_ok: state.metrics.kafka_last_round_ok(),
        },
        inputs,
    };
    (status, Json(health))
}

/// Bytes free for unprivileged users and the size of the file system holding `path`.
// The statvfs fields are u64 here, but 32 bits on some 32-bit targets (yard gateways on ARM).
#[allow(clippy::useless_conversion)]
pub fn volume_usage(path: &Path) -> Result<(u64, u64), nix::Error> {
    let stat = nix::sys::statvfs::statvfs(path)?;
    let fragment = u64::from(stat.fragment_size());
    Ok((
        u64::from(stat.blocks_available()).saturating_mul(fragment),
        u64::from(stat.blocks()).saturating_mul(fragment),
    ))
}

/// `GET /metrics`: every metric in the Prometheus text format, outbox gauges, input states
/// and the data volume's free space read just now.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    outbox_health(&state, false).await;
    let inputs = state.inputs.snapshot();
    state.metrics.observe_inputs(
        inputs
            .iter()
            .map(|(name, input)| (name.as_str(), input.kind, input.state == InputState::Up)),
    );
    let data_dir = state.data_dir.clone();
    match tokio::task::spawn_blocking(move || volume_usage(&data_dir)).await {
        Ok(Ok((free, size))) => state.metrics.observe_volume(free, size),
        Ok(Err(error)) => tracing::warn!(%error, "cannot read the data volume's free space"),
        Err(error) => tracing::warn!(%error, "cannot read the data volume's free space"),
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.encode(),
    )
}
