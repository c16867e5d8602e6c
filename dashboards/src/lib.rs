//! The read side of the feedlot pipeline: the analytics, the benchmark bands and the web pages
//! and JSON API over what `ingest` stored in ClickHouse. It is its own process
//! (`dashboards serve`), so the pages can be scaled, restarted or killed without touching
//! ingestion, and the other way round (`tests/it/two_processes.rs`).
//!
//! ```text
//! ClickHouse (schema and rows: ingest) ─▶ queries, analytics ─▶ web (pages, /api; /metrics on ops_listen)
//!                                      └▶ benchmarks::rollup ─▶ yard_kpis ─▶ bands
//! ```
//!
//! It reads the tables `ingest` creates (`ingest::schema`) with `ingest`'s client
//! (`ingest::sink::client`); it never migrates: it waits until the schema is there.

pub mod alerts;
pub mod analytics;
pub mod benchmarks;
pub mod config;
pub mod error;
pub mod facts;
pub mod forecast;
pub mod queries;
pub mod reports;
mod startup;
pub mod telemetry;
pub mod web;

pub use config::Config;
pub use error::Error;

use tokio_util::sync::CancellationToken;

/// Serves the pages and API, the facts worker and the benchmark rollup until `shutdown`
/// is cancelled. Waits (logging why) until ClickHouse answers with the schema this build
/// reads; a shutdown while waiting returns `Ok`.
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let server = ingest::sink::client(&config.clickhouse);
    if !startup::wait_for_schema(&config, &server, &shutdown).await {
        return Ok(());
    }
    let client = server.with_database(&config.clickhouse.database);
    let listener = tokio::net::TcpListener::bind(&config.web.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.web.listen.clone(),
            source,
        })?;
    tracing::info!(addr = %config.web.listen, "web pages listening");
    let ops = if config.web.ops_listen.is_empty() {
        None
    } else {
        let ops = tokio::net::TcpListener::bind(&config.web.ops_listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.web.ops_listen.clone(),
                source,
            })?;
        tracing::info!(addr = %config.web.ops_listen, "/metrics and /healthz listening");
        Some(ops)
    };
    let state = web::AppState::new(client.clone())
        .with_settings(config.analytics.settings())
        .with_alerts(config.alerts.clone())
        .with_limits(&config.web)
        .with_auth(web::Auth::from_config(&config.web)?);
    let facts = config.facts.enabled.then(|| {
        let worker = facts::Worker::new(client.clone(), config.facts.clone(), state.metrics());
        tokio::spawn(worker.run(shutdown.clone()))
    });
    let alerts = if config.alerts.enabled {
        let worker = alerts::Worker::new(
            client.clone(),
            config.alerts.clone(),
            config.analytics.settings(),
        )?
        .on_cluster(&config.clickhouse.cluster)
        .with_metrics(state.metrics());
        Some(tokio::spawn(worker.run(shutdown.clone())))
    } else {
        None
    };
    let rollup = tokio::spawn(benchmarks::rollup::run(
        client,
        config.benchmarks.clone(),
        config.analytics.settings(),
        shutdown.clone(),
    ));
    let ops = ops.map(|ops| {
        let stop = shutdown.clone();
        let app = web::ops_app(state.clone());
        tokio::spawn(async move {
            axum::serve(ops, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        })
    });
    let stop = shutdown.clone();
    // With the client's address, for the sign-in limiter.
    let app = web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    shutdown.cancel();
    if let Some(ops) = ops {
        match ops.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the ops listener failed"),
            Err(e) => tracing::error!(error = %e, "the ops listener panicked"),
            Ok(Ok(())) => {}
        }
    }
    let _ = rollup.await;
    if let Some(facts) = facts {
        let _ = facts.await;
    }
    if let Some(alerts) = alerts {
        let _ = alerts.await;
    }
    served.map_err(Error::Serve)
}
