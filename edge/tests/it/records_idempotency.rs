//! The records API over HTTP: a retried POST with the same `Idempotency-Key` records once,
//! across a gateway restart too; a reused key with another body, a malformed key, an oversized
//! body or field and an unbelievable `occurred_at` are refused with the field named.
//!
//! No Kafka is needed: what was recorded is read from the outbox, which keeps every event.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use edge::Config;
use edge::api::{ApiToken, IDEMPOTENCY_KEY, Role};
use serde_json::{Value, json};

use crate::support::start;

fn config(data: &std::path::Path, port: u16) -> Config {
    let mut config = Config {
        feedlot_id: "yard-idem".into(),
        gateway_id: "gw-idem".into(),
        data_dir: data.to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    // Nothing listens on port 1: events stay in the outbox.
    config.kafka.brokers = "127.0.0.1:1".into();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = vec![ApiToken {
        token: "op-1".into(),
        user: "sam".into(),
        role: Role::Operator,
    }];
    config
}

async fn post(url: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth("op-1")
        .json(body);
    if let Some(key) = key {
        request = request.header(IDEMPOTENCY_KEY, key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn death(cause: &str) -> Value {
    json!({"eid": "982000000000001", "cause": cause, "pen_id": "P1"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_post_with_the_same_key_records_once_even_across_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/records/deaths");
    let key = uuid::Uuid::now_v7().to_string();

    let gateway = start(config(data.path(), port)).await;
    let (status, first) = post(&url, Some(&key), &death("bloat")).await;
    assert_eq!(status, 201, "{first}");
    let event_id = first["event_id"].as_str().unwrap().to_owned();
    let (status, retry) = post(&url, Some(&key), &death("bloat")).await;
    assert_eq!(
        (status, retry["event_id"].as_str()),
        (201, Some(&*event_id))
    );
    assert_eq!(retry["replayed"], true);
    assert_eq!(gateway.outbox().depth().unwrap(), 1);

    // The same key with another body: refused, nothing recorded.
    let (status, reused) = post(&url, Some(&key), &death("pneumonia")).await;
    assert_eq!(
        (status, reused["field"].as_str()),
        (422, Some(IDEMPOTENCY_KEY))
    );
    assert!(
        reused["error"].as_str().unwrap().contains(&event_id),
        "{reused}"
    );
    // No key, or another key: a new record each time.
    assert_eq!(post(&url, None, &death("bloat")).await.0, 201);
    let other = uuid::Uuid::now_v7().to_string();
    let (_, second) = post(&url, Some(&other), &death("bloat")).await;
    assert_ne!(second["event_id"].as_str(), Some(&*event_id));
    assert_eq!(gateway.outbox().depth().unwrap(), 3);
    gateway.shutdown();
    gateway.wait().await.unwrap();

    let gateway = start(config(data.path(), port)).await;
    let (status, after) = post(&url, Some(&key), &death("bloat")).await;
    assert_eq!(
        (status, after["event_id"].as_str()),
        (201, Some(&*event_id))
    );
    assert_eq!(gateway.outbox().depth().unwrap(), 3);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_big_bodies_long_fields_and_unbelievable_times_are_refused_by_name() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/records/deaths");
    let gateway = start(config(data.path(), port)).await;

    for key in ["12345", &uuid::Uuid::new_v4().to_string()] {
        let (status, body) = post(&url, Some(key), &death("bloat")).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(IDEMPOTENCY_KEY)),
            "{body}"
        );
    }
    let (status, body) = post(&url, None, &death(&"x".repeat(201))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("cause")),
        "{body}"
    );
    let (status, _) = post(&url, None, &death(&"x".repeat(70_000))).await;
    assert_eq!(status, 413);
    for at in ["2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z"] {
        let (status, body) = post(&format!("{url}?occurred_at={at}"), None, &death("bloat")).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some("occurred_at")),
            "{body}"
        );
    }
    assert_eq!(gateway.outbox().depth().unwrap(), 0);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
