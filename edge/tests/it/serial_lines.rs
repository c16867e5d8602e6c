//! Serial lines through the real port code (tokio-serial on a socat pseudo-terminal) into the
//! outbox: how lines end, and which tags are refused. Kafka is unreachable on purpose, so what
//! the gateway captured is exactly what its outbox holds.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use schemas::Event;

use crate::support::{self, Chute};

/// The EIDs of the tag reads in `gateway`'s outbox, in capture order.
fn tag_reads_in_outbox(gateway: &edge::Gateway) -> Vec<String> {
    gateway
        .outbox()
        .peek(usize::MAX)
        .unwrap()
        .iter()
        .filter_map(
            |entry| match schemas::decode(&entry.record.payload).unwrap().event {
                Event::TagRead(t) => Some(t.eid.to_string()),
                _ => None,
            },
        )
        .collect()
}

#[tokio::test]
async fn a_tag_line_without_terminator_ends_at_the_idle_gap_and_the_next_tag_is_read_apart() {
    let data = tempfile::tempdir().unwrap();
    let kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut chute = Chute::new().await;
    let mut config = support::offline_config(&chute, data.path(), &kafka, "feedlot.events.v1");
    config.devices[0].idle_gap_ms = 150;
    let gateway = support::start(config).await;

    // No line ending: the reader went quiet after the tag.
    chute.rfid_line(b"LA 982 000001088420").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    chute.rfid_line(b"LA 840 003123456789\r\n").await;

    support::wait_for_depth(&gateway, 2, Duration::from_secs(10)).await;
    assert_eq!(
        tag_reads_in_outbox(&gateway),
        vec!["982000001088420", "840003123456789"]
    );
    assert_eq!(gateway.metrics().parse_errors("rfid-1", "no_shape"), 0);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test]
async fn a_test_range_tag_is_refused_and_counted_unless_the_config_accepts_test_tags() {
    for accept_test_tags in [false, true] {
        let data = tempfile::tempdir().unwrap();
        let kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
        let mut chute = Chute::new().await;
        let mut config = support::offline_config(&chute, data.path(), &kafka, "feedlot.events.v1");
        config.rfid.accept_test_tags = accept_test_tags;
        let gateway = support::start(config).await;

        chute.rfid_line(b"LA 999 000000000001\r\n").await;
        chute.rfid_line(b"LA 982-000001088420\r\n").await;

        let (depth, tags) = if accept_test_tags {
            (2, vec!["999000000000001", "982000001088420"])
        } else {
            (1, vec!["982000001088420"])
        };
        support::wait_for_depth(&gateway, depth, Duration::from_secs(10)).await;
        assert_eq!(
            tag_reads_in_outbox(&gateway),
            tags,
            "accept_test_tags = {accept_test_tags}"
        );
        let refused = gateway.metrics().parse_errors("rfid-1", "test_tag");
        assert_eq!(refused, u64::from(!accept_test_tags));
        gateway.shutdown();
        gateway.wait().await.unwrap();
    }
}
