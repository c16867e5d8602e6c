//! Forwarding the outbox to Kafka.
//!
//! One loop: peek the oldest `batch_size` entries, hand them all to an idempotent producer
//! (`enable.idempotence=true`, `acks=all`, LZ4) in sequence order with the feedlot id as key,
//! await every delivery report, then remove exactly the acknowledged entries. Entries that
//! failed stay, in order, and are sent again after a back-off; with no broker reachable a round
//! fails after `message.timeout.ms` and the loop keeps retrying, while capture keeps appending.
//! An empty outbox waits for the writer's commit notification. After a failed round the
//! producer is replaced by a fresh one (see `Forwarder::replace_producer`). On shutdown the round in flight
//! gets a grace period for its reports; anything unacknowledged is sent on the next start.
//!
//! An entry Kafka will never accept (larger than the producer's or the broker's message size,
//! or a record the broker calls invalid: [`is_permanent`]) would block every entry behind it
//! forever. It is moved to the outbox's dead-letter table instead, logged as an error and
//! counted (`edge_events_dead_lettered_total`, alerted on by the chart's rules), and the
//! entries behind it go on.

mod context;
pub mod producer;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use context::ForwarderContext;
pub use producer::{GUARANTEES, client_config};
pub use status::StatusReporter;

use crate::backoff::Backoff;
use crate::config::KafkaConfig;
use crate::outbox::{Outbox, OutboxEntry};
use crate::telemetry::Metrics;
use crate::telemetry::events::ForwardRound;

/// How long an idle forwarder sleeps when no commit notification arrives (a safety net).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long the round in flight may still collect delivery reports after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The result of one round.
#[derive(Debug, Default)]
struct Round {
    acked: Vec<u64>,
    dead: Vec<(u64, String)>,
    failed: usize,
    first_error: Option<String>,
}

/// Drains the outbox to Kafka.
pub struct Forwarder {
    outbox: Arc<Outbox>,
    client_config: ClientConfig,
    producer: FutureProducer<ForwarderContext>,
    topic: String,
    batch_size: usize,
    backoff: Backoff,
    appended: Arc<Notify>,
    metrics: Metrics,
}

impl Forwarder {
    /// A forwarder for `outbox`, woken by `appended`. Creating the producer does not contact
    /// the brokers; it fails only on invalid client properties.
    pub fn new(
        kafka: &KafkaConfig,
        gateway_id: &str,
        outbox: Arc<Outbox>,
        appended: Arc<Notify>,
    ) -> Result<Self, KafkaError> {
        let client_config = client_config(kafka, gateway_id);
        let producer = client_config.create_with_context(ForwarderContext)?;
        Ok(Self {
            outbox,
            client_config,
            producer,
            topic: kafka.topic.clone(),
            batch_size: kafka.batch_size,
            backoff: Backoff::new(
                Duration::from_millis(kafka.retry_backoff_initial_ms),
                Duration::from_millis(kafka.retry_backoff_max_ms),
            ),
            appended,
            metrics: Metrics::new(),
        })
    }

