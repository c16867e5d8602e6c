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
mod group;
mod offsets;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::config::Config;
use crate::gateways::{Refusal, Registry};
use crate::sink::{Rows, insert_rows_isolating};
use crate::telemetry::{
    self, BatchConsumed, BatchStored, DeadLetterFailed, DeadLettered, InsertFailed, Metrics,
    OffsetCommitFailed, ReasonClass,
};

pub use batch::next_batch;
use cut::{Cutter, PartitionBatch};
pub use dead_letter::DeadLetters;
use group::{GroupConsumer, is_fenced};

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
    let consumer = group::create(&config.kafka)?;
    consumer.subscribe(&[&config.kafka.topic])?;
    let consumer = Arc::new(consumer);
    let ends = Arc::new(offsets::BatchEnds::new(&config.kafka)?);
    let sampler = tokio::spawn(telemetry::sample_lag(
        consumer.clone(),
        metrics.clone(),
        LAG_SAMPLE_INTERVAL,
        shutdown.child_token(),
    ));
    let result = consume(config, &client, &consumer, &ends, &metrics, &shutdown).await;
    sampler.abort();
    result
}

/// How often the lag per partition is sampled.
const LAG_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

async fn consume(
    config: &Config,
    client: &clickhouse::Client,
    consumer: &Arc<GroupConsumer>,
    ends: &Arc<offsets::BatchEnds>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Result<(), Error> {
    let dead_letters = DeadLetters::new(&config.kafka)?;
    let registry = Registry::new(
        client.clone(),
        &config.clickhouse.database,
        Duration::from_millis(config.security.registry_refresh_ms),
    );
    if let Err(error) = registry.reload().await {
        tracing::warn!(%error, "cannot read the gateway registry yet; reading it per batch");
    }
    let max_wait = Duration::from_millis(config.batch.max_wait_ms);
    let mut cutter = Cutter::default();
    let mut crash = CrashBeforeCommit::from_env();
    let mut epoch = consumer.context().epoch();
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
        // A rebalance while polling: whatever this consumer knew of its partitions may be
        // stale (another replica may have stored or recorded batches meanwhile), so each is
        // looked up again from its committed offset.
        let now = consumer.context().epoch();
        if now != epoch {
            epoch = now;
            cutter.clear();
        }
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
            match lookup_committed(consumer, ends, wanted, shutdown).await? {
                Some(committed) => committed,
                None => return Ok(()), // Shut down: nothing stored.
            }
        };
        cutter.add(received, &committed);
        if let Some(assigned) = offsets::assigned(consumer) {
            cutter.retain(|key| assigned.contains(key));
        }
        let batches = cutter.cut(config.batch.max_rows, std::time::Instant::now());
        if batches.is_empty() {
            continue;
        }
        let Some(batches) = record_intents(
            config,
            consumer,
            ends,
            &mut cutter,
            batches,
            metrics,
            shutdown,
        )
        .await
        else {
            return Ok(()); // Shut down: nothing stored, the batches are read again.
        };
        if batches.is_empty() {
            continue; // Every partition of the round moved to another consumer.
        }
        // Partitions are independent: their batches are stored side by side.
        let stores: Vec<_> = batches
            .iter()
            .map(|batch| {
                store(
                    config,
                    client,
                    consumer,
                    Gates {
                        dead_letters: &dead_letters,
                        registry: &registry,
                    },
                    batch,
                    metrics,
                    shutdown,
                )
            })
            .collect();
        let outcomes: Vec<Stored> = futures::stream::iter(stores)
            .buffer_unordered(config.batch.parallel_inserts)
            .collect()
            .await;
        if outcomes.contains(&Stored::ShutDown) {
            return Ok(()); // Shut down mid-retry: nothing committed, the batches are read again.
        }
        if outcomes.contains(&Stored::Fenced) || is_fenced(consumer) {
            // The partitions went to another replica mid-round: it stores these batches again
            // (cut the same from their intents); committing here could overwrite its intents.
            tracing::warn!("assignment lost while storing; the round is left to the new owner");
            cutter.clear();
            continue;
        }
        crash.tick();
        offsets::commit_stored(consumer, &batches, metrics, shutdown).await;
    }
    Ok(())
}

/// The exit code of the fault injection below (test-only; listed in `ingest --help`).
pub const FAULT_EXIT_CODE: u8 = 86;

/// How long to wait before asking the group coordinator again for committed offsets.
const LOOKUP_RETRY: Duration = Duration::from_millis(500);

