//! The records API: a token's role decides what it may record, every bad field is answered
//! with its name and why, and only accepted records reach Kafka — each whole, once.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::Config;
use edge::api::{ApiToken, Role};
use serde_json::{Value, json};

use crate::support::{consume, start};

const TOPIC: &str = "feedlot.events.v1";

fn token(token: &str, user: &str, role: Role) -> ApiToken {
    ApiToken {
        token: token.into(),
        user: user.into(),
        role,
    }
}

async fn post(base: &str, kind: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/v1/records/{kind}"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn arrival() -> Value {
    json!({"lot_id": "L-031", "head_count": 120, "origin": "Cherry County, NE", "pay_weight_kg": 42_500.0,
           "shrink_pct": 4.0, "purchase_price_minor": 21_250_000u64, "currency": "USD", "pen_id": "P12"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_checked_by_role_and_field_and_only_accepted_ones_are_forwarded() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: "yard-api".into(),
        gateway_id: "gw-api".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = vec![
        token("op-1", "sam", Role::Operator),
        token("vet-1", "dr-lee", Role::Vet),
        token("mgr-1", "kim", Role::Manager),
    ];
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}");

    // Refused: no token, unknown token, wrong role, unknown kind.
    assert_eq!(post(&base, "arrivals", None, &arrival()).await.0, 401);
    assert_eq!(
        post(&base, "arrivals", Some("op-2"), &arrival()).await.0,
        401
    );
    let purchase = json!({"ingredient": "corn", "supplier": "Co-op", "origin": "NE", "quantity_kg": 25_000.0,
                          "price_minor": 512_500u64, "currency": "USD", "dry_matter_pct": 85.5});
    let (status, body) = post(&base, "feed-purchases", Some("vet-1"), &purchase).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (403, "role vet may not submit feed-purchases")
    );
    assert_eq!(post(&base, "fuel", Some("mgr-1"), &purchase).await.0, 404);

    // Refused with the field named: a bad value, an unknown field, a wrong type, a missing one.
    let mut bad = arrival();
    bad["shrink_pct"] = json!(140.0);
    let (status, body) = post(&base, "arrivals", Some("op-1"), &bad).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("shrink_pct")),
        "{body}"
    );
    let mut typo = arrival();
    typo["pen"] = json!("P12");
    let (status, body) = post(&base, "arrivals", Some("op-1"), &typo).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("pen")),
        "{body}"
    );
    let mut wrong_type = arrival();
    wrong_type["head_count"] = json!("a hundred");
    assert_eq!(
        post(&base, "arrivals", Some("op-1"), &wrong_type).await.1["field"],
        "head_count"
    );
    let mut missing = arrival();
    missing.as_object_mut().unwrap().remove("currency");
    let (status, body) = post(&base, "arrivals", Some("op-1"), &missing).await;
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("currency"),
        "{body}"
    );

    // Accepted: the operator's arrival and the manager's purchase.
    let (status, created) = post(&base, "arrivals", Some("op-1"), &arrival()).await;
    assert_eq!(status, 201, "{created}");
    let (status, bought) = post(&base, "feed-purchases", Some("mgr-1"), &purchase).await;
    assert_eq!(status, 201, "{bought}");

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        2,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(got.len(), 2, "only the two accepted records: {got:#?}");
    let arrival_event = got
        .iter()
        .find(|r| r.envelope.event_id.to_string() == created["event_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(arrival_event.envelope.device_id, "api:sam");
    let schemas::Event::Arrival(a) = &arrival_event.envelope.event else {
        panic!("not an arrival")
    };
    assert_eq!(
        (a.lot_id.as_str(), a.head_count, a.pen_id.as_deref()),
        ("L-031", 120, Some("P12"))
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_refuses_a_record_with_507_and_saves_nothing_of_it() {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    // No broker: nothing drains, so the second record does not fit.
    let mut config = Config {
        feedlot_id: "yard-full".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.http.listen = format!("127.0.0.1:{port}");
    config.outbox.max_entries = 1;
    config.api.tokens = vec![token("op-1", "sam", Role::Operator)];
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        post(&base, "arrivals", Some("op-1"), &arrival()).await.0,
        201
    );
    let (status, body) = post(&base, "arrivals", Some("op-1"), &arrival()).await;
    assert_eq!(status, 507, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not saved"),
        "{body}"
    );
    assert_eq!(
        gateway.outbox_depth().await.unwrap(),
        1,
        "the refused record left nothing behind"
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
