//! A combined device (an indicator relaying the reader: the tag and the weight on one line) on
//! a socat pseudo-terminal, through the real port code into the outbox. Kafka is unreachable on
//! purpose, so what the gateway captured is exactly what its outbox holds.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::config::DeviceRole;
use schemas::Event;

use crate::support::{self, Chute};

#[tokio::test]
async fn a_combined_line_becomes_one_tag_read_and_one_weighing_with_its_eid_and_weight() {
    let data = tempfile::tempdir().unwrap();
    let kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut chute = Chute::new().await;
    let mut config = support::offline_config(&chute, data.path(), &kafka, "feedlot.events.v1");
    config.devices[1].role = DeviceRole::Combined; // format: auto, the built-in `tru_test` row
    let gateway = support::start(config).await;

    chute.scale_line(b"[]\r\n").await;
    chute.scale_line(b"[ID982000123456789,WL380.0]\r\n").await;
    // The indicator repeats the settled line while the animal stands: one weighing.
    for _ in 0..3 {
        chute.scale_line(b"[ID982000123456789,WS412.5]\r\n").await;
    }
    chute.scale_line(b"[ID999000000000001,WS400.0]\r\n").await;
    chute.scale_line(b"[ID982000123456790]\r\n").await;

    support::wait_for_depth(&gateway, 2, Duration::from_secs(10)).await;
    let metrics = gateway.metrics();
    let last_line_read = testkit::wait_until(Duration::from_secs(5), || async {
        metrics.parse_errors("scale-1", "missing_weight") == 1
    })
    .await;
    assert!(
        last_line_read,
        "the line without a weight was not refused and counted"
    );
    let events: Vec<_> = gateway
        .outbox()
        .peek(usize::MAX)
        .unwrap()
        .iter()
        .map(|entry| schemas::decode(&entry.record.payload).unwrap())
        .collect();
    let [tag_read, weighing] = events.as_slice() else {
        panic!("expected a tag read and a weighing: {events:#?}");
    };
    let Event::TagRead(tag) = &tag_read.event else {
        panic!("not a tag read: {tag_read:?}");
    };
    let Event::Weighing(w) = &weighing.event else {
        panic!("not a weighing: {weighing:?}");
    };
    assert_eq!(tag.eid.as_str(), "982000123456789");
    assert_eq!(w.eid.as_str(), "982000123456789");
    assert_eq!(w.weight.kg(), 412.5);
    assert_eq!(w.tag_read_event_id, Some(tag_read.event_id));
    assert_eq!(weighing.device_id, "scale-1");
    assert_eq!(metrics.weighings("scale-1"), 1);
    assert_eq!(metrics.parse_errors("scale-1", "test_tag"), 1);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
