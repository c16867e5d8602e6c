//! The cloud pipeline: consumes feedlot events from Kafka, stores each once in ClickHouse, and
//! serves pages and a JSON API over them.
//!
//! ```text
//! Kafka ─▶ consumer (batch, decode) ─▶ sink (ClickHouse insert) ─▶ commit offsets
//!                                   └▶ dead letters (undecodable, with the reason)
//! ClickHouse ─▶ queries ─▶ web (pages, /api)
//! ```
//!
//! Offsets are committed only after ClickHouse accepted the batch; tables deduplicate by
//! `event_id` (see `docs/clickhouse.md`), so redelivery never double counts.

pub mod analytics;
pub mod benchmarks;
pub mod config;
pub mod consumer;
pub mod error;
pub mod queries;
pub mod schema;
pub mod sink;
mod startup;
pub mod telemetry;
pub mod topics;
pub mod web;

pub use config::Config;
pub use error::Error;

use tokio_util::sync::CancellationToken;

/// Runs the pipeline until `shutdown` is cancelled: creates the topics and the ClickHouse
/// schema, then consumes and serves the web pages side by side.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let client = sink::client(&config.clickhouse);
    let ready = startup::wait_for_services(&config, &client, &shutdown).await?;
    if !ready {
        return Ok(()); // Shut down while waiting for Kafka or ClickHouse.
    }
    let listener = tokio::net::TcpListener::bind(&config.web.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.web.listen.clone(),
            source,
        })?;
    tracing::info!(addr = %config.web.listen, "web pages listening");
    let metrics = telemetry::Metrics::new();
    let state = web::AppState::new(client.clone().with_database(&config.clickhouse.database))
        .with_metrics(metrics.clone())
        .with_settings(config.analytics.settings())
        .with_auth(web::Auth::from_config(&config.web)?);
    let warmer = tokio::spawn(web::warm::run(state.clone(), shutdown.clone()));
    let app = web::app(state);
    let stop = shutdown.clone();
    let web = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    let rollup = tokio::spawn(benchmarks::rollup::run(
        client.clone().with_database(&config.clickhouse.database),
        config.benchmarks.clone(),
        config.analytics.settings(),
        shutdown.clone(),
    ));
    let consumed = consumer::run_with_metrics(&config, client, metrics, shutdown.clone()).await;
    shutdown.cancel();
    let _ = rollup.await;
    let _ = warmer.await;
    let served = web.await.map_err(|e| Error::Task(e.to_string()))?;
    consumed?;
    served.map_err(Error::Serve)
}
