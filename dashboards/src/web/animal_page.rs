//! An animal's weighings and gain, its pen now and its pens over time, as a page and as JSON;
//! its weighings and treatments as CSV (`GET /feedlots/{feedlot_id}/animals/{eid}/weighings.csv`
//! and `.../treatments.csv`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use schemas::Eid;
use schemas::weight::KG_PER_LB;

use super::money;
use super::table::{Cell, Column, csv_response, num};
use super::units::Unit;
use crate::queries::{AnimalReport, TreatmentLine, WeighingPoint, animal_record};
use crate::web::{AppState, WebError};

/// The weighings table's columns (CSV).
const WEIGHINGS: &[Column<WeighingPoint>] = &[
    Column {
        key: "captured_at_utc",
        label: "Captured (UTC)",
        unit: Unit::None,
        value: |w| Cell::Text(utc(w.captured_at_ms)),
    },
    Column {
        key: "captured_at_ms",
        label: "Captured (ms)",
        unit: Unit::None,
        value: |w| num(Some(w.captured_at_ms as f64), 0),
    },
    Column {
        key: "weight_kg",
        label: "Weight kg",
        unit: Unit::None,
        value: |w| num(Some(w.weight_kg), 1),
    },
    Column {
        key: "weight_lb",
        label: "Weight lb",
        unit: Unit::None,
        value: |w| num(Some(w.weight_kg / KG_PER_LB), 1),
    },
    Column {
        key: "displayed_value",
        label: "Displayed",
        unit: Unit::None,
        value: |w| num(Some(w.displayed_value), 1),
    },
    Column {
        key: "displayed_unit",
        label: "Unit",
        unit: Unit::None,
        value: |w| Cell::Text(w.displayed_unit.clone()),
    },
    Column {
        key: "scale",
        label: "Scale",
        unit: Unit::None,
        value: |w| Cell::Text(w.device_id.clone()),
    },
];

/// The treatments table's columns (CSV; cost in major units of its currency).
const TREATMENTS: &[Column<TreatmentLine>] = &[
    Column {
        key: "given_at_utc",
        label: "Given (UTC)",
        unit: Unit::None,
        value: |t| Cell::Text(utc(t.captured_at_ms)),
    },
    Column {
        key: "purpose",
        label: "Purpose",
        unit: Unit::None,
        value: |t| Cell::Text(t.purpose.clone()),
    },
    Column {
        key: "product",
        label: "Product",
        unit: Unit::None,
        value: |t| Cell::Text(t.product.clone()),
    },
    Column {
        key: "dose",
        label: "Dose",
        unit: Unit::None,
        value: |t| num(Some(t.dose), 1),
    },
    Column {
        key: "dose_unit",
        label: "Dose unit",
        unit: Unit::None,
        value: |t| Cell::Text(t.dose_unit.clone()),
    },
    Column {
        key: "route",
        label: "Route",
        unit: Unit::None,
        value: |t| Cell::Text(t.route.clone()),
    },
    Column {
        key: "diagnosis",
        label: "Diagnosis",
        unit: Unit::None,
        value: |t| Cell::Text(t.diagnosis.clone()),
    },
    Column {
        key: "withdrawal_days",
        label: "Withdrawal days",
        unit: Unit::None,
        value: |t| num(Some(f64::from(t.withdrawal_days)), 0),
    },
    Column {
        key: "cost",
        label: "Cost",
        unit: Unit::None,
        value: |t| {
            if t.currency.is_empty() {
                num(None, 2)
            } else {
                money::exact_cell(Some(t.cost_minor as f64), &t.currency)
            }
        },
    },
    Column {
        key: "currency",
        label: "Currency",
        unit: Unit::None,
        value: |t| Cell::Text(t.currency.clone()),
    },
];

async fn load(state: &AppState, feedlot_id: &str, eid: &str) -> Result<AnimalReport, WebError> {
    let eid = Eid::parse(eid).map_err(|e| WebError::BadRequest(format!("eid: {e}")))?;
    let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    let target = state.settings.target_live_weight_kg;
    Ok(animal_record(&state.client, feedlot_id, eid.as_str(), target, now_ms).await?)
}

