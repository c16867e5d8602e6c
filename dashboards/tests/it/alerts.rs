//! Alerts (docs/alerts.md) over real ClickHouse: a yard's records made so that each rule
//! fires, the alerts worker's rounds raising each alert once (again after re-evaluation and
//! with two workers), the alerts page and API listing them and a user acknowledging one; and
//! delivery to a real HTTP receiver (signed webhook, retried after a 500, accepted once) and a
//! real SMTP server.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dashboards::alerts::Worker;
use dashboards::analytics::Settings;
use dashboards::config::{AlertsConfig, WebConfig, WebUserConfig};
use schemas::{
    Arrival, DoseUnit, Eid, Envelope, Event, FeedDelivery, FeedPurchase, GatewayStatus, Placement,
    Ration, RationIngredient, Route as DoseRoute, Treatment, TreatmentPurpose, Weighing, Weight,
};
use serde_json::Value;

use crate::bench_yards::{database, store};
use crate::two_yards::{get, send};

pub const YARD: &str = "alert-yard";
/// Pulled twice.
pub const SICK: &str = "982000000000501";
/// Its booster is due.
pub const BOOSTED: &str = "982000000000502";
pub const LOT: &str = "LOT-ALERT-1";
/// Alerts the yard raises: one per rule.
pub const ALERTS: usize = 8;
pub const PEN: &str = "PEN-ALERT-1";
pub const TOKEN: &str = "alerts-token-0123456789-abcdef";

fn days_ago(now: DateTime<Utc>, days: f64) -> DateTime<Utc> {
    now - chrono::Duration::milliseconds((days * 86_400_000.0) as i64)
}

fn treatment(eid: &str, purpose: TreatmentPurpose, product: &str, booster: Option<u32>) -> Event {
    Event::Treatment(Treatment {
        eid: Eid::parse(eid).unwrap(),
        purpose,
        product: product.into(),
        dose: 2.0,
        dose_unit: DoseUnit::Ml,
        route: DoseRoute::Subcutaneous,
        product_lot: "X1".into(),
        withdrawal_days: 10,
        administered_by: "dr-lee".into(),
        diagnosis: Some("BRD".into()),
        booster_after_days: booster,
        cost_minor: Some(700),
        currency: Some("USD".into()),
    })
}

