//! Consuming the events topic: batch, decode, store, then commit.
//!
//! The loop never commits an offset before everything below it is safe: the batch's good
//! events accepted by ClickHouse, its bad ones (undecodable, or decoded but failing
//! `Envelope::validate`) acknowledged by the dead-letter topic. While
//! ClickHouse is down the loop retries the same batch with back-off and consumes nothing else,
//! so memory stays bounded by one batch and a slow ClickHouse slows consumption.

mod batch;
mod dead_letter;
mod offsets;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::config::Config;
use crate::sink::{Rows, insert_rows};

pub use batch::next_batch;
pub use dead_letter::DeadLetters;

/// Consumes until `shutdown` is cancelled. Each batch is stored, then its offsets committed.
pub async fn run(
    config: &Config,
    client: clickhouse::Client,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", &config.kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .create()?;
    consumer.subscribe(&[&config.kafka.topic])?;
    let dead_letters = DeadLetters::new(&config.kafka)?;
    let max_wait = Duration::from_millis(config.batch.max_wait_ms);
    tracing::info!(topic = %config.kafka.topic, group = %config.kafka.group_id, "consuming");
    while !shutdown.is_cancelled() {
        let batch = next_batch(&consumer, config.batch.max_rows, max_wait, &shutdown).await;
        if batch.is_empty() {
            continue;
        }
        let mut rows = Rows::default();
        let mut bad = Vec::new();
        for message in &batch {
            match schemas::decode(message.payload().unwrap_or_default()) {
                // Decodes but a value is wrong (negative weight, empty id, ...): dead-lettered
                // with the field and why, like an undecodable message.
                Ok(envelope) => match envelope.validate() {
                    Ok(()) => rows.push(&envelope),
                    Err(invalid) => bad.push((message, format!("invalid event: {invalid}"))),
                },
                Err(reason) => bad.push((message, reason.to_string())),
            }
        }
        if !retry_until_done(&config.batch, &shutdown, "clickhouse insert", || {
            insert_rows(&client, &config.clickhouse.database, &rows)
        })
        .await
        {
            return Ok(()); // Shut down mid-retry: nothing committed, the batch is read again.
        }
        for (message, reason) in &bad {
            let sent = retry_until_done(&config.batch, &shutdown, "dead letter", || {
                dead_letters.send(message, reason)
            })
            .await;
            if !sent {
                return Ok(());
            }
        }
        tracing::debug!(rows = rows.len(), dead_letters = bad.len(), "batch stored");
        offsets::commit(&consumer, &batch);
    }
    Ok(())
}

/// Runs `attempt` until it succeeds (true) or `shutdown` is cancelled (false), doubling the
/// delay between attempts from `retry_initial_ms` up to `retry_max_ms`.
async fn retry_until_done<F, Fut, E>(
    batch: &crate::config::BatchConfig,
    shutdown: &CancellationToken,
    what: &str,
    mut attempt: F,
) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut delay = Duration::from_millis(batch.retry_initial_ms);
    loop {
        match attempt().await {
            Ok(()) => return true,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "{what} failed; retrying")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_millis(batch.retry_max_ms));
    }
}
