//! Forecasts (issue 14, item 2; [`crate::forecast`]): a lot's projected out date, feed, cost
//! and closeout, as JSON and as a section of the lot's page; the yard's feed plan by
//! ingredient, as JSON, a page and CSV. Everything is shown in the reader's units.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

use super::money::{self, InCurrency};
use super::report::{ReportQuery, nav, utc};
use super::table::{Cell, Column, csv_response, html_table, num};
use super::units::{Unit, current};
use super::{AppState, WebError};
use crate::facts::rows::LotDayRow;
use crate::forecast::feed_plan::IngredientNeed;
use crate::forecast::{FeedPlan, ForecastError, ForecastOptions, LotForecast};

/// Days a feed plan covers unless `?days=` says otherwise.
pub const PLAN_DAYS: u32 = 14;
/// Longest feed plan, days.
pub const MAX_PLAN_DAYS: u32 = 90;
/// Days of deliveries a feed plan measures intake over.
pub const PLAN_RECENT_DAYS: u32 = 7;

/// Query parameters of the forecasts: `?as_of=` (RFC 3339), `?target_kg=` (a lot's scale
/// finish weight, kg per head) and `?days=` (the feed plan's days).
#[derive(Debug, Default, Deserialize)]
pub struct ForecastQuery {
    /// Forecast as of this UTC time (default: now).
    pub as_of: Option<String>,
    /// The lot's target scale weight, kg per head (default: the yard's
    /// `analytics.target_live_weight_kg`).
    pub target_kg: Option<String>,
    /// Days of the feed plan (1-90, default 14).
    pub days: Option<String>,
}

impl ForecastQuery {
    fn as_of_ms(&self) -> Result<u64, WebError> {
        ReportQuery {
            as_of: self.as_of.clone(),
            ..ReportQuery::default()
        }
        .as_of_ms()
    }

    fn target_kg(&self) -> Result<Option<f64>, WebError> {
        let Some(text) = &self.target_kg else {
            return Ok(None);
        };
        match text.trim().parse::<f64>() {
            Ok(kg) if (50.0..=1_500.0).contains(&kg) => Ok(Some(kg)),
            _ => Err(WebError::BadRequest(format!(
                "target_kg: {text:?} is not a finished animal's weight in kg (50-1500)"
            ))),
        }
    }

    fn days(&self) -> Result<u32, WebError> {
        let Some(text) = &self.days else {
            return Ok(PLAN_DAYS);
        };
        match text.trim().parse::<u32>() {
            Ok(d) if (1..=MAX_PLAN_DAYS).contains(&d) => Ok(d),
            _ => Err(WebError::BadRequest(format!(
                "days: {text:?} is not a whole number of days from 1 to {MAX_PLAN_DAYS}"
            ))),
        }
    }
}

/// A lot's forecast as the API answers: the forecast, or why there is none (a closed lot, a
/// lot not re-weighed yet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotForecastAnswer {
    /// The lot.
    pub lot_id: String,
    /// The moment forecast from, ms since the epoch UTC.
    pub as_of_ms: u64,
    /// The forecast (None when there is none).
    pub forecast: Option<LotForecast>,
    /// Why there is none.
    pub unavailable: Option<String>,
}

/// `lot_id`'s forecast (404 when the yard has no such lot by then).
pub async fn lot_forecast(
    state: &AppState,
    feedlot_id: &str,
    lot_id: &str,
    query: &ForecastQuery,
) -> Result<LotForecastAnswer, WebError> {
    let as_of_ms = query.as_of_ms()?;
    let days = crate::facts::read::lot_days(&state.client, feedlot_id, lot_id, as_of_ms).await?;
    lot_forecast_over_days(state, feedlot_id, lot_id, &days, as_of_ms, query).await
}

/// [`lot_forecast`] as of `as_of_ms` over the lot's day rows up to then, already read (the
/// lot's page shows them too).
pub async fn lot_forecast_over_days(
    state: &AppState,
    feedlot_id: &str,
    lot_id: &str,
    days: &[LotDayRow],
    as_of_ms: u64,
    query: &ForecastQuery,
) -> Result<LotForecastAnswer, WebError> {
    let options = ForecastOptions {
        target_live_weight_kg: query.target_kg()?,
        adg_decline_per_day: state.settings.adg_decline_per_day,
        ..ForecastOptions::default()
    };
    let result = crate::forecast::lot_forecast_over_days(
        &state.client,
        feedlot_id,
        lot_id,
        days,
        as_of_ms,
        &state.settings,
        &options,
    )
    .await;
    let (forecast, unavailable) = match result {
        Ok(f) => (Some(f), None),
        Err(ForecastError::NoFacts) => {
            return Err(WebError::NotFound(format!(
                "no lot {lot_id:?} at this yard"
            )));
        }
        Err(ForecastError::Storage(e)) => return Err(WebError::Storage(e)),
        Err(e @ (ForecastError::Closed { .. } | ForecastError::NoGain(_))) => {
            (None, Some(e.to_string()))
        }
    };
    Ok(LotForecastAnswer {
        lot_id: lot_id.to_owned(),
        as_of_ms,
        forecast,
        unavailable,
    })
}