/// A yard of ten head in one lot and pen, fed 100 kg a day and 30 kg yesterday (off feed,
/// and its corn runs low), with one animal pulled 10 and 2 days ago (in withdrawal for 8 more
/// days) and one vaccinated 13 days ago with a booster after 14; both weighed 650 kg 5 days
/// ago, so the lot is near its target weight (an upcoming shipment).
pub fn records(now: DateTime<Utc>) -> Vec<Envelope> {
    let env = |at: DateTime<Utc>, event: Event| Envelope::new(YARD, "gw-1", "office", at, event);
    let start = days_ago(now, 20.0);
    let mut out = vec![
        env(
            start,
            Event::Ration(Ration {
                ration_id: "R-1".into(),
                ingredients: vec![RationIngredient {
                    ingredient: "corn".into(),
                    inclusion_as_fed_pct: 100.0,
                    dry_matter_pct: 85.0,
                }],
            }),
        ),
        env(
            start,
            Event::FeedPurchase(FeedPurchase {
                ingredient: "corn".into(),
                supplier: "Co-op".into(),
                origin: "Cherry County".into(),
                quantity_kg: 1_000.0,
                price_minor: 25_000,
                currency: "USD".into(),
                dry_matter_pct: 85.0,
            }),
        ),
        env(
            start,
            Event::Arrival(Arrival {
                lot_id: LOT.into(),
                head_count: 10,
                origin: "Cherry County".into(),
                source: None,
                pen_id: Some(PEN.into()),
                pay_weight_kg: 3_000.0,
                pay_weight_per_head_kg: None,
                shrink_pct: 2.0,
                purchase_price_minor: 1_500_000,
                currency: "USD".into(),
            }),
        ),
    ];
    for eid in [SICK, BOOSTED] {
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
    for eid in [SICK, BOOSTED] {
        out.push(env(
            days_ago(now, 5.0),
            Event::Weighing(Weighing {
                eid: Eid::parse(eid).unwrap(),
                weight: Weight::from_kg(650.0),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ));
    }
    out.push(env(
        days_ago(now, 10.0),
        treatment(SICK, TreatmentPurpose::Therapeutic, "Draxxin", None),
    ));
    out.push(env(
        days_ago(now, 2.0),
        treatment(SICK, TreatmentPurpose::Therapeutic, "Nuflor", None),
    ));
    out.push(env(
        days_ago(now, 13.0),
        treatment(
            BOOSTED,
            TreatmentPurpose::Vaccination,
            "Bovishield",
            Some(14),
        ),
    ));
    // Fed at noon UTC of each of the 9 days before yesterday, and yesterday.
    let today = now.date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    for d in 1..=9 {
        let kg = if d == 1 { 30.0 } else { 100.0 };
        out.push(env(
            today - chrono::Duration::days(d),
            Event::FeedDelivery(FeedDelivery {
                pen_id: PEN.into(),
                ration_id: "R-1".into(),
                target_kg: kg,
                delivered_kg: kg,
                truck_id: "T-1".into(),
                operator: "sam".into(),
            }),
        ));
    }
    out.extend(gateway_reports(now));
    out
}

/// `gw-slow` reported an empty outbox 50 minutes ago, then records waiting since 45 minutes
/// ago (an outbox backing up); `gw-fine` has 3 records waiting for 10 seconds.
fn gateway_reports(now: DateTime<Utc>) -> Vec<Envelope> {
    let minutes_ago = |m: i64| now - chrono::Duration::minutes(m);
    let ms = |at: DateTime<Utc>| u64::try_from(at.timestamp_millis()).unwrap();
    let report = |gateway: &str, at: DateTime<Utc>, pending: u64, oldest: Option<DateTime<Utc>>| {
        Envelope::new(
            YARD,
            gateway,
            gateway,
            at,
            Event::GatewayStatus(GatewayStatus {
                outbox_pending: pending,
                oldest_pending_ms: oldest.map(ms),
                dead_lettered: 2,
                interval_secs: 60,
            }),
        )
    };
    vec![
        report("gw-slow", minutes_ago(50), 0, None),
        report("gw-slow", minutes_ago(40), 200, Some(minutes_ago(45))),
        report("gw-slow", minutes_ago(1), 900, Some(minutes_ago(45))),
        report(
            "gw-fine",
            minutes_ago(1),
            3,
            Some(now - chrono::Duration::seconds(10)),
        ),
    ]
}

/// The yard's records stored, its facts made, and a weighing from `gw-old` stored as if
/// ingested two hours ago (a silent gateway).
pub async fn seeded(test: &str) -> (testkit::ClickHouseDb, clickhouse::Client) {
    let (db, client) = database(test).await;
    store(&db, &records(Utc::now())).await;
    silent_gateway(&client, "gw-old", "0190a000-0000-7000-8000-00000000beef").await;
    (db, client)
}

/// Stores a weighing (`event_id`) from `gateway` as if ingested two hours ago: a
/// `gateway_silent` alert.
pub async fn silent_gateway(client: &clickhouse::Client, gateway: &str, event_id: &str) {
    client
        .query(
            "INSERT INTO weighings (event_id, feedlot_id, gateway_id, device_id, eid, weight_kg, \
             displayed_value, displayed_unit, captured_at, captured_at_ms, ingested_at) \
             SELECT toUUID(?), ?, ?, 'scale-1', ?, \
             300, 300, 'kg', now() - 7200, toUInt64(now() - 7200) * 1000, now() - 7200",
        )
        .bind(event_id)
        .bind(YARD)
        .bind(gateway)
        .bind(SICK)
        .execute()
        .await
        .unwrap();
}

pub fn worker(client: &clickhouse::Client, config: AlertsConfig) -> Worker {
    Worker::new(client.clone(), config, Settings::default()).unwrap()
}

pub fn now_ms() -> u64 {
    dashboards::alerts::now_ms()
}

/// Every alert of the yard through the API, by rule (each rule's titles).
pub async fn by_rule(app: &axum::Router) -> BTreeMap<String, Vec<Value>> {
    let auth = format!("Bearer {TOKEN}");
    let reply = get(
        app,
        &format!("/api/feedlots/{YARD}/alerts"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let alerts: Vec<Value> = serde_json::from_str(&reply.body).unwrap();
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for a in alerts {
        out.entry(a["rule"].as_str().unwrap().to_owned())
            .or_default()
            .push(a);
    }
    out
}

pub fn site(client: &clickhouse::Client) -> axum::Router {
    crate::two_yards::site(client, &web_config())
}

/// The users of [`site`]: alice, of this yard and another.
pub fn web_config() -> WebConfig {
    WebConfig {
        users: vec![WebUserConfig {
            name: "alice".into(),
            token_sha256: dashboards::web::auth::hash_token(TOKEN),
            feedlots: vec![YARD.into(), "other-yard".into()],
        }],
        ..WebConfig::default()
    }
}

#[tokio::test]
async fn each_rule_raises_its_alert_once_and_a_user_acknowledges_one_on_the_alerts_page() {
    let (_db, client) = seeded("alerts_rules").await;
    let mut first = worker(&client, AlertsConfig::default());
    let round = first.round(now_ms()).await.unwrap();
    assert_eq!(round.raised, ALERTS, "{round:?}");

    let app = site(&client);
    let rules = by_rule(&app).await;
    let titles = |rule: &str| -> Vec<String> {
        rules
            .get(rule)
            .unwrap_or_else(|| panic!("no {rule} alert: {rules:?}"))
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let pulled = titles("pulled_twice");
    assert_eq!(pulled.len(), 1);
    assert!(
        pulled[0].contains(SICK) && pulled[0].contains(LOT),
        "{pulled:?}"
    );
    let booster = titles("booster_due");
    assert!(
        booster[0].contains(BOOSTED) && booster[0].contains("Bovishield"),
        "{booster:?}"
    );
    assert!(titles("ingredient_low")[0].contains("corn"));
    let off = titles("off_feed");
    assert!(off[0].contains(LOT) && off[0].contains("70%"), "{off:?}");
    assert_eq!(
        titles("gateway_silent").len(),
        1,
        "gw-slow and gw-fine report"
    );
    assert!(titles("gateway_silent")[0].contains("gw-old"));
    let backlog = titles("outbox_backlog");
    assert_eq!(
        backlog.len(),
        1,
        "only gw-slow's outbox is backing up: {backlog:?}"
    );
    assert!(
        backlog[0].contains("gw-slow")
            && backlog[0].contains("900 records")
            && backlog[0].contains("45 minutes"),
        "{backlog:?}"
    );
    let near = titles("near_target_weight");
    assert!(near[0].contains(LOT), "{near:?}");
    let withdrawal = &rules["withdrawal_on_shipment"][0];
    let title = withdrawal["title"].as_str().unwrap();
    assert!(
        title.contains(LOT) && title.contains("1 animal(s)"),
        "{title}"
    );
    let detail = withdrawal["detail"].as_str().unwrap();
    assert!(
        detail.contains(SICK) && !detail.contains(BOOSTED),
        "{detail}"
    );

    // Evaluated again, by the same worker and by a second one (another replica): nothing new.
    assert_eq!(first.round(now_ms()).await.unwrap().raised, 0);
    let mut second = worker(&client, AlertsConfig::default());
    assert_eq!(second.round(now_ms()).await.unwrap().raised, 0);
    let stored: u64 = client
        .query("SELECT count() FROM alerts FINAL WHERE feedlot_id = ?")
        .bind(YARD)
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(stored, ALERTS as u64);

    // A yard's settings turn a rule off.
    let mut config = AlertsConfig::default();
    config.yards.insert(
        "other-yard".into(),
        dashboards::config::RuleOverrides {
            disabled: Some(vec!["pulled_twice".into()]),
            ..Default::default()
        },
    );
    assert!(!config.for_yard("other-yard").enabled("pulled_twice"));

    // The page lists them, open, each with an Acknowledge button.
    let auth = format!("Bearer {TOKEN}");
    let page = get(
        &app,
        &format!("/feedlots/{YARD}/alerts"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!(r#"<span id="open-count">{ALERTS}</span>"#)),
        "{}",
        page.body
    );
    assert!(page.body.contains(SICK) && page.body.contains("Acknowledge"));

    // Acknowledging the pull through the page's form.
    let id = rules["pulled_twice"][0]["alert_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let acked = send(
        &app,
        "POST",
        &format!("/feedlots/{YARD}/alerts/ack"),
        &form,
        &format!("alert_id={id}"),
    )
    .await;
    assert_eq!(acked.status, 303, "{}", acked.body);
    assert_eq!(
        acked.header(axum::http::header::LOCATION),
        format!("/feedlots/{YARD}/alerts")
    );
    let rules = by_rule(&app).await;
    let pull = &rules["pulled_twice"][0];
    assert_eq!(pull["acked_by"], "alice");
    assert!(pull["acked_at_ms"].as_u64().unwrap() > 0);
    let page = get(
        &app,
        &format!("/feedlots/{YARD}/alerts"),
        &[("authorization", &auth)],
    )
    .await;
    assert!(
        page.body
            .contains(&format!(r#"<span id="open-count">{}</span>"#, ALERTS - 1))
    );
    assert!(page.body.contains("acknowledged by alice"));

    // The API acknowledges too; an unknown id, or this yard's alert under another yard, is 404.
    let other = rules["off_feed"][0]["alert_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = send(
        &app,
        "POST",
        &format!("/api/feedlots/{YARD}/alerts/ack"),
        &form,
        &format!("alert_id={other}"),
    )
    .await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert!(api.body.contains(r#""acknowledged":true"#));
    let unknown = send(
        &app,
        "POST",
        &format!("/api/feedlots/{YARD}/alerts/ack"),
        &form,
        "alert_id=nope",
    )
    .await;
    assert_eq!(unknown.status, 404);
    let elsewhere = send(
        &app,
        "POST",
        "/api/feedlots/other-yard/alerts/ack",
        &form,
        &format!("alert_id={id}"),
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    // Re-evaluation after acknowledging raises nothing again.
    assert_eq!(first.round(now_ms()).await.unwrap().raised, 0);
}
