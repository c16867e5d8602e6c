//! Starting up: the topics and the ClickHouse schema must exist before anything is consumed.
//! Kafka or ClickHouse being down at start is normal in a cluster (pods start in any order),
//! so `ingest` waits for them with back-off, logging why, instead of exiting; a refusal that
//! waiting cannot fix (a migration ClickHouse rejects) still stops it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{Config, Error, schema, topics};

/// Creates the topics and migrates the schema (through a [`crate::sink::ddl_client`]: an
/// `ON CLUSTER` statement may take minutes under load), retrying while a service is
/// unreachable. Returns false when `shutdown` came first.
pub async fn wait_for_services(
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<bool, Error> {
    let mut delay = Duration::from_millis(config.batch.retry_initial_ms);
    let max = Duration::from_millis(config.batch.retry_max_ms);
    let ddl = crate::sink::ddl_client(&config.clickhouse);
    loop {
        let attempt = async {
            topics::ensure_topics(&config.kafka).await?;
            schema::migrate_on(
                &ddl,
                &config.clickhouse.database,
                config.clickhouse.cluster(),
            )
            .await?;
            Ok::<(), Error>(())
        };
        match attempt.await {
            Ok(()) => return Ok(true),
            Err(e @ (Error::Migration { .. } | Error::ClusterDdl { .. })) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "waiting for Kafka and ClickHouse");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(false),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(max);
    }
}
