//! A fresh ClickHouse database per test on the shared server.

use anyhow::Context;

/// A database created for one test on the server at `CLICKHOUSE_URL`
/// (default `http://127.0.0.1:8123`). Left in place after the test for inspection.
pub struct ClickHouseDb {
    /// The server's HTTP URL.
    pub url: String,
    /// The database name, unique to this test.
    pub database: String,
}

impl ClickHouseDb {
    /// The server URL from `CLICKHOUSE_URL`, or the local default.
    pub fn server_url() -> String {
        std::env::var("CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".into())
    }

    /// The same server's native TCP address (`host:port`), as another ClickHouse server's
    /// `remote()` reaches it: `CLICKHOUSE_TCP_PORT` (scripts/clickhouse.sh), default 9000.
    pub fn server_tcp_address() -> String {
        let port = std::env::var("CLICKHOUSE_TCP_PORT").unwrap_or_else(|_| "9000".into());
        format!("127.0.0.1:{port}")
    }

    /// Creates a database named after `test_name` plus a random suffix.
    pub async fn create(test_name: &str) -> anyhow::Result<Self> {
        Self::create_on(&Self::server_url(), test_name).await
    }

    /// Creates a database named after `test_name` on the server at `url` (e.g. a
    /// [`crate::ClickHouseServer`]'s).
    pub async fn create_on(url: &str, test_name: &str) -> anyhow::Result<Self> {
        let url = url.to_owned();
        let database = crate::unique_name(test_name);
        clickhouse::Client::default()
            .with_url(&url)
            .with_validation(false)
            .query(&format!("CREATE DATABASE IF NOT EXISTS {database}"))
            .execute()
            .await
            .with_context(|| format!("create database {database} on {url} (is ClickHouse running? scripts/clickhouse.sh)"))?;
        Ok(Self { url, database })
    }

    /// A client bound to this database (validation off: ClickHouse 18.16 lacks
    /// RowBinaryWithNamesAndTypes).
    pub fn client(&self) -> clickhouse::Client {
        clickhouse::Client::default()
            .with_url(&self.url)
            .with_database(&self.database)
            .with_validation(false)
    }
}
