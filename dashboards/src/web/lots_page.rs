//! Lots: every lot of the yard compared (sortable, CSV, JSON), and one lot's report — its
//! closeout once shipped — with its cost breakdown and its animals ranked within the lot.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::breakdown_chart::{Part, stacked_bars};
use super::charts::time_series;
use super::money;
use super::report::{ReportQuery, load, nav, utc};
use super::table::{Cell, Column, csv_response, html_table, num, sort};
use super::units::{Unit, Units};
use super::{AppState, WebError};
use crate::analytics::{LotMeasures, LotStanding, standing};

/// The lot table's columns (HTML, CSV and the JSON's sort keys).
pub const COLUMNS: &[Column<LotMeasures>] = &[
    Column {
        key: "lot",
        label: "Lot",
        unit: Unit::None,
        value: |l| Cell::Text(l.lot_id.clone()),
    },
    Column {
        key: "status",
        label: "Status",
        unit: Unit::None,
        value: |l| Cell::Text(l.status.into()),
    },
    Column {
        key: "head_in",
        label: "Head in",
        unit: Unit::None,
        value: |l| num(Some(f64::from(l.head_in)), 0),
    },
    Column {
        key: "dead",
        label: "Dead",
        unit: Unit::None,
        value: |l| num(Some(f64::from(l.head_dead)), 0),
    },
    Column {
        key: "shipped",
        label: "Shipped",
        unit: Unit::None,
        value: |l| num(Some(f64::from(l.head_shipped)), 0),
    },
    Column {
        key: "on_feed",
        label: "On feed",
        unit: Unit::None,
        value: |l| num(Some(l.head_on_hand as f64), 0),
    },
    Column {
        key: "dof",
        label: "DOF",
        unit: Unit::None,
        value: |l| num(Some(l.days_on_feed), 1),
    },
    Column {
        key: "head_days_per_head",
        label: "Head-days/hd placed",
        unit: Unit::None,
        value: |l| num(Some(l.head_days_per_head_in), 1),
    },
    Column {
        key: "in_weight",
        label: "In {u}/hd",
        unit: Unit::Weight,
        value: |l| num(Some(l.in_weight_kg), 0),
    },
    Column {
        key: "now_weight",
        label: "Now/out {u}/hd",
        unit: Unit::Weight,
        value: |l| num(l.current_weight_kg, 0),
    },
    Column {
        key: "adg",
        label: "ADG {u}/d (deads out)",
        unit: Unit::Weight,
        value: |l| num(l.adg_deads_out_kg, 2),
    },
    Column {
        key: "adg_deads_in",
        label: "ADG {u}/d (deads in)",
        unit: Unit::Weight,
        value: |l| num(l.adg_deads_in_kg, 2),
    },
    Column {
        key: "dmi",
        label: "DMI {u}/hd/d",
        unit: Unit::Weight,
        value: |l| num(l.dmi_kg, 2),
    },
    Column {
        key: "fg",
        label: "F:G (DM)",
        unit: Unit::None,
        value: |l| num(l.feed_to_gain_dm, 2),
    },
    Column {
        key: "feed_hd_day",
        label: "Feed $/hd/d",
        unit: Unit::None,
        value: |l| money::cell(l.feed_cost_per_head_day_minor, &l.currency),
    },
    Column {
        key: "feed_cog",
        label: "Feed COG {u}",
        unit: Unit::MoneyPerWeight,
        value: |l| money::cell(l.feed_cost_of_gain_per_kg_minor, &l.currency),
    },
    Column {
        key: "cog",
        label: "COG {u} (all-in)",
        unit: Unit::MoneyPerWeight,
        value: |l| money::cell(l.cost_of_gain_per_kg_minor, &l.currency),
    },
    Column {
        key: "cost_head",
        label: "Total $/hd",
        unit: Unit::None,
        value: |l| money::cell(l.total_cost_per_head_minor, &l.currency),
    },
    Column {
        key: "breakeven",
        label: "Breakeven {u}",
        unit: Unit::MoneyPerWeight,
        value: |l| money::cell(l.breakeven_per_kg_minor, &l.currency),
    },
    Column {
        key: "death_loss",
        label: "Death loss %",
        unit: Unit::None,
        value: |l| num(Some(l.death_loss_pct), 1),
    },
    Column {
        key: "pull_rate",
        label: "Pull rate %",
        unit: Unit::None,
        value: |l| num(Some(l.pull_rate_pct), 1),
    },
];

