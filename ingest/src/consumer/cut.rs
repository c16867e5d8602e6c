//! Cutting batches on offset ranges, so a batch read again after a crash is the same batch.
//!
//! ClickHouse's replicated tables drop an insert block identical to one they stored recently
//! (insert deduplication). A consumer that stored a batch and crashed before committing its
//! offsets reads the batch again; if it cuts it the same way, the repeated inserts are dropped
//! and the raw tables never hold the copy. So:
//!
//! - a batch holds one partition's messages, consecutive offsets, in offset order;
//! - before inserting, the consumer commits the batch's *intent*: the partition's committed
//!   offset stays at the batch's first message, and the batch's end is committed to a second
//!   group ([`super::offsets::BatchEnds`]); after the insert it commits the end;
//! - a partition read from its committed offset (at start, after a rebalance, after a crash)
//!   whose metadata holds an intent is cut at exactly that end first, whatever arrived since.
//!
//! Messages below the committed offset that arrive again (a rebalance re-reading what was
//! stored meanwhile) are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::message::{Message, OwnedMessage};

/// How long a recorded batch waits for its last messages before it is cut with what arrived
/// (offsets can have gaps, e.g. a compacted or aborted record, so the end may never be seen).
/// A time, not a count of rounds: rounds come as fast as other partitions deliver, and a batch
/// cut short of its recorded end is a different insert block, which ClickHouse cannot
/// deduplicate (a cluster test once stored 37 rows twice when 3 rounds passed before a slow
/// partition's last messages came back).
pub const MAX_WAIT_FOR_RECORDED_END: Duration = Duration::from_secs(30);

/// A topic and partition.
pub type PartitionKey = (String, i32);

/// What the consumer group holds for a partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    /// The committed offset: the next message to store. None when nothing was committed.
    pub offset: Option<i64>,
    /// The end of the batch that was being stored from `offset`, from the intent (the
    /// batch-ends group's offset, when past `offset`).
    pub batch_end: Option<i64>,
}

/// One partition's batch: consecutive offsets, in order.
#[derive(Debug)]
pub struct PartitionBatch {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The messages (never empty).
    pub messages: Vec<OwnedMessage>,
}

impl PartitionBatch {
    /// The first message's offset.
    pub fn first_offset(&self) -> i64 {
        self.messages.first().map_or(0, Message::offset)
    }

    /// The offset after the last message: what to commit once stored.
    pub fn end_offset(&self) -> i64 {
        self.messages.last().map_or(0, |m| m.offset() + 1)
    }
}

#[derive(Debug)]
struct PartitionState {
    /// The offset the next message should have.
    next_offset: i64,
    /// Received, not yet cut.
    pending: Vec<OwnedMessage>,
    /// Where the first batch must end (a recorded intent).
    batch_end: Option<i64>,
    /// When the recorded batch began waiting for its last messages.
    waiting_since: Option<Instant>,
}

/// Per-partition state between rounds (see the module doc).
#[derive(Debug, Default)]
pub struct Cutter {
    partitions: BTreeMap<PartitionKey, PartitionState>,
}

fn key_of(m: &OwnedMessage) -> PartitionKey {
    (m.topic().to_owned(), m.partition())
}

impl Cutter {
    /// The partitions among `received` whose messages do not continue what this cutter holds
    /// (new to it, or read again from an earlier offset): look up their [`Committed`] state
    /// before [`Cutter::add`].
    pub fn needs_lookup(&self, received: &[OwnedMessage]) -> BTreeSet<PartitionKey> {
        let mut expected: BTreeMap<PartitionKey, Option<i64>> = BTreeMap::new();
        let mut lookup = BTreeSet::new();
        for m in received {
            let key = key_of(m);
            if lookup.contains(&key) {
                continue;
            }
            let next = expected
                .entry(key.clone())
                .or_insert_with(|| self.partitions.get(&key).map(|s| s.next_offset));
            if *next == Some(m.offset()) {
                *next = Some(m.offset() + 1);
            } else {
                lookup.insert(key);
            }
        }
        lookup
    }

