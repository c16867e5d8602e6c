//! Consumer lag per partition: the broker's high watermark minus this consumer's position
//! (or, before it has fetched, its committed offset; or the low watermark).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::Metrics;
use super::metrics::PartitionLabels;

/// How long one watermark or committed-offset request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Samples the lag of every assigned partition every `interval` until `shutdown`. The broker
/// requests block, so they run on the blocking pool; a failed sample is skipped (logged at
/// debug: the broker being away is reported by the consumer).
pub async fn sample_lag<C: ConsumerContext + 'static>(
    consumer: Arc<StreamConsumer<C>>,
    metrics: Metrics,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let (c, m, stop) = (consumer.clone(), metrics.clone(), shutdown.clone());
        if let Err(e) = tokio::task::spawn_blocking(move || sample_once(&c, &m, &stop)).await {
            tracing::debug!(error = %e, "lag sampler task failed");
        }
    }
}

fn offset(o: Offset) -> Option<i64> {
    match o {
        Offset::Offset(n) if n >= 0 => Some(n),
        _ => None,
    }
}

/// One sample of every assigned partition; stops between partitions once `shutdown` is
/// cancelled (each watermark request may wait REQUEST_TIMEOUT on a stopped broker, and the
/// runtime waits for this blocking task when it shuts down).
fn sample_once<C: ConsumerContext>(
    consumer: &StreamConsumer<C>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) {
    let positions = match consumer.position() {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(error = %e, "no consumer position for the lag");
            return;
        }
    };
    let committed = consumer
        .committed(REQUEST_TIMEOUT)
        .unwrap_or_else(|_| TopicPartitionList::new());
    metrics.lag.clear();
    for p in positions.elements() {
        if shutdown.is_cancelled() {
            return;
        }
        let (topic, partition) = (p.topic(), p.partition());
        let (low, high) = match consumer.fetch_watermarks(topic, partition, REQUEST_TIMEOUT) {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(error = %e, topic, partition, "no watermarks for the lag");
                continue;
            }
        };
        let at = offset(p.offset())
            .or_else(|| {
                committed
                    .find_partition(topic, partition)
                    .and_then(|c| offset(c.offset()))
            })
            .unwrap_or(low);
        metrics
            .lag
            .get_or_create(&PartitionLabels {
                topic: topic.to_owned(),
                partition,
            })
            .set((high - at).max(0));
    }
}