async fn lots(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<(Vec<LotMeasures>, u64), WebError> {
    let report = load(state, feedlot_id, query).await?;
    let mut lots = report.lots;
    sort(&mut lots, COLUMNS, &query.sorting(), "lot")?;
    Ok((lots, report.as_of_ms))
}

/// `GET /api/feedlots/{feedlot_id}/lots`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Vec<LotMeasures>>, WebError> {
    Ok(Json(lots(&state, &feedlot_id, &query).await?.0))
}

/// `GET /feedlots/{feedlot_id}/lots.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let (lots, _) = lots(&state, &feedlot_id, &query).await?;
    csv_response(&format!("{feedlot_id}-lots.csv"), COLUMNS, &lots)
}

pub(super) fn cost_parts(l: &LotMeasures) -> Vec<Part> {
    let live = f64::from(l.head_in.saturating_sub(l.head_dead)).max(1.0);
    vec![
        Part::new("Cattle", money::major(l.purchase_minor / live, &l.currency)),
        Part::new("Feed", money::major(l.feed_cost_minor / live, &l.currency)),
        Part::new("Yardage", money::major(l.yardage_minor / live, &l.currency)),
        Part::new(
            "Medicine",
            money::major(l.medicine_minor / live, &l.currency),
        ),
    ]
}

fn page_head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            title { (title) }
            style { (super::STYLE) }
        }
    }
}

/// `GET /feedlots/{feedlot_id}/lots`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Markup, WebError> {
    let (lots, as_of) = lots(&state, &feedlot_id, &query).await?;
    let bars: Vec<(String, Vec<Part>)> = lots
        .iter()
        .map(|l| (l.lot_id.clone(), cost_parts(l)))
        .collect();
    let link = |l: &LotMeasures| format!("/feedlots/{feedlot_id}/lots/{}", l.lot_id);
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            (page_head(&format!("Lots · {feedlot_id}")))
            body {
                (nav(&feedlot_id))
                h1 { "Lots at " (feedlot_id) }
                p { span #lot-count { (lots.len()) } " lots · as of " (utc(as_of)) " · "
                    a href={"/feedlots/" (feedlot_id) "/lots.csv"} { "CSV" } " · "
                    a href={"/api/feedlots/" (feedlot_id) "/lots"} { "JSON" } }
                (html_table("lots", COLUMNS, &lots, &query.sorting(), "lot", Some(&link), &money::yard_currency(&lots)))
                h2 { "Cost per live head" }
                (stacked_bars("cost-breakdown", &bars, &money::yard_currency(&lots)))
                p.note { "Weights are pay weights (scale weights less the arrival's shrink). ADG deads out leaves dead head's days out; deads in charges them. Money in " (lots.first().map(|l| l.currency.as_str()).unwrap_or("the yard's currency")) "." }
            }
        }
    })
}

async fn one_lot(
    state: &AppState,
    feedlot_id: &str,
    lot_id: &str,
    query: &ReportQuery,
) -> Result<LotMeasures, WebError> {
    let lots = load(state, feedlot_id, query).await?.lots;
    find_lot(&lots, lot_id).cloned()
}

/// `lot_id` among `lots`, or a 404.
pub(super) fn find_lot<'a>(
    lots: &'a [LotMeasures],
    lot_id: &str,
) -> Result<&'a LotMeasures, WebError> {
    lots.iter()
        .find(|l| l.lot_id == lot_id)
        .ok_or_else(|| WebError::NotFound(format!("no lot {lot_id:?} at this yard")))
}

