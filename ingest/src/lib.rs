//! The write side of the feedlot pipeline: consumes feedlot events from Kafka and stores each
//! once in ClickHouse. Its schema ([`schema`]), row types and client ([`sink`]) are what the
//! read side, the `dashboards` crate, reads; nothing here knows about the pages.
//!
//! ```text
//! Kafka ─▶ consumer (batch, decode) ─▶ sink (ClickHouse insert) ─▶ commit offsets
//!                                   └▶ dead letters (undecodable, with the reason)
//! ops listener: /metrics (lag, batches, inserts, dead letters), /healthz
//! ```
//!
//! Offsets are committed only after ClickHouse accepted the batch; tables deduplicate by
//! `event_id` (see `docs/clickhouse.md`), so redelivery never double counts.

pub mod config;
pub mod consumer;
pub mod error;
pub mod gateways;
pub mod ops;
pub mod schema;
pub mod sink;
mod startup;
pub mod telemetry;
pub mod topics;

pub use config::Config;
pub use error::Error;

use tokio_util::sync::CancellationToken;

/// Runs the consumer until `shutdown` is cancelled: creates the topics and applies the
/// ClickHouse migrations (waiting while Kafka or ClickHouse is away), then serves `/metrics`
/// and `/healthz` on `[ops] listen` and consumes. `/healthz` answering therefore means the
/// topics and the schema exist. A shutdown while waiting returns `Ok`.
pub async fn run_consumer(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let client = sink::client(&config.clickhouse);
    if !startup::wait_for_services(&config, &shutdown).await? {
        return Ok(()); // Shut down while waiting for Kafka or ClickHouse.
    }
    let metrics = telemetry::Metrics::new();
    let ops = ops::spawn(&config.ops, metrics.clone(), shutdown.clone()).await?;
    let consumed = consumer::run_with_metrics(&config, client, metrics, shutdown.clone()).await;
    shutdown.cancel();
    let served = ops.await.map_err(|e| Error::Task(e.to_string()))?;
    consumed?;
    served.map_err(Error::Serve)
}
