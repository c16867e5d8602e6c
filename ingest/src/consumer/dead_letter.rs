//! The dead-letter topic: undecodable or invalid messages, their original bytes, and why.

use std::time::Duration;

use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaConfig;

/// A producer for the dead-letter topic.
pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetters {
    /// A producer with the same durability settings as the gateways'.
    pub fn new(config: &KafkaConfig) -> Result<Self, rdkafka::error::KafkaError> {
        let producer = config
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", "10000")
            .create()?;
        Ok(Self {
            producer,
            topic: config.dead_letter_topic.clone(),
        })
    }

    /// Sends `message` unchanged (key and payload) with headers `dlq.reason`,
    /// `dlq.source.topic`, `dlq.source.partition` and `dlq.source.offset`; returns once the
    /// broker acknowledged it.
    pub async fn send(
        &self,
        message: &OwnedMessage,
        reason: &str,
    ) -> Result<(), rdkafka::error::KafkaError> {
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlq.reason",
                value: Some(reason),
            })
            .insert(Header {
                key: "dlq.source.topic",
                value: Some(message.topic()),
            })
            .insert(Header {
                key: "dlq.source.partition",
                value: Some(&partition),
            })
            .insert(Header {
                key: "dlq.source.offset",
                value: Some(&offset),
            });
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic)
            .payload(message.payload().unwrap_or_default())
            .headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        tracing::warn!(
            reason,
            partition = message.partition(),
            offset = message.offset(),
            "dead letter"
        );
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}
