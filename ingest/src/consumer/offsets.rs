//! Committing a stored batch's offsets.

use std::collections::BTreeMap;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};

use crate::telemetry::{Metrics, OffsetCommitFailed, OffsetsCommitted};

/// Commits, per partition, the offset after the batch's last message. A failed commit (e.g. the
/// partition moved to another replica in a rebalance) is logged: those messages are delivered
/// again and deduplicated by event id.
pub fn commit(consumer: &StreamConsumer, batch: &[OwnedMessage], metrics: &Metrics) {
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for m in batch {
        let entry = next
            .entry((m.topic().to_owned(), m.partition()))
            .or_insert(0);
        *entry = (*entry).max(m.offset() + 1);
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in &next {
        if let Err(e) = list.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            tracing::warn!(error = %e, "cannot build the offset list");
            return;
        }
    }
    match consumer.commit(&list, CommitMode::Sync) {
        Ok(()) => OffsetsCommitted { next: &next }.emit(metrics),
        Err(error) => OffsetCommitFailed { error: &error }.emit(metrics),
    }
}
