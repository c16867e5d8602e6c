//! Capture does not depend on the broker: events captured while it is down arrive later.

use std::time::Duration;

use crate::support::{self, Chute, HERD};

/// Every animal's tag read and weighing arrived (duplicates at Kafka are allowed).
fn assert_all_arrived(got: &[support::Received], animals: &[support::Animal]) {
    let unique = support::dedup_by_event_id(got);
    let (eids, weights) = support::expected(animals);
    assert_eq!(support::tag_reads(&unique), eids);
    assert_eq!(support::weighings(&unique), weights);
}

#[tokio::test]
async fn events_captured_before_the_broker_started_arrive_once_it_is_up() {
    let port = testkit::free_port().unwrap();
    let bootstrap = format!("127.0.0.1:{port}");
    let topic = testkit::unique_name("edge_late_broker");
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let gateway = support::start(support::offline_config(
        &chute,
        data.path(),
        &bootstrap,
        &topic,
    ))
    .await;

    chute.idle().await;
    chute.pass(HERD[0]).await;
    chute.pass(HERD[1]).await;
    // Captured with no broker at all: durable in the outbox.
    support::wait_for_depth(&gateway, 4, Duration::from_secs(10)).await;

    let broker = testkit::Tansu::start_on(port).await.unwrap();
    broker.create_topic(&topic, 1).await.unwrap();
    chute.pass(HERD[2]).await;

    let got = support::consume(
        &bootstrap,
        &topic,
        6,
        Duration::from_secs(1),
        Duration::from_secs(90),
    )
    .await;
    assert_all_arrived(&got, &HERD[..3]);
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test]
async fn a_broker_outage_mid_stream_loses_no_event() {
    let mut broker = testkit::Tansu::start().await.unwrap();
    let topic = testkit::unique_name("edge_outage");
    broker.create_topic(&topic, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let gateway = support::start(support::offline_config(
        &chute,
        data.path(),
        &broker.bootstrap,
        &topic,
    ))
    .await;

    chute.idle().await;
    chute.pass(HERD[0]).await;
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;

    broker.stop().await;
    chute.pass(HERD[1]).await;
    chute.pass(HERD[2]).await;
    support::wait_for_depth(&gateway, 4, Duration::from_secs(10)).await;
    // Longer than message_timeout_ms: the sends in flight time out and take the outbox retry
    // path (a fresh producer), not only librdkafka's internal retries.
    tokio::time::sleep(Duration::from_secs(4)).await;
    broker.restart().await.unwrap();
    chute.pass(HERD[3]).await;

    let got = support::consume(
        &broker.bootstrap,
        &topic,
        8,
        Duration::from_secs(1),
        Duration::from_secs(90),
    )
    .await;
    assert_all_arrived(&got, &HERD);
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test]
async fn a_restarted_gateway_forwards_what_it_captured_before_it_stopped() {
    let port = testkit::free_port().unwrap();
    let bootstrap = format!("127.0.0.1:{port}");
    let topic = testkit::unique_name("edge_gateway_restart");
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let config = support::offline_config(&chute, data.path(), &bootstrap, &topic);

    let gateway = support::start(config.clone()).await;
    chute.idle().await;
    chute.pass(HERD[0]).await;
    support::wait_for_depth(&gateway, 2, Duration::from_secs(10)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();

    let broker = testkit::Tansu::start_on(port).await.unwrap();
    broker.create_topic(&topic, 1).await.unwrap();
    let gateway = support::start(config).await;
    let got = support::consume(
        &bootstrap,
        &topic,
        2,
        Duration::from_secs(1),
        Duration::from_secs(60),
    )
    .await;
    assert_all_arrived(&got, &HERD[..1]);
    support::wait_for_depth(&gateway, 0, Duration::from_secs(30)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
