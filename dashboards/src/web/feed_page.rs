//! Feed: ingredients bought and fed, fed feed by supplier and origin, and ration costs
//! (FIFO costing, see `docs/analytics.md`), each table sortable and exported as CSV.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::breakdown_chart::{Part, stacked_bars};
use super::money::{self, InCurrency, in_currency};
use super::report::{ReportQuery, load, nav, utc};
use super::table::{Cell, Column, Sorting, csv_response, html_table, num, sort};
use super::units::Unit;
use super::{AppState, WebError};
use crate::analytics::{FeedReport, IngredientCost, RationCost, SourceCost};

/// Ingredient columns.
pub const INGREDIENTS: &[Column<InCurrency<IngredientCost>>] = &[
    Column {
        key: "ingredient",
        label: "Ingredient",
        unit: Unit::None,
        value: |i| Cell::Text(i.row.ingredient.clone()),
    },
    Column {
        key: "purchased",
        label: "Bought {u}",
        unit: Unit::Weight,
        value: |i| num(Some(i.row.purchased_kg), 0),
    },
    Column {
        key: "purchased_cost",
        label: "Bought $",
        unit: Unit::None,
        value: |i| money::cell(Some(i.row.purchased_cost_minor), &i.currency),
    },
    Column {
        key: "fed",
        label: "Fed {u}",
        unit: Unit::Weight,
        value: |i| num(Some(i.row.fed_kg), 0),
    },
    Column {
        key: "fed_cost",
        label: "Fed $",
        unit: Unit::None,
        value: |i| money::cell(Some(i.row.fed_cost_minor), &i.currency),
    },
    Column {
        key: "on_hand",
        label: "On hand {u}",
        unit: Unit::Weight,
        value: |i| num(Some(i.row.on_hand_kg), 0),
    },
    Column {
        key: "unbought",
        label: "Fed unbought {u}",
        unit: Unit::Weight,
        value: |i| num(Some(i.row.unbought_kg), 0),
    },
    Column {
        key: "price",
        label: "Price {u} now",
        unit: Unit::MoneyPerTonne,
        value: |i| money::cell(i.row.current_price_per_tonne_minor, &i.currency),
    },
];

/// Supplier and origin columns.
pub const SOURCES: &[Column<InCurrency<SourceCost>>] = &[
    Column {
        key: "ingredient",
        label: "Ingredient",
        unit: Unit::None,
        value: |s| Cell::Text(s.row.ingredient.clone()),
    },
    Column {
        key: "supplier",
        label: "Supplier",
        unit: Unit::None,
        value: |s| Cell::Text(s.row.supplier.clone()),
    },
    Column {
        key: "origin",
        label: "Origin",
        unit: Unit::None,
        value: |s| Cell::Text(s.row.origin.clone()),
    },
    Column {
        key: "fed",
        label: "Fed {u}",
        unit: Unit::Weight,
        value: |s| num(Some(s.row.fed_kg), 0),
    },
    Column {
        key: "fed_cost",
        label: "Fed $",
        unit: Unit::None,
        value: |s| money::cell(Some(s.row.fed_cost_minor), &s.currency),
    },
];

