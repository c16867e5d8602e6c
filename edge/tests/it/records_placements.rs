//! The records API's `placements` kind: an operator tags an animal into its lot and pen after
//! the fact; the placement reaches Kafka with its capture time, a vet may not submit one, and a
//! placement without a pen is refused naming the field.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::Config;
use edge::api::{ApiToken, Role};
use serde_json::{Value, json};

use crate::support::{consume, start};

const TOPIC: &str = "feedlot.events.v1";

async fn post(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_records_a_placement_with_its_occurred_at_and_a_vet_may_not() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: "yard-placements".into(),
        gateway_id: "gw-placements".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = vec![
        ApiToken {
            token: "op-1".into(),
            user: "sam".into(),
            role: Role::Operator,
        },
        ApiToken {
            token: "vet-1".into(),
            user: "dr-lee".into(),
            role: Role::Vet,
        },
    ];
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}/api/v1/records/placements");
    let placement = json!({"eid": "982000000000042", "lot_id": "L-031", "pen_id": "P12",
                           "sex": "heifer", "breed": "Angus x Hereford"});

    let (status, body) = post(&base, "vet-1", &placement).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("role vet may not submit placements"))
    );
    let mut no_pen = placement.clone();
    no_pen["pen_id"] = json!(" ");
    let (status, body) = post(&base, "op-1", &no_pen).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("pen_id")),
        "{body}"
    );
    let mut bad_sex = placement.clone();
    bad_sex["sex"] = json!("gelding");
    let (status, body) = post(&base, "op-1", &bad_sex).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("sex")),
        "{body}"
    );

    let at = "2026-10-01T08:15:00Z";
    let (status, created) = post(&format!("{base}?occurred_at={at}"), "op-1", &placement).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["kind"], "placements");

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        1,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(got.len(), 1, "only the accepted placement: {got:#?}");
    let envelope = &got[0].envelope;
    assert_eq!(
        envelope.event_id.to_string(),
        created["event_id"].as_str().unwrap()
    );
    assert_eq!(envelope.device_id, "api:sam");
    assert_eq!(
        envelope.captured_at.to_rfc3339(),
        "2026-10-01T08:15:00+00:00"
    );
    let schemas::Event::Placement(p) = &envelope.event else {
        panic!("not a placement: {envelope:?}")
    };
    assert_eq!(
        (p.eid.as_str(), p.lot_id.as_str(), p.pen_id.as_str()),
        ("982000000000042", "L-031", "P12")
    );
    assert_eq!(p.sex, Some(schemas::Sex::Heifer));
    assert_eq!(p.breed.as_deref(), Some("Angus x Hereford"));
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
