//! Planned shipments in the cloud (docs/alerts.md, `withdrawal_on_shipment`): a plan whose
//! animals are still in withdrawal on its day raises one alert naming the lot, the day and the
//! head in withdrawal, listing only those animals; an amended plan is read with its new day
//! and a voided one raises nothing new; the lot page lists the lot's plans as corrected.
//! Real ClickHouse, the real alerts worker and the real site.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::{DateTime, Utc};
use dashboards::config::{AlertsConfig, WebConfig, WebUserConfig};
use schemas::{
    Arrival, Correction, CorrectionAction, DoseUnit, Eid, Envelope, Event, Placement,
    Route as DoseRoute, ShipmentPlan, Treatment, TreatmentPurpose,
};
use serde_json::Value;

use crate::bench_yards::{database, store};
use crate::two_yards::get;

const YARD: &str = "plan-yard";
const LOT: &str = "LOT-PLAN-1";
const PEN: &str = "PEN-PLAN-1";
/// Treated 2 days ago with a 10-day withdrawal: in withdrawal for 8 more days.
const HELD: &str = "982000000000601";
/// Treated 20 days ago with a 10-day withdrawal: clear.
const CLEAR: &str = "982000000000602";
const TOKEN: &str = "plans-token-0123456789-abcdef";

fn days_ago(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    now - chrono::Duration::days(days)
}

fn env(at: DateTime<Utc>, event: Event) -> Envelope {
    Envelope::new(YARD, "gw-1", "api:sam", at, event)
}

fn treated(eid: &str, at: DateTime<Utc>) -> Envelope {
    env(
        at,
        Event::Treatment(Treatment {
            eid: Eid::parse(eid).unwrap(),
            purpose: TreatmentPurpose::Therapeutic,
            product: "Draxxin".into(),
            dose: 2.0,
            dose_unit: DoseUnit::Ml,
            route: DoseRoute::Subcutaneous,
            product_lot: "X1".into(),
            withdrawal_days: 10,
            administered_by: "dr-lee".into(),
            diagnosis: Some("BRD".into()),
            booster_after_days: None,
            cost_minor: None,
            currency: None,
        }),
    )
}

/// A lot of two tagged head (one in withdrawal, one clear), not weighed (so not near its
/// target: only the plan speaks), and a plan of the lot's animals (no EIDs) in 5 days.
fn records(now: DateTime<Utc>) -> (Vec<Envelope>, Envelope) {
    let start = days_ago(now, 30);
    let mut out = vec![env(
        start,
        Event::Arrival(Arrival {
            lot_id: LOT.into(),
            head_count: 2,
            origin: "Cherry County".into(),
            source: None,
            pen_id: Some(PEN.into()),
            pay_weight_kg: 600.0,
            pay_weight_per_head_kg: None,
            shrink_pct: 2.0,
            purchase_price_minor: 300_000,
            currency: "USD".into(),
        }),
    )];
    for eid in [HELD, CLEAR] {
        out.push(env(
            start,
            Event::Placement(Placement {
                eid: Eid::parse(eid).unwrap(),
                lot_id: LOT.into(),
                pen_id: PEN.into(),
                sex: None,
                breed: None,
            }),
        ));
    }
    out.push(treated(HELD, days_ago(now, 2)));
    out.push(treated(CLEAR, days_ago(now, 20)));
    let plan = env(
        days_ago(now, 1),
        Event::ShipmentPlan(ShipmentPlan {
            lot_id: LOT.into(),
            pen_id: Some(PEN.into()),
            planned_date: (now + chrono::Duration::days(5)).date_naive(),
            head_count: 2,
            eids: Vec::new(),
            buyer: Some("Tyson Lexington".into()),
            destination: None,
            note: Some("first truck 7 am".into()),
        }),
    );
    out.push(plan.clone());
    (out, plan)
}

fn correction(plan: &Envelope, action: CorrectionAction, now: DateTime<Utc>) -> Envelope {
    let amend = action == CorrectionAction::Amend;
    env(
        now,
        Event::Correction(Correction {
            corrects_event_id: plan.event_id,
            record_kind: "shipment_plan".into(),
            action,
            reason: "buyer moved the date".into(),
            weight_kg: None,
            product: None,
            dose: None,
            withdrawal_days: None,
            cause: None,
            delivered_kg: None,
            planned_date: amend.then(|| (now + chrono::Duration::days(12)).date_naive()),
            head_count: None,
        }),
    )
}

