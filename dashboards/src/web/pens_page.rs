//! Pens: who is in each pen and what it was fed (sortable, CSV, JSON).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::report::{ReportQuery, load, nav, utc};
use super::table::{Cell, Column, csv_response, html_table, money, num, sort};
use super::units::Unit;
use super::{AppState, WebError};
use crate::analytics::PenMeasures;

/// The pen table's columns.
pub const COLUMNS: &[Column<PenMeasures>] = &[
    Column {
        key: "pen",
        label: "Pen",
        unit: Unit::None,
        value: |p| Cell::Text(p.pen_id.clone()),
    },
    Column {
        key: "head",
        label: "Head",
        unit: Unit::None,
        value: |p| num(Some(p.head_on_hand as f64), 0),
    },
    Column {
        key: "lots",
        label: "Lots (head)",
        unit: Unit::None,
        value: |p| {
            Cell::Text(
                p.lots
                    .iter()
                    .map(|(l, h)| format!("{l} ({h})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        },
    },
    Column {
        key: "head_days",
        label: "Head-days",
        unit: Unit::None,
        value: |p| num(Some(p.head_days), 1),
    },
    Column {
        key: "as_fed",
        label: "Fed {u} as fed",
        unit: Unit::Weight,
        value: |p| num(Some(p.as_fed_kg), 0),
    },
    Column {
        key: "dm",
        label: "Fed {u} DM",
        unit: Unit::Weight,
        value: |p| num(Some(p.dry_matter_kg), 0),
    },
    Column {
        key: "dmi",
        label: "DMI {u}/hd/d",
        unit: Unit::Weight,
        value: |p| num(p.dmi_kg, 2),
    },
    Column {
        key: "feed_hd_day",
        label: "Feed $/hd/d",
        unit: Unit::None,
        value: |p| money(p.feed_cost_per_head_day_minor),
    },
    Column {
        key: "feed_cost",
        label: "Feed $",
        unit: Unit::None,
        value: |p| money(Some(p.feed_cost_minor)),
    },
    Column {
        key: "last_delivery",
        label: "Last delivery",
        unit: Unit::None,
        value: |p| Cell::Text(p.last_delivery_at_ms.map(utc).unwrap_or_default()),
    },
];

async fn pens(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<(Vec<PenMeasures>, u64), WebError> {
    let report = load(state, feedlot_id, query).await?;
    let mut pens = report.pens;
    sort(&mut pens, COLUMNS, &query.sorting(), "pen")?;
    Ok((pens, report.as_of_ms))
}

/// `GET /api/feedlots/{feedlot_id}/pens`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Vec<PenMeasures>>, WebError> {
    Ok(Json(pens(&state, &feedlot_id, &query).await?.0))
}

/// `GET /feedlots/{feedlot_id}/pens.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let (pens, _) = pens(&state, &feedlot_id, &query).await?;
    csv_response(&format!("{feedlot_id}-pens.csv"), COLUMNS, &pens)
}

/// `GET /feedlots/{feedlot_id}/pens`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Markup, WebError> {
    let (pens, as_of) = pens(&state, &feedlot_id, &query).await?;
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Pens · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Pens at " (feedlot_id) }
                p { span #pen-count { (pens.len()) } " pens · as of " (utc(as_of)) " · "
                    a href={"/feedlots/" (feedlot_id) "/pens.csv"} { "CSV" } " · "
                    a href={"/api/feedlots/" (feedlot_id) "/pens"} { "JSON" } }
                (html_table("pens", COLUMNS, &pens, &query.sorting(), "pen", None))
            }
        }
    })
}