/// `GET /api/feedlots/{feedlot_id}/animals/{eid}`.
pub async fn json(
    State(state): State<AppState>,
    Path((feedlot_id, eid)): Path<(String, String)>,
) -> Result<Json<AnimalReport>, WebError> {
    Ok(Json(load(&state, &feedlot_id, &eid).await?))
}

/// `GET /feedlots/{feedlot_id}/animals/{eid}/{table}`: `weighings.csv` or `treatments.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path((feedlot_id, eid, table)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let r = load(&state, &feedlot_id, &eid).await?;
    let name = format!("{feedlot_id}-{}-{table}", r.eid);
    match table.as_str() {
        "weighings.csv" => csv_response(&name, WEIGHINGS, &r.weighings),
        "treatments.csv" => csv_response(&name, TREATMENTS, &r.treatments),
        other => Err(WebError::NotFound(format!(
            "no animal table {other:?}: weighings.csv or treatments.csv"
        ))),
    }
}

fn utc(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_default()
}

fn day(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `GET /feedlots/{feedlot_id}/animals/{eid}`.
pub async fn page(
    State(state): State<AppState>,
    Path((feedlot_id, eid)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let r = load(&state, &feedlot_id, &eid).await?;
    let changes =
        crate::queries::changes::animal_changes(&state.client, &feedlot_id, &r.eid).await?;
    let units = crate::web::units::current();
    // A weight in the reader's units first, the other system's after: "99.2 lb (45.0 kg)".
    let both = |kg: f64, d: usize, per: &str| {
        let other = match units {
            crate::web::units::Units::Us => crate::web::units::Units::Metric,
            crate::web::units::Units::Metric => crate::web::units::Units::Us,
        };
        format!(
            "{:.d$} {}{per} ({:.d$} {}{per})",
            units.from_kg(kg),
            units.weight(),
            other.from_kg(kg),
            other.weight()
        )
    };
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Animal " (r.eid) " · " (r.feedlot_id) }
                style { (crate::web::STYLE) }
            }
            body {
                h1 { "Animal " span #eid { (r.eid) } }
                (crate::web::report::nav(&r.feedlot_id))
                p { "Feedlot " (r.feedlot_id) " · " span #count { (r.weighings.len()) } " weighings" }
                @let w = &r.whereabouts;
                p #whereabouts {
                    "Status: " strong #status { (r.status) }
                    @if !w.lot_id.is_empty() {
                        " · lot " a href={"/feedlots/" (r.feedlot_id) "/lots/" (w.lot_id)} { (w.lot_id) }
                        " · pen now " strong #pen-now { (w.pen_id) }
                    }
                    @if !w.sex.is_empty() { " · " (w.sex) }
                    @if !w.breed.is_empty() { " · " (w.breed) }
                    @if let Some(dof) = r.days_on_feed { " · " span #dof { (format!("{dof:.0}")) } " days on feed" }
                }
                p #withdrawal {
                    @match (r.withdrawal_clear, r.withdrawal_until_ms) {
                        (true, None) => "No treatments: no withdrawal.",
                        (true, Some(until)) => { "Withdrawal clear since " (day(until)) "." },
                        (false, Some(until)) => { strong.warning { "In withdrawal until " (day(until)) ": do not ship for slaughter." } },
                        (false, None) => "",
                    }
                }
                @if !r.pens.is_empty() {
                    h2 { "Pens over time" }
                    table #pens {
                        thead { tr { th { "Pen" } th { "Lot" } th { "From (UTC)" } th { "To (UTC)" } th { "Why" } } }
                        tbody {
                            @for s in &r.pens {
                                tr data-pen=(s.pen_id) {
                                    td.pen { (s.pen_id) }
                                    td.lot { (s.lot_id) }
                                    td.from { (utc(s.from_ms)) }
                                    td.to { @if let Some(to) = s.to_ms { (utc(to)) } @else { "now" } }
                                    td.why { (s.why.label()) }
                                }
                            }
                        }
                    }
                }
                @if !r.treatments.is_empty() {
                    h2 { "Treatments" }
                    p { a #treatments-csv href={"/feedlots/" (r.feedlot_id) "/animals/" (r.eid) "/treatments.csv"} { "CSV" } }
                    table #treatments {
                        thead { tr { th { "Given (UTC)" } th { "Purpose" } th { "Product" } th { "Dose" } th { "Route" } th { "Diagnosis" } th { "Withdrawal days" } th { "Cost" } } }
                        tbody {
                            @for t in &r.treatments {
                                tr {
                                    td { (utc(t.captured_at_ms)) } td { (t.purpose) } td { (t.product) }
                                    td { (t.dose) " " (t.dose_unit) } td { (t.route) } td { (t.diagnosis) }
                                    td { (t.withdrawal_days) }
                                    td { @if t.currency.is_empty() { "–" } @else { (money::text(Some(t.cost_minor as f64), &t.currency)) " " (t.currency) } }
                                }
                            }
                        }
                    }
                }
                @if !r.group_treatments.is_empty() {
                    h2 { "Given to its lot or pen" }
                    table #group-treatments {
                        thead { tr { th { "Given (UTC)" } th { "Purpose" } th { "Product" } th { "Dose per head" } th { "Route" } th { "Withdrawal days" } } }
                        tbody {
                            @for t in &r.group_treatments {
                                tr {
                                    td { (utc(t.captured_at_ms)) } td { (t.purpose) } td { (t.product) }
                                    td { (t.dose) " " (t.dose_unit) } td { (t.route) } td { (t.withdrawal_days) }
                                }
                            }
                        }
                    }
                }
                @if r.weighings.is_empty() {
                    p { "No weighings recorded for this animal." }
                } @else {
                    p #gain {
                        "Gain since first weighing: "
                        strong { (both(r.gain_kg, 1, "")) }
                        " over " (format!("{:.1}", r.days)) " days"
                        @if let Some(adg) = r.adg_kg_per_day {
                            ", ADG " (both(adg, 2, "/day"))
                        }
                    }
                    @if let Some(adg) = r.last_period_adg_kg_per_day {
                        p #last-period {
                            "Last period: " (format!("{:.1} kg", r.last_period_gain_kg.unwrap_or(0.0)))
                            " over " (format!("{:.0}", r.last_period_days.unwrap_or(0.0))) " days, ADG "
                            (both(adg, 2, "/day"))
                        }
                    }
                    p #projection {
                        "Target " (both(r.target_weight_kg, 0, "")) ": "
                        @match r.projected_target_at_ms {
                            Some(at) => { "projected " strong { (day(at)) } },
                            None => "no projection without a positive ADG trend",
                        }
                    }
                    (crate::web::charts::time_series(
                        "weight-curve",
                        "Weight over time",
                        &r.weighings.iter().map(|w| (w.captured_at_ms, units.from_kg(w.weight_kg))).collect::<Vec<_>>(),
                        units.weight(),
                        "The curve appears after a second weighing.",
                    ))
                    p { a href={"/feedlots/" (r.feedlot_id) "/animals"} { "All animals at " (r.feedlot_id) } }
                    h2 { "Weighings" }
                    p { a #weighings-csv href={"/feedlots/" (r.feedlot_id) "/animals/" (r.eid) "/weighings.csv"} { "CSV" } }
                    table #weighings {
                        thead { tr { th { "Captured (UTC)" } th { "Weight kg" } th { "Weight lb" } th { "Displayed" } th { "Scale" } } }
                        tbody {
                            @for w in &r.weighings {
                                tr data-captured-at-ms=(w.captured_at_ms) {
                                    td { (utc(w.captured_at_ms)) }
                                    td { (format!("{:.1}", w.weight_kg)) }
                                    td { (format!("{:.1}", w.weight_kg / KG_PER_LB)) }
                                    td { (w.displayed_value) " " (w.displayed_unit) }
                                    td { (w.device_id) }
                                }
                            }
                        }
                    }
                }
                (super::changes::section(&changes))
            }
        }
    })
}