/// `GET /api/feedlots/{feedlot_id}/lots/{lot_id}/forecast`.
pub async fn lot_json(
    State(state): State<AppState>,
    Path((feedlot_id, lot_id)): Path<(String, String)>,
    Query(query): Query<ForecastQuery>,
) -> Result<Json<LotForecastAnswer>, WebError> {
    Ok(Json(
        lot_forecast(&state, &feedlot_id, &lot_id, &query).await?,
    ))
}

/// The lot page's section: the expected projection beside the range's ends.
pub fn lot_section(feedlot_id: &str, lot_id: &str, answer: &LotForecastAnswer) -> Markup {
    let units = current();
    let w = |kg: f64, d: usize| format!("{:.d$} {}", units.from_kg(kg), units.weight());
    let currency = answer.forecast.as_ref().map_or("", |f| f.currency.as_str());
    let per_weight = |minor: Option<f64>| {
        let unit = Unit::MoneyPerWeight;
        minor
            .map(|m| {
                let shown = money::text(Some(unit.convert(m, units)), currency);
                let per = unit.text(units).replace('$', &money::sign(currency));
                format!("{shown} {per}")
            })
            .unwrap_or_else(|| "–".into())
    };
    // Whole major units: a lot's cost to finish is thousands.
    let whole = |minor: f64| format!("{:.0}", money::major(minor, currency));
    html! {
        h2 { "Forecast" }
        @match &answer.forecast {
            None => p #forecast-none { (answer.unavailable.as_deref().unwrap_or("No forecast.")) },
            Some(f) => {
                p { "From " (utc(f.as_of_ms)) " at " (format!("{:.0}", f.days_on_feed)) " days on feed: "
                    (w(f.weight_now_kg, 0)) " a head now (scale), ADG "
                    (w(f.expected.adg_now_kg, 2)) "/d ("
                    (match f.adg_source { crate::forecast::lot::AdgSource::WeighSessions => format!("{} weigh sessions", f.weigh_sessions), crate::forecast::lot::AdgSource::LotMeasures => "the lot's measured ADG".to_owned() })
                    "), to " (w(f.target_live_weight_kg, 0)) "; range ± " (format!("{:.0}", f.range_pct)) " % of ADG · "
                    a href={"/api/feedlots/" (feedlot_id) "/lots/" (lot_id) "/forecast"} { "JSON" } }
                table #forecast {
                    thead { tr { th { "Projection (" (units.key()) ")" } th { "Expected" } th { "Fast (ADG +" (format!("{:.0}", f.range_pct)) " %)" } th { "Slow (ADG −" (format!("{:.0}", f.range_pct)) " %)" } } }
                    tbody {
                        @let ps = [&f.expected, &f.fast, &f.slow];
                        tr data-key="out_date" { th { "Out date" } @for p in ps { td { (utc(p.out_date_ms).get(..10).unwrap_or_default()) } } }
                        tr data-key="days_to_finish" { th { "Days to finish" } @for p in ps { td { (format!("{:.0}", p.days_to_finish)) } } }
                        tr data-key="dof_at_out" { th { "Days on feed at closeout" } @for p in ps { td { (format!("{:.0}", p.days_on_feed_at_out)) } } }
                        tr data-key="dm_to_finish" { th { "Dry matter to finish, lot" } @for p in ps { td { (w(p.dry_matter_to_finish_kg, 0)) } } }
                        tr data-key="as_fed_to_finish" { th { "Feed as fed to finish, lot" } @for p in ps { td { (w(p.as_fed_to_finish_kg, 0)) } } }
                        tr data-key="feed_cost_to_finish" { th { "Feed cost to finish (" (f.currency) ")" } @for p in ps { td { (whole(p.feed_cost_to_finish_minor)) } } }
                        tr data-key="yardage_to_finish" { th { "Yardage to finish (" (f.currency) ")" } @for p in ps { td { (whole(p.yardage_to_finish_minor)) } } }
                        tr data-key="total_cost" { th { "Total cost at closeout (" (f.currency) ")" } @for p in ps { td { (whole(p.total_cost_minor)) } } }
                        tr data-key="cog" { th { "Cost of gain, all-in" } @for p in ps { td { (per_weight(p.cost_of_gain_per_kg_minor)) } } }
                        tr data-key="breakeven" { th { "Breakeven at " (w(f.sale_weight_kg, 0)) } @for p in ps { td { (per_weight(p.breakeven_per_kg_minor)) } } }
                    }
                }
                p.note { "Intake follows body weight from the last 14 days' "
                    (f.dmi_now_kg.map(|d| w(d, 2)).unwrap_or_else(|| "–".into())) " DM a head a day; ADG declines with days on feed; no further deaths or medicine are projected (docs/forecasts.md)." }
            }
        }
    }
}

