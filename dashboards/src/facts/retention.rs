//! How long `fact_changes` is kept: the facts worker drops its monthly partitions once they
//! are older than `facts.changes_kept_days` and every change in them is in its yard's facts
//! (`fact_state.through_recorded_at` at or past the yard's last change of that month), so the
//! table does not grow with every batch ever stored, and a worker that starts (reading the
//! changes from the first one kept) reads a few months, not the pipeline's whole life.
//!
//! A month holding a change not yet in its yard's facts (a yard whose recompute keeps
//! failing, or whose facts were never made) is kept until it is. On a cluster the partition is
//! dropped from `fact_changes_local` `ON CLUSTER` (replicated: once per shard).

use super::rows::DAY_MS;

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// Where `fact_changes` lives: one server, or cluster `cluster`'s `database`.
#[derive(Debug, Clone, Default)]
pub struct ChangesTable {
    /// `clickhouse.cluster` ('' for one server).
    pub cluster: String,
    /// `clickhouse.database` (named in the `ON CLUSTER` statement).
    pub database: String,
}

impl ChangesTable {
    /// The statement dropping month `month` (`YYYYMM`).
    fn drop_partition(&self, month: u32) -> String {
        if self.cluster.is_empty() {
            format!("ALTER TABLE fact_changes DROP PARTITION {month}")
        } else {
            format!(
                "ALTER TABLE {}.fact_changes{} ON CLUSTER {} DROP PARTITION {month}",
                self.database,
                ingest::schema::cluster::LOCAL_SUFFIX,
                self.cluster
            )
        }
    }
}

/// The months (`YYYYMM`) of `fact_changes` that ended before `now_ms` less `kept_days` days.
async fn old_months(client: &clickhouse::Client, now_ms: u64, kept_days: u32) -> Result<Vec<u32>> {
    let cutoff_s = now_ms.saturating_sub(u64::from(kept_days) * DAY_MS) / 1000;
    client
        .query(
            "SELECT DISTINCT toUInt32(toYYYYMM(recorded_at)) AS month FROM fact_changes \
             WHERE month < toYYYYMM(toDateTime(?)) ORDER BY month",
        )
        .bind(cutoff_s)
        .fetch_all()
        .await
}

/// How many yards have a change in month `month` that is not yet in their facts.
async fn pending_in(client: &clickhouse::Client, month: u32) -> Result<u64> {
    // The yards' changes of that month are grouped first (across shards on a cluster), then
    // joined with their states.
    client
        .query(
            "SELECT count() FROM (SELECT feedlot_id, max(recorded_at) AS last FROM fact_changes \
             WHERE toYYYYMM(recorded_at) = ? GROUP BY feedlot_id) AS changed \
             ANY LEFT JOIN (SELECT feedlot_id, 1 AS made, through_recorded_at \
             FROM fact_state FINAL) AS states USING feedlot_id \
             WHERE made = 0 OR through_recorded_at < last",
        )
        .bind(month)
        .fetch_one()
        .await
}

/// Drops the months of `fact_changes` older than `kept_days` days before `now_ms` whose every
/// change is in its yard's facts; returns the months dropped (`YYYYMM`), oldest first.
pub async fn drop_old_changes(
    client: &clickhouse::Client,
    table: &ChangesTable,
    now_ms: u64,
    kept_days: u32,
) -> Result<Vec<u32>> {
    let mut dropped = Vec::new();
    for month in old_months(client, now_ms, kept_days).await? {
        let pending = pending_in(client, month).await?;
        if pending > 0 {
            tracing::info!(
                month,
                yards = pending,
                "fact_changes: a month kept, its changes not all in the facts yet"
            );
            continue;
        }
        client.query(&table.drop_partition(month)).execute().await?;
        tracing::info!(month, "fact_changes: an old month dropped");
        dropped.push(month);
    }
    Ok(dropped)
}