    /// Takes the messages of a round. A partition named by [`Cutter::needs_lookup`] starts
    /// again from `committed` (its pending messages are dropped: they arrive again).
    pub fn add(
        &mut self,
        received: Vec<OwnedMessage>,
        committed: &BTreeMap<PartitionKey, Committed>,
    ) {
        let mut reset: BTreeSet<PartitionKey> = BTreeSet::new();
        for m in received {
            let key = key_of(&m);
            let offset = m.offset();
            let continues = self
                .partitions
                .get(&key)
                .is_some_and(|s| s.next_offset == offset);
            if !continues && !reset.contains(&key) {
                let known = committed.get(&key).copied().unwrap_or_default();
                let next_offset = known.offset.unwrap_or(offset);
                let batch_end = known
                    .batch_end
                    .filter(|&end| known.offset.is_some() && end > next_offset);
                self.partitions.insert(
                    key.clone(),
                    PartitionState {
                        next_offset,
                        pending: Vec::new(),
                        batch_end,
                        waiting_since: None,
                    },
                );
                reset.insert(key.clone());
            }
            let Some(state) = self.partitions.get_mut(&key) else {
                continue;
            };
            if offset < state.next_offset {
                continue; // Stored and committed already.
            }
            state.next_offset = offset + 1;
            state.pending.push(m);
        }
    }

    /// Forgets the partitions `assigned` says are no longer this consumer's: whoever takes
    /// them reads from the committed offset.
    pub fn retain(&mut self, assigned: impl Fn(&PartitionKey) -> bool) {
        self.partitions.retain(|key, _| assigned(key));
    }

    /// Forgets every partition (after a rebalance): each is looked up again when its messages
    /// arrive.
    pub fn clear(&mut self) {
        self.partitions.clear();
    }

    /// Whether messages wait for a later round.
    pub fn has_pending(&self) -> bool {
        self.partitions.values().any(|s| !s.pending.is_empty())
    }

