//! Benchmarks: the yard against its area and the world, as percentile bands (HTML with a band
//! chart per measure, and JSON). Only the yard's own numbers and other yards' aggregates are
//! shown (see `crate::benchmarks`).
//!
//! - `GET /feedlots/{feedlot_id}/benchmarks` (HTML)
//! - `GET /api/feedlots/{feedlot_id}/benchmarks` (JSON: [`Benchmarks`])
//! - `GET /feedlots/{feedlot_id}/benchmarks.csv` (the table: a row per measure and set)
//!
//! All take `?radius_km=` (100, 250 or 500: the fixed tiers) to form the area by distance
//! instead of by region; any other value is a 400 naming the field.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::charts::{BandRow, bands};
use super::report::{nav, utc};
use super::table::{Cell, Column, csv_response, num};
use super::units::Unit;
use super::{AppState, WebError};
use crate::benchmarks::{
    AreaRule, Band, Benchmarks, MIN_PEERS, MeasureBands, RADII_KM, benchmarks,
};

/// Query parameters of the benchmark routes.
#[derive(Debug, Default, Deserialize)]
pub struct BenchmarksQuery {
    /// Form the area from yards within this many km (great circle) instead of the region:
    /// one of the tiers 100, 250 or 500 (kept as text so that any other value gets this
    /// module's 400 naming the field).
    pub radius_km: Option<String>,
}

impl BenchmarksQuery {
    fn rule(&self) -> Result<AreaRule, WebError> {
        match self.radius_km.as_deref().map(str::trim) {
            None | Some("") => Ok(AreaRule::Region),
            Some(km) => km
                .parse()
                .ok()
                .and_then(AreaRule::from_radius_km)
                .ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "radius_km: {km} is not one of the area tiers {} km (leave it out for the \
                     region)",
                        RADII_KM.map(|r| r.to_string()).join(", ")
                    ))
                }),
        }
    }
}

/// The benchmark routes, as (path, methods) for [`super::routes`].
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/feedlots/{feedlot_id}/benchmarks", get(page)),
        ("/feedlots/{feedlot_id}/benchmarks.csv", get(csv)),
        ("/api/feedlots/{feedlot_id}/benchmarks", get(json)),
    ]
}

/// One row of the benchmarks table: a measure against one set of yards.
struct BandLine {
    measure: &'static str,
    unit: String,
    set: &'static str,
    band: Band,
    own: Option<f64>,
}

/// The unit a measure is shown in (cost of gain: its currency's minor units per kg).
fn unit(m: &MeasureBands) -> String {
    match &m.currency {
        Some(c) => format!("{c} minor/kg"),
        None => m.measure.unit.to_owned(),
    }
}

/// The benchmarks table's columns (CSV). A hidden band has empty quantiles.
const BAND_LINES: &[Column<BandLine>] = &[
    Column {
        key: "measure",
        label: "Measure",
        unit: Unit::None,
        value: |l| Cell::Text(l.measure.to_owned()),
    },
    Column {
        key: "unit",
        label: "Unit",
        unit: Unit::None,
        value: |l| Cell::Text(l.unit.clone()),
    },
    Column {
        key: "set",
        label: "Set",
        unit: Unit::None,
        value: |l| Cell::Text(l.set.to_owned()),
    },
    Column {
        key: "yards",
        label: "Yards",
        unit: Unit::None,
        value: |l| num(l.band.yards.map(|n| n as f64), 0),
    },
    Column {
        key: "hidden",
        label: "Hidden",
        unit: Unit::None,
        value: |l| Cell::Text(l.band.hidden.to_string()),
    },
    Column {
        key: "p10",
        label: "p10",
        unit: Unit::None,
        value: |l| num(l.band.p10, 2),
    },
    Column {
        key: "p25",
        label: "p25",
        unit: Unit::None,
        value: |l| num(l.band.p25, 2),
    },
    Column {
        key: "p50",
        label: "Median",
        unit: Unit::None,
        value: |l| num(l.band.p50, 2),
    },
    Column {
        key: "p75",
        label: "p75",
        unit: Unit::None,
        value: |l| num(l.band.p75, 2),
    },
    Column {
        key: "p90",
        label: "p90",
        unit: Unit::None,
        value: |l| num(l.band.p90, 2),
    },
    Column {
        key: "own_percentile",
        label: "Your percentile",
        unit: Unit::None,
        value: |l| num(l.band.own_percentile, 2),
    },
    Column {
        key: "own",
        label: "Your yard",
        unit: Unit::None,
        value: |l| num(l.own, 2),
    },
];

/// `GET /feedlots/{feedlot_id}/benchmarks.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<BenchmarksQuery>,
) -> Result<Response, WebError> {
    let b = benchmarks(&state.client, &feedlot_id, query.rule()?).await?;
    let lines: Vec<BandLine> = b
        .measures
        .iter()
        .flat_map(|m| {
            [("area", &m.area), ("world", &m.world)].map(|(set, band)| BandLine {
                measure: m.measure.key,
                unit: unit(m),
                set,
                band: band.clone(),
                own: m.own,
            })
        })
        .collect();
    csv_response(&format!("{feedlot_id}-benchmarks.csv"), BAND_LINES, &lines)
}

/// `GET /api/feedlots/{feedlot_id}/benchmarks`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<BenchmarksQuery>,
) -> Result<Json<Benchmarks>, WebError> {
    Ok(Json(
        benchmarks(&state.client, &feedlot_id, query.rule()?).await?,
    ))
}

