//! The load generator's events go through the real pipeline and are stored exactly once.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_yards_land_in_clickhouse_once_each() {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("loadgen").await.unwrap();
    let mut config = ingest::Config::default();
    config.kafka.brokers = broker.bootstrap.clone();
    config.clickhouse.url = db.url.clone();
    config.clickhouse.database = db.database.clone();
    config.batch.max_wait_ms = 100;
    config.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let shutdown = CancellationToken::new();
    let pipeline = tokio::spawn(ingest::run(config.clone(), shutdown.clone()));
    let health = format!("http://{}/healthz", config.web.listen);
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await
    );

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
        .args([
            "loadgen",
            "--yards",
            "3",
            "--head",
            "5",
            "--days",
            "60",
            "--reweigh-every-days",
            "30",
        ])
        .args(["--kafka-brokers", &broker.bootstrap])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 3 yards x 5 head x weighed on days 0, 30, 60, each with its tag read.
    assert!(said.contains("sent 90 events from 3 yards"), "{said}");

    let client = db.client();
    let per_yard = || async {
        client
            .query("SELECT feedlot_id, count() FROM weighings FINAL GROUP BY feedlot_id ORDER BY feedlot_id")
            .fetch_all::<(String, u64)>()
            .await
            .unwrap_or_default()
    };
    testkit::wait_until(Duration::from_secs(60), || async {
        per_yard().await.iter().map(|r| r.1).sum::<u64>() >= 45
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let expected: Vec<(String, u64)> = (0..3).map(|i| (format!("yard-{i:05}"), 15)).collect();
    assert_eq!(per_yard().await, expected);
    let tags: u64 = client
        .query("SELECT count() FROM tag_reads FINAL")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(tags, 45);
    shutdown.cancel();
    pipeline.await.unwrap().unwrap();
}
