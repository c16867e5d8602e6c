//! Operations endpoints: `GET /healthz` and `GET /metrics`.
//!
//! [`app`] builds their router from an [`AppState`], so handlers are tested without a socket
//! (axum's `oneshot`); the gateway serves it on the ops listener ([`crate::http`],
//! `[http] ops_listen`, plain HTTP; empty: not served). The public listener (`[http] listen`,
//! default `127.0.0.1:8090`) carries only `/healthz` ([`health_app`]) next to the records API.
//!
//! - `/healthz`: 200 with `{"status":"ok", "outbox": {...}, "kafka": {...}, "inputs": {...}}`
//!   when the outbox takes new events (a write transaction commits, the last commit did not
//!   fail, the full alarm is not raised) and every input ([`inputs`]: each serial device, each
//!   MQTT link, the forwarder) is `up`; 503 with the same JSON otherwise (`outbox.error`, the
//!   input's `state` and `detail`). Kafka being unreachable does not make the gateway
//!   unhealthy: it keeps capturing (the forwarder stays `up` while it retries).
//! - `/metrics`: Prometheus text format; see `docs/edge-operations.md`.

mod health;
pub mod inputs;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use health::{Health, KafkaHealth, OutboxHealth};
pub use inputs::{InputHandle, InputState, InputStatus, Inputs};

use crate::outbox::Outbox;
use crate::telemetry::Metrics;

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The outbox, for depth, age and the writability probe.
    pub outbox: Arc<Outbox>,
    /// The gateway's metrics.
    pub metrics: Metrics,
    /// `kafka.brokers`, probed by `/healthz`.
    pub kafka_brokers: String,
    /// The gateway's inputs and their states.
    pub inputs: Inputs,
    /// `data_dir`, whose file system's free space `/metrics` reports.
    pub data_dir: std::path::PathBuf,
}

/// The public listener's share: `/healthz` only (never `/metrics`).
pub fn health_app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .with_state(state)
}

/// The path patterns [`health_app`] serves on the public listener.
pub fn public_route_paths() -> Vec<&'static str> {
    vec!["/healthz"]
}

/// The ops listener's routes (`http.ops_listen`), as (path pattern, methods): what [`app`] is
/// built from.
fn routes() -> crate::http::RouteTable<AppState> {
    vec![
        ("/healthz", get(health::healthz)),
        ("/metrics", get(health::metrics)),
    ]
}

/// The path patterns [`app`] serves on the ops listener.
pub fn route_paths() -> Vec<&'static str> {
    crate::http::paths_of(routes())
}

