//! The consumer group's offsets: a batch's intent before it is stored, its end after, and what
//! a partition read from its committed offset must cut first (see [`super::cut`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use super::cut::{Committed, PartitionBatch, PartitionKey, intent_metadata, parse_intent};
use super::group::GroupConsumer;
use crate::telemetry::{Metrics, OffsetCommitFailed, OffsetsCommitted};

/// How long looking up committed offsets may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Commits, per batch, its partition's first offset with the batch's end as metadata: should
/// this consumer stop before [`commit_stored`], whoever reads the partition next cuts the same
/// batch. Blocks until the group coordinator answers.
pub fn commit_intents(consumer: &GroupConsumer, batches: &[PartitionBatch]) -> KafkaResult<()> {
    let mut list = TopicPartitionList::new();
    for batch in batches {
        let mut elem = list.add_partition(&batch.topic, batch.partition);
        elem.set_offset(Offset::Offset(batch.first_offset()))?;
        elem.set_metadata(intent_metadata(batch.end_offset()));
    }
    consumer.commit(&list, CommitMode::Sync)
}

/// Commits, per batch, the offset after its last message (no metadata: nothing in flight). A
/// failed commit (e.g. the partition moved to another replica in a rebalance) is logged: the
/// batch is read again and, cut the same from its intent, deduplicated by ClickHouse.
pub fn commit_stored(consumer: &GroupConsumer, batches: &[PartitionBatch], metrics: &Metrics) {
    let next: BTreeMap<(String, i32), i64> = batches
        .iter()
        .map(|b| ((b.topic.clone(), b.partition), b.end_offset()))
        .collect();
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in &next {
        let mut elem = list.add_partition(topic, *partition);
        if let Err(e) = elem.set_offset(Offset::Offset(*offset)) {
            OffsetCommitFailed { error: &e }.emit(metrics);
            return;
        }
        elem.set_metadata("");
    }
    match consumer.commit(&list, CommitMode::Sync) {
        Ok(()) => OffsetsCommitted { next: &next }.emit(metrics),
        Err(error) => OffsetCommitFailed { error: &error }.emit(metrics),
    }
}

/// The committed offset and recorded intent of each partition in `keys`; an error when the
/// group cannot answer for one of them (guessing would risk cutting a recorded batch anew).
pub fn lookup(
    consumer: &GroupConsumer,
    keys: &BTreeSet<PartitionKey>,
) -> KafkaResult<BTreeMap<PartitionKey, Committed>> {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in keys {
        list.add_partition(topic, *partition);
    }
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
            let key = (e.topic().to_owned(), e.partition());
            let batch_end = parse_intent(e.metadata());
            (key, Committed { offset, batch_end })
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
