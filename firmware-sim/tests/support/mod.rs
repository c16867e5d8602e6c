//! A real gateway on a private tansu broker, and reading back what it forwarded.

#![allow(dead_code)] // Each test binary uses part of it.

use std::time::Duration;

use edge::config::DeviceConfig;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use schemas::Envelope;
use tokio_util::sync::CancellationToken;

/// The topic the gateway forwards to.
pub const TOPIC: &str = "feedlot.events.v1";

/// A gateway on a private tansu broker, with `devices` and `mqtt` as given.
pub async fn gateway(
    feedlot_id: &str,
    broker: &testkit::Tansu,
    devices: Vec<DeviceConfig>,
    mqtt_port: Option<u16>,
    data: &tempfile::TempDir,
    shutdown: &CancellationToken,
) -> edge::Gateway {
    broker.create_topic(TOPIC, 1).await.unwrap();
    let mut config = edge::Config {
        feedlot_id: feedlot_id.into(),
        gateway_id: "gw-sim".into(),
        data_dir: data.path().to_owned(),
        devices,
        ..edge::Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.kafka.topic = TOPIC.into();
    config.http.listen = "127.0.0.1:0".into();
    if let Some(port) = mqtt_port {
        config.mqtt.embedded = true;
        config.mqtt.listen = format!("127.0.0.1:{port}");
        for truck in ["T1", "T2", "T3", "T4"] {
            config
                .mqtt
                .users
                .insert(truck.into(), format!("pw-{truck}"));
        }
    }
    edge::Gateway::start(config, shutdown.clone())
        .await
        .unwrap()
}

/// Every envelope on the topic but the gateway's status reports (telemetry, not records):
/// waits for at least `n`, then until it has been quiet for 2 s (so an extra one would show).
pub async fn envelopes_on_kafka(bootstrap: &str, n: usize) -> Vec<Envelope> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", testkit::unique_name("skew-audit"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    let mut found = Vec::new();
    loop {
        let wait = if found.len() < n { 30 } else { 2 };
        match tokio::time::timeout(Duration::from_secs(wait), consumer.recv()).await {
            Ok(m) => {
                let envelope = schemas::decode(m.unwrap().payload().unwrap()).unwrap();
                if !matches!(envelope.event, schemas::Event::GatewayStatus(_)) {
                    found.push(envelope);
                }
            }
            Err(_) if found.len() >= n => return found,
            Err(_) => panic!("only {} of {n} envelopes on Kafka", found.len()),
        }
    }
}
