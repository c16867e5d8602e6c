//! An outbox entry Kafka will never accept (here larger than the producer's message size)
//! leaves the outbox for its dead-letter table with the reason, counted for the alert, instead
//! of blocking every entry behind it (issue 11, "nothing stalls a pipeline").

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use chrono::Utc;
use edge::config::Config;
use edge::outbox::OutboxRecord;
use schemas::{Eid, Envelope, Event, TagRead};

use crate::support;

fn tag_read(eid: &str) -> Envelope {
    Envelope::new(
        "yard-test",
        "gw-test",
        "rfid-1",
        Utc::now(),
        Event::TagRead(TagRead {
            eid: Eid::parse(eid).unwrap(),
        }),
    )
}

#[tokio::test]
async fn a_record_kafka_will_never_accept_is_dead_lettered_and_the_ones_behind_it_forwarded() {
    let broker = testkit::Tansu::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let topic = testkit::unique_name("edge_dead_letters");
    broker.create_topic(&topic, 1).await.unwrap();
    let mut config = Config {
        feedlot_id: "yard-test".into(),
        gateway_id: "gw-test".into(),
        data_dir: dir.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.kafka.topic = topic.clone();
    config.http.listen = "127.0.0.1:0".into();
    config.kafka.retry_backoff_initial_ms = 100;
    config.kafka.retry_backoff_max_ms = 1000;
    let gateway = support::start(config).await;

    let (first, last) = (tag_read("982000000000001"), tag_read("982000000000002"));
    // 2 MB: over librdkafka's default message.max.bytes (1,000,000), so refused every time.
    let too_large = OutboxRecord {
        key: "yard-test".into(),
        payload: vec![b'x'; 2_000_000],
        enqueued_at_ms: 1,
    };
    gateway
        .outbox()
        .append(&[
            OutboxRecord::from_envelope(&first),
            too_large,
            OutboxRecord::from_envelope(&last),
        ])
        .unwrap();

    let got = support::consume(
        &broker.bootstrap,
        &topic,
        2,
        Duration::from_secs(1),
        Duration::from_secs(60),
    )
    .await;
    let ids: Vec<_> = got.iter().map(|r| r.envelope.event_id).collect();
    assert_eq!(ids, vec![first.event_id, last.event_id]);
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;

    let dead = gateway.outbox().dead_letters().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let (_, key, bytes, reason) = &dead[0];
    assert_eq!((key.as_str(), *bytes), ("yard-test", 2_000_000));
    assert!(reason.contains("MessageSizeTooLarge"), "{reason}");
    assert!(
        gateway
            .metrics()
            .encode()
            .lines()
            .any(|l| l == "edge_events_dead_lettered_total 1"),
        "the dead letter is counted for the alert"
    );
    gateway.shutdown();
}
