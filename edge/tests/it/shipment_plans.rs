//! Planned shipments at the gateway (docs/records-api.md, docs/edge-forms.md): a plan recorded
//! through the records API and one through the office form both reach Kafka as
//! `shipment_plan` events with who planned them; a bad field is refused naming it, and a
//! role that may not record shipments may not plan one.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use schemas::Event;
use serde_json::json;

use crate::support::{consume, office, post_form, post_record};

const TOPIC: &str = "feedlot.events.v1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_through_the_api_and_one_through_the_form_are_forwarded_and_a_bad_field_is_named() {
    let office = office("yard-plan", "gw-plan", TOPIC).await;
    let (broker, base) = (&office.broker, office.base.clone());

    let plan = json!({"lot_id": "L-7", "pen_id": "P3", "planned_date": "2027-05-02",
        "head_count": 2, "eids": ["982000001088420", "982000001088421"],
        "buyer": "Tyson Lexington", "note": "first truck"});
    let (status, body) = post_record(&base, "shipment-plans", "vet-1", &plan).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("role vet may not submit shipment-plans")),
        "a vet records no shipments: {body}"
    );
    // Bad fields, each refused naming it: no head, one EID twice, more EIDs than head, a
    // timestamp for a day, a malformed EID.
    for (change, field) in [
        (json!({"head_count": 0}), "head_count"),
        (
            json!({"eids": ["982000001088420", "982000001088420"]}),
            "eids",
        ),
        (json!({"head_count": 1}), "eids"),
        (
            json!({"planned_date": "2027-05-02T08:00:00Z"}),
            "planned_date",
        ),
        (json!({"eids": ["982000001088420", "98200"]}), "eids[1]"),
    ] {
        let mut bad = plan.clone();
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let (status, body) = post_record(&base, "shipment-plans", "op-1", &bad).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{change}: {body}"
        );
    }
    let (status, given) = post_record(&base, "shipment-plans", "op-1", &plan).await;
    assert_eq!(status, 201, "{given}");
    let api_id = given["event_id"].as_str().unwrap().to_owned();

    // The form: a refused submit shows the error beside the EIDs; then the plan is recorded.
    let (status, page) = post_form(
        &base,
        "plan-shipment",
        "op-1",
        &[
            ("lot_id", "L-8"),
            ("planned_date", "2027-05-09"),
            ("head_count", "1"),
            ("eids", "982000001088430,\n982000001088431"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("lists 2 animals but head_count is only 1"),
        "{page}"
    );
    let (status, page) = post_form(
        &base,
        "plan-shipment",
        "op-1",
        &[
            ("lot_id", "L-8"),
            ("planned_date", "2027-05-09"),
            ("head_count", "40"),
            ("eids", "982000001088430,\n982000001088431"),
            ("buyer", "Cargill Schuyler"),
            ("destination", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Recorded: "), "{page}");

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        2,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(got.len(), 2, "the two plans: {got:#?}");
    let plans: Vec<_> = got
        .iter()
        .filter_map(|r| match &r.envelope.event {
            Event::ShipmentPlan(p) => Some((r.envelope.event_id.to_string(), r, p)),
            _ => None,
        })
        .collect();
    assert_eq!(plans.len(), 2);
    let (id, record, by_api) = &plans[0];
    assert_eq!(*id, api_id);
    assert_eq!(record.envelope.device_id, "api:sam");
    assert_eq!(record.envelope.feedlot_id, "yard-plan");
    assert_eq!(
        (
            by_api.lot_id.as_str(),
            by_api.planned_date.to_string(),
            by_api.head_count,
            by_api.eids.len(),
            by_api.note.as_deref()
        ),
        ("L-7", "2027-05-02".to_owned(), 2, 2, Some("first truck"))
    );
    let (_, _, by_form) = &plans[1];
    assert_eq!(
        (
            by_form.lot_id.as_str(),
            by_form.planned_date.to_string(),
            by_form.head_count,
            by_form.buyer.as_deref(),
            by_form.destination.as_deref()
        ),
        (
            "L-8",
            "2027-05-09".to_owned(),
            40,
            Some("Cargill Schuyler"),
            None
        )
    );
    let eids: Vec<_> = by_form.eids.iter().map(|e| e.as_str()).collect();
    assert_eq!(eids, ["982000001088430", "982000001088431"]);
    office.gateway.shutdown();
    office.gateway.wait().await.unwrap();
}
