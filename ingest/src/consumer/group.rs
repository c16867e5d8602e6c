//! Membership of the consumer group, and knowing the moment it is lost.
//!
//! The consumer's session timeout and heartbeat come from `[kafka]` (see
//! [`crate::config::KafkaConfig`]).
//!
//! A consumer that lost its partitions (its session lapsed, a rebalance took them) must stop
//! touching them at once: another replica now cuts their batches from the committed offset,
//! and an insert or offset commit from the old owner would race it. A broker fences such a
//! "zombie" by refusing its commits, but not every Kafka-protocol broker does (tansu 0.6
//! accepts an offset commit from any member, see docs/cluster.md), so the consumer fences
//! itself too:
//!
//! - every rebalance callback bumps an epoch ([`GroupContext::epoch`]): the loop forgets its
//!   per-partition state when it changes, and looks each partition's commit up again;
//! - librdkafka marks the assignment lost as soon as it knows (session timed out, member
//!   unknown to the coordinator), before the application is told; [`is_fenced`] reads that
//!   mark and is checked before each insert attempt and each commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};

use crate::config::KafkaConfig;

/// The consumer the loop uses: a stream consumer whose context counts rebalances.
pub type GroupConsumer = StreamConsumer<GroupContext>;

/// Counts the group's rebalances (see the module doc).
#[derive(Clone, Default)]
pub struct GroupContext {
    epoch: Arc<AtomicU64>,
}

impl GroupContext {
    /// How many times partitions were revoked or assigned (or a rebalance failed).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match rebalance {
            Rebalance::Revoke(list) => {
                tracing::info!(partitions = list.count(), "partitions revoked")
            }
            Rebalance::Assign(list) => {
                tracing::info!(partitions = list.count(), "partitions assigned")
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance failed"),
        }
    }
}

/// Whether this consumer may no longer act for the partitions it holds: librdkafka marked its
/// assignment lost (it has not been told of the new one yet).
pub fn is_fenced(consumer: &GroupConsumer) -> bool {
    consumer.assignment_lost()
}

/// The group that records, per partition, where the batch being stored ends (see
/// [`super::offsets::BatchEnds`]): the consumers' group with `.batch-ends` after it.
pub fn batch_ends_group(group_id: &str) -> String {
    format!("{group_id}.batch-ends")
}

/// A consumer that never subscribes, for committing to and reading the
/// [`batch_ends_group`] of `kafka`'s group (a standalone commit, as `assign()` consumers make).
pub fn create_batch_ends(kafka: &KafkaConfig) -> rdkafka::error::KafkaResult<BaseConsumer> {
    kafka
        .client_config()
        .set("group.id", batch_ends_group(&kafka.group_id))
        .set("enable.auto.commit", "false")
        .create()
}

/// The group consumer for `kafka`, not yet subscribed.
pub fn create(kafka: &KafkaConfig) -> rdkafka::error::KafkaResult<GroupConsumer> {
    let mut config = kafka.client_config();
    if let Some(ms) = kafka.heartbeat_interval_ms {
        config.set("heartbeat.interval.ms", ms.to_string());
    }
    config
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // The gateways do not write transactionally, so both isolation levels read the same
        // records; read_uncommitted also avoids tansu 0.6's read_committed offset query,
        // which PostgreSQL 15 refuses (docs/cluster.md).
        .set("isolation.level", "read_uncommitted")
        .set("session.timeout.ms", kafka.session_timeout_ms.to_string())
        // librdkafka prefetches into its own queue while the loop waits on ClickHouse; this
        // bounds that queue, so a stalled ClickHouse holds at most one batch plus this much.
        .set(
            "queued.max.messages.kbytes",
            kafka.prefetch_max_kb.to_string(),
        )
        .create_with_context(GroupContext::default())
}
