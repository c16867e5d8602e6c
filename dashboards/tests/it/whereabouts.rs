//! Where each animal has been (`dashboards::queries::whereabouts`), over a real ClickHouse with
//! records stored through ingest's rows: three animals of one lot and one of another lot placed
//! in the same pen, one animal moved alone to the hospital pen, then the whole lot moved. The
//! animal page shows each one's pen now and its pens over time (placed, moved, lot moved), and
//! the pens page, as of a date before and after the moves, lists who is in each pen then, in
//! agreement with the head the yard report counts there.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::web::{AppState, app};
use schemas::{Arrival, Eid, Envelope, Event, PenMove, Placement};
use serde_json::Value;

use crate::bench_yards::{database, store};
use crate::support;

const YARD: &str = "yard-where";
/// Lot L-W: placed in P1, moved as a lot to P2 on day 10.
const A: &str = "982000001090001";
/// Lot L-W, moved alone to the hospital pen H1 on day 5 (so not taken along by the lot).
const B: &str = "982000001090002";
const C: &str = "982000001090003";
/// Lot L-X, in P1 beside L-W, never moved.
const D: &str = "982000001090004";

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 6, 0, 0).unwrap()
}

fn at(days: i64, event: Event) -> Envelope {
    Envelope::new(
        YARD,
        "gw-1",
        "api:sam",
        base() + Duration::days(days),
        event,
    )
}

fn arrival(lot: &str, head: u32) -> Event {
    Event::Arrival(Arrival {
        lot_id: lot.into(),
        head_count: head,
        origin: "Cherry County, NE".into(),
        source: None,
        pen_id: Some("P1".into()),
        pay_weight_kg: 300.0 * f64::from(head),
        pay_weight_per_head_kg: None,
        shrink_pct: 3.0,
        purchase_price_minor: 150_000 * u64::from(head),
        currency: "USD".into(),
    })
}

fn placement(eid: &str, lot: &str) -> Event {
    Event::Placement(Placement {
        eid: Eid::parse(eid).unwrap(),
        lot_id: lot.into(),
        pen_id: "P1".into(),
        sex: None,
        breed: None,
    })
}

fn envelopes() -> Vec<Envelope> {
    vec![
        at(0, arrival("L-W", 3)),
        at(0, arrival("L-X", 1)),
        at(0, placement(A, "L-W")),
        at(0, placement(B, "L-W")),
        at(0, placement(C, "L-W")),
        at(0, placement(D, "L-X")),
        at(
            5,
            Event::PenMove(PenMove {
                eid: Some(Eid::parse(B).unwrap()),
                lot_id: Some("L-W".into()),
                head_count: None,
                from_pen_id: "P1".into(),
                to_pen_id: "H1".into(),
            }),
        ),
        // The whole lot: no animal named, no head count ("all of it" on the edge form).
        at(
            10,
            Event::PenMove(PenMove {
                eid: None,
                lot_id: Some("L-W".into()),
                head_count: None,
                from_pen_id: "P1".into(),
                to_pen_id: "P2".into(),
            }),
        ),
    ]
}

async fn site(test: &str) -> (String, testkit::ClickHouseDb) {
    let (db, client) = database(test).await;
    store(&db, &envelopes()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(client).with_auth(support::test_auth(&[YARD])));
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, db)
}

async fn get(url: &str) -> (u16, String) {
    let response = support::authed().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The text between `start` and the next `end` after it, in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

/// The rows of the table `id` that carry `data-pen`: (pen, the row's HTML).
fn pen_rows<'a>(html: &'a str, id: &str) -> Vec<(&'a str, &'a str)> {
    let table = between(html, &format!("<table id=\"{id}\">"), "</table>");
    table
        .split("<tr data-pen=\"")
        .skip(1)
        .map(|row| (row.split('"').next().unwrap(), row))
        .collect()
}

/// An animal page's pens over time: (pen, why, whether it is still there).
async fn history(base: &str, eid: &str) -> (String, Vec<(String, String, bool)>) {
    let (status, html) = get(&format!("{base}/feedlots/{YARD}/animals/{eid}")).await;
    assert_eq!(status, 200, "{html}");
    let now = between(&html, "<strong id=\"pen-now\">", "</strong>").to_owned();
    let stays = pen_rows(&html, "pens")
        .into_iter()
        .map(|(pen, row)| {
            let why = between(row, "<td class=\"why\">", "</td>").to_owned();
            let open = between(row, "<td class=\"to\">", "</td>") == "now";
            (pen.to_owned(), why, open)
        })
        .collect();
    (now, stays)
}

/// The pens page as of `day`: pen → (head, the linked animals).
async fn who(base: &str, day: &str) -> Vec<(String, i64, Vec<String>)> {
    let (status, html) = get(&format!("{base}/feedlots/{YARD}/pens?as_of={day}")).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(between(&html, "<span id=\"as-of-day\">", "</span>"), day);
    pen_rows(&html, "pen-animals")
        .into_iter()
        .map(|(pen, row)| {
            let head = between(row, "<td class=\"head\">", "</td>")
                .parse()
                .unwrap();
            let link = format!("href=\"/feedlots/{YARD}/animals/");
            let animals = row
                .split(link.as_str())
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().to_owned())
                .collect();
            (pen.to_owned(), head, animals)
        })
        .collect()
}

fn stay(pen: &str, why: &str, open: bool) -> (String, String, bool) {
    (pen.into(), why.into(), open)
}

