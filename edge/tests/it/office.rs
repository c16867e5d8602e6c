//! An office gateway: the real binary with a config that lists no serial device and no MQTT
//! broker starts, answers `/healthz` 200 (no phantom device is down), and takes the office's
//! lot-level records (a death without a tag, a whole-lot treatment, a manual feed delivery, an
//! arrival's pay weight per head) into its outbox, and a processing form posted twice once.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_without_devices_starts_healthy_and_takes_lot_level_records() {
    let dir = tempfile::tempdir().unwrap();
    let http_port = testkit::free_port().unwrap();
    let kafka_port = testkit::free_port().unwrap();
    let config = dir.path().join("edge.toml");
    std::fs::write(
        &config,
        format!(
            r#"feedlot_id = "yard-office"
gateway_id = "gw-office"
data_dir = "{data}"

[kafka]
brokers = "127.0.0.1:{kafka_port}"

[http]
listen = "127.0.0.1:{http_port}"

[[api.tokens]]
token = "mgr-1"
user = "kim"
role = "manager"
"#,
            data = dir.path().join("data").display(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_edge"))
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let client = reqwest::Client::new();
    let health = || async {
        let response = client.get(format!("{base}/healthz")).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json::<Value>().await.ok()?))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        if let Some(answer) = health().await {
            break answer;
        }
        assert!(tokio::time::Instant::now() < deadline, "no /healthz answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 200, "{body}");
    let inputs: Vec<&String> = body["inputs"].as_object().unwrap().keys().collect();
    assert_eq!(inputs, ["forwarder"], "no serial device is read: {body}");

    let records = [
        (
            "lot-deaths",
            json!({"lot_id": "L-1000", "head_count": 1, "cause": "found dead, tag unreadable"}),
        ),
        (
            "lot-treatments",
            json!({"lot_id": "L-1000", "head_count": 1000, "purpose": "processing", "product": "Ivomec Pour-On",
                   "dose_per_head": 10.0, "dose_unit": "ml", "route": "pour_on", "product_lot": "IV-9",
                   "withdrawal_days": 48, "administered_by": "crew", "total_cost_minor": 120_000, "currency": "USD"}),
        ),
        (
            "feed-deliveries",
            json!({"pen_id": "P12", "ration_id": "finisher", "target_kg": 9_000.0, "delivered_kg": 8_950.0,
                   "truck_id": "manual", "operator": "kim"}),
        ),
        (
            "arrivals",
            json!({"lot_id": "L-1000", "head_count": 1000, "origin": "Cherry County, NE", "pen_id": "P12",
                   "pay_weight_per_head_kg": 250.0, "shrink_pct": 4.0, "purchase_price_minor": 130_000_000u64,
                   "currency": "USD"}),
        ),
    ];
    for (kind, body) in &records {
        let response = client
            .post(format!("{base}/api/v1/records/{kind}"))
            .bearer_auth("mgr-1")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{kind}: {answer}");
    }
    let (_, body) = health().await.unwrap();
    assert_eq!(body["outbox"]["depth"], records.len(), "{body}");

    // A head through the chute posted twice with the page's key (a double click, or the
    // browser sending the form again) is recorded once and counted once; the next head, with
    // the new page's key, is recorded.
    let head = |eid: &'static str, key: String| {
        let form = [
            ("idempotency_key", key),
            ("session_head", "0".to_owned()),
            ("lot_id", "L-1000".to_owned()),
            ("pen_id", "P12".to_owned()),
            ("administered_by", "kim".to_owned()),
            ("eid", eid.to_owned()),
            ("weight_kg", "251.5".to_owned()),
            ("product_0", "Bovi-Shield Gold 5".to_owned()),
            ("purpose_0", "vaccination".to_owned()),
            ("dose_0", "2".to_owned()),
            ("dose_unit_0", "ml".to_owned()),
            ("route_0", "subcutaneous".to_owned()),
            ("product_lot_0", "A123".to_owned()),
            ("withdrawal_days_0", "21".to_owned()),
        ];
        // The values are letters, digits, `-`, `.` and spaces: only the spaces need encoding.
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&");
        let request = client
            .post(format!("{base}/forms/processing"))
            .basic_auth("office", Some("mgr-1"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let key = uuid::Uuid::now_v7().to_string();
    let (status, first) = head("982000001088420", key.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("Recorded: 3 records"), "{first}");
    assert!(first.contains("Head processed this session: 1"), "{first}");
    let (status, again) = head("982000001088420", key.clone()).await;
    assert_eq!(status, 200, "{again}");
    assert!(again.contains("Already recorded (sent twice)"), "{again}");
    assert!(
        again.contains("Head processed this session: 0"),
        "not counted again: {again}"
    );
    let (_, body) = health().await.unwrap();
    assert_eq!(body["outbox"]["depth"], records.len() + 3, "{body}");
    // The same key with another head is a different request: refused, nothing recorded.
    let (status, other) = head("982000001088421", key).await;
    assert_eq!(status, 422, "{other}");
    let (status, next) = head("982000001088421", uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(status, 200, "{next}");
    let (_, body) = health().await.unwrap();
    assert_eq!(body["outbox"]["depth"], records.len() + 6, "{body}");
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
