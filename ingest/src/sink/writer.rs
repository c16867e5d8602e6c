//! The ClickHouse client and inserts.

use std::time::Duration;

use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::config::ClickHouseConfig;
use crate::sink::Rows;
use crate::sink::failover::{FailoverConnector, Server};
use crate::sink::rejection::is_row_rejection;

/// A client for `config`'s servers and database. With several URLs each new connection goes
/// to a live server ([`FailoverConnector`]); every answer waits at most `read_timeout_ms`.
/// On a cluster, an insert into a `Distributed` table returns only once every shard it touched
/// has stored its rows (`insert_distributed_sync`), so an acknowledged batch is never only in a
/// server's send queue. Validation is off: ClickHouse 18.16 lacks the
/// `RowBinaryWithNamesAndTypes` format it needs, so rows are sent as plain `RowBinary` and the
/// row structs must match the table's column order (see `migrations/`). Inserts travel as LZ4
/// blocks (`decompress=1`), which 18.16 accepts (the fault tests insert through it).
///
/// The URLs are checked by [`ClickHouseConfig::validate`]; one that does not parse here is
/// skipped with a warning.
pub fn client(config: &ClickHouseConfig) -> clickhouse::Client {
    let urls = config.urls();
    let servers: Vec<Server> = urls
        .iter()
        .filter_map(|url| match Server::parse(url) {
            Ok(server) => Some(server),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a ClickHouse URL");
                None
            }
        })
        .collect();
    let read_timeout = Duration::from_millis(config.read_timeout_ms);
    let mut client = match FailoverConnector::new(servers, read_timeout) {
        Ok(connector) => {
            let http = HyperClient::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .build(connector);
            clickhouse::Client::with_http_client(http)
        }
        Err(_) => clickhouse::Client::default(),
    };
    client = client
        .with_url(urls.first().copied().unwrap_or_default())
        .with_user(&config.user)
        .with_compression(clickhouse::Compression::Lz4)
        .with_validation(false);
    if !config.password.is_empty() {
        client = client.with_password(&config.password);
    }
    if config.cluster().is_some() {
        client = client.with_setting("insert_distributed_sync", "1");
    }
    client
}

/// How long a schema change may take to answer: ClickHouse waits up to 180 s for every server
/// of a cluster to run an `ON CLUSTER` statement (`distributed_ddl_task_timeout`).
pub const DDL_READ_TIMEOUT_MS: u64 = 180_000;

/// Like [`client`], for migrations and bulk copies: every answer may take up to
/// [`DDL_READ_TIMEOUT_MS`] (or the configured timeout, if longer), so a slow `ON CLUSTER`
/// statement is not abandoned half-way by the client.
pub fn ddl_client(config: &ClickHouseConfig) -> clickhouse::Client {
    let mut slow = config.clone();
    slow.read_timeout_ms = slow.read_timeout_ms.max(DDL_READ_TIMEOUT_MS);
    client(&slow)
}

/// Idle connections are closed after this; ClickHouse closes them after 3 s.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Inserts `rows` into `table` in one `INSERT`; nothing when there are none.
pub async fn insert_table<R>(
    client: &clickhouse::Client,
    table: &str,
    rows: &[R],
) -> Result<(), clickhouse::error::Error>
where
    R: clickhouse::RowOwned + clickhouse::RowWrite,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = client.insert::<R>(table).await?;
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await
}

/// A row ClickHouse refused for what it holds (see [`super::rejection`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// The table.
    pub table: &'static str,
    /// The row's index in that table's rows of the batch.
    pub index: usize,
    /// What ClickHouse said.
    pub reason: String,
}

/// Inserts `rows` into `table`; when ClickHouse refuses a row for its values, splits the rows
/// in halves until the refused ones are alone, stores the rest and records those in
/// `rejected`. The halves depend only on the rows, so a batch made again splits the same way
/// and its repeated blocks are deduplicated. Any other error is returned (retry all).
async fn insert_isolating<R>(
    client: &clickhouse::Client,
    table: &'static str,
    rows: &[R],
    offset: usize,
    rejected: &mut Vec<RejectedRow>,
) -> Result<(), clickhouse::error::Error>
where
    R: clickhouse::RowOwned + clickhouse::RowWrite,
{
    match insert_table(client, table, rows).await {
        Ok(()) => Ok(()),
        Err(error) if is_row_rejection(&error) => {
            if rows.len() == 1 {
                rejected.push(RejectedRow {
                    table,
                    index: offset,
                    reason: error.to_string(),
                });
                return Ok(());
            }
            let mid = rows.len() / 2;
            Box::pin(insert_isolating(
                client,
                table,
                &rows[..mid],
                offset,
                rejected,
            ))
            .await?;
            Box::pin(insert_isolating(
                client,
                table,
                &rows[mid..],
                offset + mid,
                rejected,
            ))
            .await
        }
        Err(error) => Err(error),
    }
}