/// The lot and its standing among the yard's lots.
async fn lot_and_yard(
    state: &AppState,
    feedlot_id: &str,
    lot_id: &str,
    query: &ReportQuery,
) -> Result<(LotMeasures, Vec<LotStanding>), WebError> {
    let lots = load(state, feedlot_id, query).await?.lots;
    let lot = find_lot(&lots, lot_id)?;
    Ok((lot.clone(), standing(lot, &lots)))
}

/// `GET /api/feedlots/{feedlot_id}/lots/{lot_id}/standing`: the lot against the yard's lots.
pub async fn lot_standing_json(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Vec<LotStanding>>, WebError> {
    Ok(Json(
        lot_and_yard(&state, &feedlot_id, &lot_id, &query).await?.1,
    ))
}

/// `GET /api/feedlots/{feedlot_id}/lots/{lot_id}`.
pub async fn lot_json(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<LotMeasures>, WebError> {
    Ok(Json(one_lot(&state, &feedlot_id, &lot_id, &query).await?))
}

fn row(label: &str, value: String) -> Markup {
    html! { tr { th { (label) } td { (value) } } }
}

pub(super) fn f(v: Option<f64>, d: usize) -> String {
    v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "–".into())
}

/// `?as_of=…` (URL-encoded) when `query` names a moment, else nothing: what a link to the same
/// lot's other views carries so that they show the same moment.
pub(super) fn as_of_suffix(query: &ReportQuery) -> String {
    query
        .as_of
        .as_deref()
        .map(|t| {
            let encoded =
                percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC);
            format!("?as_of={encoded}")
        })
        .unwrap_or_default()
}