fn site(client: &clickhouse::Client) -> axum::Router {
    let web = WebConfig {
        users: vec![WebUserConfig {
            name: "alice".into(),
            token_sha256: dashboards::web::auth::hash_token(TOKEN),
            feedlots: vec![YARD.into()],
        }],
        ..WebConfig::default()
    };
    crate::two_yards::site(client, &web)
}

/// The yard's `withdrawal_on_shipment` alerts through the API.
async fn withdrawal_alerts(app: &axum::Router) -> Vec<Value> {
    let auth = format!("Bearer {TOKEN}");
    let reply = get(
        app,
        &format!("/api/feedlots/{YARD}/alerts"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let alerts: Vec<Value> = serde_json::from_str(&reply.body).unwrap();
    alerts
        .into_iter()
        .filter(|a| a["rule"] == "withdrawal_on_shipment")
        .collect()
}

async fn lot_page(app: &axum::Router) -> String {
    let auth = format!("Bearer {TOKEN}");
    let page = get(
        app,
        &format!("/feedlots/{YARD}/lots/{LOT}"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
}

#[tokio::test]
async fn a_plan_holding_an_animal_in_withdrawal_raises_one_alert_and_a_voided_plan_nothing_new() {
    let now = Utc::now();
    let (db, client) = database("plans_alert").await;
    let (yard, plan) = records(now);
    store(&db, &yard).await;
    let app = site(&client);
    let mut worker = crate::alerts::worker(&client, AlertsConfig::default());

    let round = worker.round(crate::alerts::now_ms()).await.unwrap();
    let alerts = withdrawal_alerts(&app).await;
    assert_eq!(alerts.len(), 1, "{round:?} {alerts:#?}");
    let day = (now + chrono::Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    let title = alerts[0]["title"].as_str().unwrap();
    assert_eq!(
        title,
        format!("Lot {LOT} planned to ship {day} with 1 head in withdrawal")
    );
    let detail = alerts[0]["detail"].as_str().unwrap();
    let clears = (now - chrono::Duration::days(2) + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        detail.contains(&format!("{HELD} (clears {clears})")) && !detail.contains(CLEAR),
        "{detail}"
    );
    assert!(detail.contains("to Tyson Lexington"), "{detail}");
    assert_eq!(alerts[0]["subject"], plan.event_id.to_string());

    // The lot page lists the plan: its day, head, buyer and note.
    let page = lot_page(&app).await;
    let table = page
        .split(r#"<table id="shipment-plans">"#)
        .nth(1)
        .unwrap_or_else(|| panic!("no plans table: {page}"));
    let table = table.split("</table>").next().unwrap();
    for shown in [
        day.as_str(),
        ">2<",
        "Tyson Lexington",
        "first truck 7 am",
        "planned",
    ] {
        assert!(table.contains(shown), "{shown} missing: {table}");
    }

    // Moved to 12 days ahead (after the animal clears): read with its new day, nothing new.
    store(&db, &[correction(&plan, CorrectionAction::Amend, now)]).await;
    let round = worker.round(crate::alerts::now_ms()).await.unwrap();
    assert_eq!(round.raised, 0, "{round:?}");
    let moved = (now + chrono::Duration::days(12))
        .format("%Y-%m-%d")
        .to_string();
    let page = lot_page(&app).await;
    assert!(
        page.contains(&moved) && page.contains("buyer moved the date"),
        "the new day, and the change in the Changes table: {page}"
    );

    // Voided: no plan left on the page, and nothing raised for it.
    store(&db, &[correction(&plan, CorrectionAction::Void, now)]).await;
    let round = worker.round(crate::alerts::now_ms()).await.unwrap();
    assert_eq!(round.raised, 0, "{round:?}");
    assert_eq!(withdrawal_alerts(&app).await.len(), 1, "only the first");
    let page = lot_page(&app).await;
    assert!(
        page.contains(r#"id="no-shipment-plans""#),
        "a voided plan is not listed: {page}"
    );
}
