//! The feedlot gateway: reads chute devices over serial, pairs tag reads with stable weights,
//! keeps every event in a durable outbox, and forwards the outbox to Kafka.
//!
//! ```text
//! readers::serial ─▶ readers::{rfid, scale} ─▶ capture (dedup, pairing) ─▶ outbox ─▶ forwarder ─▶ Kafka
//! ```
//!
//! Start it with [`run`] (until the token is cancelled) or [`Gateway::start`] (to observe the
//! outbox while it runs). An event counts as captured once its outbox transaction committed;
//! it is deleted only after Kafka acknowledged it. See `docs/outbox.md`.

pub mod api;
pub mod backoff;
pub mod capture;
pub mod chute;
pub mod config;
pub mod error;
pub mod event_time;
pub mod forms;
pub mod forwarder;
pub mod gateway;
pub mod http;
pub mod identity;
pub mod import;
pub mod mqtt;
pub mod ops;
pub mod outbox;
pub mod pairing;
pub mod profile;
pub mod readers;
pub mod telemetry;

pub use config::Config;
pub use error::Error;
pub use gateway::Gateway;

use tokio_util::sync::CancellationToken;

/// Runs the gateway until `shutdown` is cancelled, then stops it gracefully.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    Gateway::start(config, shutdown).await?.wait().await
}