    /// Counts forwarded events and failed sends in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let outbox = self.outbox.clone();
            let limit = self.batch_size;
            let batch = match tokio::task::spawn_blocking(move || outbox.peek(limit)).await {
                Ok(Ok(batch)) => batch,
                Ok(Err(error)) => {
                    tracing::error!(%error, "cannot read the outbox");
                    self.pause(&shutdown).await;
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, "outbox read task failed");
                    self.pause(&shutdown).await;
                    continue;
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = self.appended.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
                continue;
            }
            let round = self.send(&batch, &shutdown).await;
            let acked = round.acked.len();
            self.remove(round.acked).await;
            let dead_lettered = self.dead_letter(round.dead).await;
            ForwardRound {
                acked,
                dead_lettered,
                failed: round.failed,
                error: round.first_error.as_deref(),
            }
            .emit(&self.metrics);
            if round.failed == 0 {
                self.backoff.reset();
            } else {
                self.replace_producer();
                self.pause(&shutdown).await;
            }
        }
    }

    /// After a failed round the producer is replaced by a fresh one (a new producer id).
    /// Messages that timed out make librdkafka bump the idempotent producer's epoch, and some
    /// brokers mishandle the bumped epoch after a restart (tansu 0.6 stops accepting produce
    /// requests); a producer that hit a fatal idempotence error fails every later send. The
    /// failed entries are still in the outbox and go out through the new producer: at least
    /// once, as always.
    fn replace_producer(&mut self) {
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            tracing::warn!(?code, reason, "Kafka producer hit a fatal error");
        }
        match self.client_config.create_with_context(ForwarderContext) {
            Ok(producer) => self.producer = producer,
            Err(error) => {
                tracing::error!(%error, "cannot recreate the Kafka producer; keeping the old one");
            }
        }
    }

    async fn pause(&mut self, shutdown: &CancellationToken) {
        let delay = self.backoff.next_delay();
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(delay) => {}
        }
    }

    /// Sends the batch in order and collects every delivery report.
    async fn send(&self, batch: &[OutboxEntry], shutdown: &CancellationToken) -> Round {
        let mut round = Round::default();
        let mut pending = Vec::with_capacity(batch.len());
        for entry in batch {
            let record = FutureRecord::to(&self.topic)
                .key(entry.record.key.as_bytes())
                .payload(entry.record.payload.as_slice());
            match self.producer.send_result(record) {
                Ok(delivery) => pending.push((entry.seq, delivery)),
                Err((error, _)) if is_permanent(&error) => {
                    round.dead.push((entry.seq, error.to_string()));
                }
                Err((error, _)) => {
                    // The local queue is full: the rest waits for the next round, in order.
                    round.failed = batch.len() - pending.len() - round.dead.len();
                    round.first_error = Some(error.to_string());
                    break;
                }
            }
        }
        let (seqs, deliveries): (Vec<u64>, Vec<_>) = pending.into_iter().unzip();
        let mut reports = std::pin::pin!(join_all(deliveries));
        let reports = tokio::select! {
            reports = &mut reports => reports,
            _ = shutdown.cancelled() => {
                match tokio::time::timeout(SHUTDOWN_GRACE, &mut reports).await {
                    Ok(reports) => reports,
                    Err(_) => {
                        round.failed += seqs.len();
                        return round;
                    }
                }
            }
        };
        for (seq, report) in seqs.into_iter().zip(reports) {
            let error = match report {
                Ok(Ok(_delivery)) => {
                    round.acked.push(seq);
                    continue;
                }
                Ok(Err((error, _message))) if is_permanent(&error) => {
                    round.dead.push((seq, error.to_string()));
                    continue;
                }
                Ok(Err((error, _message))) => error.to_string(),
                Err(_canceled) => "delivery report lost (producer closed)".to_owned(),
            };
            round.failed += 1;
            round.first_error.get_or_insert(error);
        }
        round
    }

    /// Moves the entries Kafka will never accept to the dead-letter table; how many moved.
    async fn dead_letter(&self, dead: Vec<(u64, String)>) -> usize {
        if dead.is_empty() {
            return 0;
        }
        let outbox = self.outbox.clone();
        let moved = tokio::task::spawn_blocking(move || {
            let mut moved = 0;
            for (seq, reason) in &dead {
                match outbox.dead_letter(*seq, reason) {
                    Ok(true) => {
                        tracing::error!(seq, reason, "outbox entry dead-lettered");
                        moved += 1;
                    }
                    Ok(false) => {}
                    Err(error) => tracing::error!(%error, seq, "cannot dead-letter an entry"),
                }
            }
            moved
        })
        .await;
        moved.unwrap_or_else(|error| {
            tracing::error!(%error, "dead-letter task failed");
            0
        })
    }

    async fn remove(&self, acked: Vec<u64>) {
        if acked.is_empty() {
            return;
        }
        let outbox = self.outbox.clone();
        match tokio::task::spawn_blocking(move || outbox.remove(&acked)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "cannot remove acknowledged events; they will be sent again");
            }
            Err(error) => {
                tracing::error!(%error, "outbox remove task failed; events will be sent again");
            }
        }
    }
}

/// Whether Kafka will refuse this record however often it is sent: too large for the
/// producer's `message.max.bytes` or the broker's limit, or a record the broker calls invalid.
pub fn is_permanent(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidRecord
        )
    )
}
