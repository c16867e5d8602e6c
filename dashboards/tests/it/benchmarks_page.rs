//! The benchmark page and API: a yard's user sees its own KPIs and other yards only as bands
//! (no other yard's id or name in the JSON or the HTML), an area under 10 other yards comes
//! back without numbers or count, only the fixed `?radius_km=` tiers are served (anything
//! else is a 400 naming the field), two areas one yard apart reveal nothing about that yard,
//! a yard not in the registry is told why it has no bands, another yard's benchmarks are
//! refused, and in headless Chromium the page shows the API's numbers and draws the bands.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::bench_yards;
use crate::support;

use bench_yards::{ME, SPOOF, TARGET, database, name, store_yards, yards};
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
    for y in yards().iter().filter(|y| y.id != me) {
        let id = &y.id;
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

async fn get_json(url: &str) -> Value {
    let (status, text) = get(url).await;
    assert_eq!(status, 200, "{url}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The `area` band of every measure, as served.
fn areas(json: &Value) -> Vec<Value> {
    json["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["area"].clone())
        .collect()
}

#[tokio::test]
async fn the_api_and_page_show_the_yard_its_own_numbers_and_only_anonymous_bands() {
    let (db, client) = database("bench_api").await;
    store_yards(&db, &client).await;
    let base = serve(client, &[ME, "ks-01", SPOOF]).await;

    let (status, text) = get(&format!("{base}/api/feedlots/{ME}/benchmarks")).await;
    assert_eq!(status, 200, "{text}");
    anonymous(&text, ME);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["own"]["adg_kg"], 1.5);
    assert_eq!(json["area"]["region"], "US-NE");
    let area = band(&json, "adg_kg", "area");
    assert_eq!(
        (area["yards"].as_u64(), area["p50"].as_f64()),
        (Some(10), Some(1.45))
    );
    assert_eq!(band(&json, "adg_kg", "world")["yards"], 25);

    // ks-01's area has 9 other yards: hidden, without even the count.
    let (_, text) = get(&format!("{base}/api/feedlots/ks-01/benchmarks")).await;
    anonymous(&text, "ks-01");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        band(&json, "death_loss_pct", "area"),
        &serde_json::json!({"hidden": true, "reason": "too_few_peers"})
    );
    assert!(band(&json, "death_loss_pct", "world")["p50"].is_number());

    // Another yard's benchmarks (and so its own KPIs) are refused.
    let (status, text) = get(&format!("{base}/api/feedlots/ne-02/benchmarks")).await;
    assert_eq!(status, 403);
    assert!(!text.contains("1.1"), "{text}");

    let (status, page) = get(&format!("{base}/feedlots/ks-01/benchmarks")).await;
    assert_eq!(status, 200);
    anonymous(&page, "ks-01");
    assert!(page.contains("fewer than 10 other yards"), "{page}");
    assert_eq!(page.matches("class=\"chart bands\"").count(), 5);

    // A yard the registry does not know is nobody's peer, and its page says why.
    let (status, page) = get(&format!("{base}/feedlots/{SPOOF}/benchmarks")).await;
    assert_eq!(status, 200);
    anonymous(&page, SPOOF);
    assert!(page.contains("id=\"not-registered\""), "{page}");
    assert!(page.contains("dashboards set-yard"), "{page}");
    let json = get_json(&format!("{base}/api/feedlots/{SPOOF}/benchmarks")).await;
    assert_eq!(json["area"]["registered"], false);
    assert_eq!(
        band(&json, "adg_kg", "world"),
        &serde_json::json!({"hidden": true, "reason": "not_registered"})
    );

    // The table as CSV: a row per measure and set, the same anonymous numbers.
    let (status, csv) = get(&format!("{base}/feedlots/{ME}/benchmarks.csv")).await;
    assert_eq!(status, 200, "{csv}");
    anonymous(&csv, ME);
    for y in yards().iter().filter(|y| y.id != ME) {
        assert!(!csv.contains(&y.id), "{} in the CSV: {csv}", y.id);
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
    assert!(adg_area.contains(",area,10,false,"), "{adg_area}");
    assert!(adg_area.contains(",1.450,"), "median 1.45: {adg_area}");
    let (_, csv) = get(&format!("{base}/feedlots/ks-01/benchmarks.csv")).await;
    let hidden = csv
        .lines()
        .find(|r| r.starts_with("death_loss_pct,") && r.contains(",area,"))
        .unwrap();
    assert!(
        hidden.contains(",area,,true,,,,,,"),
        "hidden: not even the count: {hidden}"
    );
    let (status, _) = get(&format!("{base}/feedlots/ne-02/benchmarks.csv")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn only_the_fixed_area_tiers_are_served_and_any_other_radius_is_400_by_name() {
    let (db, client) = database("bench_tiers").await;
    store_yards(&db, &client).await;
    let base = serve(client, &[ME]).await;
    for km in ["100", "250", "500"] {
        let json = get_json(&format!(
            "{base}/api/feedlots/{ME}/benchmarks?radius_km={km}"
        ))
        .await;
        assert_eq!(json["area"]["radius_km"].to_string(), km);
    }
    for bad in ["300", "99.9", "-5", "0", "1e9", "nan", "abc"] {
        for path in [
            "/api/feedlots/ne-00/benchmarks",
            "/feedlots/ne-00/benchmarks",
            "/feedlots/ne-00/benchmarks.csv",
        ] {
            let (status, text) = get(&format!("{base}{path}?radius_km={bad}")).await;
            assert_eq!(status, 400, "{path}?radius_km={bad}: {text}");
            assert!(text.contains("radius_km"), "{bad}: {text}");
        }
    }
}

/// The differencing attack: the region (10 other yards) and the 250 and 500 km tiers (the
/// same 10 plus the target, 200 km away) differ by exactly one yard. Were both published,
/// comparing them would isolate the target. The larger tiers come back hidden without a
/// count, and the caller's responses for every area are byte for byte the same whatever the
/// target's value is, so no pair of them can say anything about it.
#[tokio::test]
async fn two_areas_differing_by_one_yard_reveal_nothing_about_that_yard() {
    let (db, client) = database("bench_differencing").await;
    store_yards(&db, &client).await;
    let base = serve(client.clone(), &[ME]).await;
    let url = |q: &str| format!("{base}/api/feedlots/{ME}/benchmarks{q}");
    let tiers = ["", "?radius_km=100", "?radius_km=250", "?radius_km=500"];
    let mut before = Vec::new();
    for q in tiers {
        before.push(areas(&get_json(&url(q)).await));
    }
    assert_eq!(before[0], before[1], "region and 100 km: the same 10 yards");
    assert!(before[0].iter().all(|a| a["yards"] == 10));
    for tier in &before[2..] {
        for a in tier {
            assert_eq!(
                a,
                &serde_json::json!({"hidden": true, "reason": "too_close_to_another_set"})
            );
        }
    }
    let (_, page) = get(&format!("{base}/feedlots/{ME}/benchmarks?radius_km=250")).await;
    assert!(
        page.contains("differs from another area shown to you"),
        "{page}"
    );

    // The target's KPIs change completely (a newer rollup row).
    let i = yards().iter().position(|y| y.id == TARGET).unwrap();
    dashboards::benchmarks::rollup::insert(
        &client,
        &[bench_yards::kpis(
            TARGET,
            i + 40,
            0.2,
            10.0,
            1_790_000_000_001,
        )],
    )
    .await
    .unwrap();
    let own = dashboards::benchmarks::bands::own_kpis(&client, TARGET)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        own.adg_kg,
        Some(0.2),
        "the target's new row is the current one"
    );
    for (q, old) in tiers.iter().zip(&before) {
        assert_eq!(
            &areas(&get_json(&url(q)).await),
            old,
            "area {q:?} moved with the target"
        );
    }
}

#[tokio::test]
async fn in_a_browser_the_benchmarks_page_shows_the_api_numbers_and_draws_the_bands() {
    let (db, client) = database("bench_browser").await;
    store_yards(&db, &client).await;
    let base = serve(client, &[ME]).await;
    let (_, text) = get(&format!("{base}/api/feedlots/{ME}/benchmarks")).await;
    let api: Value = serde_json::from_str(&text).unwrap();

    let dom = testkit::browser::dump_dom(&magic_link(&base, &format!("/feedlots/{ME}/benchmarks")))
        .await
        .unwrap();
    anonymous(&dom, ME);
    let mut checked = 0;
    for m in api["measures"].as_array().unwrap() {
        let key = m["key"].as_str().unwrap();
        // In the user's units (US by default), as the lot pages: cost of gain, stored in minor
        // units per kg, in major units per cwt; ADG, stored in kg/day, in lb/day.
        let shown = if m["currency"].is_string() {
            dashboards::analytics::KG_PER_CWT / 100.0
        } else if key == "adg_kg" {
            1.0 / schemas::weight::KG_PER_LB
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
    assert!(dom.contains("(lb/day)"), "ADG in the user's units: {dom}");
    assert_eq!(
        checked, 50,
        "every band of ne-00 is shown (each has at least 10 other yards)"
    );
    assert_eq!(dom.matches("class=\"box\"").count(), 10, "a box per band");
    assert_eq!(dom.matches("class=\"median\"").count(), 10);
    assert_eq!(
        dom.matches("class=\"own\"").count(),
        5,
        "the yard marked on each chart"
    );
    let png = testkit::browser::screenshot(
        &magic_link(&base, &format!("/feedlots/{ME}/benchmarks")),
        900,
        1600,
    )
    .await
    .unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a rendered page"
    );
}
