//! The consumer group's offsets: a batch's intent before it is stored, its end after, and what
//! a partition read from its committed offset must cut first (see [`super::cut`]).
//!
//! A batch's intent is two offset commits: its end to the [`BatchEnds`] group, then its first
//! offset to the consumers' group. Offset commit metadata would be the natural place for the
//! end, but tansu 0.6 stores it and never returns it (its OffsetFetch answers an empty
//! string), so a recorded end would be lost exactly when it matters. Committed offsets are
//! what every Kafka-protocol broker keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::cut::{Committed, PartitionBatch, PartitionKey};
use super::group::GroupConsumer;
use crate::telemetry::{Metrics, OffsetCommitFailed, OffsetsCommitted};

/// How long looking up committed offsets may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where each partition's batch being stored ends: the committed offsets of a second group
/// ([`super::group::batch_ends_group`]), written by a consumer that never subscribes. A
/// partition whose end here is past the consumers' committed offset has a batch in flight
/// from that offset to that end.
pub struct BatchEnds {
    consumer: BaseConsumer,
}

impl BatchEnds {
    /// The batch ends of `kafka`'s group.
    pub fn new(kafka: &crate::config::KafkaConfig) -> KafkaResult<Self> {
        Ok(Self {
            consumer: super::group::create_batch_ends(kafka)?,
        })
    }
}

/// Per batch, the offset `at` picks (no metadata).
fn offsets_list(
    batches: &[PartitionBatch],
    at: impl Fn(&PartitionBatch) -> i64,
) -> KafkaResult<TopicPartitionList> {
    let mut list = TopicPartitionList::new();
    for batch in batches {
        let mut elem = list.add_partition(&batch.topic, batch.partition);
        elem.set_offset(Offset::Offset(at(batch)))?;
        elem.set_metadata("");
    }
    Ok(list)
}

/// Records the batches' intents before they are stored: each batch's end in [`BatchEnds`],
/// then its first offset in the consumers' group, so that should this consumer stop before
/// [`commit_stored`], whoever reads the partition next cuts the same batch. Waits on a
/// blocking thread (see [`commit`]); None when `shutdown` comes first.
pub async fn record_intents(
    consumer: &Arc<GroupConsumer>,
    ends: &Arc<BatchEnds>,
    batches: &[PartitionBatch],
    shutdown: &CancellationToken,
) -> Option<KafkaResult<()>> {
    let (end_list, first_list) = match (
        offsets_list(batches, PartitionBatch::end_offset),
        offsets_list(batches, PartitionBatch::first_offset),
    ) {
        (Ok(e), Ok(f)) => (e, f),
        (Err(error), _) | (_, Err(error)) => return Some(Err(error)),
    };
    let c = Arc::clone(consumer);
    let ends = Arc::clone(ends);
    blocking_until_shutdown(shutdown, move || {
        ends.consumer.commit(&end_list, CommitMode::Sync)?;
        c.commit(&first_list, CommitMode::Sync)
    })
    .await
}

/// The next offset to read, by (topic, partition).
pub type NextOffsets = BTreeMap<(String, i32), i64>;

/// Per batch, the offset after its last message (no metadata: nothing in flight), and those
/// offsets by partition for the metrics.
pub fn stored_list(batches: &[PartitionBatch]) -> KafkaResult<(TopicPartitionList, NextOffsets)> {
    let next: NextOffsets = batches
        .iter()
        .map(|b| ((b.topic.clone(), b.partition), b.end_offset()))
        .collect();
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in &next {
        let mut elem = list.add_partition(topic, *partition);
        elem.set_offset(Offset::Offset(*offset))?;
        elem.set_metadata("");
    }
    Ok((list, next))
}

