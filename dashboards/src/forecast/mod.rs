//! Forecasts (issue 14, item 2), read from the daily facts and the weigh sessions; see
//! `docs/forecasts.md` for every assumption and the measured accuracy.
//!
//! - [`lot`]: per open lot, the projected out date at the target weight, the feed and cost to
//!   finish and the projected closeout (cost of gain, breakeven), with a range;
//! - [`feed_plan`]: per yard, the feed each ingredient needs over the next days.

pub mod feed_plan;
pub mod fit;
pub mod lot;

pub use feed_plan::{FeedPlan, feed_plan};
pub use fit::{Fit, Session};
pub use lot::{LotForecast, Projection, forecast};

use crate::analytics::Settings;
use crate::facts::rows::{DAY_MS, day_of};

/// Why a forecast could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// The lot has no facts up to the moment (unknown, or not arrived yet).
    #[error("the lot has no records up to this moment")]
    NoFacts,
    /// The lot has closed: it has a closeout, not a forecast.
    #[error("lot {lot_id:?} has closed (its closeout is on its page)")]
    Closed {
        /// The lot.
        lot_id: String,
        /// When its last head left, ms since the epoch (0 when it has no head on hand).
        closed_ms: u64,
    },
    /// Neither two weigh sessions nor a re-weigh give the lot's gain yet.
    #[error("lot {0:?} has not been re-weighed yet: no gain to project")]
    NoGain(String),
    /// ClickHouse did not answer.
    #[error("storage: {0}")]
    Storage(#[from] clickhouse::error::Error),
}

/// The choices a forecast depends on (see `docs/forecasts.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastOptions {
    /// The scale (full) weight per head to finish at, kg; None: the yard's
    /// `analytics.target_live_weight_kg`.
    pub target_live_weight_kg: Option<f64>,
    /// Weigh sessions the ADG is fitted over (the latest ones).
    pub sessions: usize,
    /// Days of feed the intake and feed cost are measured over (the latest ones).
    pub recent_days: u32,
    /// How much of its placement ADG a lot loses per day on feed (0.0015: about 25 % less by
    /// 170 days, the shape of typical finishing closeouts); the web takes the yard's
    /// `analytics.adg_decline_per_day`.
    pub adg_decline_per_day: f64,
    /// The least half-width of the ADG range, % (the range is ± the larger of this and two
    /// standard errors of the fitted ADG).
    pub range_pct: f64,
    /// Longest projection, days.
    pub max_days: u32,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            target_live_weight_kg: None,
            sessions: 4,
            recent_days: 14,
            adg_decline_per_day: 0.0015,
            range_pct: 10.0,
            max_days: 400,
        }
    }
}

type Result<T> = std::result::Result<T, ForecastError>;

/// `feedlot_id`'s lot `lot_id`'s weigh sessions up to `as_of_ms`: per day, the mean scale
/// weight of the lot's animals weighed, by days on feed from `arrived_ms`.
pub async fn weigh_sessions(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
    arrived_ms: u64,
    as_of_ms: u64,
) -> std::result::Result<Vec<Session>, clickhouse::error::Error> {
    let corrected = crate::queries::live::has_corrections(client, feedlot_id).await?;
    let rows: Vec<(f64, f64, u64)> = client
        .query(&format!(
            "SELECT avg(captured_at_ms) AS mean_ms, avg(weight_kg), count() FROM {} \
             GROUP BY intDiv(captured_at_ms, 86400000) ORDER BY mean_ms",
            crate::queries::live::source_if(
                "weighings",
                "feedlot_id = ? AND captured_at_ms <= ? AND eid IN (\
                 SELECT eid FROM placements WHERE feedlot_id = ? AND lot_id = ?)",
                corrected
            )
        ))
        // A plain `IN`: weighings are keyed by (yard, eid), so only the lot's animals' rows
        // are merged (4-5x less than a `GLOBAL IN` set on the bench yard); on a cluster the
        // subquery runs on each shard's own table, which holds the whole yard.
        .with_setting("distributed_product_mode", "local")
        .bind(feedlot_id)
        .bind(as_of_ms)
        .bind(feedlot_id)
        .bind(lot_id)
        .fetch_all()
        .await?;
    Ok(rows
        .into_iter()
        .map(|(at, kg, head)| Session {
            days_on_feed: (at - arrived_ms as f64) / DAY_MS as f64,
            mean_kg: kg,
            head: u32::try_from(head).unwrap_or(u32::MAX),
        })
        .collect())
}

/// `feedlot_id`'s lot `lot_id` forecast as of `as_of_ms` from its facts and weigh sessions.
pub async fn lot_forecast(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
    as_of_ms: u64,
    settings: &Settings,
    options: &ForecastOptions,
) -> Result<LotForecast> {
    let rows = crate::facts::read::lot_days(client, feedlot_id, lot_id, as_of_ms).await?;
    lot_forecast_over_days(
        client, feedlot_id, lot_id, &rows, as_of_ms, settings, options,
    )
    .await
}

/// [`lot_forecast`] over the lot's day rows up to `as_of_ms`, already read
/// ([`crate::facts::read::lot_days`]: the lot's page shows them too).
pub async fn lot_forecast_over_days(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
    rows: &[crate::facts::rows::LotDayRow],
    as_of_ms: u64,
    settings: &Settings,
    options: &ForecastOptions,
) -> Result<LotForecast> {
    let Some(last) = rows.last() else {
        return Err(ForecastError::NoFacts);
    };
    let sessions = weigh_sessions(client, feedlot_id, lot_id, last.arrived_ms, as_of_ms).await?;
    let f = forecast(rows, &sessions, as_of_ms, settings, options)?;
    tracing::debug!(
        feedlot_id,
        lot_id,
        day = day_of(as_of_ms),
        days_to_finish = f.expected.days_to_finish,
        "lot forecast"
    );
    Ok(f)
}
