//! Feed trucks end to end: the simulated truck publishes a day's loads and deliveries over MQTT
//! to the gateway's embedded broker, the gateway confirms each once it is durable, and ingest
//! stores each once in ClickHouse — even when the truck re-sends everything after a reboot.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use firmware_sim::devices::truck::{TruckSetup, finishing_day, records, run_truck};
use rand::SeedableRng;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_feeding_day_reaches_clickhouse_once_even_when_the_truck_resends_it() {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("feed_trucks").await.unwrap();
    let shutdown = CancellationToken::new();
    let mut pipeline = ingest::Config::default();
    pipeline.kafka.brokers = broker.bootstrap.clone();
    pipeline.clickhouse.url = db.url.clone();
    pipeline.clickhouse.database = db.database.clone();
    pipeline.batch.max_wait_ms = 100;
    pipeline.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    // The consumer's ops listener answers once the topics and the schema exist.
    let health = format!("http://{}/healthz", pipeline.ops.listen);
    let mut pages = dashboards::Config {
        clickhouse: pipeline.clickhouse.clone(),
        ..Default::default()
    };
    pages.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let ingest_task = firmware_sim::pipeline::spawn(pipeline, pages, shutdown.clone());
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await
    );

    let data = tempfile::tempdir().unwrap();
    let mqtt_port = testkit::free_port().unwrap();
    let mut gateway = edge::Config {
        feedlot_id: "yard-feed".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..edge::Config::default()
    };
    gateway.kafka.brokers = broker.bootstrap.clone();
    gateway.http.listen = "127.0.0.1:0".into();
    gateway.mqtt.embedded = true;
    gateway.mqtt.listen = format!("127.0.0.1:{mqtt_port}");
    gateway.mqtt.users.insert("T9".into(), "pw-9".into());
    // The consumer stores only events signed by an enrolled key.
    firmware_sim::pipeline::enroll_gateway(
        &ingest::config::ClickHouseConfig {
            url: db.url.clone(),
            database: db.database.clone(),
            ..Default::default()
        },
        data.path(),
        &gateway.gateway_id,
        &[gateway.feedlot_id.clone()],
    )
    .await
    .unwrap();
    let gateway = edge::Gateway::start(gateway, shutdown.clone())
        .await
        .unwrap();

    let setup = TruckSetup {
        feedlot_id: "yard-feed".into(),
        truck_id: "T9".into(),
        host: "127.0.0.1".into(),
        port: mqtt_port,
        credentials: Some(("T9".into(), "pw-9".into())),
        operator: "sam".into(),
        resend_after: Duration::from_secs(2),
    };
    let day = records(
        &finishing_day(3, 50),
        &setup,
        &mut rand::rngs::StdRng::seed_from_u64(4),
    );
    let delivered_kg: f64 = day
        .iter()
        .filter_map(|(_, b)| b["delivered_kg"].as_f64())
        .sum();
    let first = run_truck(&setup, day.clone(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        first.captured.len(),
        5,
        "2 loads and 3 deliveries confirmed: {first:?}"
    );
    assert!(first.rejected.is_empty(), "{first:?}");
    // After a reboot the truck sends the whole day again: same event ids.
    let again = run_truck(&setup, day, Duration::from_secs(30))
        .await
        .unwrap();
    let sorted = |mut ids: Vec<uuid::Uuid>| {
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(again.captured),
        sorted(first.captured.clone()),
        "the same records confirmed again"
    );

    let client = db.client();
    let counts = || async {
        let loads: u64 = client
            .query("SELECT count() FROM feed_loads FINAL WHERE feedlot_id = 'yard-feed'")
            .fetch_one()
            .await
            .unwrap_or(0);
        let drops: u64 = client
            .query("SELECT count() FROM feed_deliveries FINAL WHERE feedlot_id = 'yard-feed'")
            .fetch_one()
            .await
            .unwrap_or(0);
        (loads, drops)
    };
    testkit::wait_until(Duration::from_secs(60), || async {
        counts().await == (2, 3)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        counts().await,
        (2, 3),
        "each record once, despite the re-send"
    );
    let stored_kg: f64 = client
        .query("SELECT sum(delivered_kg) FROM feed_deliveries FINAL WHERE feedlot_id = 'yard-feed'")
        .fetch_one()
        .await
        .unwrap();
    assert!(
        (stored_kg - delivered_kg).abs() < 1e-6,
        "{stored_kg} stored vs {delivered_kg} delivered"
    );

    shutdown.cancel();
    gateway.wait().await.unwrap();
    ingest_task.await.unwrap().unwrap();
}
