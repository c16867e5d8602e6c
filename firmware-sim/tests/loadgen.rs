//! The load generator's yards go through the real pipeline: every kind of record is stored,
//! exactly once.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Every table each yard's records land in (and `deaths`, which a small yard may not have).
const TABLES: [&str; 13] = [
    "tag_reads",
    "weighings",
    "arrivals",
    "placements",
    "treatments",
    "pen_moves",
    "shipments",
    "rations",
    "feed_purchases",
    "feed_loads",
    "feed_deliveries",
    "yardage_rates",
    "yard_profiles",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_yards_land_in_clickhouse_once_each() {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("loadgen").await.unwrap();
    let mut config = ingest::Config::default();
    config.kafka.brokers = broker.bootstrap.clone();
    config.clickhouse.url = db.url.clone();
    config.clickhouse.database = db.database.clone();
    config.batch.max_wait_ms = 100;
    config.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut pages = dashboards::Config {
        clickhouse: config.clickhouse.clone(),
        ..Default::default()
    };
    pages.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let shutdown = CancellationToken::new();
    let pipeline = firmware_sim::pipeline::spawn(config.clone(), pages, shutdown.clone());
    // The consumer's ops listener answers once the topics and the schema exist.
    let health = format!("http://{}/healthz", config.ops.listen);
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await
    );

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
        .args(["loadgen", "--yards", "3", "--head", "30", "--days", "230"])
        .args(["--kafka-brokers", &broker.bootstrap])
        // Each simulated gateway's key enrolled here, so the consumer stores its signed events.
        .args(["--clickhouse-url", &db.url])
        .args(["--clickhouse-database", &db.database])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: u64 = said
        .strip_prefix("sent ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    // What the generator sends is what its yards made (the same seed regenerates them).
    let options = firmware_sim::loadgen::LoadOptions {
        yards: 3,
        head_per_yard: 30,
        days: 230,
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let expected: usize = (0..3)
        .map(|y| firmware_sim::loadgen::yard_events(&options, y, now).len())
        .sum();
    assert!(
        (expected as u64).abs_diff(sent) * 50 < sent,
        "sent {sent}, the model makes {expected}"
    );
    assert!(said.contains("from 3 yards"), "{said}");

    let client = db.client();
    let stored = || async {
        let mut total = 0;
        for table in TABLES.iter().chain(&["deaths"]) {
            total += client
                .query(&format!("SELECT count() FROM {table} FINAL"))
                .fetch_one::<u64>()
                .await
                .unwrap_or(0);
        }
        total
    };
    testkit::wait_until(Duration::from_secs(90), || async { stored().await >= sent }).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(stored().await, sent, "every event stored once");
    for table in TABLES {
        let per_yard: Vec<(String, u64)> = client
            .query(&format!(
                "SELECT feedlot_id, count() FROM {table} FINAL GROUP BY feedlot_id ORDER BY feedlot_id"
            ))
            .fetch_all()
            .await
            .unwrap();
        let yards: Vec<&str> = per_yard.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            yards,
            ["yard-00000", "yard-00001", "yard-00002"],
            "{table}: {per_yard:?}"
        );
    }
    let regions: Vec<String> = client
        .query("SELECT DISTINCT region FROM yard_profiles FINAL")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(regions, ["US-NE"], "peers benchmark in one region");
    shutdown.cancel();
    pipeline.await.unwrap().unwrap();
}
