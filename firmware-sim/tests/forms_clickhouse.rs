//! The office's records, entered in the gateway's forms in a real browser on an office gateway
//! (no serial device), all the way to ClickHouse: a lot received with its pay weight per head,
//! a whole-lot treatment, a death without a tag and a feed delivery entered by hand are stored
//! as `ingest` stores them, each once, with their lot-level columns.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::api::{ApiToken, Role};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The yard's dashboards user (tests only).
const TOKEN: &str = "forms-token-0123456789-abcdefghij";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_forms_filled_in_a_browser_reach_clickhouse() {
    let test = "forms_clickhouse";
    let feedlot_id = testkit::unique_name(test);
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();

    let mut pipeline = ingest::Config::default();
    pipeline.kafka.brokers = broker.bootstrap.clone();
    pipeline.kafka.group_id = format!("{feedlot_id}-ingest");
    pipeline.clickhouse.url = db.url.clone();
    pipeline.clickhouse.database = db.database.clone();
    pipeline.batch.max_wait_ms = 100;
    pipeline.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut pages = dashboards::Config {
        clickhouse: pipeline.clickhouse.clone(),
        ..Default::default()
    };
    pages.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    pages.web.users.push(dashboards::config::WebUserConfig {
        name: "office".into(),
        token_sha256: dashboards::web::auth::hash_token(TOKEN),
        feedlots: vec![feedlot_id.clone()],
    });
    let web = format!("http://{}", pages.web.listen);
    let running = firmware_sim::pipeline::spawn(pipeline, pages, shutdown.clone());
    let health = format!("{web}/healthz");
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await
    );

    let port = testkit::free_port().unwrap();
    let mut config = edge::Config {
        feedlot_id: feedlot_id.clone(),
        gateway_id: "gw-office".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..edge::Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.kafka.message_timeout_ms = 5_000;
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = vec![ApiToken {
        token: "mgr-1".into(),
        user: "kim".into(),
        role: Role::Manager,
    }];
    // The consumer stores only events signed by an enrolled key: enrol the gateway's, as an
    // operator does with `edge keygen` and `ingest gateways enroll`.
    firmware_sim::pipeline::enroll_gateway(
        &ingest::config::ClickHouseConfig {
            url: db.url.clone(),
            database: db.database.clone(),
            ..Default::default()
        },
        data.path(),
        "gw-office",
        std::slice::from_ref(&feedlot_id),
    )
    .await
    .unwrap();
    let gateway = edge::Gateway::start(config, shutdown.clone())
        .await
        .unwrap();
    let (harness, token) = testkit::form_harness::start_harness(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();

    let forms = [
        (
            "arrival",
            json!({"lot_id": "L-1000", "head_count": "1000", "origin": "Cherry County, NE",
            "pen_id": "P12", "pay_weight_per_head_kg": "250", "purchase_price_minor": "1300000"}),
        ),
        (
            "lot-treatment",
            json!({"lot_id": "L-1000", "head_count": "1000", "purpose": "processing",
            "product": "Ivomec Pour-On", "dose_per_head": "10", "dose_unit": "ml", "route": "pour_on",
            "product_lot": "IV-9", "withdrawal_days": "48", "administered_by": "crew",
            "total_cost_minor": "1200", "currency": "USD"}),
        ),
        (
            "lot-death",
            json!({"lot_id": "L-1000", "head_count": "1", "cause": "found dead, tag unreadable"}),
        ),
        (
            "feed-delivery",
            json!({"pen_id": "P12", "ration_id": "starter", "target_kg": "9000",
            "delivered_kg": "8950", "operator": "kim"}),
        ),
    ];
    for (form, values) in &forms {
        let result = testkit::form_harness::fill(&harness, &token, "mgr-1", form, values)
            .await
            .unwrap();
        assert!(
            testkit::form_harness::recorded(&result).is_some(),
            "{form}: {result}"
        );
    }

    let client = db.client();
    let count = |sql: &'static str| {
        let (client, feedlot) = (client.clone(), feedlot_id.clone());
        async move {
            client
                .query(sql)
                .bind(feedlot)
                .fetch_one::<u64>()
                .await
                .unwrap_or(0)
        }
    };
    let stored = testkit::wait_until(Duration::from_secs(60), || async {
        count("SELECT count() FROM arrivals FINAL WHERE feedlot_id = ? AND pay_weight_kg = 250000 AND head_count = 1000").await == 1
            && count("SELECT count() FROM treatments FINAL WHERE feedlot_id = ? AND eid = '' AND lot_id = 'L-1000' AND head_count = 1000 AND cost_minor = 120000 AND dose = 10").await == 1
            && count("SELECT count() FROM deaths FINAL WHERE feedlot_id = ? AND eid = '' AND lot_id = 'L-1000' AND head_count = 1").await == 1
            && count("SELECT count() FROM feed_deliveries FINAL WHERE feedlot_id = ? AND truck_id = 'manual' AND delivered_kg = 8950").await == 1
    })
    .await;
    assert!(
        stored,
        "the four office records did not all reach ClickHouse"
    );

    shutdown.cancel();
    gateway.wait().await.unwrap();
    running.await.unwrap().unwrap();
}
