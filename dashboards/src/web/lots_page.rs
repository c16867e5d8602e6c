//! Lots: every lot of the yard compared (sortable, CSV, JSON), and one lot's report — its
//! closeout once shipped — with its cost breakdown and its animals ranked within the lot.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::breakdown_chart::{Part, stacked_bars};
use super::report::{ReportQuery, load, nav, utc};
use super::table::{Cell, Column, csv_response, html_table, money, num, sort};
use super::{AppState, WebError};
use crate::analytics::{KG_PER_CWT, LotMeasures, LotStanding, standing};
use crate::queries::of_lot;
use schemas::weight::KG_PER_LB;

fn lb(kg: Option<f64>) -> Option<f64> {
    kg.map(|k| k / KG_PER_LB)
}

fn per_cwt(per_kg: Option<f64>) -> Option<f64> {
    per_kg.map(|c| c * KG_PER_CWT)
}

/// The lot table's columns (HTML, CSV and the JSON's sort keys).
pub const COLUMNS: &[Column<LotMeasures>] = &[
    Column {
        key: "lot",
        label: "Lot",
        value: |l| Cell::Text(l.lot_id.clone()),
    },
    Column {
        key: "status",
        label: "Status",
        value: |l| Cell::Text(l.status.into()),
    },
    Column {
        key: "head_in",
        label: "Head in",
        value: |l| num(Some(f64::from(l.head_in)), 0),
    },
    Column {
        key: "dead",
        label: "Dead",
        value: |l| num(Some(f64::from(l.head_dead)), 0),
    },
    Column {
        key: "shipped",
        label: "Shipped",
        value: |l| num(Some(f64::from(l.head_shipped)), 0),
    },
    Column {
        key: "on_feed",
        label: "On feed",
        value: |l| num(Some(l.head_on_hand as f64), 0),
    },
    Column {
        key: "dof",
        label: "DOF",
        value: |l| num(Some(l.days_on_feed), 1),
    },
    Column {
        key: "in_kg",
        label: "In kg/hd",
        value: |l| num(Some(l.in_weight_kg), 0),
    },
    Column {
        key: "now_kg",
        label: "Now/out kg/hd",
        value: |l| num(l.current_weight_kg, 0),
    },
    Column {
        key: "adg",
        label: "ADG kg/d (deads out)",
        value: |l| num(l.adg_deads_out_kg, 2),
    },
    Column {
        key: "adg_lb",
        label: "ADG lb/d",
        value: |l| num(lb(l.adg_deads_out_kg), 2),
    },
    Column {
        key: "adg_deads_in",
        label: "ADG kg/d (deads in)",
        value: |l| num(l.adg_deads_in_kg, 2),
    },
    Column {
        key: "dmi",
        label: "DMI kg/hd/d",
        value: |l| num(l.dmi_kg, 2),
    },
    Column {
        key: "fg",
        label: "F:G (DM)",
        value: |l| num(l.feed_to_gain_dm, 2),
    },
    Column {
        key: "feed_hd_day",
        label: "Feed $/hd/d",
        value: |l| money(l.feed_cost_per_head_day_minor),
    },
    Column {
        key: "feed_cog_cwt",
        label: "Feed COG $/cwt",
        value: |l| money(l.feed_cost_of_gain_per_cwt_minor),
    },
    Column {
        key: "cog_cwt",
        label: "COG $/cwt (all-in)",
        value: |l| money(l.cost_of_gain_per_cwt_minor),
    },
    Column {
        key: "cost_head",
        label: "Total $/hd",
        value: |l| money(l.total_cost_per_head_minor),
    },
    Column {
        key: "breakeven_cwt",
        label: "Breakeven $/cwt",
        value: |l| money(l.breakeven_per_cwt_minor),
    },
    Column {
        key: "death_loss",
        label: "Death loss %",
        value: |l| num(Some(l.death_loss_pct), 1),
    },
    Column {
        key: "pull_rate",
        label: "Pull rate %",
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

fn cost_parts(l: &LotMeasures) -> Vec<Part> {
    let live = f64::from(l.head_in.saturating_sub(l.head_dead)).max(1.0);
    vec![
        Part::new("Cattle", l.purchase_minor / live / 100.0),
        Part::new("Feed", l.feed_cost_minor / live / 100.0),
        Part::new("Yardage", l.yardage_minor / live / 100.0),
        Part::new("Medicine", l.medicine_minor / live / 100.0),
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
                (html_table("lots", COLUMNS, &lots, &query.sorting(), "lot", Some(&link)))
                h2 { "Cost per live head" }
                (stacked_bars("cost-breakdown", &bars, "$"))
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
fn find_lot<'a>(lots: &'a [LotMeasures], lot_id: &str) -> Result<&'a LotMeasures, WebError> {
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

fn row(label: &str, metric: String, us: Option<String>) -> Markup {
    html! { tr { th { (label) } td { (metric) } td { (us.unwrap_or_default()) } } }
}

fn f(v: Option<f64>, d: usize) -> String {
    v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "–".into())
}

fn dollars(minor: Option<f64>) -> String {
    minor
        .map(|m| format!("{:.2}", m / 100.0))
        .unwrap_or_else(|| "–".into())
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}`: the lot's report, a closeout once it shipped.
pub async fn lot_page(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Markup, WebError> {
    let (l, standing) = lot_and_yard(&state, &feedlot_id, &lot_id, &query).await?;
    let animals = of_lot(&super::herd_page::herd(&state, &feedlot_id).await?, &lot_id);
    let closed = l.status == "closed";
    let c = &l.currency;
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
                    " · " a href={"/api/feedlots/" (feedlot_id) "/lots/" (lot_id)} { "JSON" } }
                table #measures {
                    thead { tr { th { "Measure" } th { "Metric" } th { "US" } } }
                    tbody {
                        (row("Head in / dead / shipped / on feed", format!("{} / {} / {} / {}", l.head_in, l.head_dead, l.head_shipped, l.head_on_hand), None))
                        (row("Days on feed", f(Some(l.days_on_feed), 1), None))
                        (row("In weight, pay", format!("{} kg", f(Some(l.in_weight_kg), 1)), Some(format!("{} lb", f(lb(Some(l.in_weight_kg)), 0)))))
                        (row(if closed { "Out weight, pay" } else { "Weight now, pay" }, format!("{} kg", f(l.current_weight_kg, 1)), Some(format!("{} lb", f(lb(l.current_weight_kg), 0)))))
                        (row("ADG, deads out", format!("{} kg/d", f(l.adg_deads_out_kg, 2)), Some(format!("{} lb/d", f(lb(l.adg_deads_out_kg), 2)))))
                        (row("ADG, deads in", format!("{} kg/d", f(l.adg_deads_in_kg, 2)), Some(format!("{} lb/d", f(lb(l.adg_deads_in_kg), 2)))))
                        (row("Dry-matter intake", format!("{} kg/hd/d", f(l.dmi_kg, 2)), Some(format!("{} lb/hd/d", f(lb(l.dmi_kg), 1)))))
                        (row("Feed:gain, dry matter", f(l.feed_to_gain_dm, 2), None))
                        (row("Feed:gain, as fed", f(l.feed_to_gain_as_fed, 2), None))
                        (row("Feed cost per head per day", format!("{} {c}", dollars(l.feed_cost_per_head_day_minor)), None))
                        (row("Feed cost of gain", format!("{} {c}/kg", dollars(l.feed_cost_of_gain_per_kg_minor)), Some(format!("{} {c}/cwt", dollars(per_cwt(l.feed_cost_of_gain_per_kg_minor))))))
                        (row("Cost of gain, all-in", format!("{} {c}/kg", dollars(l.cost_of_gain_per_kg_minor)), Some(format!("{} {c}/cwt", dollars(l.cost_of_gain_per_cwt_minor)))))
                        (row("Total cost per live head", format!("{} {c}", dollars(l.total_cost_per_head_minor)), None))
                        (row(&format!("Breakeven at {:.0} kg", l.sale_weight_kg), format!("{} {c}/kg", dollars(l.breakeven_per_kg_minor)), Some(format!("{} {c}/cwt", dollars(l.breakeven_per_cwt_minor)))))
                        (row("Death loss", format!("{:.1} %", l.death_loss_pct), None))
                        (row("Pull rate", format!("{:.1} %", l.pull_rate_pct), None))
                        @if closed {
                            (row("Sale revenue", format!("{} {c}", dollars(Some(l.revenue_minor))), None))
                            (row("Profit (loss)", format!("{} {c}", dollars(l.profit_minor)), None))
                            (row("Profit per head shipped", format!("{} {c}", dollars(l.profit_per_head_minor)), None))
                        }
                    }
                }
                h2 { "Against the yard's lots" }
                table #standing {
                    thead { tr { th { "Measure" } th { "This lot" } th { "Rank" } th { "Yard median" } } }
                    tbody {
                        @for m in &standing {
                            tr data-key=(m.key) {
                                @let money = m.is_money();
                                @let shown = |v: Option<f64>| if money { format!("{} {c}", dollars(v)) } else { f(v, 2) };
                                th { (if money { m.label.replace("minor", c) } else { m.label.to_owned() }) @if m.lower_is_better { " " small { "(lower is better)" } } }
                                td.value { (shown(m.value)) }
                                td.rank { @match m.rank { Some(r) => { (r) " of " (m.lots) }, None => "–" } }
                                td.median { (shown(m.yard_median)) }
                            }
                        }
                    }
                }
                h2 { "Cost per live head" }
                (stacked_bars("cost-breakdown", &[(l.lot_id.clone(), cost_parts(&l))], "$"))
                h2 { "Animals in the lot" }
                p { (animals.len()) " placed · "
                    a href={"/feedlots/" (feedlot_id) "/lots/" (lot_id) "/animals.csv"} { "CSV" } }
                (super::herd_page::animal_table(&feedlot_id, &animals))
            }
        }
    })
}

/// `GET /feedlots/{feedlot_id}/lots/{lot_id}/animals.csv`.
pub async fn lot_animals_csv(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let animals = of_lot(&super::herd_page::herd(&state, &feedlot_id).await?, &lot_id);
    super::herd_page::csv_of(&format!("{feedlot_id}-{lot_id}-animals.csv"), &animals)
}
