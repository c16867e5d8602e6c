//! Consuming the events topic: batch, decode, store, then commit.
//!
//! The loop never commits an offset before everything below it is safe: the batch's good
//! events accepted by ClickHouse, its bad ones (undecodable, or decoded but failing
//! `Envelope::validate`) acknowledged by the dead-letter topic. While
//! ClickHouse is down the loop retries the same batch with back-off and consumes nothing else,
//! so memory stays bounded by one batch and a slow ClickHouse slows consumption.

mod batch;
pub mod cut;
mod dead_letter;
mod offsets;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::config::Config;
use crate::sink::{Rows, insert_rows};
use crate::telemetry::{
    self, BatchConsumed, BatchStored, DeadLetterFailed, DeadLettered, InsertFailed, Metrics,
    OffsetCommitFailed, ReasonClass,
};

pub use batch::next_batch;
use cut::{Cutter, PartitionBatch};
pub use dead_letter::DeadLetters;

/// Consumes until `shutdown` is cancelled, with metrics nobody reads (see [`run_with_metrics`]).
pub async fn run(
    config: &Config,
    client: clickhouse::Client,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    run_with_metrics(config, client, Metrics::new(), shutdown).await
}

/// Consumes until `shutdown` is cancelled. Each batch is stored, then its offsets committed;
/// `metrics` counts batches, inserts, dead letters and samples the lag per partition.
pub async fn run_with_metrics(
    config: &Config,
    client: clickhouse::Client,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", &config.kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // The gateways do not write transactionally, so both isolation levels read the same
        // records; read_uncommitted also avoids tansu 0.6's read_committed offset query,
        // which PostgreSQL 15 refuses (docs/cluster.md).
        .set("isolation.level", "read_uncommitted")
        .set(
            "session.timeout.ms",
            config.kafka.session_timeout_ms.to_string(),
        )
        // librdkafka prefetches into its own queue while the loop waits on ClickHouse; this
        // bounds that queue, so a stalled ClickHouse holds at most one batch plus this much.
        .set(
            "queued.max.messages.kbytes",
            config.kafka.prefetch_max_kb.to_string(),
        )
        .create()?;
    consumer.subscribe(&[&config.kafka.topic])?;
    let consumer = Arc::new(consumer);
    let sampler = tokio::spawn(telemetry::sample_lag(
        consumer.clone(),
        metrics.clone(),
        LAG_SAMPLE_INTERVAL,
        shutdown.child_token(),
    ));
    let result = consume(config, &client, &consumer, &metrics, &shutdown).await;
    sampler.abort();
    result
}

/// How often the lag per partition is sampled.
const LAG_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

async fn consume(
    config: &Config,
    client: &clickhouse::Client,
    consumer: &Arc<StreamConsumer>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Result<(), Error> {
    let dead_letters = DeadLetters::new(&config.kafka)?;
    let max_wait = Duration::from_millis(config.batch.max_wait_ms);
    let mut cutter = Cutter::default();
    let mut crash = CrashBeforeCommit::from_env();
    tracing::info!(topic = %config.kafka.topic, group = %config.kafka.group_id, "consuming");
    while !shutdown.is_cancelled() {
        // With messages waiting for a recorded batch's end, a round ends after max_wait even
        // if nothing new arrives.
        let received = next_batch(
            consumer,
            config.batch.max_rows,
            max_wait,
            cutter.has_pending(),
            shutdown,
        )
        .await;
        if !received.is_empty() {
            BatchConsumed {
                messages: received.len(),
            }
            .emit(metrics);
        }
        let wanted = cutter.needs_lookup(&received);
        let committed = if wanted.is_empty() {
            Default::default()
        } else {
            let consumer = consumer.clone();
            tokio::task::spawn_blocking(move || offsets::lookup(&consumer, &wanted))
                .await
                .map_err(|e| Error::Task(e.to_string()))?
        };
        cutter.add(received, &committed);
        if let Some(assigned) = offsets::assigned(consumer) {
            cutter.retain(|key| assigned.contains(key));
        }
        let batches = cutter.cut(config.batch.max_rows);
        if batches.is_empty() {
            continue;
        }
        let Some(batches) =
            record_intents(config, consumer, &mut cutter, batches, metrics, shutdown).await
        else {
            return Ok(()); // Shut down: nothing stored, the batches are read again.
        };
        if batches.is_empty() {
            continue; // Every partition of the round moved to another consumer.
        }
        // Partitions are independent: their batches are stored side by side.
        let stores: Vec<_> = batches
            .iter()
            .map(|batch| store(config, client, &dead_letters, batch, metrics, shutdown))
            .collect();
        let stored: Vec<bool> = futures::stream::iter(stores)
            .buffer_unordered(config.batch.parallel_inserts)
            .collect()
            .await;
        if stored.contains(&false) {
            return Ok(()); // Shut down mid-retry: nothing committed, the batches are read again.
        }
        crash.tick();
        offsets::commit_stored(consumer, &batches, metrics);
    }
    Ok(())
}

/// The exit code of the fault injection below (test-only; listed in `ingest --help`).
pub const FAULT_EXIT_CODE: u8 = 86;

/// Fault injection for the exactly-once tests: with `INGEST_FAULT_EXIT_BEFORE_COMMIT=N` the
/// process exits ([`FAULT_EXIT_CODE`], no clean-up, as a crash) after storing its Nth round of
/// batches and before committing their offsets - the moment a re-read batch must be
/// deduplicated.
struct CrashBeforeCommit {
    rounds_left: Option<u64>,
}

impl CrashBeforeCommit {
    /// The environment variable.
    const VAR: &'static str = "INGEST_FAULT_EXIT_BEFORE_COMMIT";

    fn from_env() -> Self {
        let rounds_left = std::env::var(Self::VAR).ok().and_then(|v| v.parse().ok());
        if let Some(n) = rounds_left {
            tracing::warn!(
                rounds = n,
                "{} set: this process will exit before a commit",
                Self::VAR
            );
        }
        Self { rounds_left }
    }

    fn tick(&mut self) {
        if let Some(left) = self.rounds_left.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                tracing::warn!("{}: exiting before the commit", Self::VAR);
                std::process::exit(i32::from(FAULT_EXIT_CODE));
            }
        }
    }
}