/// Commits `list` and waits for the group coordinator's answer on a blocking thread, never on
/// the runtime's workers: librdkafka's synchronous commit has no timeout and waits as long as
/// no coordinator is reachable (confluentinc/librdkafka#3740), which on a worker would stall
/// every other task of the process (timers, the ops listener). None when `shutdown` comes
/// first; the commit may still complete later, which is safe either way (a batch re-read
/// from its intent is cut the same and deduplicated by ClickHouse).
pub async fn commit(
    consumer: &Arc<GroupConsumer>,
    list: TopicPartitionList,
    shutdown: &CancellationToken,
) -> Option<KafkaResult<()>> {
    let c = Arc::clone(consumer);
    blocking_until_shutdown(shutdown, move || c.commit(&list, CommitMode::Sync)).await
}

/// Runs `commits` on a blocking thread and waits for it, or for `shutdown` (None). A commit
/// left running at shutdown may still complete, which is safe: see [`commit`].
async fn blocking_until_shutdown(
    shutdown: &CancellationToken,
    commits: impl FnOnce() -> KafkaResult<()> + Send + 'static,
) -> Option<KafkaResult<()>> {
    let commits = tokio::task::spawn_blocking(commits);
    tokio::select! {
        _ = shutdown.cancelled() => None,
        joined = commits => Some(joined.unwrap_or(Err(KafkaError::Canceled))),
    }
}

/// Commits the stored batches' ends ([`stored_list`]). A failed commit (e.g. the partition
/// moved to another replica in a rebalance) is logged: the batch is read again and, cut the
/// same from its intent, deduplicated by ClickHouse.
pub async fn commit_stored(
    consumer: &Arc<GroupConsumer>,
    batches: &[PartitionBatch],
    metrics: &Metrics,
    shutdown: &CancellationToken,
) {
    let (list, next) = match stored_list(batches) {
        Ok(lists) => lists,
        Err(error) => return OffsetCommitFailed { error: &error }.emit(metrics),
    };
    match commit(consumer, list, shutdown).await {
        Some(Ok(())) => OffsetsCommitted { next: &next }.emit(metrics),
        Some(Err(error)) => OffsetCommitFailed { error: &error }.emit(metrics),
        None => tracing::info!("shut down while committing stored offsets"),
    }
}

/// The committed offset and recorded intent of each partition in `keys`; an error when either
/// group cannot answer for one of them (guessing would risk cutting a recorded batch anew).
pub fn lookup(
    consumer: &GroupConsumer,
    ends: &BatchEnds,
    keys: &BTreeSet<PartitionKey>,
) -> KafkaResult<BTreeMap<PartitionKey, Committed>> {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in keys {
        list.add_partition(topic, *partition);
    }
    let committed = committed_of(consumer, list.clone())?;
    let recorded_ends = committed_of(&ends.consumer, list)?;
    Ok(committed
        .into_iter()
        .map(|(key, offset)| {
            let batch_end = match (offset, recorded_ends.get(&key).copied().flatten()) {
                (Some(from), Some(end)) if end > from => Some(end),
                _ => None,
            };
            (key, Committed { offset, batch_end })
        })
        .collect())
}

/// A group's committed offset of each partition in `list` (None: nothing committed).
fn committed_of<C: rdkafka::consumer::ConsumerContext>(
    consumer: &impl Consumer<C>,
    list: TopicPartitionList,
) -> KafkaResult<BTreeMap<PartitionKey, Option<i64>>> {
    let answer = consumer.committed_offsets(list, LOOKUP_TIMEOUT)?;
    for e in answer.elements() {
        e.error()?;
    }
    Ok(answer
        .elements()
        .iter()
        .map(|e| {
            let offset = match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            ((e.topic().to_owned(), e.partition()), offset)
        })
        .collect())
}

/// The partitions assigned to this consumer now; None when the client cannot say.
pub fn assigned(consumer: &GroupConsumer) -> Option<BTreeSet<PartitionKey>> {
    match consumer.assignment() {
        Ok(list) => Some(
            list.elements()
                .iter()
                .map(|e| (e.topic().to_owned(), e.partition()))
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the assignment");
            None
        }
    }
}
