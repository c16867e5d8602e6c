//! Committing a stored batch's offsets.

use std::collections::BTreeMap;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};

/// Commits, per partition, the offset after the batch's last message. A failed commit (e.g. the
/// partition moved to another replica in a rebalance) is logged: those messages are delivered
/// again and deduplicated by event id.
pub fn commit(consumer: &StreamConsumer, batch: &[OwnedMessage]) {
    let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for m in batch {
        let entry = next.entry((m.topic(), m.partition())).or_insert(0);
        *entry = (*entry).max(m.offset() + 1);
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in next {
        if let Err(e) = list.add_partition_offset(topic, partition, Offset::Offset(offset)) {
            tracing::warn!(error = %e, "cannot build the offset list");
            return;
        }
    }
    if let Err(e) = consumer.commit(&list, CommitMode::Sync) {
        tracing::warn!(error = %e, "offset commit failed; the batch may be delivered again");
    }
}
