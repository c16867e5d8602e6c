//! The gateway's status report (docs/outbox.md, "Status reports"): signed `gateway_status`
//! envelopes reach Kafka every `kafka.status_interval_secs`, past the outbox, and tell what
//! the outbox holds: here a record Kafka refused shows as dead-lettered once the outbox has
//! drained.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use chrono::Utc;
use edge::config::Config;
use edge::outbox::OutboxRecord;
use rdkafka::Message;
use schemas::{Eid, Envelope, Event, GatewayStatus, TagRead};

use crate::support;

#[tokio::test]
async fn the_gateway_reports_its_outbox_signed_and_past_the_outbox() {
    let broker = testkit::Tansu::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let topic = testkit::unique_name("edge_status");
    broker.create_topic(&topic, 1).await.unwrap();
    let mut config = Config {
        feedlot_id: "yard-status".into(),
        gateway_id: "gw-status".into(),
        data_dir: dir.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.kafka.topic = topic.clone();
    config.kafka.status_interval_secs = 1;
    config.kafka.retry_backoff_initial_ms = 100;
    config.kafka.retry_backoff_max_ms = 1000;
    config.http.listen = "127.0.0.1:0".into();
    let gateway = support::start(config).await;
    let key = edge::identity::load_or_create(dir.path()).unwrap().0;

    let read = Envelope::new(
        "yard-status",
        "gw-status",
        "rfid-1",
        Utc::now(),
        Event::TagRead(TagRead {
            eid: Eid::parse("982000000000001").unwrap(),
        }),
    );
    // Over librdkafka's message.max.bytes: refused every time, so dead-lettered.
    let too_large = OutboxRecord {
        key: "yard-status".into(),
        payload: vec![b'x'; 2_000_000],
        enqueued_at_ms: 1,
    };
    gateway
        .outbox()
        .append(&[too_large, OutboxRecord::from_envelope(&read)])
        .unwrap();
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;

    // Read until a report taken after the drain: nothing waiting, one dead letter.
    let consumer = support::reader_from_start(&broker.bootstrap, &topic);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut reports: Vec<(String, Envelope, GatewayStatus)> = Vec::new();
    while !reports.iter().any(|(_, _, s)| s.dead_lettered == 1) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("no report of the dead letter: {reports:#?}"))
            .unwrap();
        let payload = message.payload().unwrap();
        let envelope = schemas::decode(payload).unwrap();
        if let Event::GatewayStatus(status) = envelope.event.clone() {
            schemas::signing::verify_message(payload, &envelope, &key.public_key())
                .expect("a report is signed by the gateway's key");
            let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
            reports.push((key, envelope, status));
        }
    }
    let (key, envelope, status) = reports.last().unwrap();
    assert_eq!(key, "yard-status", "keyed by the yard, like its records");
    assert_eq!(
        (envelope.gateway_id.as_str(), envelope.device_id.as_str()),
        ("gw-status", "gw-status")
    );
    envelope.validate().unwrap();
    assert_eq!(
        status,
        &GatewayStatus {
            outbox_pending: 0,
            oldest_pending_ms: None,
            dead_lettered: 1,
            interval_secs: 1,
        }
    );
    assert_eq!(
        gateway.outbox_depth().await.unwrap(),
        0,
        "reports do not go through the outbox"
    );
    // And they keep coming, about one a second.
    let later = reports.len();
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut more = 0;
    while let Ok(Ok(message)) = tokio::time::timeout_at(until, consumer.recv()).await {
        let envelope = schemas::decode(message.payload().unwrap()).unwrap();
        more += usize::from(matches!(envelope.event, Event::GatewayStatus(_)));
    }
    assert!(more >= 2, "{more} reports in 3 s after the first {later}");
    gateway.shutdown();
}
