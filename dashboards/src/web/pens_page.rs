//! Pens: head and feed by pen (sortable, CSV, JSON), and who is in each pen (its tagged
//! animals, linked to their pages) on a date (`?as_of=YYYY-MM-DD`) or now.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};
use serde::Serialize;

use super::money::{self, InCurrency, in_currency};
use super::report::{ReportQuery, load, nav, utc};
use super::table::{Cell, Column, csv_response, html_table, num, sort};
use super::units::Unit;
use super::{AppState, WebError};
use crate::analytics::PenMeasures;
use crate::facts::stays;
use crate::queries::whereabouts;

/// The pen table's columns, money in the yard's currency.
pub const COLUMNS: &[Column<InCurrency<PenMeasures>>] = &[
    Column {
        key: "pen",
        label: "Pen",
        unit: Unit::None,
        value: |p| Cell::Text(p.row.pen_id.clone()),
    },
    Column {
        key: "head",
        label: "Head",
        unit: Unit::None,
        value: |p| num(Some(p.row.head_on_hand as f64), 0),
    },
    Column {
        key: "lots",
        label: "Lots (head)",
        unit: Unit::None,
        value: |p| {
            Cell::Text(
                p.row
                    .lots
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
        value: |p| num(Some(p.row.head_days), 1),
    },
    Column {
        key: "as_fed",
        label: "Fed {u} as fed",
        unit: Unit::Weight,
        value: |p| num(Some(p.row.as_fed_kg), 0),
    },
    Column {
        key: "dm",
        label: "Fed {u} DM",
        unit: Unit::Weight,
        value: |p| num(Some(p.row.dry_matter_kg), 0),
    },
    Column {
        key: "dmi",
        label: "DMI {u}/hd/d",
        unit: Unit::Weight,
        value: |p| num(p.row.dmi_kg, 2),
    },
    Column {
        key: "feed_hd_day",
        label: "Feed $/hd/d",
        unit: Unit::None,
        value: |p| money::cell(p.row.feed_cost_per_head_day_minor, &p.currency),
    },
    Column {
        key: "feed_cost",
        label: "Feed $",
        unit: Unit::None,
        value: |p| money::cell(Some(p.row.feed_cost_minor), &p.currency),
    },
    Column {
        key: "last_delivery",
        label: "Last delivery",
        unit: Unit::None,
        value: |p| Cell::Text(p.row.last_delivery_at_ms.map(utc).unwrap_or_default()),
    },
];

/// One pen as of the report's day: its measures and the tagged animals in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PenRow {
    /// Head, lots and feed, from the yard report.
    #[serde(flatten)]
    pub measures: PenMeasures,
    /// The tagged animals in the pen at the end of the report's day, by EID (`animal_stays`,
    /// [`crate::facts::stays`]: placements, moves of the animal and whole-lot moves).
    pub animals: Vec<String>,
}

/// A pen no report row names (its animals' lot has no arrival): no head counted, no feed.
fn unreported(pen_id: &str) -> PenMeasures {
    PenMeasures {
        pen_id: pen_id.to_owned(),
        head_on_hand: 0,
        lots: Vec::new(),
        head_days: 0.0,
        as_fed_kg: 0.0,
        dry_matter_kg: 0.0,
        dmi_kg: None,
        feed_cost_minor: 0.0,
        feed_cost_per_head_day_minor: None,
        last_delivery_at_ms: None,
    }
}

/// The yard's pens, sorted, each with the currency its lots share (their money's); the
/// report's moment; and that currency.
async fn pens(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<(Vec<InCurrency<PenMeasures>>, u64, String), WebError> {
    let report = load(state, feedlot_id, query).await?;
    let currency = money::yard_currency(&report.lots);
    let mut pens = in_currency(report.pens, &currency);
    sort(&mut pens, COLUMNS, &query.sorting(), "pen")?;
    Ok((pens, report.as_of_ms, currency))
}

/// The pens, sorted, each with the animals in it at the end of the report's day; that moment;
/// and the yard's currency.
async fn pens_with_animals(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<(Vec<PenRow>, u64, String), WebError> {
    // The day asked (for "now", the report's window): the pens' measures and who is in them
    // are read side by side.
    let asked_ms = match query.as_of {
        Some(_) => query.as_of_ms()?,
        None => super::report::window_start_ms(super::report::now_ms()),
    };
    let end_of_day = whereabouts::end_of_day_ms(asked_ms);
    // Kept a while per yard and day like the herd, so a burst of requests for a page already
    // made reads nothing; a read to make is a cold one, under the user's limits.
    let key = format!("{feedlot_id}@{end_of_day}");
    let who = state
        .pens_who
        .get_or_load(&key, std::time::Instant::now(), || {
            let user = super::cold::current_user();
            let work = stays::pens_at(&state.client, feedlot_id, end_of_day);
            async move { super::cold::run(state, "whereabouts", feedlot_id, &user, work).await }
        });
    let ((pens, as_of, currency), who) = tokio::try_join!(pens(state, feedlot_id, query), who)?;
    let mut who = (*who).clone();
    let mut rows: Vec<PenRow> = pens
        .into_iter()
        .map(|InCurrency { row: measures, .. }| {
            let animals = who.remove(&measures.pen_id).unwrap_or_default();
            PenRow { measures, animals }
        })
        .collect();
    rows.extend(who.into_iter().map(|(pen, animals)| PenRow {
        measures: unreported(&pen),
        animals,
    }));
    Ok((rows, as_of, currency))
}

/// `GET /api/feedlots/{feedlot_id}/pens`: each pen's measures and the animals in it.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Vec<PenRow>>, WebError> {
    Ok(Json(
        pens_with_animals(&state, &feedlot_id, &query).await?.0,
    ))
}

/// `GET /feedlots/{feedlot_id}/pens.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let (pens, _, _) = pens(&state, &feedlot_id, &query).await?;
    csv_response(&format!("{feedlot_id}-pens.csv"), COLUMNS, &pens)
}

/// "2026-03-21" for ms since the epoch.
fn day(ms: u64) -> String {
    utc(ms).get(..10).unwrap_or_default().to_owned()
}

/// `GET /feedlots/{feedlot_id}/pens`: the pen table, then who is in each pen, as of a date
/// (`?as_of=YYYY-MM-DD`, the end of that UTC day) or now.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Markup, WebError> {
    let (rows, as_of, currency) = pens_with_animals(&state, &feedlot_id, &query).await?;
    let pens = in_currency(rows.iter().map(|r| r.measures.clone()).collect(), &currency);
    let on = day(as_of);
    let json = match &query.as_of {
        Some(_) => format!("/api/feedlots/{feedlot_id}/pens?as_of={on}"),
        None => format!("/api/feedlots/{feedlot_id}/pens"),
    };
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Pens · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Pens at " (feedlot_id) }
                p { span #pen-count { (pens.len()) } " pens · as of " (utc(as_of)) " · "
                    @if !currency.is_empty() { "money in " (currency) " · " }
                    a href={"/feedlots/" (feedlot_id) "/pens.csv"} { "CSV" } " · "
                    a href=(json) { "JSON" } }
                form #as-of method="get" {
                    label { "On " input type="date" name="as_of" value=(on); }
                    " " button type="submit" { "Show" }
                }
                (html_table("pens", COLUMNS, &pens, &query.sorting(), "pen", None, &currency))
                h2 { "Who is in each pen on " span #as-of-day { (on) } }
                table #pen-animals {
                    thead { tr { th { "Pen" } th { "Head" } th { "Tagged animals" } } }
                    tbody {
                        @for r in &rows {
                            tr data-pen=(r.measures.pen_id) {
                                td.pen { (r.measures.pen_id) }
                                td.head { (r.measures.head_on_hand) }
                                td.animals {
                                    @for (i, eid) in r.animals.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a href={"/feedlots/" (feedlot_id) "/animals/" (eid)} { (eid) }
                                    }
                                    @if r.animals.is_empty() { "–" }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}
