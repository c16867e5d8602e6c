//! Starting up: the pages read the tables `ingest` creates, so `dashboards` waits until
//! ClickHouse answers and every migration this build knows (`ingest::schema::MIGRATIONS`) is
//! applied, logging why it waits, instead of exiting: pods start in any order, and the schema
//! is `ingest`'s to apply (`ingest consume` or `ingest migrate`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Config;

/// First wait between checks; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(200);
/// Longest wait between checks.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Returns true once the schema is there, false when `shutdown` came first.
pub async fn wait_for_schema(
    config: &Config,
    server: &clickhouse::Client,
    shutdown: &CancellationToken,
) -> bool {
    let database = &config.clickhouse.database;
    let mut delay = FIRST_DELAY;
    loop {
        match ingest::schema::applied_versions(server, database).await {
            Ok(applied) => {
                let missing: Vec<u32> = ingest::schema::MIGRATIONS
                    .iter()
                    .map(|m| m.version)
                    .filter(|v| !applied.contains(v))
                    .collect();
                if missing.is_empty() {
                    return true;
                }
                tracing::warn!(
                    database,
                    ?missing,
                    retry_in_ms = delay.as_millis() as u64,
                    "waiting for the schema: `ingest consume` or `ingest migrate` applies it"
                );
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    url = %config.clickhouse.url,
                    database,
                    retry_in_ms = delay.as_millis() as u64,
                    "waiting for ClickHouse and the schema (`ingest consume` or `ingest migrate` applies it)"
                );
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_DELAY);
    }
}
