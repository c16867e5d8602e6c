//! Collecting a batch: up to `max_rows` messages, or what arrived within `max_wait` of the first.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;

use super::group::GroupConsumer;

/// Waits for a first message (or shutdown), then gathers more until the batch is full or
/// `max_wait` has passed since the first; with `bounded`, returns after `max_wait` even with
/// nothing. Receive errors are logged; the broker being away is not fatal. Messages received
/// before a rebalance that happened while gathering are dropped: they belonged to the old
/// assignment, and the partitions kept are read again from their committed offsets.
pub async fn next_batch(
    consumer: &GroupConsumer,
    max_rows: usize,
    max_wait: Duration,
    bounded: bool,
    shutdown: &CancellationToken,
) -> Vec<OwnedMessage> {
    let mut batch = Vec::new();
    let mut epoch = consumer.context().epoch();
    let mut deadline = bounded.then(|| tokio::time::Instant::now() + max_wait);
    while batch.len() < max_rows {
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = timeout => break,
            received = consumer.recv() => match received {
                Ok(message) => {
                    let now = consumer.context().epoch();
                    if now != epoch {
                        epoch = now;
                        batch.clear();
                    }
                    batch.push(message.detach());
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + max_wait);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "kafka receive error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
        }
    }
    batch
}
