//! The MQTT front against the running gateway, with real rumqttc clients: each device account
//! publishes only as its own trucks, reads only their acks, cannot take the gateway's or
//! another account's client id, and an oversized packet closes only its own connection.
//! Capture ends in the outbox (Kafka is not needed: nobody listens on its address).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::{Config, Gateway};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeReasonCode};

use crate::mqtt::{an_hour_ago, answers, connect, gateway_config};
use crate::support::{start, wait_for_depth};

/// The gateway of [`gateway_config`] plus account `T9` (truck `T9`), Kafka unreachable.
fn config(data: &std::path::Path, mqtt_port: u16) -> Config {
    let no_kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut config = gateway_config(data, &no_kafka, mqtt_port);
    config.mqtt.users.insert("T9".into(), "s3cret-9".into());
    config
}

fn delivery() -> String {
    serde_json::json!({"event_id": uuid::Uuid::now_v7(), "recorded_at": an_hour_ago(),
        "pen": "P12", "ration_id": "finisher-1", "target_kg": 4200.0, "delivered_kg": 4185.5,
        "operator": "sam"})
    .to_string()
}

/// Polls until the connection fails (Ok) or `within` passes (Err with what was seen).
async fn disconnected(events: &mut EventLoop, within: Duration) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(event)) => seen.push(format!("{event:?}")),
            Ok(Err(error)) => return Ok(error.to_string()),
            Err(_) => return Err(format!("still connected; saw {seen:?}")),
        }
    }
}

/// The refusals counted in `/metrics` for `account` and `reason`.
fn refusals(gateway: &Gateway, account: &str, reason: &str) -> u64 {
    let text = gateway.metrics().encode();
    let wanted = format!("edge_mqtt_refusals_total{{device=\"{account}\",reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&wanted))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or(0)
}

/// Publishes a delivery as truck-7 (truck `T7`) and waits for its `captured` answer.
async fn truck_7_delivers(port: u16) {
    let (truck, mut events) = connect(port, "truck-7", Some(("truck-7", "s3cret-7")))
        .await
        .unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T7/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            delivery(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(got[0]["status"], "captured", "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truck_publishing_to_another_trucks_topic_is_disconnected_and_nothing_of_it_is_captured()
{
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(config(data.path(), port)).await;

    let (truck, mut events) = connect(port, "truck-7", Some(("truck-7", "s3cret-7")))
        .await
        .unwrap();
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T9/delivery",
            QoS::AtLeastOnce,
            false,
            delivery(),
        )
        .await
        .unwrap();
    disconnected(&mut events, Duration::from_secs(5))
        .await
        .unwrap();
    // Nothing of it reached the outbox, while an allowed delivery still does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gateway.outbox().depth().unwrap(), 0);
    assert_eq!(refusals(&gateway, "truck-7", "forbidden_publish"), 1);
    truck_7_delivers(port).await;
    wait_for_depth(&gateway, 1, Duration::from_secs(5)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_to_another_devices_acks_is_refused_with_0x80_and_its_own_are_granted() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(config(data.path(), port)).await;

    let (truck, mut events) = connect(port, "truck-7", Some(("truck-7", "s3cret-7")))
        .await
        .unwrap();
    let filters = [
        "feedlot/yard-mqtt/truck/T9/ack",
        "feedlot/yard-mqtt/truck/T7/ack",
        "feedlot/yard-mqtt/truck/+/ack",
    ];
    truck
        .subscribe_many(filters.map(|f| rumqttc::SubscribeFilter::new(f.into(), QoS::AtLeastOnce)))
        .await
        .unwrap();
    truck
        .subscribe("feedlot/yard-mqtt/truck/T9/delivery", QoS::AtLeastOnce)
        .await
        .unwrap();
    let mut acks = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while acks.len() < 2 {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(ack)))) => acks.push(ack.return_codes),
            Ok(Ok(_)) => {}
            other => panic!("{other:?} after {acks:?}"),
        }
    }
    use SubscribeReasonCode::{Failure, Success};
    assert_eq!(
        acks,
        vec![
            vec![Failure, Success(QoS::AtLeastOnce), Failure],
            vec![Failure]
        ]
    );
    assert_eq!(refusals(&gateway, "truck-7", "forbidden_subscribe"), 2);

    // The granted subscription works: T9's answers never reach truck-7, its own do.
    let (t9, mut t9_events) = connect(port, "T9", Some(("T9", "s3cret-9"))).await.unwrap();
    t9.subscribe("feedlot/yard-mqtt/truck/T9/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    t9.publish(
        "feedlot/yard-mqtt/truck/T9/delivery",
        QoS::AtLeastOnce,
        false,
        delivery(),
    )
    .await
    .unwrap();
    assert_eq!(answers(&mut t9_events, 1).await[0]["status"], "captured");
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            delivery(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(got[0]["status"], "captured", "{got:?}");
    // Exactly one answer: T9's never came to truck-7.
    let more = tokio::time::timeout(Duration::from_millis(500), answers(&mut events, 1)).await;
    assert!(more.is_err(), "{more:?}");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_with_the_gateways_client_id_or_another_accounts_id_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(config(data.path(), port)).await;
    let truck_7 = Some(("truck-7", "s3cret-7"));

    for (client_id, login, code) in [
        ("edge-gw-mqtt", truck_7, "BadClientId"),
        ("edge-gateway-internal", truck_7, "BadClientId"),
        ("T9", truck_7, "BadClientId"),
        ("truck-T9", truck_7, "BadClientId"),
        (
            "truck-7",
            Some(("truck-7", "s3cret-9")),
            "BadUserNamePassword",
        ),
        (
            "truck-7",
            Some(("edge-front", "guess")),
            "BadUserNamePassword",
        ),
        ("truck-7", None, "BadUserNamePassword"),
    ] {
        let refused = connect(port, client_id, login).await;
        assert!(
            refused.as_ref().err().is_some_and(|e| e.contains(code)),
            "{client_id} {login:?}: {:?}",
            refused.err()
        );
    }
    assert_eq!(refusals(&gateway, "truck-7", "reserved_client_id"), 2);
    assert_eq!(refusals(&gateway, "truck-7", "client_id_not_bound"), 2);
    assert_eq!(refusals(&gateway, "truck-7", "bad_credentials"), 1);
    assert_eq!(refusals(&gateway, "unknown", "bad_credentials"), 1);
    assert_eq!(refusals(&gateway, "anonymous", "bad_credentials"), 1);
    // The account's own ids are taken.
    for id in ["truck-7", "truck-7-cab", "truck-T7"] {
        connect(port, id, truck_7).await.unwrap();
    }
    truck_7_delivers(port).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_over_the_size_limit_disconnects_that_client_while_another_keeps_working() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = config(data.path(), port);
    config.mqtt.max_payload_bytes = 2048;
    let gateway = start(config).await;

    let mut options = MqttOptions::new("T9", "127.0.0.1", port);
    options
        .set_credentials("T9", "s3cret-9")
        .set_max_packet_size(1 << 20, 1 << 20);
    let (big, mut big_events) = AsyncClient::new(options, 8);
    big.publish(
        "feedlot/yard-mqtt/truck/T9/delivery",
        QoS::AtLeastOnce,
        false,
        vec![b'x'; 512 * 1024],
    )
    .await
    .unwrap();
    let (big_closed, ()) = tokio::join!(
        disconnected(&mut big_events, Duration::from_secs(10)),
        truck_7_delivers(port)
    );
    big_closed.unwrap();
    assert_eq!(refusals(&gateway, "T9", "packet_too_large"), 1);
    wait_for_depth(&gateway, 1, Duration::from_secs(5)).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_declaring_a_huge_length_is_refused_from_its_header_without_waiting_for_the_body()
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let gateway = start(config(data.path(), port)).await;

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut connect = rumqttc::Connect::new("truck-7");
    connect.set_login("truck-7", "s3cret-7");
    let mut bytes = bytes::BytesMut::new();
    connect.write(&mut bytes).unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).await.unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    // A QoS 1 PUBLISH announcing 256 MiB - 1 (the largest MQTT length), and nothing more.
    stream
        .write_all(&[0x32, 0xff, 0xff, 0xff, 0x7f])
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "{closed:?} {rest:?}"
    );
    assert_eq!(refusals(&gateway, "truck-7", "packet_too_large"), 1);
    truck_7_delivers(port).await;
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

