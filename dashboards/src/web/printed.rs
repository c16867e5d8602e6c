//! Printed reports (PDF, laid out by [`crate::reports`]), behind the same sign-in and yard
//! checks as every yard page:
//!
//! - `GET /feedlots/{feedlot_id}/lots/{lot_id}/closeout.pdf` (`?as_of=` as the lot page): the
//!   lot page's measures table, row for row, and its cost per live head by part;
//! - `GET /feedlots/{feedlot_id}/reports/monthly.pdf?month=YYYY-MM` (default: this month,
//!   UTC): the yard's lots and pens as of the month's last second (as the lot and pen pages
//!   show them with that `as_of`), and what changed in the month: head placed, dead and
//!   shipped by lot, feed fed by pen and its cost (the same reports as of the previous
//!   month's last second, taken from these). A month not over yet is taken to now.
//!
//! Every figure is formatted by the code the pages use, in the reader's units
//! ([`super::units::current`]).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;

use super::lots_page::{self, cost_parts, f, find_lot, measure_rows};
use super::money;
use super::report::{AS_OF_FLOOR, ReportQuery, load, utc};
use super::table::Column;
use super::units::{Unit, Units};
use super::{AppState, WebError, pens_page};
use crate::analytics::{LotMeasures, PenMeasures, YardReport};
use crate::reports::{Month, ReportError, Table, closeout, monthly};

impl From<ReportError> for WebError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Month(message) => Self::BadRequest(message),
            too_long @ ReportError::TooLong { .. } => Self::BadRequest(too_long.to_string()),
        }
    }
}

/// The lots page's columns the monthly report prints (the rest stay on the page).
pub const MONTHLY_LOT_COLUMNS: &[&str] = &[
    "lot",
    "status",
    "head_in",
    "dead",
    "shipped",
    "on_feed",
    "dof",
    "in_weight",
    "now_weight",
    "adg",
    "dmi",
    "fg",
    "cog",
    "cost_head",
    "breakeven",
    "death_loss",
];

