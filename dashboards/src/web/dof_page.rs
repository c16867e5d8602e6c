//! Cost by days on feed (issue 14, item 3): a lot's cost per head and cost of gain at every 30
//! days on feed, beside the yard's other lots at the same marks, read from the daily facts
//! ([`crate::facts::read::by_days_on_feed`]). Shown on the lot's page, and as JSON and CSV.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Serialize;

use super::charts::{Line, lines};
use super::money;
use super::report::ReportQuery;
use super::table::{Column, csv_response, html_table, num};
use super::units::{Unit, current};
use super::{AppState, WebError};
use crate::analytics::compare;
use crate::facts::read::{DofMark, by_days_on_feed};

/// Days between marks.
pub const EVERY_DAYS: u16 = crate::facts::marks::MARK_DAYS;

/// One mark of a lot, with the yard's other lots at the same mark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DofRow {
    /// The lot at the mark.
    #[serde(flatten)]
    pub mark: DofMark,
    /// The median total cost per live head of the yard's other lots (same currency) at the
    /// same mark, minor units.
    pub others_median_cost_per_head_minor: Option<f64>,
    /// The median all-in cost of gain of those lots at the mark, minor units per kg.
    pub others_median_cost_of_gain_per_kg_minor: Option<f64>,
    /// How many other lots reached the mark.
    pub others: usize,
}

/// A lot's cost by days on feed and the yard's other lots', as the API answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotByDof {
    /// The lot's marks, with the others' medians.
    pub marks: Vec<DofRow>,
    /// Every other lot's marks.
    pub others: Vec<DofMark>,
}

/// The table's columns (HTML and CSV).
pub const COLUMNS: &[Column<DofRow>] = &[
    Column {
        key: "dof",
        label: "Days on feed",
        unit: Unit::None,
        value: |r| num(Some(f64::from(r.mark.days_on_feed)), 0),
    },
    Column {
        key: "head",
        label: "Head on feed",
        unit: Unit::None,
        value: |r| num(Some(r.mark.head_on_hand as f64), 0),
    },
    Column {
        key: "cost_head",
        label: "Total $/hd",
        unit: Unit::None,
        value: |r| money::cell(r.mark.cost_per_head_minor, &r.mark.currency),
    },
    Column {
        key: "feeding_head",
        label: "Feed, yardage, medicine $/hd",
        unit: Unit::None,
        value: |r| money::cell(r.mark.feeding_cost_per_head_minor, &r.mark.currency),
    },
    Column {
        key: "cog",
        label: "COG {u} (all-in)",
        unit: Unit::MoneyPerWeight,
        value: |r| money::cell(r.mark.cost_of_gain_per_kg_minor, &r.mark.currency),
    },
    Column {
        key: "others_cost_head",
        label: "Other lots' median $/hd",
        unit: Unit::None,
        value: |r| money::cell(r.others_median_cost_per_head_minor, &r.mark.currency),
    },
    Column {
        key: "others_cog",
        label: "Other lots' median COG {u}",
        unit: Unit::MoneyPerWeight,
        value: |r| money::cell(r.others_median_cost_of_gain_per_kg_minor, &r.mark.currency),
    },
    Column {
        key: "others",
        label: "Other lots",
        unit: Unit::None,
        value: |r| num(Some(r.others as f64), 0),
    },
];

/// The median of the finite `values` (the standings' median, [`compare::median`]).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    compare::median(&values)
}

