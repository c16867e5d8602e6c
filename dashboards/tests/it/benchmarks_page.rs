//! The benchmark page and API: a yard's user sees its own KPIs and other yards only as bands
//! (no other yard's id or name in the JSON or the HTML), an area under 5 yards comes back
//! without numbers, `?radius_km=` forms the area by distance, another yard's benchmarks are
//! refused, and in headless Chromium the page shows the API's numbers and draws the bands.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::bench_yards;
use crate::support;

use bench_yards::{YARDS, database, name, store_yards};
use dashboards::web::{AppState, Auth, app};
use serde_json::Value;
use support::{TOKEN, allow, authed, magic_link};

/// Serves the app over `client` to a user of `feedlots`; returns the base URL.
async fn serve(client: clickhouse::Client, feedlots: &[&str]) -> String {
    let mut config = dashboards::Config::default();
    allow(&mut config, feedlots);
    let state = AppState::new(client).with_auth(Auth::from_config(&config.web).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    format!("http://{addr}")
}

async fn get(url: &str) -> (u16, String) {
    let response = authed().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// No other yard's id or name appears in `text` (`me` is the caller).
fn anonymous(text: &str, me: &str) {
    for (id, ..) in YARDS.iter().filter(|y| y.0 != me) {
        assert!(!text.contains(&format!("\"{id}\"")), "{id} leaked: {text}");
        assert!(!text.contains(&format!(">{id}<")), "{id} leaked: {text}");
        assert!(!text.contains(&name(id)), "{id}'s name leaked: {text}");
    }
    assert!(!text.contains(TOKEN));
}

fn band<'a>(json: &'a Value, key: &str, set: &str) -> &'a Value {
    let m = json["measures"].as_array().unwrap();
    &m.iter().find(|m| m["key"] == key).unwrap()[set]
}

#[tokio::test]
async fn the_api_and_page_show_the_yard_its_own_numbers_and_only_anonymous_bands() {
    let (db, client) = database("bench_api").await;
    store_yards(&db, &client).await;
    let base = serve(client, &["ne-1", "ks-1"]).await;

    let (status, text) = get(&format!("{base}/api/feedlots/ne-1/benchmarks")).await;
    assert_eq!(status, 200, "{text}");
    anonymous(&text, "ne-1");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["own"]["adg_kg"], 1.5);
    assert_eq!(json["area"]["region"], "US-NE");
    let area = band(&json, "adg_kg", "area");
    assert_eq!(
        (area["yards"].as_u64(), area["p50"].as_f64()),
        (Some(6), Some(1.7))
    );
    assert_eq!(band(&json, "adg_kg", "world")["p90"], 2.1);

    let (_, text) = get(&format!(
        "{base}/api/feedlots/ne-1/benchmarks?radius_km=300"
    ))
    .await;
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(band(&json, "adg_kg", "area")["yards"], 8);
    let (status, text) = get(&format!("{base}/api/feedlots/ne-1/benchmarks?radius_km=-5")).await;
    assert_eq!(status, 400);
    assert!(text.contains("radius_km"), "{text}");

    // ks-1's area has 4 yards: hidden, with nothing but the count.
    let (_, text) = get(&format!("{base}/api/feedlots/ks-1/benchmarks")).await;
    anonymous(&text, "ks-1");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        band(&json, "death_loss_pct", "area"),
        &serde_json::json!({"yards": 4, "hidden": true})
    );
    assert!(band(&json, "death_loss_pct", "world")["p50"].is_number());

    // Another yard's benchmarks (and so its own KPIs) are refused.
    let (status, text) = get(&format!("{base}/api/feedlots/ne-2/benchmarks")).await;
    assert_eq!(status, 403);
    assert!(!text.contains("1.9"), "{text}");

    let (status, page) = get(&format!("{base}/feedlots/ks-1/benchmarks")).await;
    assert_eq!(status, 200);
    anonymous(&page, "ks-1");
    assert!(page.contains("fewer than 5"), "{page}");
    assert_eq!(page.matches("class=\"chart bands\"").count(), 5);

    // The table as CSV: a row per measure and set, the same anonymous numbers.
    let (status, csv) = get(&format!("{base}/feedlots/ne-1/benchmarks.csv")).await;
    assert_eq!(status, 200, "{csv}");
    anonymous(&csv, "ne-1");
    for (id, ..) in YARDS {
        assert!(!csv.contains(id), "{id} in the CSV: {csv}");
    }
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 5 * 2, "{csv}");
    assert!(
        rows[0].starts_with("measure,unit,set,yards,hidden,p10,p25,p50"),
        "{csv}"
    );
    let adg_area = rows
        .iter()
        .find(|r| r.starts_with("adg_kg,") && r.contains(",area,"))
        .unwrap();
    assert!(adg_area.contains(",area,6,false,"), "{adg_area}");
    assert!(adg_area.contains(",1.700,"), "median 1.7: {adg_area}");
    let (_, csv) = get(&format!("{base}/feedlots/ks-1/benchmarks.csv")).await;
    let hidden = csv
        .lines()
        .find(|r| r.starts_with("death_loss_pct,") && r.contains(",area,"))
        .unwrap();
    assert!(
        hidden.contains(",area,4,true,,,,,,"),
        "hidden: only the count: {hidden}"
    );
    let (status, _) = get(&format!("{base}/feedlots/ne-2/benchmarks.csv")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn in_a_browser_the_benchmarks_page_shows_the_api_numbers_and_draws_the_bands() {
    let (db, client) = database("bench_browser").await;
    store_yards(&db, &client).await;
    let base = serve(client, &["ne-1"]).await;
    let (_, text) = get(&format!("{base}/api/feedlots/ne-1/benchmarks")).await;
    let api: Value = serde_json::from_str(&text).unwrap();

    let dom = testkit::browser::dump_dom(&magic_link(&base, "/feedlots/ne-1/benchmarks"))
        .await
        .unwrap();
    anonymous(&dom, "ne-1");
    let mut checked = 0;
    for m in api["measures"].as_array().unwrap() {
        let key = m["key"].as_str().unwrap();
        // Cost of gain is stored in minor units per kg and shown in major units per cwt.
        let shown = if m["currency"].is_string() {
            dashboards::analytics::KG_PER_CWT / 100.0
        } else {
            1.0
        };
        for set in ["area", "world"] {
            for p in ["p10", "p25", "p50", "p75", "p90"] {
                let v = m[set][p].as_f64().unwrap() * shown;
                let cell = format!("<td id=\"{key}-{set}-{p}\">{v:.2}</td>");
                assert!(dom.contains(&cell), "{cell} on the page");
                checked += 1;
            }
        }
        let own = format!(
            "<td rowspan=\"2\" id=\"{key}-own\">{:.2}</td>",
            m["own"].as_f64().unwrap() * shown
        );
        assert!(dom.contains(&own), "{own} on the page");
    }
    assert!(dom.contains("Cost of gain (all-in) (USD/cwt)"), "{dom}");
    assert_eq!(
        checked, 50,
        "every band of ne-1 is shown (each has at least 5 yards)"
    );
    assert_eq!(dom.matches("class=\"box\"").count(), 10, "a box per band");
    assert_eq!(dom.matches("class=\"median\"").count(), 10);
    assert_eq!(
        dom.matches("class=\"own\"").count(),
        5,
        "the yard marked on each chart"
    );
    let png =
        testkit::browser::screenshot(&magic_link(&base, "/feedlots/ne-1/benchmarks"), 900, 1600)
            .await
            .unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a rendered page"
    );
}
