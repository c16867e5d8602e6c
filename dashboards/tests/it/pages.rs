//! The animal page and API over a real ClickHouse, built with `dashboards::web::app`: what a user
//! of the yard sees for stored weighings, for an animal never weighed, and for hostile path
//! values. (Who may read which yard: `tests/auth.rs`.)

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use dashboards::web::{AppState, app};

use crate::support;

const EID: &str = "982000000000777";
const DAY_MS: u64 = 86_400_000;
/// 2026-10-01T06:00:00.250Z.
const FIRST_MS: u64 = 1_790_834_400_250;

struct Site {
    base: String,
    _db: testkit::ClickHouseDb,
    _server: tokio::task::JoinHandle<()>,
}

/// The yards the test user reads.
const YARDS: [&str; 2] = ["yard-p", "<script>alert(1)</script>"];

/// A migrated database with `weighings` rows (feedlot, ms, kg, displayed, unit, device), each
/// inserted twice as Kafka redelivery would, and the pages served over it.
async fn site(test: &str, rows: &[(&str, u64, f64, f64, &str, &str)]) -> Site {
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    for (i, (feedlot, ms, kg, shown, unit, device)) in rows.iter().enumerate() {
        for _copy in 0..2 {
            db.client()
                .query(
                    "INSERT INTO weighings (event_id, feedlot_id, device_id, eid, weight_kg, \
                     displayed_value, displayed_unit, captured_at, captured_at_ms) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(format!("0190a000-0000-7000-8000-{i:012}"))
                .bind(*feedlot)
                .bind(*device)
                .bind(EID)
                .bind(*kg)
                .bind(*shown)
                .bind(*unit)
                .bind(ms / 1000)
                .bind(*ms)
                .execute()
                .await
                .unwrap();
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(
        AppState::new(client.with_database(&db.database)).with_auth(support::test_auth(&YARDS))
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Site {
        base,
        _db: db,
        _server: server,
    }
}

async fn get(url: &str) -> (u16, String) {
    let response = support::authed().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_animal_page_lists_each_weighing_once_in_kg_and_lb_with_gain_and_adg() {
    let s = site(
        "pages_animal",
        &[
            ("yard-p", FIRST_MS, 320.0, 705.5, "lb", "scale-1"),
            (
                "yard-p",
                FIRST_MS + 30 * DAY_MS,
                365.0,
                365.0,
                "kg",
                "scale-2",
            ),
            ("yard-q", FIRST_MS, 999.0, 999.0, "kg", "scale-9"),
        ],
    )
    .await;

    let (status, page) = get(&format!("{}/feedlots/yard-p/animals/{EID}", s.base)).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr data-captured-at-ms").count(), 2, "{page}");
    assert!(page.contains("2026-10-01 06:00:00.250 UTC"), "{page}");
    assert!(page.contains("2026-10-31 06:00:00.250 UTC"), "{page}");
    assert!(
        page.contains("705.5 lb"),
        "the weight as the indicator showed it"
    );
    assert!(
        page.contains("804.7"),
        "365 kg is shown as 804.7 lb: {page}"
    );
    assert!(page.contains("scale-2"));
    // In the user's units (US by default) first, metric after.
    assert!(page.contains("99.2 lb (45.0 kg)"), "{page}");
    assert!(page.contains("ADG 3.31 lb/day (1.50 kg/day)"), "{page}");
    assert!(!page.contains("999.0"), "another yard's weighing leaked in");

    let (status, json) = get(&format!("{}/api/feedlots/yard-p/animals/{EID}", s.base)).await;
    assert_eq!(status, 200);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["weighings"].as_array().unwrap().len(), 2);
    assert_eq!(report["weighings"][0]["captured_at_ms"], FIRST_MS);
    assert_eq!(report["gain_kg"], 45.0);
    assert_eq!(report["days"], 30.0);
    assert_eq!(report["adg_kg_per_day"], 1.5);
    assert!((report["gain_lb"].as_f64().unwrap() - 99.208).abs() < 0.01);
}

#[tokio::test]
async fn an_animal_never_weighed_has_an_empty_page_and_no_gain() {
    let s = site("pages_unknown", &[]).await;
    let (status, page) = get(&format!("{}/feedlots/yard-p/animals/{EID}", s.base)).await;
    assert_eq!(status, 200);
    assert!(page.contains("No weighings recorded"), "{page}");
    let (_, json) = get(&format!("{}/api/feedlots/yard-p/animals/{EID}", s.base)).await;
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["weighings"].as_array().unwrap().len(), 0);
    assert_eq!(report["gain_kg"], 0.0);
    assert!(report["adg_kg_per_day"].is_null());
}

#[tokio::test]
async fn markup_in_the_feedlot_id_is_escaped_and_a_bad_eid_is_a_400_naming_it() {
    let hostile = "<script>alert(1)</script>";
    let s = site(
        "pages_escape",
        &[(hostile, FIRST_MS, 300.0, 300.0, "kg", "<b>scale</b>")],
    )
    .await;
    let (status, page) = get(&format!(
        "{}/feedlots/%3Cscript%3Ealert(1)%3C%2Fscript%3E/animals/{EID}",
        s.base
    ))
    .await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("<script>") && !page.contains("<b>scale"),
        "{page}"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;scale&lt;/b&gt;"), "{page}");

    let (status, body) = get(&format!("{}/feedlots/yard-p/animals/%3Cb%3E12", s.base)).await;
    assert_eq!(status, 400);
    assert!(body.contains("eid"), "{body}");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let s = site("pages_healthz", &[]).await;
    assert_eq!(
        get(&format!("{}/healthz", s.base)).await,
        (200, "ok".into())
    );
}