/// The committed offset and intent of each partition in `wanted`, asked until the coordinator
/// answers for every one still assigned here: cutting a partition without knowing its intent
/// could cut a batch differently from the one another replica stored. None when shut down.
async fn lookup_committed(
    consumer: &Arc<GroupConsumer>,
    ends: &Arc<offsets::BatchEnds>,
    mut wanted: std::collections::BTreeSet<cut::PartitionKey>,
    shutdown: &CancellationToken,
) -> Result<Option<BTreeMap<cut::PartitionKey, cut::Committed>>, Error> {
    loop {
        let c = consumer.clone();
        let e = ends.clone();
        let asked = wanted.clone();
        match tokio::task::spawn_blocking(move || offsets::lookup(&c, &e, &asked))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
        {
            Ok(committed) => {
                tracing::debug!(?committed, "committed offsets looked up");
                return Ok(Some(committed));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read committed offsets; asking again")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(LOOKUP_RETRY) => {}
        }
        if let Some(assigned) = offsets::assigned(consumer) {
            wanted.retain(|key| assigned.contains(key));
            if wanted.is_empty() {
                return Ok(Some(BTreeMap::new()));
            }
        }
    }
}

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
    consumer: &Arc<GroupConsumer>,
    ends: &Arc<offsets::BatchEnds>,
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
        if is_fenced(consumer) {
            cutter.clear();
            return Some(Vec::new()); // The new owner reads these partitions.
        }
        let committed = offsets::record_intents(consumer, ends, &batches, shutdown).await?;
        match committed {
            Ok(()) => {
                tracing::debug!(
                    intents = ?batches
                        .iter()
                        .map(|b| (b.partition, b.first_offset(), b.end_offset()))
                        .collect::<Vec<_>>(),
                    "batch intents recorded"
                );
                return Some(batches);
            }
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

/// What decides an event's way besides ClickHouse: the gateway registry it must pass and the
/// dead-letter topic it goes to when it does not (or when anything else is wrong with it).
#[derive(Clone, Copy)]
struct Gates<'a> {
    dead_letters: &'a DeadLetters,
    registry: &'a Registry,
}

/// How storing a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Every good event inserted, every bad one dead-lettered.
    Done,
    /// Shut down first.
    ShutDown,
    /// The assignment was lost first: the partition's new owner stores the batch.
    Fenced,
}

