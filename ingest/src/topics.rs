//! The Kafka topic layout, created by `ingest` at start (the broker does not auto-create).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::Error;
use crate::config::KafkaConfig;

/// Creates the events and dead-letter topics if they do not exist.
pub async fn ensure_topics(config: &KafkaConfig) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .create()?;
    let topics = [
        NewTopic::new(&config.topic, config.partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&config.dead_letter_topic, 1, TopicReplication::Fixed(1)),
    ];
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
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
