//! Feed trucks over MQTT: the embedded broker authenticates devices, the gateway captures good
//! records durably before confirming them, and answers bad ones with the reason.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::Config;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use schemas::Event as Body;

use crate::support::{consume, start};

const TOPIC: &str = "feedlot.events.v1";

pub(crate) fn gateway_config(
    data_dir: &std::path::Path,
    bootstrap: &str,
    mqtt_port: u16,
) -> Config {
    let mut config = Config {
        feedlot_id: "yard-mqtt".into(),
        gateway_id: "gw-mqtt".into(),
        data_dir: data_dir.to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = bootstrap.into();
    config.kafka.topic = TOPIC.into();
    config.http.listen = "127.0.0.1:0".into();
    config.mqtt.embedded = true;
    config.mqtt.listen = format!("127.0.0.1:{mqtt_port}");
    config
        .mqtt
        .users
        .insert("truck-7".into(), "s3cret-7".into());
    config
        .mqtt
        .trucks
        .insert("truck-7".into(), vec!["T7".into()]);
    config
}

/// Connects as `credentials` and returns the client and event loop once the broker answered
/// the CONNECT (Err with the broker's refusal otherwise).
pub(crate) async fn connect(
    port: u16,
    id: &str,
    credentials: Option<(&str, &str)>,
) -> Result<(AsyncClient, rumqttc::EventLoop), String> {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    if let Some((user, password)) = credentials {
        options.set_credentials(user, password);
    }
    let (client, mut events) = AsyncClient::new(options, 32);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack))))
                if ack.code == rumqttc::ConnectReturnCode::Success =>
            {
                return Ok((client, events));
            }
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => return Err(format!("{:?}", ack.code)),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("no answer".into()),
        }
    }
}

/// Waits for `n` answers on the truck's ack topic.
pub(crate) async fn answers(events: &mut rumqttc::EventLoop, n: usize) -> Vec<serde_json::Value> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                got.push(serde_json::from_slice(&p.payload).unwrap())
            }
            Ok(_) => {}
            Err(_) => panic!("only {} of {n} answers: {got:?}", got.len()),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_and_wrong_password_devices_are_refused() {
    let broker = testkit::Tansu::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(gateway_config(data.path(), &broker.bootstrap, port)).await;
    assert!(
        connect(port, "anon", None).await.is_err(),
        "anonymous access is off by default"
    );
    assert!(
        connect(port, "bad", Some(("truck-7", "guess")))
            .await
            .is_err()
    );
    assert!(
        connect(port, "truck-7", Some(("truck-7", "s3cret-7")))
            .await
            .is_ok()
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truck_delivery_is_captured_confirmed_and_forwarded_and_a_bad_one_is_rejected_with_the_reason()
 {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(gateway_config(data.path(), &broker.bootstrap, port)).await;

    let (truck, mut events) = connect(port, "truck-7", Some(("truck-7", "s3cret-7")))
        .await
        .unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T7/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    let id = uuid::Uuid::now_v7();
    let good = serde_json::json!({"event_id": id, "recorded_at": an_hour_ago(), "pen": "P12",
        "ration_id": "finisher-1", "target_kg": 4200.0, "delivered_kg": 4185.5, "operator": "sam"});
    let mut bad = good.clone();
    bad["event_id"] = serde_json::json!(uuid::Uuid::now_v7());
    bad["delivered_kg"] = serde_json::json!(-5.0);
    // Let the gateway's own subscription settle before publishing.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            good.to_string(),
        )
        .await
        .unwrap();
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            bad.to_string(),
        )
        .await
        .unwrap();
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            "{not json",
        )
        .await
        .unwrap();

    let got = answers(&mut events, 3).await;
    let captured: Vec<_> = got.iter().filter(|a| a["status"] == "captured").collect();
    assert_eq!(captured.len(), 1, "{got:?}");
    assert_eq!(captured[0]["id"], id.to_string());
    let rejected: Vec<String> = got
        .iter()
        .filter(|a| a["status"] == "rejected")
        .map(|a| a["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rejected.len(), 2, "{got:?}");
    assert!(
        rejected.iter().any(|r| r.contains("delivered_kg")),
        "{rejected:?}"
    );
    assert!(
        rejected.iter().any(|r| r.contains("invalid payload")),
        "{rejected:?}"
    );

    let on_kafka = consume(
        &broker.bootstrap,
        TOPIC,
        1,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(on_kafka.len(), 1, "only the good record is forwarded");
    let envelope = &on_kafka[0].envelope;
    assert_eq!(envelope.event_id, id, "the truck's event id is kept");
    assert_eq!(envelope.device_id, "truck-T7");
    let Body::FeedDelivery(d) = &envelope.event else {
        panic!("not a delivery: {envelope:?}")
    };
    assert_eq!((d.pen_id.as_str(), d.delivered_kg), ("P12", 4185.5));
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

/// A mosquitto broker on `port` (anonymous on localhost, mosquitto 2's local-only mode), killed
/// when dropped.
pub(crate) fn mosquitto(port: u16) -> tokio::process::Child {
    let bin = if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    };
    tokio::process::Command::new(bin)
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mosquitto (apt-get install mosquitto)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_published_on_an_external_mosquitto_broker_are_captured_and_confirmed() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let mqtt_port = testkit::free_port().unwrap();
    let _mosquitto = mosquitto(mqtt_port);
    let addr = format!("127.0.0.1:{mqtt_port}");
    assert!(
        testkit::wait_until(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(&addr).await.is_ok()
        })
        .await
    );
    let data = tempfile::tempdir().unwrap();
    let mut config = gateway_config(
        data.path(),
        &broker.bootstrap,
        testkit::free_port().unwrap(),
    );
    config.mqtt.embedded = false;
    config.mqtt.external_broker = Some(addr);
    let gateway = start(config).await;

    let (truck, mut events) = connect(mqtt_port, "truck-ext", None).await.unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T8/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let id = uuid::Uuid::now_v7();
    let load = serde_json::json!({"event_id": id, "recorded_at": an_hour_ago(), "ration_id": "finisher-1",
        "batch_id": "B-1", "operator": "sam", "ingredients": [{"ingredient": "corn", "weight_kg": 3120.5}, {"ingredient": "hay", "weight_kg": 300.0}]});
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T8/load",
            QoS::AtLeastOnce,
            false,
            load.to_string(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(
        (got[0]["id"].as_str(), got[0]["status"].as_str()),
        (Some(id.to_string().as_str()), Some("captured"))
    );
    let on_kafka = consume(
        &broker.bootstrap,
        TOPIC,
        1,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    let Body::FeedLoad(l) = &on_kafka[0].envelope.event else {
        panic!("not a load")
    };
    assert_eq!((l.truck_id.as_str(), l.ingredients.len()), ("T8", 2));
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

/// A truck's recorded time the gateway accepts whenever the test runs.
pub(crate) fn an_hour_ago() -> String {
    (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
