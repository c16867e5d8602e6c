//! The consumer's ops listener (`[ops] listen`): `GET /metrics`, the consumer's metrics in the
//! Prometheus text format (see [`crate::telemetry`]), and `GET /healthz`. It is bound once the
//! topics and the schema exist ([`crate::run_consumer`]), so an answer means the consumer is
//! past its start.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::config::OpsConfig;
use crate::telemetry::Metrics;

/// The ops routes over `metrics`, testable without a socket.
pub fn app(metrics: Metrics) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(scrape))
        .with_state(metrics)
}

/// `GET /metrics`: Prometheus text exposition format.
async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

/// Binds `config.listen` and serves [`app`] until `shutdown` is cancelled.
pub async fn spawn(
    config: &OpsConfig,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Result<JoinHandle<std::io::Result<()>>, Error> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen.clone(),
            source,
        })?;
    tracing::info!(addr = %config.listen, "ops listener (/metrics, /healthz)");
    Ok(tokio::spawn(async move {
        axum::serve(listener, app(metrics))
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }))
}