/// The feed plan's ingredient columns (HTML and CSV), money in the yard's currency.
pub const COLUMNS: &[Column<InCurrency<IngredientNeed>>] = &[
    Column {
        key: "ingredient",
        label: "Ingredient",
        unit: Unit::None,
        value: |n| Cell::Text(n.row.ingredient.clone()),
    },
    Column {
        key: "per_day",
        label: "Per day {u}",
        unit: Unit::Weight,
        value: |n| num(Some(n.row.per_day_kg), 0),
    },
    Column {
        key: "need",
        label: "Needed {u}",
        unit: Unit::Weight,
        value: |n| num(Some(n.row.need_kg), 0),
    },
    Column {
        key: "on_hand",
        label: "On hand {u}",
        unit: Unit::Weight,
        value: |n| num(Some(n.row.on_hand_kg), 0),
    },
    Column {
        key: "to_buy",
        label: "To buy {u}",
        unit: Unit::Weight,
        value: |n| num(Some(n.row.to_buy_kg), 0),
    },
    Column {
        key: "price",
        label: "Price {u}",
        unit: Unit::MoneyPerTonne,
        value: |n| money::cell(n.row.price_per_kg_minor.map(|p| p * 1_000.0), &n.currency),
    },
    Column {
        key: "cost",
        label: "Cost of the need $",
        unit: Unit::None,
        value: |n| money::cell(n.row.need_cost_minor, &n.currency),
    },
];

async fn plan(
    state: &AppState,
    feedlot_id: &str,
    query: &ForecastQuery,
) -> Result<FeedPlan, WebError> {
    let (as_of, days) = (query.as_of_ms()?, query.days()?);
    Ok(
        crate::forecast::feed_plan(&state.client, feedlot_id, as_of, days, PLAN_RECENT_DAYS)
            .await?,
    )
}

/// [`plan`] and the yard's currency, which its money is shown in.
async fn plan_in_currency(
    state: &AppState,
    feedlot_id: &str,
    query: &ForecastQuery,
) -> Result<(FeedPlan, String), WebError> {
    let (p, currency) = tokio::try_join!(plan(state, feedlot_id, query), async {
        Ok(crate::queries::currency::yard_currency(&state.client, feedlot_id).await?)
    })?;
    Ok((p, currency))
}

/// `GET /api/feedlots/{feedlot_id}/feed-plan?days=14`.
pub async fn plan_json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ForecastQuery>,
) -> Result<Json<FeedPlan>, WebError> {
    Ok(Json(plan(&state, &feedlot_id, &query).await?))
}

/// `GET /feedlots/{feedlot_id}/feed-plan.csv`, in the reader's units.
pub async fn plan_csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ForecastQuery>,
) -> Result<Response, WebError> {
    let (p, currency) = plan_in_currency(&state, &feedlot_id, &query).await?;
    csv_response(
        &format!("{feedlot_id}-feed-plan-{}d.csv", p.days),
        COLUMNS,
        &money::in_currency(p.ingredients, &currency),
    )
}

/// `GET /feedlots/{feedlot_id}/feed-plan`: the plan by ingredient and by ration.
pub async fn plan_page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<ForecastQuery>,
) -> Result<Markup, WebError> {
    let (p, currency) = plan_in_currency(&state, &feedlot_id, &query).await?;
    let units = current();
    let days = p.days;
    let needs = money::in_currency(p.ingredients, &currency);
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Feed plan · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Feed plan at " (feedlot_id) ": the next " (days) " days" }
                p { "From " (utc(p.as_of_ms)) ", each pen's intake over the last " (p.recent_days)
                    " days on the ration it is on now, for the head in it now (" (units.key()) " units) · "
                    a href={"/feedlots/" (feedlot_id) "/feed-plan.csv?days=" (days)} { "CSV" } " · "
                    a href={"/api/feedlots/" (feedlot_id) "/feed-plan?days=" (days)} { "JSON" } }
                (html_table("feed-plan", COLUMNS, &needs, &Default::default(), "ingredient", None, &currency))
                h2 { "By ration" }
                table #feed-plan-rations {
                    thead { tr { th { "Ration" } th { "Head" } th { "Intake " (units.weight()) "/hd/d, as fed" } th { "Needed " (units.weight()) } } }
                    tbody {
                        @for r in &p.rations {
                            tr { td { (r.ration_id) } td { (r.head) }
                                td { (r.per_head_day_kg.map(|k| format!("{:.1}", units.from_kg(k))).unwrap_or_else(|| "–".into())) }
                                td { (format!("{:.0}", units.from_kg(r.need_kg))) } }
                        }
                    }
                }
                @if !p.unknown_rations.is_empty() {
                    p.note { "Rations fed without a formula (in no ingredient): " (p.unknown_rations.join(", ")) }
                }
            }
        }
    })
}
