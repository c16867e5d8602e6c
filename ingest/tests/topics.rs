//! The topic layout `ingest` creates on a real tansu broker: names, partitions, retention.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use ingest::config::KafkaConfig;
use ingest::topics::{
    CREATE_TIMEOUT, DEAD_LETTER_RETENTION_MS, EVENTS_RETENTION_MS, ensure_topics,
};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

fn config(bootstrap: &str) -> KafkaConfig {
    KafkaConfig {
        brokers: bootstrap.into(),
        partitions: 4,
        ..Default::default()
    }
}

async fn topic_config(bootstrap: &str, topic: &str, key: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .unwrap();
    let resource = described.into_iter().next().unwrap().unwrap();
    resource.get(key).and_then(|entry| entry.value.clone())
}

fn partitions(bootstrap: &str, topic: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0].partitions().len()
}

#[tokio::test]
async fn ingest_creates_both_topics_with_their_partitions_and_retention_and_a_second_start_is_fine()
{
    let broker = testkit::Tansu::start().await.unwrap();
    let config = config(&broker.bootstrap);
    ensure_topics(&config).await.unwrap();
    ensure_topics(&config)
        .await
        .expect("topics that already exist are not an error");

    assert_eq!(partitions(&broker.bootstrap, "feedlot.events.v1"), 4);
    assert_eq!(partitions(&broker.bootstrap, "feedlot.events.dlq.v1"), 1);
    for (topic, retention_ms) in [
        ("feedlot.events.v1", EVENTS_RETENTION_MS),
        ("feedlot.events.dlq.v1", DEAD_LETTER_RETENTION_MS),
    ] {
        assert_eq!(
            topic_config(&broker.bootstrap, topic, "cleanup.policy").await,
            Some("delete".into()),
            "{topic}: tansu deletes old records only under the delete policy"
        );
        assert_eq!(
            topic_config(&broker.bootstrap, topic, "retention.ms").await,
            Some(retention_ms.to_string()),
            "{topic}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_broker_is_an_error_not_a_hang() {
    let port = testkit::free_port().unwrap();
    let result = tokio::time::timeout(
        CREATE_TIMEOUT + Duration::from_secs(15),
        ensure_topics(&config(&format!("127.0.0.1:{port}"))),
    )
    .await
    .expect("ensure_topics gives up within its operation timeout");
    let err = result.expect_err("no broker, no topics");
    assert!(err.to_string().contains("kafka"), "{err}");
}
