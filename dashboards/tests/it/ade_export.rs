//! The ICAR ADE export (`dashboards::web` `ade`): an animal's arrival, weighings, treatment,
//! pen move and death, and another animal's shipment, stored through ingest's rows into
//! ClickHouse, each come back as the right ADE resource with the right values in kg; the
//! yard-wide export pages by EID and honours `since`; a user of another yard is refused.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::web::{AppState, app};
use schemas::{
    Arrival, Death, DoseUnit, Eid, Envelope, Event, PenMove, Placement, Route, Sex, Shipment,
    Treatment, TreatmentPurpose, Weighing, Weight,
};
use serde_json::Value;

use crate::bench_yards::{database, insert};
use crate::support;

const YARD: &str = "yard-ade";
const OTHER: &str = "yard-ade-other";
const DIED: &str = "840003123456789";
const SHIPPED: &str = "982000001088421";

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 6, 0, 0).unwrap()
}

fn at(yard: &str, days: i64, event: Event) -> Envelope {
    Envelope::new(
        yard,
        "gw-1",
        "api:sam",
        base() + Duration::days(days),
        event,
    )
}

fn envelopes() -> Vec<Envelope> {
    let died = Eid::parse(DIED).unwrap();
    let shipped = Eid::parse(SHIPPED).unwrap();
    vec![
        at(
            YARD,
            0,
            Event::Arrival(Arrival {
                lot_id: "L-ADE".into(),
                head_count: 2,
                origin: "Cherry County, NE".into(),
                source: Some("Valentine Livestock".into()),
                pen_id: Some("P1".into()),
                pay_weight_kg: 600.0,
                pay_weight_per_head_kg: None,
                shrink_pct: 3.0,
                purchase_price_minor: 300_000,
                currency: "USD".into(),
            }),
        ),
        at(
            YARD,
            0,
            Event::Placement(Placement {
                eid: died.clone(),
                lot_id: "L-ADE".into(),
                pen_id: "P1".into(),
                sex: Some(Sex::Steer),
                breed: Some("Angus".into()),
            }),
        ),
        at(
            YARD,
            0,
            Event::Placement(Placement {
                eid: shipped.clone(),
                lot_id: "L-ADE".into(),
                pen_id: "P1".into(),
                sex: Some(Sex::Heifer),
                breed: None,
            }),
        ),
        at(
            YARD,
            0,
            Event::Weighing(Weighing {
                eid: died.clone(),
                weight: Weight::from_lb(700.0),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ),
        at(
            YARD,
            30,
            Event::Weighing(Weighing {
                eid: died.clone(),
                weight: Weight::from_kg(380.5),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ),
        at(
            YARD,
            31,
            Event::Treatment(Treatment {
                eid: died.clone(),
                purpose: TreatmentPurpose::Therapeutic,
                product: "Draxxin".into(),
                dose: 7.5,
                dose_unit: DoseUnit::Ml,
                route: Route::Subcutaneous,
                product_lot: "DX-17".into(),
                withdrawal_days: 18,
                administered_by: "dr-lee".into(),
                diagnosis: Some("BRD".into()),
                booster_after_days: None,
                cost_minor: Some(2_500),
                currency: Some("USD".into()),
            }),
        ),
        at(
            YARD,
            31,
            Event::PenMove(PenMove {
                eid: Some(died.clone()),
                lot_id: Some("L-ADE".into()),
                head_count: None,
                from_pen_id: "P1".into(),
                to_pen_id: "H1".into(),
            }),
        ),
        at(
            YARD,
            35,
            Event::Death(Death {
                eid: died.clone(),
                cause: "BRD".into(),
                lot_id: Some("L-ADE".into()),
                pen_id: Some("H1".into()),
            }),
        ),
        at(
            YARD,
            150,
            Event::Shipment(Shipment {
                lot_id: "L-ADE".into(),
                head_count: 1,
                buyer: "Tyson Lexington".into(),
                weight_kg: 610.0,
                weight_per_head_kg: None,
                price_minor: 250_000,
                currency: "USD".into(),
                eids: vec![shipped],
            }),
        ),
        // Another yard's record of the same tag.
        at(
            OTHER,
            3,
            Event::Weighing(Weighing {
                eid: died,
                weight: Weight::from_kg(999.0),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ),
    ]
}

async fn site(test: &str) -> (String, testkit::ClickHouseDb) {
    let (db, client) = database(test).await;
    insert(&db, &envelopes()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(client).with_auth(support::test_auth(&[YARD])));
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, db)
}

async fn get(url: &str) -> (u16, Value) {
    let response = support::authed().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn of_type<'a>(member: &'a [Value], resource_type: &str) -> Vec<&'a Value> {
    member
        .iter()
        .filter(|r| r["resourceType"] == resource_type)
        .collect()
}

#[tokio::test]
async fn each_event_of_an_animal_exports_as_its_ade_resource_in_kg() {
    let (base, _db) = site("ade_animal").await;
    let (status, body) = get(&format!("{base}/api/feedlots/{YARD}/animals/{DIED}/ade")).await;
    assert_eq!(status, 200, "{body}");
    let member = body["member"].as_array().unwrap();
    let core = &member[0];
    assert_eq!(core["resourceType"], "icarAnimalCoreResource");
    assert_eq!(
        core["identifier"],
        serde_json::json!({"id": DIED, "scheme": "std.iso.11785"})
    );
    assert_eq!(core["alternativeIdentifiers"][0]["scheme"], "usa.ain");
    assert_eq!(
        (&core["specie"], &core["gender"], &core["status"]),
        (&"Cattle".into(), &"MaleNeuter".into(), &"Dead".into())
    );
    for r in &member[1..] {
        assert_eq!(r["animal"]["id"], DIED, "{r}");
        assert_eq!(r["location"]["id"], YARD, "{r}");
    }

    let arrival = of_type(member, "icarMovementArrivalEventResource");
    assert_eq!(arrival.len(), 1, "{body:#}");
    assert_eq!(arrival[0]["arrivalReason"], "Purchase");
    assert_eq!(arrival[0]["eventDateTime"], "2026-10-01T06:00:00.000Z");
    assert_eq!(
        arrival[0]["consignment"]["originAddress"],
        "Cherry County, NE"
    );
    assert_eq!(
        arrival[0]["remark"],
        "lot L-ADE; bought from Valentine Livestock"
    );
    assert_eq!(arrival[0]["consignment"]["id"]["id"], "L-ADE");

    let weights = of_type(member, "icarWeightEventResource");
    assert_eq!(weights.len(), 2);
    assert!(weights.iter().all(|w| w["weight"]["units"] == "KGM"));
    let kg = |w: &Value| w["weight"]["measurement"].as_f64().unwrap();
    assert!(
        (kg(weights[0]) - 700.0 * schemas::weight::KG_PER_LB).abs() < 1e-6,
        "700 lb in kg"
    );
    assert!((kg(weights[1]) - 380.5).abs() < 1e-9);
    assert_eq!(weights[1]["eventDateTime"], "2026-10-31T06:00:00.000Z");
    assert_eq!(weights[1]["device"]["identifier"]["id"], "api:sam");

    let treatment = of_type(member, "icarTreatmentEventResource");
    assert_eq!(treatment.len(), 1);
    let t = treatment[0];
    assert_eq!(t["medicine"]["name"], "Draxxin");
    assert_eq!(
        t["dose"],
        serde_json::json!({"doseQuantity": 7.5, "doseUnits": "MLT"})
    );
    assert_eq!(t["procedure"], "subcutaneous");
    assert_eq!(t["batches"][0]["identifier"], "DX-17");
    assert_eq!(
        t["withdrawals"][0],
        serde_json::json!({"productType": "Meat", "endDate": "2026-11-19T06:00:00.000Z"})
    );
    assert_eq!(t["responsible"], "dr-lee");

    let joins: Vec<&Value> = of_type(member, "icarAnimalSetJoinEventResource")
        .into_iter()
        .map(|r| &r["animalSetId"])
        .collect();
    assert_eq!(
        joins,
        [&Value::from("P1"), &Value::from("H1")],
        "placement, then the move"
    );
    let leaves = of_type(member, "icarAnimalSetLeaveEventResource");
    assert_eq!(leaves.len(), 1);
    assert_eq!(leaves[0]["animalSetId"], "P1");

    let death = of_type(member, "icarMovementDeathEventResource");
    assert_eq!(death.len(), 1);
    assert_eq!(death[0]["explanation"], "BRD");
    assert_eq!(death[0]["eventDateTime"], "2026-11-05T06:00:00.000Z");
    assert!(
        !body.to_string().contains("999"),
        "the other yard's weighing is not this yard's: {body}"
    );

    // The shipped animal: a departure to the buyer, and off the farm.
    let (_, body) = get(&format!("{base}/api/feedlots/{YARD}/animals/{SHIPPED}/ade")).await;
    let member = body["member"].as_array().unwrap();
    assert_eq!(
        (&member[0]["status"], &member[0]["gender"]),
        (&"OffFarm".into(), &"Female".into())
    );
    let departure = of_type(member, "icarMovementDepartureEventResource");
    assert_eq!(departure.len(), 1, "{body:#}");
    assert_eq!(departure[0]["departureKind"], "Sale");
    assert_eq!(
        departure[0]["consignment"]["destinationAddress"],
        "Tyson Lexington"
    );

    // `since` keeps the events at or after it; the core resource always comes.
    let (_, later) = get(&format!(
        "{base}/api/feedlots/{YARD}/animals/{DIED}/ade?since=2026-11-02T00:00:00Z"
    ))
    .await;
    let types: Vec<&str> = later["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["icarAnimalCoreResource", "icarMovementDeathEventResource"]
    );
}

#[tokio::test]
async fn the_yard_export_pages_by_animal_and_another_yards_user_is_refused() {
    let (base, _db) = site("ade_yard").await;
    let first = format!("{base}/api/feedlots/{YARD}/ade/animals?limit=1");
    let (status, page) = get(&first).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["view"]["animals"], 1);
    assert_eq!(page["member"][0]["identifier"]["id"], DIED, "EIDs in order");
    let next = page["view"]["next"].as_str().unwrap();
    let (_, second) = get(&format!("{base}{next}")).await;
    assert_eq!(second["member"][0]["identifier"]["id"], SHIPPED);
    let (_, last) = get(&format!(
        "{base}{}",
        second["view"]["next"].as_str().unwrap()
    ))
    .await;
    assert_eq!(last["view"]["animals"], 0);
    assert_eq!(last["view"]["next"], Value::Null);

    // Since 2027: only the shipped animal had an event.
    let (_, recent) = get(&format!(
        "{base}/api/feedlots/{YARD}/ade/animals?since=2027-01-01T00:00:00Z"
    ))
    .await;
    let ids: Vec<&str> = recent["member"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resourceType"] == "icarAnimalCoreResource")
        .map(|r| r["identifier"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SHIPPED]);

    // This user reads YARD only: the other yard's records of the same tag are refused.
    for path in [
        format!("/api/feedlots/{OTHER}/animals/{DIED}/ade"),
        format!("/api/feedlots/{OTHER}/ade/animals"),
    ] {
        let (status, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(!body.to_string().contains("999"), "{body}");
    }
    let anonymous = reqwest::get(format!("{base}/api/feedlots/{YARD}/ade/animals"))
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}