/// `bytes` as an inline PDF named `name` (its characters outside `[A-Za-z0-9._-]` as `_`).
fn pdf_response(name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// "US (lb, $/cwt)" or "metric (kg, $/kg)".
fn units_text(units: Units) -> &'static str {
    match units {
        Units::Us => "US (lb, $/cwt)",
        Units::Metric => "metric (kg, $/kg)",
    }
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}/closeout.pdf`.
pub async fn closeout_pdf(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let report = load(&state, &feedlot_id, &query).await?;
    let l = find_lot(&report.lots, &lot_id)?;
    let units = super::units::current();
    let bytes = closeout::render(&closeout_of(&feedlot_id, l, report.as_of_ms, units))?;
    tracing::info!(feedlot_id, lot_id, bytes = bytes.len(), "closeout printed");
    Ok(pdf_response(
        &format!("{feedlot_id}-{lot_id}-closeout.pdf"),
        bytes,
    ))
}

/// The printed closeout of lot `l` as of `as_of_ms`, in `units`.
fn closeout_of(
    feedlot_id: &str,
    l: &LotMeasures,
    as_of_ms: u64,
    units: Units,
) -> closeout::Closeout {
    let closed = l.status == "closed";
    let c = &l.currency;
    let title = if closed {
        format!("Closeout: lot {}", l.lot_id)
    } else {
        format!("Lot {} (open: its report to date)", l.lot_id)
    };
    let whereabouts = match l.closed_at_ms {
        Some(end) => format!("closed {}", utc(end)),
        None => format!("pens {}", l.pens.join(", ")),
    };
    // Per live head: the page's cost breakdown (its chart), part by part, and their total.
    let live = f64::from(l.head_in.saturating_sub(l.head_dead)).max(1.0);
    let totals = [
        l.purchase_minor,
        l.feed_cost_minor,
        l.yardage_minor,
        l.medicine_minor,
    ];
    let mut costs: Vec<Vec<String>> = cost_parts(l)
        .iter()
        .zip(totals)
        .map(|(part, total)| {
            vec![
                part.label.to_owned(),
                format!("{:.d$} {c}", part.value, d = money::decimals(c)),
                format!("{} {c}", money::text(Some(total), c)),
            ]
        })
        .collect();
    costs.push(vec![
        "Total".to_owned(),
        format!("{} {c}", money::text(Some(l.total_cost_minor / live), c)),
        format!("{} {c}", money::text(Some(l.total_cost_minor), c)),
    ]);
    closeout::Closeout {
        title,
        about: vec![
            format!(
                "Feedlot {feedlot_id} · {} · arrived {} · {whereabouts}",
                l.origin,
                utc(l.arrived_at_ms)
            ),
            format!(
                "As of {} · units {} · money in {c}",
                utc(as_of_ms),
                units_text(units)
            ),
        ],
        measures: Table {
            header: vec!["Measure".into(), format!("Value ({})", units.key())],
            rows: measure_rows(l, units)
                .into_iter()
                .map(|(label, value)| vec![label, value])
                .collect(),
        },
        costs: Table {
            header: vec!["Cost".into(), "Per live head".into(), "Lot".into()],
            rows: costs,
        },
    }
}

/// The monthly report's query.
#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    /// The month, `YYYY-MM` (UTC); default this month.
    pub month: Option<String>,
}

/// A report query as of `at` (to the second).
fn as_of(at: DateTime<Utc>) -> ReportQuery {
    ReportQuery {
        as_of: Some(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        ..Default::default()
    }
}

/// `GET /feedlots/{feedlot_id}/reports/monthly.pdf?month=YYYY-MM`.
pub async fn monthly_pdf(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let now = Utc::now();
    let month = match &query.month {
        Some(text) => Month::parse(text)?,
        None => Month::of(now),
    };
    month.check(AS_OF_FLOOR, now)?;
    // A month not over yet is taken to now, as the pages without `as_of` show it.
    let end_query = if month.last_second() < now {
        as_of(month.last_second())
    } else {
        ReportQuery::default()
    };
    let end = load(&state, &feedlot_id, &end_query).await?;
    let before = month.start() - TimeDelta::seconds(1);
    let start = if before < AS_OF_FLOOR {
        None
    } else {
        Some(load(&state, &feedlot_id, &as_of(before)).await?)
    };
    let units = super::units::current();
    let report = monthly_of(&feedlot_id, month, start.as_ref(), &end, units);
    let bytes = monthly::render(&report)?;
    tracing::info!(feedlot_id, %month, bytes = bytes.len(), "monthly report printed");
    Ok(pdf_response(
        &format!("{feedlot_id}-{month}-monthly.pdf"),
        bytes,
    ))
}

/// The rows of `rows` in the columns `keys` of `columns`, in `units`, as the page prints them.
fn page_table<T>(
    columns: &[Column<T>],
    keys: &[&str],
    rows: &[T],
    units: Units,
    currency: &str,
) -> Table {
    let chosen: Vec<&Column<T>> = keys
        .iter()
        .filter_map(|k| columns.iter().find(|c| c.key == *k))
        .collect();
    Table {
        header: chosen
            .iter()
            .map(|c| c.label_for(units, currency))
            .collect(),
        rows: rows
            .iter()
            .map(|row| {
                chosen
                    .iter()
                    .map(|c| c.cell_in(row, units).shown())
                    .collect()
            })
            .collect(),
    }
}

/// A weight given in kg, in `units`, with `decimals` places.
fn weight(kg: f64, decimals: usize, units: Units) -> String {
    format!("{:.decimals$}", Unit::Weight.convert(kg, units))
}

/// The printed monthly report of `month` from the yard's reports as of its end and (when
/// there is one) as of the previous month's end.
fn monthly_of(
    feedlot_id: &str,
    month: Month,
    start: Option<&YardReport>,
    end: &YardReport,
    units: Units,
) -> monthly::Monthly {
    let w = units.weight();
    let currency = end
        .lots
        .first()
        .map(|l| l.currency.clone())
        .unwrap_or_default();
    let c = currency.as_str();
    let start_lots: BTreeMap<&str, &LotMeasures> = start
        .map(|r| r.lots.iter().map(|l| (l.lot_id.as_str(), l)).collect())
        .unwrap_or_default();
    let end_lots: BTreeMap<&str, &LotMeasures> =
        end.lots.iter().map(|l| (l.lot_id.as_str(), l)).collect();
    let lot_ids: BTreeSet<&str> = start_lots.keys().chain(end_lots.keys()).copied().collect();
    // (placed, dead, shipped, on feed at the start, on feed at the end) by lot.
    let movements: Vec<(&str, [i64; 5])> = lot_ids
        .into_iter()
        .map(|id| {
            let of = |l: Option<&&LotMeasures>| {
                l.map(|l| {
                    [
                        i64::from(l.head_in),
                        i64::from(l.head_dead),
                        i64::from(l.head_shipped),
                        l.head_on_hand,
                    ]
                })
                .unwrap_or_default()
            };
            let (a, b) = (of(start_lots.get(id)), of(end_lots.get(id)));
            (id, [b[0] - a[0], b[1] - a[1], b[2] - a[2], a[3], b[3]])
        })
        .filter(|(_, m)| m.iter().any(|n| *n != 0))
        .collect();
    let total = |i: usize| movements.iter().map(|(_, m)| m[i]).sum::<i64>();
    let start_pens: BTreeMap<&str, &PenMeasures> = start
        .map(|r| r.pens.iter().map(|p| (p.pen_id.as_str(), p)).collect())
        .unwrap_or_default();
    // (head-days, as fed kg, dry matter kg, cost minor) in the month by pen.
    let feed: Vec<(&str, [f64; 4])> = end
        .pens
        .iter()
        .map(|p| {
            let before = start_pens.get(p.pen_id.as_str());
            let was = |v: fn(&PenMeasures) -> f64| before.map(|b| v(b)).unwrap_or(0.0);
            (
                p.pen_id.as_str(),
                [
                    p.head_days - was(|b| b.head_days),
                    p.as_fed_kg - was(|b| b.as_fed_kg),
                    p.dry_matter_kg - was(|b| b.dry_matter_kg),
                    p.feed_cost_minor - was(|b| b.feed_cost_minor),
                ],
            )
        })
        .filter(|(_, m)| m.iter().any(|v| v.abs() > 1e-9))
        .collect();
    let sum = |i: usize| feed.iter().map(|(_, m)| m[i]).sum::<f64>();
    let (head_days, as_fed, dm, cost) = (sum(0), sum(1), sum(2), sum(3));
    let feed_row = |name: &str, m: [f64; 4]| {
        vec![
            name.to_owned(),
            f(Some(m[0]), 1),
            weight(m[1], 0, units),
            weight(m[2], 0, units),
            format!("{} {c}", money::text(Some(m[3]), c)),
        ]
    };
    let mut feed_rows: Vec<Vec<String>> = feed.iter().map(|(p, m)| feed_row(p, *m)).collect();
    feed_rows.push(feed_row("All pens", [head_days, as_fed, dm, cost]));
    let movement_row = |name: &str, m: [i64; 5]| {
        std::iter::once(name.to_owned())
            .chain(m.iter().map(i64::to_string))
            .collect::<Vec<_>>()
    };
    let mut movement_rows: Vec<Vec<String>> =
        movements.iter().map(|(l, m)| movement_row(l, *m)).collect();
    movement_rows.push(movement_row(
        "All lots",
        [total(0), total(1), total(2), total(3), total(4)],
    ));
    let mut lots = end.lots.clone();
    lots.sort_by(|a, b| a.lot_id.cmp(&b.lot_id));
    let mut pens = end.pens.clone();
    pens.sort_by(|a, b| a.pen_id.cmp(&b.pen_id));
    let open = end.lots.iter().filter(|l| l.status == "open").count();
    let summary = vec![
        ("Lots open at the month's end", open.to_string()),
        ("Head on feed at the month's start", total(3).to_string()),
        ("Head placed in the month", total(0).to_string()),
        ("Head dead in the month", total(1).to_string()),
        ("Head shipped in the month", total(2).to_string()),
        ("Head on feed at the month's end", total(4).to_string()),
        ("Head-days in the month", f(Some(head_days), 1)),
        (
            "Feed fed in the month, as fed",
            format!("{} {w}", weight(as_fed, 0, units)),
        ),
        (
            "Feed fed in the month, dry matter",
            format!("{} {w}", weight(dm, 0, units)),
        ),
        (
            "Feed cost in the month",
            format!("{} {c}", money::text(Some(cost), c)),
        ),
        (
            "Feed cost per head per day in the month",
            format!(
                "{} {c}",
                money::text((head_days > 1e-9).then(|| cost / head_days), c)
            ),
        ),
    ];
    let period_end = end.as_of_ms;
    monthly::Monthly {
        title: format!("Monthly report: {feedlot_id}, {month}"),
        about: vec![
            format!(
                "From {} to {} · figures at the month's end are as of {}",
                utc(u64::try_from(month.start().timestamp_millis()).unwrap_or(0)),
                utc(period_end),
                utc(period_end)
            ),
            format!(
                "Units {} · money in {}",
                units_text(units),
                if c.is_empty() {
                    "the yard's currency"
                } else {
                    c
                }
            ),
        ],
        summary: Table {
            header: vec!["Measure".into(), format!("Value ({})", units.key())],
            rows: summary
                .into_iter()
                .map(|(label, value)| vec![label.to_owned(), value.trim().to_owned()])
                .collect(),
        },
        movements: Table {
            header: [
                "Lot",
                "Placed",
                "Dead",
                "Shipped",
                "On feed at start",
                "On feed at end",
            ]
            .map(String::from)
            .to_vec(),
            rows: movement_rows,
        },
        feed: Table {
            header: vec![
                "Pen".into(),
                "Head-days".into(),
                format!("Fed {w} as fed"),
                format!("Fed {w} DM"),
                format!("Feed {}", money::sign(c)),
            ],
            rows: feed_rows,
        },
        lots: page_table(lots_page::COLUMNS, MONTHLY_LOT_COLUMNS, &lots, units, c),
        pens: page_table(
            pens_page::COLUMNS,
            &pens_page::COLUMNS.iter().map(|c| c.key).collect::<Vec<_>>(),
            &money::in_currency(pens, c),
            units,
            c,
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::analytics::feed::FeedReport;

    fn lot(id: &str, head: [u32; 3], on_hand: i64) -> LotMeasures {
        LotMeasures {
            lot_id: id.into(),
            status: if on_hand > 0 { "open" } else { "closed" },
            head_in: head[0],
            head_dead: head[1],
            head_shipped: head[2],
            head_on_hand: on_hand,
            currency: "USD".into(),
            ..Default::default()
        }
    }

    fn pen(id: &str, head_days: f64, as_fed_kg: f64, feed_cost_minor: f64) -> PenMeasures {
        PenMeasures {
            pen_id: id.into(),
            head_on_hand: 0,
            lots: Vec::new(),
            head_days,
            as_fed_kg,
            dry_matter_kg: as_fed_kg * 0.9,
            dmi_kg: None,
            feed_cost_minor,
            feed_cost_per_head_day_minor: None,
            last_delivery_at_ms: None,
        }
    }

    fn report(lots: Vec<LotMeasures>, pens: Vec<PenMeasures>) -> YardReport {
        YardReport {
            feedlot_id: "y".into(),
            as_of_ms: 0,
            lots,
            pens,
            feed: FeedReport {
                ingredients: Vec::new(),
                sources: Vec::new(),
                rations: Vec::new(),
                unallocated_kg: 0.0,
            },
            warnings: Vec::new(),
        }
    }

    fn row<'a>(table: &'a Table, first: &str) -> Option<&'a [String]> {
        table.rows.iter().find(|r| r[0] == first).map(|r| &r[1..])
    }

    #[test]
    fn the_month_is_its_end_less_its_start_and_lots_that_did_nothing_are_left_out() {
        // At the start: A closed long ago (nothing happens to it), B on feed with 10 head.
        // In the month: B loses 1 and ships 4; C arrives with 20; P1 is fed 100 kg for $30.
        let start = report(
            vec![lot("A", [5, 0, 5], 0), lot("B", [10, 0, 0], 10)],
            vec![
                pen("P1", 300.0, 1_000.0, 20_000.0),
                pen("P9", 50.0, 80.0, 900.0),
            ],
        );
        let end = report(
            vec![
                lot("A", [5, 0, 5], 0),
                lot("B", [10, 1, 4], 5),
                lot("C", [20, 0, 0], 20),
            ],
            vec![
                pen("P1", 900.0, 1_100.0, 23_000.0),
                pen("P9", 50.0, 80.0, 900.0),
            ],
        );
        let month = Month::parse("2026-03").unwrap();
        let m = monthly_of("y", month, Some(&start), &end, Units::Metric);
        assert_eq!(row(&m.movements, "A"), None, "nothing happened to A");
        assert_eq!(row(&m.movements, "B").unwrap(), ["0", "1", "4", "10", "5"]);
        assert_eq!(row(&m.movements, "C").unwrap(), ["20", "0", "0", "0", "20"]);
        assert_eq!(
            row(&m.movements, "All lots").unwrap(),
            ["20", "1", "4", "10", "25"]
        );
        assert_eq!(row(&m.feed, "P9"), None, "not fed in the month");
        assert_eq!(
            row(&m.feed, "P1").unwrap(),
            ["600.0", "100", "90", "30.00 USD"]
        );
        assert_eq!(
            row(&m.summary, "Feed cost in the month").unwrap(),
            ["30.00 USD"]
        );
        assert_eq!(
            row(&m.summary, "Feed cost per head per day in the month").unwrap(),
            ["0.05 USD"]
        );
        assert_eq!(
            row(&m.summary, "Lots open at the month's end").unwrap(),
            ["2"]
        );
        // The lots and pens tables are the pages' own cells, in the reader's units.
        let us = monthly_of("y", month, None, &end, Units::Us);
        assert_eq!(us.lots.header.len(), MONTHLY_LOT_COLUMNS.len());
        assert!(us.lots.header.contains(&"COG $/cwt (all-in)".to_owned()));
        assert_eq!(row(&us.feed, "P1").unwrap()[1], "2425", "1,100 kg in lb");
        assert_eq!(row(&us.movements, "B").unwrap(), ["10", "1", "4", "0", "5"]);
    }
}
