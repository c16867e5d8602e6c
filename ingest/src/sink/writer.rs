//! The ClickHouse client and inserts.

use crate::config::ClickHouseConfig;
use crate::sink::Rows;

/// A client for `config`'s server and database. Validation is off: ClickHouse 18.16 lacks the
/// `RowBinaryWithNamesAndTypes` format it needs, so rows are sent as plain `RowBinary` and the
/// row structs must match the table's column order (see `migrations/`). Inserts travel as LZ4
/// blocks (`decompress=1`), which 18.16 accepts (the fault tests insert through it).
pub fn client(config: &ClickHouseConfig) -> clickhouse::Client {
    let mut client = clickhouse::Client::default()
        .with_url(&config.url)
        .with_user(&config.user)
        .with_compression(clickhouse::Compression::Lz4)
        .with_validation(false);
    if !config.password.is_empty() {
        client = client.with_password(&config.password);
    }
    client
}

/// Inserts `rows` into `table` in one `INSERT`; nothing when there are none.
async fn insert_table<R>(
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
    insert_table(&client, "yard_profiles", &rows.yard_profiles).await
}
