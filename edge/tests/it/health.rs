//! `/healthz` reports each input with its state and turns unavailable (503) while one of them
//! does not work: a serial cable pulled, the MQTT link lost. The MQTT subscriber reconnects by
//! itself, and capture goes on once it did.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use edge::config::{DeviceConfig, DeviceRole};
use rumqttc::QoS;

use crate::mqtt::{an_hour_ago, answers, connect, gateway_config, mosquitto};
use crate::support::start;

/// A Kafka address nobody listens on: health does not depend on Kafka, and capture (what these
/// tests look at) ends in the outbox.
fn no_kafka() -> String {
    format!("127.0.0.1:{}", testkit::free_port().unwrap())
}

/// `GET /healthz` on `port`: status code and JSON.
async fn health(port: u16) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Waits until `/healthz` shows `input` in `state` with HTTP `code`; the last answer otherwise.
async fn wait_for_input(
    port: u16,
    input: &str,
    state: &str,
    code: u16,
) -> Result<(), serde_json::Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, json) = health(port).await;
        if status == code && json["inputs"][input]["state"] == state {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(json);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A serial cable (socat pty pair) at fixed paths in `dir`, so it can be pulled and plugged
/// back in under the same name; killed on drop.
fn cable(dir: &Path) -> (PathBuf, tokio::process::Child) {
    let (device, host) = (dir.join("device"), dir.join("host"));
    let _ = std::fs::remove_file(&device);
    let _ = std::fs::remove_file(&host);
    let child = tokio::process::Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", device.display()))
        .arg(format!("pty,raw,echo=0,link={}", host.display()))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    (host, child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_turns_unavailable_naming_a_pulled_serial_cable_and_ok_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let (host, socat) = cable(dir.path());
    assert!(
        testkit::wait_until(Duration::from_secs(10), || {
            let host = host.clone();
            async move { host.exists() }
        })
        .await
    );
    let http = testkit::free_port().unwrap();
    let mut config = gateway_config(&dir.path().join("data"), &no_kafka(), 0);
    config.mqtt.embedded = false;
    config.http.listen = format!("127.0.0.1:{http}");
    config.devices = vec![DeviceConfig::new("scale-1", &host, DeviceRole::Scale)];
    let gateway = start(config).await;

    wait_for_input(http, "serial:scale-1", "up", 200)
        .await
        .unwrap();
    let (_, json) = health(http).await;
    assert_eq!(json["inputs"]["forwarder"]["state"], "up", "{json}");
    assert_eq!(json["inputs"]["serial:scale-1"]["kind"], "serial", "{json}");

    drop(socat); // The cable is pulled.
    wait_for_input(http, "serial:scale-1", "down", 503)
        .await
        .unwrap();
    let (_, json) = health(http).await;
    assert_eq!(json["status"], "unavailable", "{json}");
    assert!(
        json["inputs"]["serial:scale-1"]["detail"].is_string(),
        "{json}"
    );

    let (_, _socat) = cable(dir.path()); // Plugged back in.
    wait_for_input(http, "serial:scale-1", "up", 200)
        .await
        .unwrap();
    let (_, json) = health(http).await;
    assert_eq!(
        json["inputs"]["serial:scale-1"]["interruptions"], 1,
        "{json}"
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_reconnects_by_itself_after_its_broker_went_away_and_healthz_shows_it() {
    let mqtt_port = testkit::free_port().unwrap();
    let mut external = mosquitto(mqtt_port);
    let addr = format!("127.0.0.1:{mqtt_port}");
    assert!(
        testkit::wait_until(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(&addr).await.is_ok()
        })
        .await
    );
    let data = tempfile::tempdir().unwrap();
    let http = testkit::free_port().unwrap();
    let mut config = gateway_config(data.path(), &no_kafka(), 0);
    config.mqtt.embedded = false;
    config.mqtt.external_broker = Some(addr.clone());
    config.http.listen = format!("127.0.0.1:{http}");
    let gateway = start(config).await;
    wait_for_input(http, "mqtt:external", "up", 200)
        .await
        .unwrap();

    external.kill().await.unwrap();
    external.wait().await.unwrap();
    wait_for_input(http, "mqtt:external", "down", 503)
        .await
        .unwrap();

    let _external = mosquitto(mqtt_port);
    wait_for_input(http, "mqtt:external", "up", 200)
        .await
        .unwrap();
    let (_, json) = health(http).await;
    assert_eq!(
        json["inputs"]["mqtt:external"]["interruptions"], 1,
        "{json}"
    );

    // Capture goes on over the new link.
    let (truck, mut events) = connect(mqtt_port, "truck-back", None).await.unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T9/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = uuid::Uuid::now_v7();
    let record = serde_json::json!({"event_id": id, "recorded_at": an_hour_ago(), "pen": "P3",
        "ration_id": "finisher-1", "target_kg": 1000.0, "delivered_kg": 990.0, "operator": "sam"});
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T9/delivery",
            QoS::AtLeastOnce,
            false,
            record.to_string(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(got[0]["status"], "captured", "{got:?}");
    assert_eq!(got[0]["id"], id.to_string());
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_asking_for_the_gateways_client_id_is_refused_and_capture_goes_on() {
    let data = tempfile::tempdir().unwrap();
    let (mqtt_port, http) = (testkit::free_port().unwrap(), testkit::free_port().unwrap());
    let mut config = gateway_config(data.path(), &no_kafka(), mqtt_port);
    config.http.listen = format!("127.0.0.1:{http}");
    let gateway = start(config).await;
    wait_for_input(http, "mqtt:embedded", "up", 200)
        .await
        .unwrap();

    // A device asks for the gateway's own client id: the front refuses it at CONNECT
    // (identifier rejected), so the gateway's subscriber is never taken over.
    let impostor = connect(mqtt_port, "edge-gw-mqtt", Some(("truck-7", "s3cret-7"))).await;
    assert!(
        impostor
            .as_ref()
            .err()
            .is_some_and(|e| e.contains("BadClientId")),
        "{:?}",
        impostor.err()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, json) = health(http).await;
    assert_eq!(
        json["inputs"]["mqtt:embedded"]["interruptions"].as_u64(),
        Some(0),
        "{json}"
    );

    let (truck, mut events) = connect(mqtt_port, "truck-7", Some(("truck-7", "s3cret-7")))
        .await
        .unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T7/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = uuid::Uuid::now_v7();
    let record = serde_json::json!({"event_id": id, "recorded_at": an_hour_ago(), "pen": "P4",
        "ration_id": "finisher-1", "target_kg": 1000.0, "delivered_kg": 995.0, "operator": "sam"});
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            record.to_string(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(got[0]["status"], "captured", "{got:?}");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