/// How the page shows a measure, in the reader's units ([`super::units`], as the lot pages):
/// cost of gain, stored in minor units per kg, in major units per cwt (US) or per kg (metric)
/// of its currency; ADG in lb/day or kg/day; the rest as stored. Returns the factor from stored
/// to shown and the unit shown. (JSON and CSV keep the stored unit.)
fn shown_unit(m: &MeasureBands) -> (f64, String) {
    let units = super::units::current();
    match (&m.currency, m.measure.key) {
        (Some(c), _) => {
            let unit = super::units::Unit::MoneyPerWeight;
            (
                super::money::major(unit.convert(1.0, units), c),
                format!("{c}/{}", &unit.text(units)[2..]),
            )
        }
        (None, "adg_kg") => (units.from_kg(1.0), format!("{}/day", units.weight())),
        (None, _) => (1.0, m.measure.unit.to_owned()),
    }
}

/// `band` with its quantiles multiplied by `factor` (the percentile is unchanged).
fn scaled(band: &Band, factor: f64) -> Band {
    let by = |v: Option<f64>| v.map(|v| v * factor);
    Band {
        p10: by(band.p10),
        p25: by(band.p25),
        p50: by(band.p50),
        p75: by(band.p75),
        p90: by(band.p90),
        ..band.clone()
    }
}

/// A number as the page and its tests show it.
pub fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn quantiles(band: &Band) -> Option<[f64; 5]> {
    Some([band.p10?, band.p25?, band.p50?, band.p75?, band.p90?])
}

fn hidden_note(band: &Band) -> String {
    band.reason.map(|r| r.note()).unwrap_or_default()
}

/// The rank as the page shows it: at the outer marks it is only a bound.
fn rank(v: Option<f64>) -> String {
    match v {
        Some(v) if v <= 10.0 => "≤ 10".into(),
        Some(v) if v >= 90.0 => "≥ 90".into(),
        v => fmt(v),
    }
}

fn band_cells(id: &str, band: &Band) -> Markup {
    html! {
        td id={(id) "-yards"} { (band.yards.map_or_else(|| "–".to_owned(), |n| n.to_string())) }
        @if band.hidden {
            td colspan="6" class="hidden-band" { (hidden_note(band)) }
        } @else {
            @for (name, v) in [("p10", band.p10), ("p25", band.p25), ("p50", band.p50), ("p75", band.p75), ("p90", band.p90)] {
                td id={(id) "-" (name)} { (fmt(v)) }
            }
            td id={(id) "-pct"} { (rank(band.own_percentile)) }
        }
    }
}

/// `GET /feedlots/{feedlot_id}/benchmarks`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<BenchmarksQuery>,
) -> Result<Markup, WebError> {
    let b = benchmarks(&state.client, &feedlot_id, query.rule()?).await?;
    let area_label = match (&b.area.region, b.area.radius_km) {
        (None, _) => "Area (not registered)".to_owned(),
        (Some(_), Some(km)) => format!("Area (within {km} km)"),
        (Some(region), None) => format!("Area ({region})"),
    };
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Benchmarks · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Benchmarks for " (feedlot_id) }
                p {
                    @if let Some(own) = &b.own {
                        "Your yard: " span #lots-closed { (own.lots_closed) } " lots closed in the 365 days to "
                        (utc(own.as_of_ms)) ", " (own.head_shipped) " head shipped. "
                    } @else {
                        "Your yard's KPIs have not been computed yet. "
                    }
                    "Other yards appear only as percentiles over at least " (MIN_PEERS) " other yards. "
                    a href={"/api/feedlots/" (feedlot_id) "/benchmarks"} { "JSON" } " · "
                    a #benchmarks-csv href={"/feedlots/" (feedlot_id) "/benchmarks.csv" (b.area.radius_km.map(|km| format!("?radius_km={km}")).unwrap_or_default())} { "CSV" }
                }
                @if !b.area.registered {
                    p #not-registered {
                        "Your yard is not in the benchmark registry, so it is compared with no one "
                        "and no one with it. The cloud's operator registers a yard's region and "
                        "position (" code { "dashboards set-yard" } "); what a gateway reports "
                        "about itself does not count."
                    }
                }
                p #areas {
                    "Area: " a href={"/feedlots/" (feedlot_id) "/benchmarks"} { "my region" }
                    @for km in RADII_KM {
                        " · " a href={"/feedlots/" (feedlot_id) "/benchmarks?radius_km=" (km)} { "within " (km) " km" }
                    }
                }
                table #benchmarks {
                    thead { tr { th { "Measure" } th { "Set" } th { "Yards" } th { "p10" } th { "p25" } th { "Median" } th { "p75" } th { "p90" } th { "Your percentile" } th { "Your yard" } } }
                    tbody {
                        @for m in &b.measures {
                            @let (factor, unit) = shown_unit(m);
                            tr {
                                th rowspan="2" { (m.measure.label) " (" (unit) ")" @if m.measure.lower_is_better { br; small { "lower is better" } } }
                                td { (area_label) }
                                (band_cells(&format!("{}-area", m.measure.key), &scaled(&m.area, factor)))
                                td rowspan="2" id={(m.measure.key) "-own"} { (fmt(m.own.map(|v| v * factor))) }
                            }
                            tr { td { "World" } (band_cells(&format!("{}-world", m.measure.key), &scaled(&m.world, factor))) }
                        }
                    }
                }
                @for m in &b.measures {
                    @let (factor, unit) = shown_unit(m);
                    @let (area, world) = (scaled(&m.area, factor), scaled(&m.world, factor));
                    h2 { (m.measure.label) }
                    (bands(&format!("chart-{}", m.measure.key), &[
                        BandRow { label: &area_label, quantiles: quantiles(&area), note: hidden_note(&area) },
                        BandRow { label: "World", quantiles: quantiles(&world), note: hidden_note(&world) },
                    ], m.own.map(|v| v * factor), &unit))
                }
            }
        }
    })
}
