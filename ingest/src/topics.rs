//! The Kafka topic layout, created by `ingest` at start (the broker does not auto-create).
//!
//! Both topics are created with the configured replication factor and `min.insync.replicas`
//! (production: 3 and 2, so a write acknowledged with `acks=all` is on two brokers and any one
//! broker may be lost), `cleanup.policy=delete` and a `retention.ms`: tansu (like Kafka)
//! deletes old records only for topics whose cleanup policy says so, so without it a topic
//! would grow forever. Topics that already exist are left as they are. See
//! `docs/kafka-topics.md`.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::Error;
use crate::config::KafkaConfig;

/// How long the events topic keeps a record: 7 days, enough to rebuild ClickHouse after an
/// outage (the gateways' outboxes hold whatever the broker never acknowledged).
pub const EVENTS_RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// How long the dead-letter topic keeps a record: 30 days, time for someone to look.
pub const DEAD_LETTER_RETENTION_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// How long `ensure_topics` waits for the broker before giving up with an error.
pub const CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the events and dead-letter topics if they do not exist ("already exists" is fine).
/// An unreachable broker is an error after [`CREATE_TIMEOUT`], so `ingest run` fails visibly
/// instead of waiting silently.
pub async fn ensure_topics(config: &KafkaConfig) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> = config.client_config().create()?;
    let events_retention_ms = EVENTS_RETENTION_MS.to_string();
    let dead_letter_retention_ms = DEAD_LETTER_RETENTION_MS.to_string();
    let min_insync = config.min_insync_replicas.to_string();
    let replication = || TopicReplication::Fixed(config.replication_factor);
    let topics = [
        NewTopic::new(&config.topic, config.partitions, replication())
            .set("cleanup.policy", "delete")
            .set("retention.ms", &events_retention_ms)
            .set("min.insync.replicas", &min_insync),
        NewTopic::new(&config.dead_letter_topic, 1, replication())
            .set("cleanup.policy", "delete")
            .set("retention.ms", &dead_letter_retention_ms)
            .set("min.insync.replicas", &min_insync),
    ];
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(CREATE_TIMEOUT));
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(name) => tracing::info!(topic = %name, "topic created"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "topic exists")
            }
            Err((name, code)) => {
                tracing::warn!(topic = %name, error = %code, "could not create topic");
                return Err(Error::Kafka(rdkafka::error::KafkaError::AdminOp(code)));
            }
        }
    }
    Ok(())
}
