//! The entry forms in a real browser (headless Chromium): each form is filled and submitted as
//! a person would (the browser's own HTML5 checks run first), the page says what it recorded,
//! and every record reaches Kafka from the outbox. A value the server refuses is shown next to
//! the field it names; a value the page itself refuses never leaves the browser; a role that
//! may not use a form is refused.
//!
//! The browser runs through `testkit::form_harness` (a page on one origin that fills the form
//! in a frame and passes `/forms` through to the gateway with the token).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::sync::Mutex;
use std::time::Duration;

use edge::Config;
use edge::api::{ApiToken, Role};
use serde_json::{Value, json};

use crate::support::{consume, start};

/// Fills and submits `form` as `token` in the browser; the harness's result.
async fn fill(
    harness: &str,
    token_of: &Mutex<String>,
    token: &str,
    form: &str,
    values: &Value,
) -> String {
    testkit::form_harness::fill(harness, token_of, token, form, values)
        .await
        .unwrap()
}

/// The event id the page says it recorded.
fn recorded(result: &str) -> uuid::Uuid {
    testkit::form_harness::recorded(result).unwrap_or_else(|| panic!("nothing recorded: {result}"))
}

const TOPIC: &str = "feedlot.events.v1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_form_filled_in_a_browser_records_its_event_and_reaches_kafka() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: "yard-forms".into(),
        gateway_id: "gw-office".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = ["mgr-1:kim:manager", "vet-1:dr-lee:vet", "op-1:sam:operator"]
        .map(|t| {
            let parts: Vec<&str> = t.split(':').collect();
            ApiToken {
                token: parts[0].into(),
                user: parts[1].into(),
                role: match parts[2] {
                    "manager" => Role::Manager,
                    "vet" => Role::Vet,
                    _ => Role::Operator,
                },
            }
        })
        .to_vec();
    let gateway = start(config).await;
    let (harness, token) = testkit::form_harness::start_harness(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();

    // (form, token, values, kind on the wire, events recorded)
    let cases: Vec<(&str, &str, Value, &str, usize)> = vec![
        (
            "arrival",
            "op-1",
            json!({"lot_id": "L-1000", "head_count": "1000", "origin": "Cherry County, NE",
            "source": "Valentine Livestock", "pen_id": "P12", "pay_weight_per_head_kg": "250",
            "purchase_price_minor": "1300000"}),
            "arrival",
            1,
        ),
        (
            "processing",
            "vet-1",
            json!({"lot_id": "L-1000", "pen_id": "P12", "sex": "steer",
            "administered_by": "dr-lee", "eid": "982000001088420", "weight_kg": "251.5",
            "product_0": "Bovi-Shield Gold 5", "purpose_0": "vaccination", "dose_0": "2", "dose_unit_0": "ml",
            "route_0": "subcutaneous", "product_lot_0": "A123", "withdrawal_days_0": "21",
            "product_1": "Revalor-S", "purpose_1": "processing", "dose_1": "1", "dose_unit_1": "unit",
            "route_1": "implant", "product_lot_1": "R9", "withdrawal_days_1": "0"}),
            "placement",
            4,
        ),
        (
            "treatment",
            "vet-1",
            json!({"eid": "982000001088420", "purpose": "therapeutic", "product": "Draxxin",
            "dose": "7.5", "dose_unit": "ml", "route": "subcutaneous", "product_lot": "D1",
            "withdrawal_days": "18", "administered_by": "dr-lee", "diagnosis": "BRD"}),
            "treatment",
            1,
        ),
        (
            "lot-treatment",
            "vet-1",
            json!({"lot_id": "L-1000", "head_count": "1000", "purpose": "processing",
            "product": "Ivomec Pour-On", "dose_per_head": "10", "dose_unit": "ml", "route": "pour_on",
            "product_lot": "IV-9", "withdrawal_days": "48", "administered_by": "crew",
            "total_cost_minor": "1200.00", "currency": "USD"}),
            "lot_treatment",
            1,
        ),
        (
            "pen-move",
            "op-1",
            json!({"lot_id": "L-1000", "from_pen_id": "P12", "to_pen_id": "P14"}),
            "pen_move",
            1,
        ),
        (
            "death",
            "op-1",
            json!({"eid": "982000001088420", "cause": "bloat", "lot_id": "L-1000"}),
            "death",
            1,
        ),
        (
            "lot-death",
            "op-1",
            json!({"lot_id": "L-1000", "pen_id": "P14", "head_count": "1",
            "cause": "found dead, tag unreadable"}),
            "lot_death",
            1,
        ),
        (
            "shipment",
            "mgr-1",
            json!({"lot_id": "L-1000", "head_count": "998", "buyer": "Tyson Lexington",
            "weight_kg": "638000", "price_minor": "2500000.5"}),
            "shipment",
            1,
        ),
        (
            "feed-purchase",
            "mgr-1",
            json!({"ingredient": "corn", "supplier": "Co-op", "origin": "Hall County, NE",
            "quantity_kg": "25000", "price_minor": "4800", "dry_matter_pct": "86"}),
            "feed_purchase",
            1,
        ),
        (
            "feed-delivery",
            "op-1",
            json!({"pen_id": "P14", "ration_id": "finisher", "target_kg": "9000",
            "delivered_kg": "8950", "operator": "sam"}),
            "feed_delivery",
            1,
        ),
        (
            "ration",
            "mgr-1",
            json!({"ration_id": "finisher", "ingredient_0": "corn", "inclusion_as_fed_pct_0": "80",
            "dry_matter_pct_0": "86", "ingredient_2": "silage", "inclusion_as_fed_pct_2": "20",
            "dry_matter_pct_2": "35"}),
            "ration",
            1,
        ),
    ];
    let mut expected = Vec::new();
    let mut events = 0;
    for (form, who, values, kind, count) in &cases {
        let result = fill(&harness, &token, who, form, values).await;
        assert!(
            result.contains("id=\"recorded\""),
            "{form} as {who}: {result}"
        );
        expected.push((recorded(&result), *kind, *form));
        events += count;
    }
    // The processing session keeps its lot, pen and products for the next head.
    let session = fill(
        &harness,
        &token,
        "vet-1",
        "processing",
        &json!({"lot_id": "L-1000", "pen_id": "P12",
        "administered_by": "dr-lee", "eid": "982000001088421", "product_0": "Bovi-Shield Gold 5",
        "purpose_0": "vaccination", "dose_0": "2", "dose_unit_0": "ml", "route_0": "subcutaneous",
        "product_lot_0": "A123", "withdrawal_days_0": "21"}),
    )
    .await;
    assert!(
        session.contains("Head processed this session: 1"),
        "{session}"
    );
    assert!(
        session.contains("value=\"Bovi-Shield Gold 5\""),
        "products kept: {session}"
    );
    events += 2;

    // Refused by the server: the field is named next to its input.
    let mismatch = fill(
        &harness,
        &token,
        "mgr-1",
        "arrival",
        &json!({"lot_id": "L-2", "head_count": "100",
        "origin": "NE", "pay_weight_kg": "25000", "pay_weight_per_head_kg": "25000",
        "purchase_price_minor": "1"}),
    )
    .await;
    let error_span = mismatch
        .find("id=\"error-pay_weight_per_head_kg\"")
        .unwrap();
    assert!(
        mismatch[error_span..]
            .starts_with("id=\"error-pay_weight_per_head_kg\">field `pay_weight_per_head_kg`"),
        "{mismatch}"
    );
    let ration = fill(
        &harness,
        &token,
        "mgr-1",
        "ration",
        &json!({"ration_id": "grower", "ingredient_0": "corn",
        "inclusion_as_fed_pct_0": "60", "dry_matter_pct_0": "86", "ingredient_1": "corn",
        "inclusion_as_fed_pct_1": "40", "dry_matter_pct_1": "86"}),
    )
    .await;
    assert!(
        ration.contains("id=\"error-ingredient_1\">field `ingredients[1].ingredient`"),
        "{ration}"
    );
    let no_place = fill(
        &harness,
        &token,
        "op-1",
        "lot-death",
        &json!({"head_count": "1", "cause": "bloat"}),
    )
    .await;
    assert!(
        no_place.contains("id=\"error-lot_id\">field `lot_id`: is required when pen_id is absent"),
        "{no_place}"
    );
    // Money is typed in the currency's major units: a third decimal of a dollar is refused by
    // the server, naming the field.
    let cents = fill(
        &harness,
        &token,
        "mgr-1",
        "feed-purchase",
        &json!({"ingredient": "corn", "supplier": "Co-op", "origin": "NE", "quantity_kg": "1",
        "price_minor": "12.345", "dry_matter_pct": "86"}),
    )
    .await;
    assert!(
        cents.contains("id=\"error-price_minor\">field `price_minor`: USD has 2 decimals"),
        "{cents}"
    );
    // Refused by the page: never sent.
    let invalid = fill(
        &harness,
        &token,
        "op-1",
        "death",
        &json!({"eid": "12345", "cause": ""}),
    )
    .await;
    assert!(invalid.contains("data-invalid=\"eid,cause\""), "{invalid}");
    let over = fill(
        &harness,
        &token,
        "mgr-1",
        "feed-purchase",
        &json!({"ingredient": "corn", "supplier": "Co-op",
        "origin": "NE", "quantity_kg": "1", "price_minor": "1", "dry_matter_pct": "186"}),
    )
    .await;
    assert!(over.contains("data-invalid=\"dry_matter_pct\""), "{over}");
    // A role that may not use a form.
    let refused = fill(&harness, &token, "vet-1", "feed-purchase", &json!({})).await;
    assert!(
        refused.contains("data-no-form")
            && refused.contains("role vet may not submit feed-purchase"),
        "{refused}"
    );
    let page = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/forms/feed-purchase"))
        .basic_auth("office", Some("vet-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 403);

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        events,
        Duration::from_secs(2),
        Duration::from_secs(60),
    )
    .await;
    for (event_id, kind, form) in &expected {
        let found = got
            .iter()
            .find(|r| r.envelope.event_id == *event_id)
            .unwrap_or_else(|| panic!("{form}: event {event_id} not in Kafka"));
        assert_eq!(found.envelope.event.kind().as_str(), *kind, "{form}");
        assert_eq!(found.key, "yard-forms");
    }
    let kinds: Vec<&str> = got
        .iter()
        .map(|r| r.envelope.event.kind().as_str())
        .collect();
    for kind in ["weighing", "treatment"] {
        assert!(
            kinds.contains(&kind),
            "processing recorded a {kind}: {kinds:?}"
        );
    }
    let Some(schemas::Event::Arrival(arrival)) = got
        .iter()
        .map(|r| &r.envelope.event)
        .find(|e| matches!(e, schemas::Event::Arrival(_)))
    else {
        panic!("no arrival")
    };
    assert_eq!(
        (arrival.pay_weight_kg, arrival.pay_weight_per_head_kg),
        (250_000.0, Some(250.0))
    );
    // Typed in dollars, carried in cents.
    assert_eq!(arrival.purchase_price_minor, 130_000_000);
    let money: Vec<u64> = got
        .iter()
        .filter_map(|r| match &r.envelope.event {
            schemas::Event::LotTreatment(t) => t.total_cost_minor,
            schemas::Event::Shipment(s) => Some(s.price_minor),
            schemas::Event::FeedPurchase(p) => Some(p.price_minor),
            _ => None,
        })
        .collect();
    assert_eq!(
        money,
        [120_000, 250_000_050, 480_000],
        "lot treatment, shipment, purchase"
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