/// Decodes one partition's batch, inserts its good events (retrying until ClickHouse accepts
/// them) and dead-letters its bad ones, unless shut down or fenced first.
async fn store(
    config: &Config,
    client: &clickhouse::Client,
    consumer: &GroupConsumer,
    gates: Gates<'_>,
    batch: &PartitionBatch,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Stored {
    let fenced = || is_fenced(consumer);
    let decoded: Vec<(
        &OwnedMessage,
        Result<schemas::Envelope, schemas::DecodeError>,
    )> = batch
        .messages
        .iter()
        .map(|m| (m, schemas::decode(m.payload().unwrap_or_default())))
        .collect();
    // Verified before anything of the batch is stored: see `authenticate`.
    let refusals =
        match authenticate_batch(config, gates.registry, &decoded, shutdown, &fenced).await {
            Ok(refusals) => refusals,
            Err(stored) => return stored,
        };
    let mut rows = Rows::default();
    let mut by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut bad = Vec::new();
    // Per table, the message and kind of each row, in row order (to dead-letter a row
    // ClickHouse refuses).
    let mut origins: BTreeMap<&'static str, Vec<(&OwnedMessage, &'static str)>> = BTreeMap::new();
    for ((message, decoded), refused) in decoded.iter().zip(refusals) {
        let message = *message;
        match decoded {
            // Decodes but a value is wrong (negative weight, empty id, ...): dead-lettered
            // with the field and why, like an undecodable message.
            Ok(envelope) => match envelope.validate() {
                Ok(()) => {
                    if let Some(refused) = refused {
                        bad.push((message, ReasonClass::Unauthenticated, refused.to_string()));
                        continue;
                    }
                    let kind = envelope.event.kind().as_str();
                    *by_kind.entry(kind).or_default() += 1;
                    if let Some(table) =
                        rows.push_ingested(envelope, ingested_at_ms(message, envelope))
                    {
                        origins.entry(table).or_default().push((message, kind));
                    }
                }
                Err(invalid) => bad.push((
                    message,
                    ReasonClass::InvalidEvent,
                    format!("invalid event: {invalid}"),
                )),
            },
            Err(reason) => bad.push((
                message,
                ReasonClass::of_decode_error(reason),
                reason.to_string(),
            )),
        }
    }
    tracing::debug!(
        topic = %batch.topic,
        partition = batch.partition,
        first_offset = batch.first_offset(),
        end_offset = batch.end_offset(),
        rows = batch.messages.len() - bad.len(),
        "storing a batch"
    );
    // The last (successful) attempt's duration, in µs, and the rows it found refused.
    let insert_us = AtomicU64::new(0);
    let refused = std::sync::Mutex::new(Vec::new());
    let stored = retry_until_done(
        &config.batch,
        shutdown,
        &fenced,
        || async {
            let started = Instant::now();
            let result = insert_rows_isolating(client, &config.clickhouse.database, &rows).await;
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            insert_us.store(us, Ordering::Relaxed);
            result.map(|rejected| {
                if let Ok(mut r) = refused.lock() {
                    *r = rejected;
                }
            })
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
    if stored != Stored::Done {
        return stored; // Nothing committed: the batch is read again.
    }
    let refused = refused.into_inner().unwrap_or_default();
    for row in &refused {
        let Some(&(message, kind)) = origins.get(row.table).and_then(|o| o.get(row.index)) else {
            continue; // Not one of this batch's rows: cannot happen.
        };
        if let Some(n) = by_kind.get_mut(kind) {
            *n = n.saturating_sub(1);
        }
        bad.push((
            message,
            ReasonClass::Rejected,
            format!("rejected by ClickHouse ({}): {}", row.table, row.reason),
        ));
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
            &fenced,
            || gates.dead_letters.send(message, reason),
            |error, _, _| DeadLetterFailed { error }.emit(metrics),
        )
        .await;
        if sent != Stored::Done {
            return sent;
        }
        DeadLettered { class: *class }.emit(metrics);
    }
    Stored::Done
}

/// For each decoded, valid message, why it may not be stored (None: it may), per
/// [`authenticate`]. While the registry cannot be read and a message names a key not in the
/// cached copy, nothing is decided: the batch waits (with back-off, like an insert) rather
/// than dead-letter events only because ClickHouse is down. Err when shut down or fenced.
async fn authenticate_batch(
    config: &Config,
    registry: &Registry,
    decoded: &[(
        &OwnedMessage,
        Result<schemas::Envelope, schemas::DecodeError>,
    )],
    shutdown: &CancellationToken,
    fenced: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<Option<Refusal>>, Stored> {
    let mut delay = Duration::from_millis(config.batch.retry_initial_ms);
    loop {
        if fenced() {
            return Err(Stored::Fenced);
        }
        registry.refresh_if_stale().await;
        let mut refusals = Vec::with_capacity(decoded.len());
        let mut unavailable = None;
        for (message, decoded) in decoded {
            let verdict = match decoded {
                Ok(envelope) if envelope.validate().is_ok() => {
                    let payload = message.payload().unwrap_or_default();
                    authenticate(config, registry, message, payload, envelope).await
                }
                _ => Ok(()),
            };
            match verdict {
                Err(Refusal::RegistryUnavailable(error)) => {
                    unavailable = Some(error);
                    break;
                }
                verdict => refusals.push(verdict.err()),
            }
        }
        let Some(error) = unavailable else {
            return Ok(refusals);
        };
        tracing::warn!(
            %error,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "cannot read the gateway registry to verify a batch; retrying"
        );
        tokio::select! {
            _ = shutdown.cancelled() => return Err(Stored::ShutDown),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_millis(config.batch.retry_max_ms));
    }
}

/// Whether the event may be stored: signed by a key its gateway is enrolled with for its
/// feedlot (see [`Registry::check`]). An unsigned event passes only while
/// `security.require_signatures` is off (a migration window); a signed one is always verified.
async fn authenticate(
    config: &Config,
    registry: &Registry,
    message: &OwnedMessage,
    payload: &[u8],
    envelope: &schemas::Envelope,
) -> Result<(), Refusal> {
    if envelope.signature.is_none() && !config.security.require_signatures {
        return Ok(());
    }
    let arrived_ms = u64::try_from(ingested_at_ms(message, envelope)).unwrap_or(0);
    registry.check(payload, envelope, arrived_ms).await
}

/// When the event reached Kafka (its message timestamp), so a batch read again makes the same
/// rows and the same insert blocks; the capture time if the message carries none.
fn ingested_at_ms(message: &OwnedMessage, envelope: &schemas::Envelope) -> i64 {
    message
        .timestamp()
        .to_millis()
        .unwrap_or_else(|| envelope.captured_at.timestamp_millis())
}

/// Runs `attempt` until it succeeds, `shutdown` is cancelled or `fenced` says the partition
/// is no longer this consumer's (checked before every attempt), doubling the delay between
/// attempts from `retry_initial_ms` up to `retry_max_ms`. Each failure is reported to
/// `on_failure` with the attempt number (from 1) and the delay before the next.
async fn retry_until_done<F, Fut, E>(
    batch: &crate::config::BatchConfig,
    shutdown: &CancellationToken,
    fenced: &(dyn Fn() -> bool + Sync),
    mut attempt: F,
    mut on_failure: impl FnMut(&dyn std::fmt::Display, u32, Duration),
) -> Stored
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut delay = Duration::from_millis(batch.retry_initial_ms);
    let mut attempts = 0u32;
    loop {
        if fenced() {
            return Stored::Fenced;
        }
        match attempt().await {
            Ok(()) => return Stored::Done,
            Err(e) => {
                attempts += 1;
                on_failure(&e, attempts, delay);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Stored::ShutDown,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_millis(batch.retry_max_ms));
    }
}