/// The ops listener's router (`http.ops_listen`): `/healthz` and `/metrics`.
pub fn app(state: AppState) -> Router {
    crate::http::router_of(routes()).with_state(state)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::outbox::{OutboxLimits, OutboxRecord, OutboxWriter};

    fn state(dir: &std::path::Path, limits: OutboxLimits) -> AppState {
        AppState {
            outbox: Arc::new(Outbox::open_with_limits(&dir.join("o.redb"), limits).unwrap()),
            metrics: Metrics::new(),
            // Nothing listens on port 1.
            kafka_brokers: "127.0.0.1:1".into(),
            inputs: Inputs::new(),
            data_dir: dir.to_owned(),
        }
    }

    async fn get(app: Router, uri: &str) -> (StatusCode, String, String) {
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    fn record() -> OutboxRecord {
        OutboxRecord {
            key: "yard-1".into(),
            payload: b"{}".to_vec(),
            enqueued_at_ms: 1_000,
        }
    }

    #[tokio::test]
    async fn healthz_is_ok_with_the_outbox_depth_while_kafka_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path(), OutboxLimits::UNLIMITED);
        state.outbox.append(&[record(), record()]).unwrap();
        let (status, _, body) = get(app(state), "/healthz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["outbox"]["writable"], true);
        assert_eq!(json["outbox"]["depth"], 2);
        assert!(
            json["outbox"]["oldest_unsent_age_seconds"]
                .as_f64()
                .unwrap()
                > 1000.0
        );
        assert_eq!(json["kafka"]["reachable"], false);
        assert_eq!(json["kafka"]["last_round_ok"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn healthz_reports_a_reachable_broker() {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut state = state(dir.path(), OutboxLimits::UNLIMITED);
        state.kafka_brokers = format!("127.0.0.1:1, {}", listener.local_addr().unwrap());
        let (_, _, body) = get(app(state), "/healthz").await;
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["kafka"]["reachable"], true, "{body}");
    }

    #[tokio::test]
    async fn a_full_outbox_makes_healthz_unavailable_and_raises_the_metric_alarm() {
        let dir = tempfile::tempdir().unwrap();
        let limits = OutboxLimits {
            max_bytes: 0,
            max_entries: 1,
        };
        let state = state(dir.path(), limits);
        let (writer, _task) = OutboxWriter::spawn_with_metrics(
            state.outbox.clone(),
            Arc::new(tokio::sync::Notify::new()),
            state.metrics.clone(),
        );
        writer.append(vec![record()]).await.unwrap();
        assert!(writer.append(vec![record()]).await.is_err());

        let (status, _, body) = get(app(state.clone()), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["outbox"]["full"], true);
        assert!(json["outbox"]["error"].as_str().unwrap().contains("full"));

        let (status, content_type, text) = get(app(state), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        for line in [
            "edge_outbox_full 1",
            "edge_outbox_depth 1",
            "edge_outbox_max_entries 1",
            "edge_outbox_refused_events_total 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
    }

    #[tokio::test]
    async fn metrics_show_each_input_and_the_free_space_of_the_data_volume() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path(), OutboxLimits::UNLIMITED);
        let rfid = state.inputs.register("serial:rfid-1", "serial");
        let scale = state.inputs.register("serial:scale-1", "serial");
        rfid.up(Some("/dev/ttyUSB0".into()));
        scale.down("no such device");
        let (status, _, text) = get(app(state.clone()), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.lines()
                .any(|l| l == r#"edge_input_up{input="serial:rfid-1",kind="serial"} 1"#),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == r#"edge_input_up{input="serial:scale-1",kind="serial"} 0"#),
            "{text}"
        );
        let gauge = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
        };
        let (free, size) = (
            gauge("edge_outbox_volume_free_bytes"),
            gauge("edge_outbox_volume_size_bytes"),
        );
        // The same file system as statvfs(2) sees it, give or take what was written meanwhile.
        let (want_free, want_size) = health::volume_usage(dir.path()).unwrap();
        assert_eq!(size, want_size);
        assert!(size > 0 && free <= size, "free {free} size {size}");
        assert!(
            free.abs_diff(want_free) < 64 * 1024 * 1024,
            "{free} vs {want_free}"
        );

        drop(rfid);
        let (_, _, text) = get(app(state), "/metrics").await;
        assert!(
            text.lines()
                .any(|l| l == r#"edge_input_up{input="serial:rfid-1",kind="serial"} 0"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn healthz_names_each_input_and_is_unavailable_until_every_one_is_up() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path(), OutboxLimits::UNLIMITED);
        let rfid = state.inputs.register("serial:rfid-1", "serial");
        let mqtt = state.inputs.register("mqtt:embedded", "mqtt");
        let forwarder = state.inputs.register("forwarder", "forwarder");

        let (status, _, body) = get(app(state.clone()), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["inputs"]["serial:rfid-1"]["state"], "starting");

        rfid.up(Some("/dev/ttyUSB0".into()));
        mqtt.up(Some("127.0.0.1:1883".into()));
        forwarder.up(None);
        let (status, _, body) = get(app(state.clone()), "/healthz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["inputs"]["mqtt:embedded"]["state"], "up");
        assert_eq!(json["inputs"]["mqtt:embedded"]["kind"], "mqtt");

        mqtt.down("connection refused");
        let (status, _, body) = get(app(state.clone()), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "unavailable");
        assert_eq!(json["inputs"]["mqtt:embedded"]["state"], "down");
        assert_eq!(
            json["inputs"]["mqtt:embedded"]["detail"],
            "connection refused"
        );
        assert_eq!(json["inputs"]["mqtt:embedded"]["interruptions"], 1);

        mqtt.up(None);
        drop(forwarder);
        let (status, _, body) = get(app(state), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["inputs"]["forwarder"]["state"], "stopped");
        assert_eq!(json["inputs"]["mqtt:embedded"]["state"], "up");
    }
}