/// Whether the CONNACK comes within `within`.
async fn connack(events: &mut EventLoop, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => return true,
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_max_connections_wait_until_one_closes() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = config(data.path(), port);
    config.mqtt.max_connections = 1;
    let gateway = start(config).await;

    let (first, mut first_events) = connect(port, "T9", Some(("T9", "s3cret-9"))).await.unwrap();
    let keep_first = tokio::spawn(async move { while first_events.poll().await.is_ok() {} });
    let mut options = MqttOptions::new("truck-7", "127.0.0.1", port);
    options.set_credentials("truck-7", "s3cret-7");
    let (_second, mut second_events) = AsyncClient::new(options, 8);
    assert!(
        !connack(&mut second_events, Duration::from_secs(1)).await,
        "a second connection was served with max_connections = 1"
    );
    first.disconnect().await.unwrap();
    keep_first.await.unwrap();
    assert!(connack(&mut second_events, Duration::from_secs(10)).await);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_devices_speak_tls_to_the_front_and_plaintext_is_refused() {
    use tokio_rustls::rustls;
    let dir = tempfile::tempdir().unwrap();
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, issued.cert.pem()).unwrap();
    std::fs::write(&key_path, issued.signing_key.serialize_pem()).unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = config(&dir.path().join("data"), port);
    config.mqtt.tls_cert_path = Some(cert_path);
    config.mqtt.tls_key_path = Some(key_path);
    let gateway = start(config).await;

    // A plaintext client to the TLS port gets no CONNACK.
    let plain = connect(port, "truck-7", Some(("truck-7", "s3cret-7"))).await;
    assert!(plain.is_err(), "a plaintext client was served");

    // A client trusting the test certificate connects, and its delivery is captured.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(issued.cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut options = MqttOptions::new("truck-7", "127.0.0.1", port);
    options
        .set_credentials("truck-7", "s3cret-7")
        .set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(std::sync::Arc::new(client_config)),
        ));
    let (truck, mut events) = AsyncClient::new(options, 8);
    assert!(connack(&mut events, Duration::from_secs(10)).await);
    truck
        .subscribe("feedlot/yard-mqtt/truck/T7/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    truck
        .publish(
            "feedlot/yard-mqtt/truck/T7/delivery",
            QoS::AtLeastOnce,
            false,
            delivery(),
        )
        .await
        .unwrap();
    let got = answers(&mut events, 1).await;
    assert_eq!(got[0]["status"], "captured", "{got:?}");
    wait_for_depth(&gateway, 1, Duration::from_secs(5)).await;
    assert!(refusals(&gateway, "unknown", "tls_handshake") >= 1);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_mqtt_certificate_stops_the_gateway_naming_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = config(&dir.path().join("data"), port);
    config.mqtt.tls_cert_path = Some(dir.path().join("missing-cert.pem"));
    config.mqtt.tls_key_path = Some(dir.path().join("missing-key.pem"));
    let started = Gateway::start(config, tokio_util::sync::CancellationToken::new()).await;
    let error = started.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("mqtt.tls_cert_path"), "{error:?}");
}