/// Like [`insert_rows`], but a row ClickHouse refuses for its values does not fail the batch:
/// the other rows are stored and the refused ones returned, to be dead-lettered. An outage is
/// still an error (retry the batch).
pub async fn insert_rows_isolating(
    client: &clickhouse::Client,
    database: &str,
    rows: &Rows,
) -> Result<Vec<RejectedRow>, clickhouse::error::Error> {
    let client = client.clone().with_database(database);
    let c = &client;
    let mut r = Vec::new();
    insert_isolating(c, "weighings", &rows.weighings, 0, &mut r).await?;
    insert_isolating(c, "tag_reads", &rows.tag_reads, 0, &mut r).await?;
    insert_isolating(c, "feed_loads", &rows.feed_loads, 0, &mut r).await?;
    insert_isolating(c, "feed_deliveries", &rows.feed_deliveries, 0, &mut r).await?;
    insert_isolating(c, "treatments", &rows.treatments, 0, &mut r).await?;
    insert_isolating(c, "arrivals", &rows.arrivals, 0, &mut r).await?;
    insert_isolating(c, "pen_moves", &rows.pen_moves, 0, &mut r).await?;
    insert_isolating(c, "deaths", &rows.deaths, 0, &mut r).await?;
    insert_isolating(c, "shipments", &rows.shipments, 0, &mut r).await?;
    insert_isolating(c, "feed_purchases", &rows.feed_purchases, 0, &mut r).await?;
    insert_isolating(c, "rations", &rows.rations, 0, &mut r).await?;
    insert_isolating(c, "yardage_rates", &rows.yardage_rates, 0, &mut r).await?;
    insert_isolating(c, "placements", &rows.placements, 0, &mut r).await?;
    insert_isolating(c, "yard_profiles", &rows.yard_profiles, 0, &mut r).await?;
    insert_isolating(c, "gateway_status", &rows.gateway_status, 0, &mut r).await?;
    insert_isolating(c, "corrections", &rows.corrections, 0, &mut r).await?;
    insert_isolating(c, "shipment_plans", &rows.shipment_plans, 0, &mut r).await?;
    insert_table(c, "fact_changes", &rows.fact_changes()).await?;
    Ok(r)
}

/// Inserts one batch: one `INSERT` per table. Returns when ClickHouse has accepted every row.
/// A retry after a partial failure inserts some rows again; the tables deduplicate them by
/// `event_id`.
pub async fn insert_rows(
    client: &clickhouse::Client,
    database: &str,
    rows: &Rows,
) -> Result<(), clickhouse::error::Error> {
    let client = client.clone().with_database(database);
    insert_table(&client, "weighings", &rows.weighings).await?;
    insert_table(&client, "tag_reads", &rows.tag_reads).await?;
    insert_table(&client, "feed_loads", &rows.feed_loads).await?;
    insert_table(&client, "feed_deliveries", &rows.feed_deliveries).await?;
    insert_table(&client, "treatments", &rows.treatments).await?;
    insert_table(&client, "arrivals", &rows.arrivals).await?;
    insert_table(&client, "pen_moves", &rows.pen_moves).await?;
    insert_table(&client, "deaths", &rows.deaths).await?;
    insert_table(&client, "shipments", &rows.shipments).await?;
    insert_table(&client, "feed_purchases", &rows.feed_purchases).await?;
    insert_table(&client, "rations", &rows.rations).await?;
    insert_table(&client, "yardage_rates", &rows.yardage_rates).await?;
    insert_table(&client, "placements", &rows.placements).await?;
    insert_table(&client, "yard_profiles", &rows.yard_profiles).await?;
    insert_table(&client, "gateway_status", &rows.gateway_status).await?;
    insert_table(&client, "corrections", &rows.corrections).await?;
    insert_table(&client, "shipment_plans", &rows.shipment_plans).await?;
    insert_table(&client, "fact_changes", &rows.fact_changes()).await
}