/// `lot_id`'s marks beside the yard's other lots (404 when the yard has no such lot).
pub async fn lot_by_dof(
    state: &AppState,
    feedlot_id: &str,
    lot_id: &str,
    query: &ReportQuery,
) -> Result<LotByDof, WebError> {
    let as_of = query.as_of_ms()?;
    let all = by_days_on_feed(&state.client, feedlot_id, as_of, &state.settings).await?;
    let (mine, others): (Vec<DofMark>, Vec<DofMark>) =
        all.into_iter().partition(|m| m.lot_id == lot_id);
    if mine.is_empty() {
        // A lot with no mark yet (under 30 days) is still a lot: its report says so.
        super::report::load(state, feedlot_id, query)
            .await?
            .lots
            .iter()
            .find(|l| l.lot_id == lot_id)
            .ok_or_else(|| WebError::NotFound(format!("no lot {lot_id:?} at this yard")))?;
    }
    let marks = mine
        .into_iter()
        .map(|mark| {
            let peers: Vec<&DofMark> = others
                .iter()
                .filter(|o| o.days_on_feed == mark.days_on_feed && o.currency == mark.currency)
                .collect();
            DofRow {
                others_median_cost_per_head_minor: median(
                    peers.iter().filter_map(|o| o.cost_per_head_minor).collect(),
                ),
                others_median_cost_of_gain_per_kg_minor: median(
                    peers
                        .iter()
                        .filter_map(|o| o.cost_of_gain_per_kg_minor)
                        .collect(),
                ),
                others: peers.len(),
                mark,
            }
        })
        .collect();
    Ok(LotByDof { marks, others })
}

/// `GET /api/feedlots/{feedlot_id}/lots/{lot_id}/by-dof`.
pub async fn json(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<LotByDof>, WebError> {
    Ok(Json(
        lot_by_dof(&state, &feedlot_id, &lot_id, &query).await?,
    ))
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}/by-dof.csv`, in the reader's units.
pub async fn csv(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let by = lot_by_dof(&state, &feedlot_id, &lot_id, &query).await?;
    csv_response(
        &format!("{feedlot_id}-lot-{lot_id}-by-dof.csv"),
        COLUMNS,
        &by.marks,
    )
}

/// The lot page's section: the table and the chart of total cost per head by days on feed,
/// the lot in red and the yard's other lots in grey.
pub fn section(feedlot_id: &str, lot_id: &str, by: &LotByDof) -> Markup {
    let units = current();
    // The lot's money; the other lots compared are in the same currency.
    let currency = by.marks.first().map_or("", |r| r.mark.currency.as_str());
    let mut chart: Vec<Line> = Vec::new();
    let mut lots: Vec<&str> = by.others.iter().map(|m| m.lot_id.as_str()).collect();
    lots.dedup();
    for lot in lots {
        chart.push(Line {
            label: lot.to_owned(),
            points: by
                .others
                .iter()
                .filter(|m| m.lot_id == lot)
                .filter_map(|m| {
                    Some((
                        f64::from(m.days_on_feed),
                        money::major(m.cost_per_head_minor?, &m.currency),
                    ))
                })
                .collect(),
            highlight: false,
        });
    }
    chart.push(Line {
        label: lot_id.to_owned(),
        points: by
            .marks
            .iter()
            .filter_map(|r| {
                Some((
                    f64::from(r.mark.days_on_feed),
                    money::major(r.mark.cost_per_head_minor?, &r.mark.currency),
                ))
            })
            .collect(),
        highlight: true,
    });
    html! {
        h2 { "Cost by days on feed" }
        p { "Every " (EVERY_DAYS) " days on feed, beside the yard's other lots at the same mark (" (units.key()) " units) · "
            a href={"/feedlots/" (feedlot_id) "/lots/" (lot_id) "/by-dof.csv"} { "CSV" } " · "
            a href={"/api/feedlots/" (feedlot_id) "/lots/" (lot_id) "/by-dof"} { "JSON" } }
        @if by.marks.is_empty() {
            p #by-dof-empty { "The lot has not reached " (EVERY_DAYS) " days on feed yet." }
        } @else {
            (html_table("by-dof", COLUMNS, &by.marks, &Default::default(), "dof", None, currency))
        }
        (lines("by-dof-chart", "Total cost per live head", &chart, "days", &format!("{}/hd", money::sign(currency))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_other_lots_ignores_missing_values() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
        assert_eq!(median(Vec::new()), None);
    }
}
