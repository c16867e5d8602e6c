//! The chute's serial lines become weighings on Kafka, exactly once each.

use std::time::Duration;

use chrono::Utc;
use schemas::{Event, WeightUnit};

use crate::support::{self, Chute, HERD};

#[tokio::test]
async fn weighings_from_the_chute_arrive_on_kafka_once_each_with_their_tag_reads() {
    let broker = testkit::Tansu::start().await.unwrap();
    let topic = testkit::unique_name("edge_chute");
    broker.create_topic(&topic, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let gateway = support::start(support::config(
        &chute,
        data.path(),
        &broker.bootstrap,
        &topic,
    ))
    .await;

    let started = Utc::now();
    chute.idle().await;
    let animals = &HERD[..3];
    for animal in animals {
        chute.pass(*animal).await;
    }
    let finished = Utc::now();

    let got = support::consume(
        &broker.bootstrap,
        &topic,
        2 * animals.len(),
        Duration::from_secs(2),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        got.len(),
        2 * animals.len(),
        "no duplicates, nothing extra: {got:#?}"
    );
    let (eids, weights) = support::expected(animals);
    assert_eq!(support::tag_reads(&got), eids);
    assert_eq!(support::weighings(&got), weights);

    // Every event is signed with the key the gateway made in its data directory.
    let (key, made) = edge::identity::load_or_create(data.path()).unwrap();
    assert!(!made, "the gateway made its key on start");
    for received in &got {
        let envelope = &received.envelope;
        assert_eq!(envelope.key_id.as_deref(), Some(key.key_id().as_str()));
        // No field this build does not know, so encoding again gives the bytes sent.
        schemas::signing::verify_message(&schemas::encode(envelope), envelope, &key.public_key())
            .unwrap();
    }

    let mut tag_read_ids = std::collections::HashMap::new();
    for received in &got {
        let envelope = &received.envelope;
        assert_eq!(received.key, "yard-test");
        assert_eq!(
            (envelope.feedlot_id.as_str(), envelope.gateway_id.as_str()),
            ("yard-test", "gw-test")
        );
        assert_eq!(envelope.event_id.get_version_num(), 7);
        assert!(envelope.captured_at >= started && envelope.captured_at <= finished);
        match &envelope.event {
            Event::TagRead(t) => {
                assert_eq!(envelope.device_id, "rfid-1");
                tag_read_ids.insert(t.eid.clone(), (envelope.event_id, envelope.captured_at));
            }
            Event::Weighing(w) => {
                assert_eq!(envelope.device_id, "scale-1");
                assert_eq!(w.weight.unit, WeightUnit::Lb);
                let (tag_id, tag_at) = tag_read_ids[&w.eid];
                assert_eq!(w.tag_read_event_id, Some(tag_id));
                assert!(
                    envelope.captured_at > tag_at,
                    "weighed after the tag was read"
                );
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    support::wait_for_depth(&gateway, 0, Duration::from_secs(10)).await;
    let metrics = gateway.metrics();
    assert_eq!(metrics.tag_reads("rfid-1"), 3);
    assert_eq!(metrics.weighings("scale-1"), 3);
    assert_eq!(
        metrics.parse_errors("rfid-1", "not_utf8"),
        3,
        "the garbled line of each pass"
    );
    assert_eq!(
        metrics.parse_errors("rfid-1", "rejected"),
        3,
        "the industrial tag of each pass"
    );
    let text = metrics.encode();
    assert!(text.contains("edge_events_forwarded_total 6"), "{text}");
    assert!(text.contains("edge_kafka_last_round_ok 1"), "{text}");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
