//! The SQL views over the facts (`ingest/migrations/0007_fact_views.sql`, docs/facts.md
//! "Views") against the dashboards' own measures, and the docs' example queries run as written,
//! over a generated yard in real ClickHouse.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use dashboards::analytics::Settings;
use dashboards::analytics::lots::measure;
use dashboards::facts::read::lot_totals;
use dashboards::facts::rows::{LotDayRow, date_text, end_of};
use serde_json::Value;

use crate::bench_yards::{database, store};
use crate::facts::{big_yard, differences};

/// docs/facts.md: its ```sql blocks are the worked examples.
const DOCS: &str = include_str!("../../../docs/facts.md");

/// The rows of `sql` (binding `feedlot` and `day`), as JSON objects.
async fn view_rows(client: &clickhouse::Client, sql: &str, feedlot: &str, day: u16) -> Vec<Value> {
    let bytes = client
        .clone()
        .with_setting("output_format_json_quote_64bit_integers", "0")
        .query(sql)
        .bind(feedlot)
        .bind(date_text(day))
        .fetch_bytes("JSONEachRow")
        .unwrap()
        .collect()
        .await
        .unwrap();
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

/// Fails unless each of `expected` (the dashboards' lot measures, as JSON) has a row in `rows`
/// with the same lot and the same value in every one of its fields (numbers to 1e-9 of their
/// size, NULL for None).
fn assert_rows_match(rows: &[Value], expected: &[Value], what: &str) {
    assert_eq!(rows.len(), expected.len(), "{what}: lots");
    let mut out = Vec::new();
    for lot in expected {
        let id = &lot["lot_id"];
        let row = rows
            .iter()
            .find(|r| &r["lot_id"] == id)
            .unwrap_or_else(|| panic!("{what}: no row for lot {id}"));
        for (field, value) in lot.as_object().unwrap() {
            match row.get(field) {
                Some(v) => differences(v, value, &format!("{id}.{field}"), &mut out),
                None => out.push(format!("{id}.{field}: not in the view")),
            }
        }
    }
    assert!(
        out.is_empty(),
        "{what}: view and measures differ:\n{}",
        out.join("\n")
    );
}

#[tokio::test]
async fn the_fact_views_give_the_dashboards_measures_and_the_docs_examples_run() {
    let (db, client) = database("fact_views").await;
    let size = big_yard::Size {
        head: 1_200,
        days: 90,
        head_per_lot: 80,
    };
    let yard = big_yard::generate("views-7", size, 7);
    let f = &yard.feedlot_id;
    store(&db, &yard.events).await;
    let settings = Settings::default();

    // Every lot's measures at a day's end, from the view and from `measure()` over the same
    // facts row at the same moment (what `facts::yard_report` computes as of it).
    let (first, last): (u16, u16) = client
        .query("SELECT toUInt16(min(day)), toUInt16(max(day)) FROM lot_day_facts FINAL WHERE feedlot_id = ?")
        .bind(f.as_str())
        .fetch_one()
        .await
        .unwrap();
    let mut days: Vec<u16> = (first..=last).step_by(7).collect();
    days.push(last);
    let (mut compared, mut without_gain) = (0, 0);
    for day in days {
        let facts: Vec<LotDayRow> = client
            .query("SELECT ?fields FROM lot_day_facts FINAL WHERE feedlot_id = ? AND day = ?")
            .bind(f.as_str())
            .bind(date_text(day))
            .fetch_all()
            .await
            .unwrap();
        let expected: Vec<Value> = facts
            .iter()
            .map(|row| {
                let m = measure(&lot_totals(row, row.through_ms), row.through_ms, &settings);
                serde_json::to_value(m).unwrap()
            })
            .collect();
        let rows = view_rows(
            &client,
            "SELECT * FROM lot_day_measures WHERE feedlot_id = ? AND day = ?",
            f,
            day,
        )
        .await;
        assert_rows_match(&rows, &expected, &format!("lot_day_measures on day {day}"));
        compared += rows.len();
        without_gain += rows.iter().filter(|r| r["gain_kg"].is_null()).count();
    }
    assert!(compared > 100, "{compared} lot-days compared");
    assert!(
        without_gain > 0 && without_gain < compared,
        "lot-days with and without a gain yet (NULL and numbers): {without_gain} of {compared}"
    );

    // On the last day of facts the dashboards' report as of its end reads those same rows: the
    // view's lots are the report's, and the closed lots are the closeouts.
    let as_of = end_of(last);
    let report = dashboards::facts::yard_report(&client, f, as_of, &settings)
        .await
        .unwrap();
    let rows = view_rows(
        &client,
        "SELECT * FROM lot_day_measures WHERE feedlot_id = ? AND day = ?",
        f,
        last,
    )
    .await;
    let on_last_day: Vec<Value> = report
        .lots
        .iter()
        .filter(|l| rows.iter().any(|r| r["lot_id"] == l.lot_id.as_str()))
        .map(|l| serde_json::to_value(l).unwrap())
        .collect();
    assert_rows_match(&rows, &on_last_day, "lot_day_measures against yard_report");
    let closed: Vec<Value> = report
        .lots
        .iter()
        .filter(|l| l.status == "closed")
        .map(|l| serde_json::to_value(l).unwrap())
        .collect();
    assert!(
        !closed.is_empty() && closed.len() < report.lots.len(),
        "open and closed lots"
    );
    let closeouts = view_rows(
        &client,
        "SELECT * FROM closeouts WHERE feedlot_id = ? AND day <= ?",
        f,
        last,
    )
    .await;
    assert_rows_match(&closeouts, &closed, "closeouts against yard_report");

    // The docs' examples, on this yard ('my-yard' in the docs) and its year (2025 for 2026).
    let examples: Vec<&str> = DOCS
        .split("```sql\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect();
    assert_eq!(examples.len(), 3, "three worked examples in docs/facts.md");
    for example in examples {
        let sql = example
            .replace("'my-yard'", &format!("'{f}'"))
            .replace("2026-", "2025-");
        let rows: u64 = client
            .query(&format!(
                "SELECT count() FROM ({})",
                sql.trim().trim_end_matches(';')
            ))
            .fetch_one()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
        assert!(rows > 0, "no rows from\n{sql}");
    }
}
