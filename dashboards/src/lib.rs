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

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
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
    let listener = TcpListener::bind(&config.web.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.web.listen.clone(),
            source,
        })?;
    tracing::info!(addr = %config.web.listen, "web pages listening");
    let ops = ops_listener(&config).await?;
    let state = web::AppState::new(client.clone())
        .with_settings(config.analytics.settings())
        .with_alerts(config.alerts.clone())
        .with_limits(&config.web)
        .with_auth(web::Auth::from_config(&config.web)?)
        .on_cluster(&config.clickhouse.cluster);
    let facts = config.facts.enabled.then(|| {
        let worker = facts_worker(&config, client.clone(), &state);
        tokio::spawn(worker.run(shutdown.clone()))
    });
    let alerts = if config.alerts.enabled {
        let worker = alerts_worker(&config, client.clone(), &state)?;
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
    let ops = ops.map(|ops| serve_ops(ops, state.clone(), shutdown.clone()));
    let stop = shutdown.clone();
    // With the client's address, for the sign-in limiter.
    let app = web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    shutdown.cancel();
    join_ops(ops).await;
    let _ = rollup.await;
    if let Some(facts) = facts {
        let _ = facts.await;
    }
    if let Some(alerts) = alerts {
        let _ = alerts.await;
    }
    served.map_err(Error::Serve)
}

/// Runs only the facts worker (`dashboards facts-worker`, docs/facts.md) until `shutdown` is
/// cancelled, once ClickHouse has the schema; serves its metrics (`dashboards_facts_*`, the lag
/// included) and `/healthz` on `web.ops_listen` when it is set.
pub async fn run_facts_worker(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let Some((client, state, ops)) = worker_start(&config, &shutdown).await? else {
        return Ok(());
    };
    let worker = facts_worker(&config, client, &state);
    let ops = ops.map(|ops| serve_ops(ops, state, shutdown.clone()));
    worker.run(shutdown.clone()).await;
    shutdown.cancel();
    join_ops(ops).await;
    Ok(())
}

/// Runs only the alerts worker (`dashboards alerts-worker`, docs/alerts.md) until `shutdown`
/// is cancelled, once ClickHouse has the schema; serves its metrics (`dashboards_alerts_*`) and
/// `/healthz` on `web.ops_listen` when it is set.
pub async fn run_alerts_worker(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let Some((client, state, ops)) = worker_start(&config, &shutdown).await? else {
        return Ok(());
    };
    let worker = alerts_worker(&config, client, &state)?;
    let ops = ops.map(|ops| serve_ops(ops, state, shutdown.clone()));
    worker.run(shutdown.clone()).await;
    shutdown.cancel();
    join_ops(ops).await;
    Ok(())
}

/// The facts worker of `config` over `client`, counting into `state`'s metrics.
fn facts_worker(
    config: &Config,
    client: clickhouse::Client,
    state: &web::AppState,
) -> facts::Worker {
    facts::Worker::new(client, config.facts.clone(), state.metrics())
        .on_cluster(&config.clickhouse.cluster, &config.clickhouse.database)
}

/// The alerts worker of `config` over `client`, counting into `state`'s metrics; fails when
/// `alerts.smtp_url` cannot be used.
fn alerts_worker(
    config: &Config,
    client: clickhouse::Client,
    state: &web::AppState,
) -> Result<alerts::Worker, Error> {
    Ok(
        alerts::Worker::new(client, config.alerts.clone(), config.analytics.settings())?
            .on_cluster(&config.clickhouse.cluster)
            .with_metrics(state.metrics()),
    )
}

/// What a worker run alone starts with: the client on the pipeline's database, a state that
/// only counts metrics, and its ops listener; `None` when `shutdown` came while it waited for
/// the schema.
async fn worker_start(
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<Option<(clickhouse::Client, web::AppState, Option<TcpListener>)>, Error> {
    let server = ingest::sink::client(&config.clickhouse);
    if !startup::wait_for_schema(config, &server, shutdown).await {
        return Ok(None);
    }
    let client = server.with_database(&config.clickhouse.database);
    let ops = ops_listener(config).await?;
    let state = web::AppState::new(client.clone());
    Ok(Some((client, state, ops)))
}

/// The listener of `web.ops_listen` (`/metrics`, `/healthz`), or `None` when it is empty.
async fn ops_listener(config: &Config) -> Result<Option<TcpListener>, Error> {
    let addr = &config.web.ops_listen;
    if addr.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.clone(),
            source,
        })?;
    tracing::info!(addr = %addr, "/metrics and /healthz listening");
    Ok(Some(listener))
}

/// Serves [`web::ops_app`] on `listener` until `shutdown` is cancelled.
fn serve_ops(
    listener: TcpListener,
    state: web::AppState,
    shutdown: CancellationToken,
) -> JoinHandle<std::io::Result<()>> {
    let app = web::ops_app(state);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    })
}

/// Waits for the ops listener's task, logging how it failed.
async fn join_ops(ops: Option<JoinHandle<std::io::Result<()>>>) {
    if let Some(ops) = ops {
        match ops.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the ops listener failed"),
            Err(e) => tracing::error!(error = %e, "the ops listener panicked"),
            Ok(Ok(())) => {}
        }
    }
}
