//! The ClickHouse client and inserts.

use crate::config::ClickHouseConfig;
use crate::sink::Rows;

/// A client for `config`'s server and database. Validation is off: ClickHouse 18.16 lacks the
/// `RowBinaryWithNamesAndTypes` format it needs, so rows are sent as plain `RowBinary` and the
/// row structs must match the table's column order (see `migrations/`).
pub fn client(config: &ClickHouseConfig) -> clickhouse::Client {
    let mut client = clickhouse::Client::default()
        .with_url(&config.url)
        .with_user(&config.user)
        .with_validation(false);
    if !config.password.is_empty() {
        client = client.with_password(&config.password);
    }
    client
}

/// Inserts one batch: one `INSERT` per table. Returns when ClickHouse has accepted every row.
pub async fn insert_rows(
    client: &clickhouse::Client,
    database: &str,
    rows: &Rows,
) -> Result<(), clickhouse::error::Error> {
    let client = client.clone().with_database(database);
    if !rows.weighings.is_empty() {
        let mut insert = client
            .insert::<crate::sink::WeighingRow>("weighings")
            .await?;
        for row in &rows.weighings {
            insert.write(row).await?;
        }
        insert.end().await?;
    }
    if !rows.tag_reads.is_empty() {
        let mut insert = client
            .insert::<crate::sink::TagReadRow>("tag_reads")
            .await?;
        for row in &rows.tag_reads {
            insert.write(row).await?;
        }
        insert.end().await?;
    }
    Ok(())
}