/// Ration columns.
pub const RATIONS: &[Column<InCurrency<RationCost>>] = &[
    Column {
        key: "ration",
        label: "Ration",
        unit: Unit::None,
        value: |r| Cell::Text(r.row.ration_id.clone()),
    },
    Column {
        key: "dm_pct",
        label: "DM %",
        unit: Unit::None,
        value: |r| num(Some(r.row.dry_matter_pct), 1),
    },
    Column {
        key: "as_fed_price",
        label: "{u} as fed",
        unit: Unit::MoneyPerTonne,
        value: |r| money::cell(r.row.cost_per_tonne_as_fed_minor, &r.currency),
    },
    Column {
        key: "dm_price",
        label: "{u} DM",
        unit: Unit::MoneyPerTonne,
        value: |r| money::cell(r.row.cost_per_tonne_dm_minor, &r.currency),
    },
    Column {
        key: "formula",
        label: "Formula (% as fed)",
        unit: Unit::None,
        value: |r| {
            Cell::Text(
                r.row
                    .ingredients
                    .iter()
                    .map(|p| format!("{} {:.1}%", p.ingredient, p.inclusion_as_fed_pct))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        },
    },
];

/// The yard's feed report, its moment and the currency its lots share (its money's).
async fn feed(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<(FeedReport, u64, String), WebError> {
    let report = load(state, feedlot_id, query).await?;
    let currency = money::yard_currency(&report.lots);
    Ok((report.feed, report.as_of_ms, currency))
}

/// A feed report's three tables, each row with the yard's currency.
struct Tables {
    ingredients: Vec<InCurrency<IngredientCost>>,
    sources: Vec<InCurrency<SourceCost>>,
    rations: Vec<InCurrency<RationCost>>,
}

impl Tables {
    fn of(feed: FeedReport, currency: &str) -> Self {
        Self {
            ingredients: in_currency(feed.ingredients, currency),
            sources: in_currency(feed.sources, currency),
            rations: in_currency(feed.rations, currency),
        }
    }
}

/// `GET /api/feedlots/{feedlot_id}/feed`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<FeedReport>, WebError> {
    Ok(Json(feed(&state, &feedlot_id, &query).await?.0))
}

/// `GET /feedlots/{feedlot_id}/feed/{table}.csv`: `ingredients`, `sources` or `rations`.
pub async fn csv(
    State(state): State<AppState>,
    Path((feedlot_id, table)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let (feed, _, currency) = feed(&state, &feedlot_id, &query).await?;
    let mut feed = Tables::of(feed, &currency);
    let name = format!("{feedlot_id}-feed-{table}");
    let sorting = query.sorting();
    match table.as_str() {
        "ingredients.csv" => {
            sort(&mut feed.ingredients, INGREDIENTS, &sorting, "ingredient")?;
            csv_response(&name, INGREDIENTS, &feed.ingredients)
        }
        "sources.csv" => {
            sort(&mut feed.sources, SOURCES, &sorting, "fed_cost")?;
            csv_response(&name, SOURCES, &feed.sources)
        }
        "rations.csv" => {
            sort(&mut feed.rations, RATIONS, &sorting, "ration")?;
            csv_response(&name, RATIONS, &feed.rations)
        }
        other => Err(WebError::NotFound(format!(
            "no feed table {other:?}: ingredients.csv, sources.csv or rations.csv"
        ))),
    }
}

/// `GET /feedlots/{feedlot_id}/feed`. The three tables sort together by `?sort=` when the key
/// is theirs; each keeps its default order otherwise.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Markup, WebError> {
    let (report, as_of, currency) = feed(&state, &feedlot_id, &query).await?;
    let unallocated_kg = report.unallocated_kg;
    let mut feed = Tables::of(report, &currency);
    let asked = query.sorting();
    let own = |keys: &[&str]| -> Sorting {
        match &asked.sort {
            Some(k) if keys.contains(&k.as_str()) => asked.clone(),
            _ => Sorting::default(),
        }
    };
    let (si, ss, sr) = (
        own(&INGREDIENTS.iter().map(|c| c.key).collect::<Vec<_>>()),
        own(&SOURCES.iter().map(|c| c.key).collect::<Vec<_>>()),
        own(&RATIONS.iter().map(|c| c.key).collect::<Vec<_>>()),
    );
    sort(&mut feed.ingredients, INGREDIENTS, &si, "fed_cost")?;
    sort(&mut feed.sources, SOURCES, &ss, "fed_cost")?;
    sort(&mut feed.rations, RATIONS, &sr, "ration")?;
    let bars: Vec<(String, Vec<Part>)> = feed
        .ingredients
        .iter()
        .map(|i| {
            (
                i.row.ingredient.clone(),
                vec![Part::new(
                    "Fed",
                    money::major(i.row.fed_cost_minor, &currency),
                )],
            )
        })
        .collect();
    let base = format!("/feedlots/{feedlot_id}/feed");
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Feed · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Feed at " (feedlot_id) }
                p { "As of " (utc(as_of)) " · costed first in, first out: feed is charged the price of the purchases that supplied it · "
                    @if !currency.is_empty() { "money in " (currency) " · " }
                    a href={"/api/feedlots/" (feedlot_id) "/feed"} { "JSON" } }
                @if unallocated_kg > 0.0 {
                    p.warning { (format!("{:.0}", unallocated_kg)) " kg were delivered to empty pens and charged to no lot." }
                }
                h2 { "Ingredients" } p { a href={(base) "/ingredients.csv"} { "CSV" } }
                (html_table("ingredients", INGREDIENTS, &feed.ingredients, &si, "fed_cost", None, &currency))
                (stacked_bars("feed-cost", &bars, &currency))
                h2 { "By supplier and origin" } p { a href={(base) "/sources.csv"} { "CSV" } }
                (html_table("sources", SOURCES, &feed.sources, &ss, "fed_cost", None, &currency))
                h2 { "Rations, priced now" } p { a href={(base) "/rations.csv"} { "CSV" } }
                (html_table("rations", RATIONS, &feed.rations, &sr, "ration", None, &currency))
            }
        }
    })
}
