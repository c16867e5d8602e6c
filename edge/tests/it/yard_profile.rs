//! The `[feedlot]` profile reaches Kafka once per gateway start: a gateway started twice sends
//! it twice, the second time with the changed region; a gateway without the section sends none.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::Config;
use edge::profile::FeedlotProfileConfig;
use schemas::Event;

use crate::support::{consume, dedup_by_event_id, start};

const TOPIC: &str = "feedlot.events.v1";

fn config(bootstrap: &str, data_dir: &std::path::Path, feedlot_id: &str) -> Config {
    let mut config = Config {
        feedlot_id: feedlot_id.into(),
        gateway_id: "gw-profile".into(),
        data_dir: data_dir.to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = bootstrap.into();
    config.kafka.topic = TOPIC.into();
    config.http.listen = "127.0.0.1:0".into();
    config
}

async fn run_once(config: Config) {
    let gateway = start(config).await;
    crate::support::wait_for_depth(&gateway, 0, Duration::from_secs(20)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_reaches_kafka_once_per_start_and_a_change_arrives_with_the_restart() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut first = config(&broker.bootstrap, data.path(), "yard-profile");
    first.feedlot = Some(FeedlotProfileConfig {
        name: "Sandhills Feeders".into(),
        region: "US-NE".into(),
        country: "US".into(),
        latitude: 42.87,
        longitude: -100.55,
        capacity_head: Some(12_000),
    });
    run_once(first.clone()).await;
    let mut second = first.clone();
    if let Some(p) = second.feedlot.as_mut() {
        p.region = "US-KS".into();
    }
    run_once(second).await;
    // A yard without the section sends no profile (its own feedlot id, same topic).
    let other = tempfile::tempdir().unwrap();
    run_once(config(&broker.bootstrap, other.path(), "yard-anonymous")).await;

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        2,
        Duration::from_secs(2),
        Duration::from_secs(30),
    )
    .await;
    let profiles: Vec<_> = dedup_by_event_id(&got)
        .into_iter()
        .filter_map(|r| match r.envelope.event {
            Event::YardProfile(p) => Some((r.key, r.envelope.device_id, p)),
            _ => None,
        })
        .collect();
    assert_eq!(profiles.len(), 2, "{profiles:#?}");
    assert!(
        profiles
            .iter()
            .all(|(key, device, _)| key == "yard-profile" && device == "config")
    );
    assert_eq!(profiles[0].2.region, "US-NE");
    assert_eq!(profiles[1].2.region, "US-KS");
    assert_eq!(profiles[1].2.name, "Sandhills Feeders");
    assert_eq!(profiles[1].2.capacity_head, Some(12_000));
    assert_eq!(dedup_by_event_id(&got).len(), 2, "nothing else was sent");
}
