//! A yard that works in yen (no decimals in ISO 4217): every page shows its money in yen as the
//! gateway's forms took it, not divided by 100 as cents. A lot of 10 head bought for
//! ¥3,000,000, ¥2,000,000 of feed bought and part of it fed; the lots table, the lot's page and
//! its cost chart, the feed page and its CSV and the pens page show whole yen equal to the
//! JSON API's minor units (yen), and say JPY; their columns name yen (`¥/hd`).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::web::{AppState, app};
use schemas::{Arrival, Envelope, Event, FeedDelivery, FeedPurchase, Ration, RationIngredient};

use crate::bench_yards::{database, insert};
use crate::facts::{settle, worker};
use crate::support;

const YARD: &str = "yard-yen";

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 6, 0, 0).unwrap() + Duration::days(d)
}

fn env(d: i64, event: Event) -> Envelope {
    Envelope::new(YARD, "gw-1", "office", day(d), event)
}

fn records() -> Vec<Envelope> {
    let mut out = vec![
        env(
            0,
            Event::Arrival(Arrival {
                lot_id: "W1".into(),
                head_count: 10,
                origin: "Kagoshima".into(),
                source: None,
                pen_id: Some("P1".into()),
                pay_weight_kg: 3_000.0,
                pay_weight_per_head_kg: None,
                shrink_pct: 0.0,
                purchase_price_minor: 3_000_000,
                currency: "JPY".into(),
            }),
        ),
        env(
            0,
            Event::FeedPurchase(FeedPurchase {
                ingredient: "rice straw".into(),
                supplier: "JA".into(),
                origin: "Miyazaki".into(),
                quantity_kg: 20_000.0,
                price_minor: 2_000_000,
                currency: "JPY".into(),
                dry_matter_pct: 88.0,
            }),
        ),
        env(
            0,
            Event::Ration(Ration {
                ration_id: "R".into(),
                ingredients: vec![RationIngredient {
                    ingredient: "rice straw".into(),
                    inclusion_as_fed_pct: 100.0,
                    dry_matter_pct: 88.0,
                }],
            }),
        ),
    ];
    for d in 1..=20 {
        out.push(env(
            d,
            Event::FeedDelivery(FeedDelivery {
                pen_id: "P1".into(),
                ration_id: "R".into(),
                target_kg: 100.0,
                delivered_kg: 100.0,
                truck_id: "T1".into(),
                operator: "ken".into(),
            }),
        ));
    }
    out
}

async fn get(url: &str) -> String {
    let response = support::authed().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.text().await.unwrap()
}

/// Whether `page` has a table cell of column `key` showing `value` (the pages' tables mark
/// each cell with its column's key; this yard has one lot, one pen and one ingredient).
fn has_cell(page: &str, key: &str, value: &str) -> bool {
    page.contains(&format!("<td data-key=\"{key}\">{value}</td>"))
}

#[tokio::test]
async fn a_yen_yards_pages_show_whole_yen_as_the_api_holds_them() {
    let (db, client) = database("currencies_yen").await;
    insert(&db, &records()).await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(client.clone()).with_auth(support::test_auth(&[YARD])));
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let lots: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/api/feedlots/{YARD}/lots")).await).unwrap();
    let lot = &lots[0];
    assert_eq!(lot["currency"], "JPY");
    let per_head = lot["total_cost_per_head_minor"].as_f64().unwrap();
    assert!(per_head > 300_000.0, "¥300,000 a head and feed: {lot}");
    let yen = |minor: f64| format!("{minor:.0}");

    // The lots table: whole yen, the API's number.
    let page = get(&format!("{base}/feedlots/{YARD}/lots")).await;
    assert!(has_cell(&page, "cost_head", &yen(per_head)), "{page}");
    assert!(page.contains("Money in JPY"), "{page}");
    assert!(page.contains("Total ¥/hd"), "the column names yen: {page}");
    // The lot's page: its measures and its cost chart in yen.
    let page = get(&format!("{base}/feedlots/{YARD}/lots/W1")).await;
    assert!(
        page.contains(&format!("{} JPY", yen(per_head))),
        "total cost per live head in yen: {page}"
    );
    assert!(
        page.contains(&format!("W1 Cattle: {} JPY", yen(300_000.0))),
        "the cost chart: {page}"
    );

    // The feed page and its CSV: the purchase as bought, ¥2,000,000.
    let feed: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/api/feedlots/{YARD}/feed")).await).unwrap();
    let straw = &feed["ingredients"][0];
    assert_eq!(straw["purchased_cost_minor"].as_f64(), Some(2_000_000.0));
    let fed = straw["fed_cost_minor"].as_f64().unwrap();
    assert!(fed > 0.0, "{straw}");
    let page = get(&format!("{base}/feedlots/{YARD}/feed")).await;
    assert!(has_cell(&page, "purchased_cost", "2000000"), "{page}");
    assert!(has_cell(&page, "fed_cost", &yen(fed)), "{page}");
    assert!(page.contains("money in JPY"), "{page}");
    assert!(page.contains("Bought ¥"), "{page}");
    let csv = get(&format!("{base}/feedlots/{YARD}/feed/ingredients.csv")).await;
    assert!(csv.contains(",2000000,"), "{csv}");

    // The pens page: the pen's feed cost, the API's yen.
    let pens: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/api/feedlots/{YARD}/pens")).await).unwrap();
    let pen_cost = pens[0]["feed_cost_minor"].as_f64().unwrap();
    assert!((pen_cost - fed).abs() < 1.0, "P1 ate what was fed: {pens}");
    let page = get(&format!("{base}/feedlots/{YARD}/pens")).await;
    assert!(has_cell(&page, "feed_cost", &yen(pen_cost)), "{page}");
    assert!(page.contains("money in JPY"), "{page}");
    assert!(page.contains("Feed ¥/hd/d"), "{page}");
    server.abort();
}