/// The lot's measures as (label, value), in `units`, exactly as its page's measures table
/// prints them (the printed closeout shows the same rows).
pub(super) fn measure_rows(l: &LotMeasures, units: Units) -> Vec<(String, String)> {
    let closed = l.status == "closed";
    let c = &l.currency;
    // A weight in the reader's units, with its unit and `per` after it ("/d").
    let weight = |kg: Option<f64>, d: usize, per: &str| {
        format!(
            "{} {}{per}",
            f(kg.map(|k| units.from_kg(k)), d),
            units.weight()
        )
    };
    // Money per kg in the reader's units ($/cwt or $/kg).
    let per_weight = |per_kg_minor: Option<f64>| {
        let unit = Unit::MoneyPerWeight;
        let shown = per_kg_minor.map(|m| unit.convert(m, units));
        format!("{} {c}/{}", money::text(shown, c), &unit.text(units)[2..])
    };
    let mut rows = vec![
        (
            "Head in / dead / shipped / on feed".to_owned(),
            format!(
                "{} / {} / {} / {}",
                l.head_in, l.head_dead, l.head_shipped, l.head_on_hand
            ),
        ),
        ("Days on feed".to_owned(), f(Some(l.days_on_feed), 1)),
        (
            "Head-days per head placed".to_owned(),
            f(Some(l.head_days_per_head_in), 1),
        ),
        (
            "In weight, pay".to_owned(),
            format!(
                "{} per head · {} lot total",
                weight(Some(l.in_weight_kg), 0, ""),
                weight(Some(l.in_weight_kg * f64::from(l.head_in)), 0, "")
            ),
        ),
        (
            if closed {
                "Out weight, pay"
            } else {
                "Weight now, pay"
            }
            .to_owned(),
            weight(l.current_weight_kg, 0, ""),
        ),
        (
            "ADG, deads out".to_owned(),
            weight(l.adg_deads_out_kg, 2, "/d"),
        ),
        (
            "ADG, deads in".to_owned(),
            weight(l.adg_deads_in_kg, 2, "/d"),
        ),
        ("Dry-matter intake".to_owned(), weight(l.dmi_kg, 2, "/hd/d")),
        ("Feed:gain, dry matter".to_owned(), f(l.feed_to_gain_dm, 2)),
        ("Feed:gain, as fed".to_owned(), f(l.feed_to_gain_as_fed, 2)),
        (
            "Feed cost per head per day".to_owned(),
            format!("{} {c}", money::text(l.feed_cost_per_head_day_minor, c)),
        ),
        (
            "Feed cost of gain".to_owned(),
            per_weight(l.feed_cost_of_gain_per_kg_minor),
        ),
        (
            "Cost of gain, all-in".to_owned(),
            per_weight(l.cost_of_gain_per_kg_minor),
        ),
        (
            "Total cost per live head".to_owned(),
            format!("{} {c}", money::text(l.total_cost_per_head_minor, c)),
        ),
        (
            format!("Breakeven at {}", weight(Some(l.sale_weight_kg), 0, "")),
            per_weight(l.breakeven_per_kg_minor),
        ),
        (
            "Death loss".to_owned(),
            format!("{:.1} %", l.death_loss_pct),
        ),
        ("Pull rate".to_owned(), format!("{:.1} %", l.pull_rate_pct)),
    ];
    if closed {
        rows.extend([
            (
                "Sale revenue".to_owned(),
                format!("{} {c}", money::text(Some(l.revenue_minor), c)),
            ),
            (
                "Profit (loss)".to_owned(),
                format!("{} {c}", money::text(l.profit_minor, c)),
            ),
            (
                "Profit per head shipped".to_owned(),
                format!("{} {c}", money::text(l.profit_per_head_minor, c)),
            ),
        ]);
    }
    rows
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}`: the lot's report, a closeout once it shipped;
/// an open lot's forecast takes `?target_kg=`.
pub async fn lot_page(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
    Query(forecast_query): Query<super::forecast_page::ForecastQuery>,
) -> Result<Markup, WebError> {
    // Everything the page shows is read side by side. Only the yard's report is cold work
    // under the user's permits ([`super::cold`]); the lot's days, marks, animals (its rows of
    // `animal_facts` and the yard's ADGs for the ranks), forecast and tag count are bounded
    // reads of one lot.
    let as_of_ms = query.as_of_ms()?;
    // The lot's days, and its forecast over them (weigh sessions read next).
    let days_and_forecast = async {
        let days = crate::facts::read::lot_days(&state.client, &feedlot_id, &lot_id, as_of_ms)
            .await
            .map_err(WebError::from)?;
        let forecast = super::forecast_page::lot_forecast_over_days(
            &state,
            &feedlot_id,
            &lot_id,
            &days,
            as_of_ms,
            &forecast_query,
        )
        .await?;
        Ok::<_, WebError>((days, forecast))
    };
    let animals = async {
        crate::facts::animals::lot_herd(&state.client, &feedlot_id, &lot_id)
            .await
            .map_err(WebError::from)
    };
    let changes = async {
        crate::queries::changes::lot_changes(&state.client, &feedlot_id, &lot_id)
            .await
            .map_err(WebError::from)
    };
    let plans = async {
        crate::queries::plans::plans(&state.client, &feedlot_id, Some(&lot_id))
            .await
            .map_err(WebError::from)
    };
    let ((l, standing), (days, forecast), by_dof, animals, tagged, changes, plans) = tokio::try_join!(
        lot_and_yard(&state, &feedlot_id, &lot_id, &query),
        days_and_forecast,
        super::dof_page::lot_by_dof(&state, &feedlot_id, &lot_id, &query),
        animals,
        tagged_in_lot(&state.client, &feedlot_id, &lot_id),
        changes,
        plans,
    )?;
    let (weight_series, intake_series) = crate::facts::read::lot_series(&days, &state.settings);
    let closed = l.status == "closed";
    let c = &l.currency;
    let units = super::units::current();
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            (page_head(&format!("Lot {lot_id} · {feedlot_id}")))
            body {
                (nav(&feedlot_id))
                h1 { @if closed { "Closeout: lot " } @else { "Lot " } (lot_id) }
                p { (l.origin) " · arrived " (utc(l.arrived_at_ms))
                    @if let Some(end) = l.closed_at_ms { " · closed " (utc(end)) }
                    @else { " · pens " (l.pens.join(", ")) }
                    " · " a href={"/api/feedlots/" (feedlot_id) "/lots/" (lot_id)} { "JSON" }
                    " · " a #closeout-pdf href={"/feedlots/" (feedlot_id) "/lots/" (lot_id) "/closeout.pdf" (as_of_suffix(&query))} { "PDF" } }
                table #measures {
                    thead { tr { th { "Measure" } th { "Value (" (units.key()) ")" } } }
                    tbody {
                        @for (label, value) in measure_rows(&l, units) {
                            (row(&label, value))
                        }
                    }
                }
                h2 { "Against the yard's lots" }
                table #standing {
                    thead { tr { th { "Measure" } th { "This lot" } th { "Rank" } th { "Yard median" } } }
                    tbody {
                        @for m in &standing {
                            tr data-key=(m.key) {
                                @let is_money = m.is_money();
                                @let shown = |v: Option<f64>| if is_money { format!("{} {c}", money::text(v, c)) } else { f(v, 2) };
                                th { (if is_money { m.label.replace("minor", c) } else { m.label.to_owned() }) @if m.lower_is_better { " " small { "(lower is better)" } } }
                                td.value { (shown(m.value)) }
                                td.rank { @match m.rank { Some(r) => { (r) " of " (m.lots) }, None => "–" } }
                                td.median { (shown(m.yard_median)) }
                            }
                        }
                    }
                }
                h2 { "Weight over time" }
                (time_series(
                    "lot-weight",
                    "Weight per head, pay basis",
                    &weight_series.iter().map(|(at, kg)| (*at, units.from_kg(*kg))).collect::<Vec<_>>(),
                    units.weight(),
                    "The curve appears once head on hand have been re-weighed on two days.",
                ))
                h2 { "Dry-matter intake over time" }
                (time_series(
                    "lot-intake",
                    "Dry-matter intake per head per day",
                    &intake_series.iter().map(|(at, kg)| (*at, units.from_kg(*kg))).collect::<Vec<_>>(),
                    &format!("{}/hd/d", units.weight()),
                    "The curve appears after two days on feed.",
                ))
                @if !closed { (super::forecast_page::lot_section(&feedlot_id, &lot_id, &forecast)) }
                (super::dof_page::section(&feedlot_id, &lot_id, &by_dof))
                h2 { "Cost per live head" }
                (stacked_bars("cost-breakdown", &[(l.lot_id.clone(), cost_parts(&l))], &l.currency))
                h2 { "Animals in the lot" }
                p #lot-head { (l.head_in) " head placed · " (tagged) " tagged into the lot · " (animals.len()) " weighed · "
                    a href={"/feedlots/" (feedlot_id) "/lots/" (lot_id) "/animals.csv"} { "CSV" } }
                (super::herd_page::animal_table(&feedlot_id, &animals))
                (super::plans::section(&plans))
                (super::changes::section(&changes))
            }
        }
    })
}

/// Animals whose latest placement is in `lot_id`: tagged into the lot, weighed or not (only
/// the animals ever placed in it are grouped).
async fn tagged_in_lot(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
) -> Result<u64, WebError> {
    Ok(client
        .query(
            "SELECT count() FROM (SELECT eid, argMax(lot_id, captured_at_ms) AS lot \
             FROM placements WHERE feedlot_id = ? AND eid GLOBAL IN \
             (SELECT eid FROM placements WHERE feedlot_id = ? AND lot_id = ?) \
             GROUP BY eid) WHERE lot = ?",
        )
        .bind(feedlot_id)
        .bind(feedlot_id)
        .bind(lot_id)
        .bind(lot_id)
        .fetch_one::<u64>()
        .await?)
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}/animals.csv`.
pub async fn lot_animals_csv(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let animals = crate::facts::animals::lot_herd(&state.client, &feedlot_id, &lot_id).await?;
    super::herd_page::csv_of(&format!("{feedlot_id}-{lot_id}-animals.csv"), &animals)
}
