//! An office gateway: the real binary with a config that lists no serial device and no MQTT
//! broker starts, answers `/healthz` 200 (no phantom device is down), and takes the office's
//! lot-level records (a death without a tag, a whole-lot treatment, a manual feed delivery, an
//! arrival's pay weight per head) into its outbox.

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
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