    /// Cuts at most one batch per partition: a recorded batch exactly (once its messages are
    /// in, or [`MAX_WAIT_FOR_RECORDED_END`] after it began waiting at `now`), otherwise up to
    /// `max_rows` from the front.
    pub fn cut(&mut self, max_rows: usize, now: Instant) -> Vec<PartitionBatch> {
        let mut batches = Vec::new();
        for ((topic, partition), state) in &mut self.partitions {
            if state.pending.is_empty() {
                continue;
            }
            let take = match state.batch_end {
                Some(end) => {
                    let inside = state.pending.iter().filter(|m| m.offset() < end).count();
                    let last_in = state
                        .pending
                        .get(inside.wrapping_sub(1))
                        .map(Message::offset);
                    let since = *state.waiting_since.get_or_insert(now);
                    let complete = inside == 0
                        || last_in == Some(end - 1)
                        || inside < state.pending.len()
                        || now.saturating_duration_since(since) >= MAX_WAIT_FOR_RECORDED_END;
                    if !complete {
                        continue;
                    }
                    state.batch_end = None;
                    state.waiting_since = None;
                    if inside == 0 {
                        state.pending.len().min(max_rows)
                    } else {
                        inside
                    }
                }
                None => state.pending.len().min(max_rows),
            };
            let messages: Vec<OwnedMessage> = state.pending.drain(..take).collect();
            batches.push(PartitionBatch {
                topic: topic.clone(),
                partition: *partition,
                messages,
            });
        }
        batches
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::Timestamp;

    use super::*;

    fn msg(partition: i32, offset: i64) -> OwnedMessage {
        OwnedMessage::new(
            Some(vec![]),
            None,
            "t".into(),
            Timestamp::CreateTime(0),
            partition,
            offset,
            None,
        )
    }

    fn offsets(batch: &PartitionBatch) -> Vec<i64> {
        batch.messages.iter().map(Message::offset).collect()
    }

    fn round(cutter: &mut Cutter, msgs: Vec<OwnedMessage>, committed: &[(i32, Committed)]) {
        let wanted = cutter.needs_lookup(&msgs);
        let known = committed
            .iter()
            .filter(|(p, _)| wanted.contains(&("t".to_owned(), *p)))
            .map(|(p, c)| (("t".to_owned(), *p), *c))
            .collect();
        cutter.add(msgs, &known);
    }

    #[test]
    fn batches_hold_one_partition_each_in_offset_order_up_to_max_rows() {
        let mut cutter = Cutter::default();
        round(
            &mut cutter,
            vec![msg(0, 5), msg(1, 0), msg(0, 6), msg(0, 7), msg(1, 1)],
            &[],
        );
        let batches = cutter.cut(2, Instant::now());
        assert_eq!(batches.len(), 2);
        assert_eq!(
            (batches[0].partition, offsets(&batches[0])),
            (0, vec![5, 6])
        );
        assert_eq!(
            (batches[1].partition, offsets(&batches[1])),
            (1, vec![0, 1])
        );
        assert_eq!(batches[0].end_offset(), 7);
        assert!(cutter.has_pending());
        assert_eq!(offsets(&cutter.cut(2, Instant::now())[0]), vec![7]);
        assert!(!cutter.has_pending());
    }

    #[test]
    fn a_recorded_batch_is_cut_again_exactly_however_the_messages_arrive() {
        let recorded = Committed {
            offset: Some(10),
            batch_end: Some(14),
        };
        // First the batch arrives in part: it waits for the rest.
        let mut cutter = Cutter::default();
        round(&mut cutter, vec![msg(0, 10), msg(0, 11)], &[(0, recorded)]);
        assert!(cutter.cut(100, Instant::now()).is_empty());
        // Then the rest with more behind it: exactly 10..14, then the others.
        round(
            &mut cutter,
            vec![msg(0, 12), msg(0, 13), msg(0, 14), msg(0, 15)],
            &[(0, recorded)],
        );
        let first = cutter.cut(100, Instant::now());
        assert_eq!(offsets(&first[0]), vec![10, 11, 12, 13]);
        assert_eq!(offsets(&cutter.cut(100, Instant::now())[0]), vec![14, 15]);
    }

    #[test]
    fn a_recorded_batch_whose_end_never_comes_is_cut_after_the_wait_however_many_rounds() {
        let recorded = Committed {
            offset: Some(0),
            batch_end: Some(3),
        };
        let mut cutter = Cutter::default();
        round(&mut cutter, vec![msg(0, 0), msg(0, 1)], &[(0, recorded)]);
        let start = Instant::now();
        // Many quick rounds (other partitions delivering) do not cut it short.
        for _ in 0..100 {
            assert!(cutter.cut(100, start).is_empty());
        }
        let almost = start + MAX_WAIT_FOR_RECORDED_END - Duration::from_millis(1);
        assert!(cutter.cut(100, almost).is_empty());
        let after = start + MAX_WAIT_FOR_RECORDED_END;
        assert_eq!(offsets(&cutter.cut(100, after)[0]), vec![0, 1]);
    }

    #[test]
    fn messages_read_again_below_the_committed_offset_are_skipped() {
        let mut cutter = Cutter::default();
        round(&mut cutter, vec![msg(0, 0), msg(0, 1), msg(0, 2)], &[]);
        assert_eq!(offsets(&cutter.cut(100, Instant::now())[0]), vec![0, 1, 2]);
        // A rebalance re-reads from 0 while 0..2 was committed meanwhile.
        let committed = Committed {
            offset: Some(3),
            batch_end: None,
        };
        round(
            &mut cutter,
            vec![msg(0, 0), msg(0, 1), msg(0, 2), msg(0, 3)],
            &[(0, committed)],
        );
        assert_eq!(offsets(&cutter.cut(100, Instant::now())[0]), vec![3]);
    }

    #[test]
    fn pending_messages_of_a_partition_read_again_are_dropped_and_come_back() {
        let mut cutter = Cutter::default();
        round(&mut cutter, vec![msg(0, 0), msg(0, 1), msg(0, 2)], &[]);
        assert_eq!(offsets(&cutter.cut(2, Instant::now())[0]), vec![0, 1]);
        // Offset 2 waits; the partition is read again from its committed offset 0.
        let committed = Committed {
            offset: Some(0),
            batch_end: Some(2),
        };
        round(
            &mut cutter,
            vec![msg(0, 0), msg(0, 1), msg(0, 2)],
            &[(0, committed)],
        );
        assert_eq!(offsets(&cutter.cut(100, Instant::now())[0]), vec![0, 1]);
        assert_eq!(offsets(&cutter.cut(100, Instant::now())[0]), vec![2]);
    }

    #[test]
    fn partitions_no_longer_assigned_are_forgotten() {
        let mut cutter = Cutter::default();
        round(&mut cutter, vec![msg(0, 0), msg(1, 0)], &[]);
        cutter.retain(|(_, p)| *p == 1);
        let batches = cutter.cut(100, Instant::now());
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].partition, 1);
    }
}