/// Commits the batches' intents, retrying until the group coordinator takes them. A batch
/// whose partition was taken away meanwhile is dropped (its new owner reads it from the
/// committed offset). None when shut down first.
async fn record_intents(
    config: &Config,
    consumer: &StreamConsumer,
    cutter: &mut Cutter,
    mut batches: Vec<PartitionBatch>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Option<Vec<PartitionBatch>> {
    let mut delay = Duration::from_millis(config.batch.retry_initial_ms);
    loop {
        if batches.is_empty() {
            return Some(batches);
        }
        match offsets::commit_intents(consumer, &batches) {
            Ok(()) => return Some(batches),
            Err(error) => OffsetCommitFailed { error: &error }.emit(metrics),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_millis(config.batch.retry_max_ms));
        if let Some(assigned) = offsets::assigned(consumer) {
            batches.retain(|b| assigned.contains(&(b.topic.clone(), b.partition)));
            cutter.retain(|key| assigned.contains(key));
        }
    }
}

/// Decodes one partition's batch, inserts its good events (retrying until ClickHouse accepts
/// them) and dead-letters its bad ones. False when shut down first.
async fn store(
    config: &Config,
    client: &clickhouse::Client,
    dead_letters: &DeadLetters,
    batch: &PartitionBatch,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> bool {
    let mut rows = Rows::default();
    let mut by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut bad = Vec::new();
    for message in &batch.messages {
        match schemas::decode(message.payload().unwrap_or_default()) {
            // Decodes but a value is wrong (negative weight, empty id, ...): dead-lettered
            // with the field and why, like an undecodable message.
            Ok(envelope) => match envelope.validate() {
                Ok(()) => {
                    *by_kind.entry(envelope.event.kind().as_str()).or_default() += 1;
                    rows.push_ingested(&envelope, ingested_at_ms(message, &envelope));
                }
                Err(invalid) => bad.push((
                    message,
                    ReasonClass::InvalidEvent,
                    format!("invalid event: {invalid}"),
                )),
            },
            Err(reason) => bad.push((
                message,
                ReasonClass::of_decode_error(&reason),
                reason.to_string(),
            )),
        }
    }
    // The last (successful) attempt's duration, in µs.
    let insert_us = AtomicU64::new(0);
    let stored = retry_until_done(
        &config.batch,
        shutdown,
        || async {
            let started = Instant::now();
            let result = insert_rows(client, &config.clickhouse.database, &rows).await;
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            insert_us.store(us, Ordering::Relaxed);
            result
        },
        |error, attempt, retry_in| {
            InsertFailed {
                error,
                attempt,
                retry_in,
            }
            .emit(metrics)
        },
    )
    .await;
    if !stored {
        return false; // Shut down mid-retry: nothing committed, the batch is read again.
    }
    BatchStored {
        by_kind: &by_kind,
        insert_duration: Duration::from_micros(insert_us.load(Ordering::Relaxed)),
        dead_letters: bad.len(),
    }
    .emit(metrics);
    for (message, class, reason) in &bad {
        let sent = retry_until_done(
            &config.batch,
            shutdown,
            || dead_letters.send(message, reason),
            |error, _, _| DeadLetterFailed { error }.emit(metrics),
        )
        .await;
        if !sent {
            return false;
        }
        DeadLettered { class: *class }.emit(metrics);
    }
    true
}

/// When the event reached Kafka (its message timestamp), so a batch read again makes the same
/// rows and the same insert blocks; the capture time if the message carries none.
fn ingested_at_ms(message: &OwnedMessage, envelope: &schemas::Envelope) -> i64 {
    message
        .timestamp()
        .to_millis()
        .unwrap_or_else(|| envelope.captured_at.timestamp_millis())
}

/// Runs `attempt` until it succeeds (true) or `shutdown` is cancelled (false), doubling the
/// delay between attempts from `retry_initial_ms` up to `retry_max_ms`. Each failure is
/// reported to `on_failure` with the attempt number (from 1) and the delay before the next.
async fn retry_until_done<F, Fut, E>(
    batch: &crate::config::BatchConfig,
    shutdown: &CancellationToken,
    mut attempt: F,
    mut on_failure: impl FnMut(&dyn std::fmt::Display, u32, Duration),
) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut delay = Duration::from_millis(batch.retry_initial_ms);
    let mut attempts = 0u32;
    loop {
        match attempt().await {
            Ok(()) => return true,
            Err(e) => {
                attempts += 1;
                on_failure(&e, attempts, delay);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_millis(batch.retry_max_ms));
    }
}
