//! Test support: the real services an integration test talks to, one instance (or database)
//! per test so tests run in parallel without seeing each other's data.
//!
//! - [`Tansu`]: a Kafka-protocol broker process on a free loopback port with its own durable
//!   storage, that a test can stop and restart mid-stream.
//! - [`ClickHouseDb`]: a fresh database on the shared ClickHouse server (`CLICKHOUSE_URL`).
//! - [`ClickHouseServer`]: a private clickhouse-server process that a test can stop (SIGKILL)
//!   and restart on the same data mid-stream.
//! - [`PtyPair`]: two linked pseudo-terminals made by socat, standing in for a serial cable
//!   between a device (simulator) and the gateway.
//!
//! - [`Cluster`]: the replicated test cluster of `scripts/cluster.sh` (ZooKeeper, ClickHouse
//!   2 shards × 2 replicas, tansu brokers on PostgreSQL, consumers and web replicas).
//! - [`browser`]: headless Chromium, for page tests.
//! - [`cli`]: running a real binary, for command-line tests.
//! - [`metrics`]: reading Prometheus text expositions.
//!
//! This crate is for tests only, so it reports failures with `anyhow`.

pub mod browser;
pub mod cli;
mod clickhouse_db;
mod clickhouse_server;
pub mod cluster;
pub mod form_harness;
pub mod metrics;
mod pty;
mod tansu;

pub use clickhouse_db::ClickHouseDb;
pub use clickhouse_server::ClickHouseServer;
pub use cluster::Cluster;
pub use pty::PtyPair;
pub use tansu::Tansu;

/// A name unique to this call, safe for ClickHouse databases and Kafka topics:
/// `prefix` (non-alphanumerics replaced by `_`) and a random suffix.
pub fn unique_name(prefix: &str) -> String {
    let clean: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    format!("{clean}_{}", &suffix[suffix.len() - 10..])
}

/// A free TCP port on 127.0.0.1 at the time of the call.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `check` every 50 ms until it returns true or `timeout` passes; returns whether it did.
pub async fn wait_until<F, Fut>(timeout: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