fn pen(id: &str, head: i64, animals: &[&str]) -> (String, i64, Vec<String>) {
    (
        id.into(),
        head,
        animals.iter().map(|a| a.to_string()).collect(),
    )
}

#[tokio::test]
async fn an_animal_follows_its_lots_whole_lot_move_unless_it_was_moved_alone_first() {
    let (url, _db) = site("whereabouts_animal").await;
    let (now, stays) = history(&url, A).await;
    assert_eq!(now, "P2", "the whole-lot move took it along");
    assert_eq!(
        stays,
        [stay("P1", "placed", false), stay("P2", "lot moved", true)]
    );
    let (now, stays) = history(&url, B).await;
    assert_eq!(now, "H1", "in the hospital pen when its lot moved");
    assert_eq!(
        stays,
        [stay("P1", "placed", false), stay("H1", "moved", true)]
    );
    let (now, stays) = history(&url, D).await;
    assert_eq!(now, "P1", "another lot in the same pen stays");
    assert_eq!(stays, [stay("P1", "placed", true)]);

    // The JSON twin says the same, with the times.
    let (status, body) = get(&format!("{url}/api/feedlots/{YARD}/animals/{A}")).await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["whereabouts"]["pen_id"], "P2");
    let moved_ms = (base() + Duration::days(10)).timestamp_millis();
    assert_eq!(
        json["pens"],
        serde_json::json!([
            {"pen_id": "P1", "lot_id": "L-W", "from_ms": base().timestamp_millis(), "to_ms": moved_ms, "why": "placed"},
            {"pen_id": "P2", "lot_id": "L-W", "from_ms": moved_ms, "to_ms": null, "why": "lot_moved"},
        ])
    );
}

#[tokio::test]
async fn the_pens_page_lists_who_is_in_each_pen_on_the_date_asked() {
    let (url, _db) = site("whereabouts_pens").await;
    assert_eq!(
        who(&url, "2026-10-03").await,
        [pen("P1", 4, &[A, B, C, D])],
        "before any move"
    );
    assert_eq!(
        who(&url, "2026-10-12").await,
        [
            pen("H1", 1, &[B]),
            pen("P1", 1, &[D]),
            pen("P2", 2, &[A, C]),
        ],
        "after B went to hospital and lot L-W moved"
    );
    // The day of the whole-lot move counts it (the end of that UTC day).
    let on_the_day = who(&url, "2026-10-11").await;
    assert_eq!(on_the_day[2], pen("P2", 2, &[A, C]));

    // The JSON twin, as of the same date.
    let (status, body) = get(&format!("{url}/api/feedlots/{YARD}/pens?as_of=2026-10-12")).await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let p2 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pen_id"] == "P2")
        .unwrap();
    assert_eq!(p2["head_on_hand"], 2);
    assert_eq!(p2["animals"], serde_json::json!([A, C]));

    let (status, body) = get(&format!("{url}/feedlots/{YARD}/pens?as_of=2026-13-40")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("as_of"), "{body}");
}

fn group_treatment(lot: Option<&str>, pen: &str, head: u32, withdrawal_days: u32) -> Event {
    Event::LotTreatment(schemas::LotTreatment {
        lot_id: lot.map(str::to_owned),
        pen_id: Some(pen.into()),
        head_count: head,
        purpose: schemas::TreatmentPurpose::Processing,
        product: format!("Dectomax {pen}"),
        dose_per_head: 10.0,
        dose_unit: schemas::DoseUnit::Ml,
        route: schemas::Route::Subcutaneous,
        product_lot: "DX-9".into(),
        withdrawal_days,
        administered_by: "dr-lee".into(),
        diagnosis: None,
        total_cost_minor: Some(3_000),
        currency: Some("USD".into()),
    })
}

#[tokio::test]
async fn a_lot_or_pen_treatment_puts_the_animals_there_in_withdrawal_on_their_page() {
    let (url, db) = site("whereabouts_withdrawal").await;
    // Day 12: lot L-W in P2 (A and C; B is in the hospital pen); day 20: pen P1 with no lot
    // named (only D is left there). Both withdrawals run past today.
    store(
        &db,
        &[
            at(12, group_treatment(Some("L-W"), "P2", 2, 150)),
            at(20, group_treatment(None, "P1", 1, 140)),
        ],
    )
    .await;
    let until = |day: i64| (base() + Duration::days(day)).timestamp_millis();
    for (eid, expected, product) in [
        (A, Some(until(162)), Some("Dectomax P2")),
        (C, Some(until(162)), Some("Dectomax P2")),
        (B, None, None),
        (D, Some(until(160)), Some("Dectomax P1")),
    ] {
        let (status, body) = get(&format!("{url}/api/feedlots/{YARD}/animals/{eid}")).await;
        assert_eq!(status, 200, "{body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json["withdrawal_until_ms"].as_i64(),
            expected,
            "{eid}: {json}"
        );
        assert_eq!(json["withdrawal_clear"], expected.is_none(), "{eid}");
        let given: Vec<&str> = json["group_treatments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["product"].as_str().unwrap())
            .collect();
        assert_eq!(given, product.into_iter().collect::<Vec<_>>(), "{eid}");
        let (_, page) = get(&format!("{url}/feedlots/{YARD}/animals/{eid}")).await;
        let warning = page.contains("In withdrawal until");
        assert_eq!(warning, expected.is_some(), "{eid}: {page}");
    }
    // Its share of the lot's cost: 3,000 over 2 head.
    let (_, body) = get(&format!("{url}/api/feedlots/{YARD}/animals/{A}")).await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["group_treatments"][0]["cost_minor"], 1_500);
}
