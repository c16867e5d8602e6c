//! The rollup task: keeps `yard_kpis` current. Each pass reads when each yard's daily facts
//! were last recomputed (`fact_state`, one small row per yard and recompute, see
//! `crate::facts`); the yards whose facts changed since the last pass get their report read
//! from the facts and one new `yard_kpis` row. Every `full_refresh_secs` all yards are recomputed, because the
//! trailing window moves with time even when no record arrives.

use std::collections::HashMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::kpis::{YardKpis, yard_kpis};
use crate::analytics::Settings;
use crate::config::BenchmarksConfig;
use crate::facts::yard_report;

/// The tables a yard report reads (see `analytics::load`).
/// What says a yard's facts changed: when they were last recomputed, ms.
type Signature = u64;

/// A yard and its [`Signature`].
#[derive(Debug, clickhouse::Row, serde::Deserialize)]
struct YardSignature {
    feedlot_id: String,
    computed_at_ms: u64,
}

/// The rollup's state between passes.
#[derive(Debug)]
pub struct Rollup {
    client: clickhouse::Client,
    settings: Settings,
    seen: HashMap<String, Signature>,
    last_full_ms: Option<u64>,
    full_refresh_ms: u64,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Yards with records.
    pub yards: usize,
    /// Yards whose KPIs row was recomputed.
    pub refreshed: usize,
}

impl Rollup {
    /// A rollup over `client` (bound to the pipeline's database) that recomputes every yard
    /// at least every `full_refresh_secs`.
    pub fn new(client: clickhouse::Client, settings: Settings, full_refresh_secs: u64) -> Self {
        Self {
            client,
            settings,
            seen: HashMap::new(),
            last_full_ms: None,
            full_refresh_ms: full_refresh_secs.saturating_mul(1000),
        }
    }

    /// One pass as of `now_ms`: recomputes the yards that changed (all of them on the first
    /// pass and when a full refresh is due) and inserts their rows.
    pub async fn pass(&mut self, now_ms: u64) -> Result<Pass, clickhouse::error::Error> {
        let sql = "SELECT feedlot_id, max(computed_at_ms) FROM fact_state \
                   GROUP BY feedlot_id ORDER BY feedlot_id";
        let yards = self.client.query(sql).fetch_all::<YardSignature>().await?;
        let full = self
            .last_full_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= self.full_refresh_ms);
        let (mut rows, mut signatures) = (Vec::new(), Vec::new());
        for yard in &yards {
            let signature: Signature = yard.computed_at_ms;
            if !full && self.seen.get(&yard.feedlot_id) == Some(&signature) {
                continue;
            }
            let report =
                yard_report(&self.client, &yard.feedlot_id, now_ms, &self.settings).await?;
            rows.push(yard_kpis(&yard.feedlot_id, &report.lots, now_ms, now_ms));
            signatures.push((yard.feedlot_id.clone(), signature));
        }
        insert(&self.client, &rows).await?;
        self.seen.extend(signatures);
        if full {
            self.last_full_ms = Some(now_ms);
        }
        Ok(Pass {
            yards: yards.len(),
            refreshed: rows.len(),
        })
    }
}

/// Inserts KPI rows in one `INSERT` (nothing when there are none).
pub async fn insert(
    client: &clickhouse::Client,
    rows: &[YardKpis],
) -> Result<(), clickhouse::error::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = client.insert::<YardKpis>("yard_kpis").await?;
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Runs passes every `refresh_secs` until `shutdown`; a failed pass is logged and retried at
/// the next tick (the rows it did not write are recomputed then, their signatures unseen).
pub async fn run(
    client: clickhouse::Client,
    config: BenchmarksConfig,
    settings: Settings,
    shutdown: CancellationToken,
) {
    if !config.enabled {
        return;
    }
    let mut rollup = Rollup::new(client, settings, config.full_refresh_secs);
    let mut tick = tokio::time::interval(Duration::from_secs(config.refresh_secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let started = std::time::Instant::now();
        match rollup.pass(now_ms()).await {
            Ok(pass) => tracing::info!(
                yards = pass.yards,
                refreshed = pass.refreshed,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "benchmark KPIs refreshed"
            ),
            Err(error) => {
                tracing::warn!(%error, "benchmark KPI refresh failed; retrying next tick")
            }
        }
    }
}
