//! One yard's KPIs from its lots' measures: the lots it closed in the trailing 365 days,
//! pooled (sums over lots, then one ratio), so a big lot weighs more than a small one.

use serde::{Deserialize, Serialize};

use crate::analytics::LotMeasures;

/// The trailing window a yard's KPIs cover, days.
pub const WINDOW_DAYS: u64 = 365;

const WINDOW_MS: u64 = WINDOW_DAYS * 86_400_000;

/// A row of `yard_kpis` (migration 0004), in column order. `None` = the yard has no data for
/// the measure and does not contribute to its bands.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct YardKpis {
    /// The yard.
    pub feedlot_id: String,
    /// The end of the window, ms since the epoch UTC.
    pub as_of_ms: u64,
    /// Lots closed in the window.
    pub lots_closed: u32,
    /// Head placed in those lots.
    pub head_in: u64,
    /// Head that died in those lots.
    pub head_dead: u64,
    /// Head shipped from those lots.
    pub head_shipped: u64,
    /// Σ gain / Σ live head-days, kg per head per day (deads out).
    pub adg_kg: Option<f64>,
    /// Σ dry matter fed / Σ gain, kg DM per kg gained.
    pub feed_to_gain_dm: Option<f64>,
    /// Σ (feed + yardage + medicine) / Σ gain, minor units of `currency` per kg (all-in COG).
    pub cost_of_gain_per_kg_minor: Option<f64>,
    /// ISO 4217 code of `cost_of_gain_per_kg_minor` (empty when there is none).
    pub currency: String,
    /// 100 × Σ dead / Σ placed, %.
    pub death_loss_pct: Option<f64>,
    /// Days on feed as closeouts publish them: each closed lot's days on feed (head-weighted
    /// days from arrival to shipment of the cattle shipped) weighted by its head shipped.
    pub days_on_feed: Option<f64>,
    /// When this row was computed, ms since the epoch UTC (the newest row wins).
    pub computed_at_ms: u64,
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 1e-12 && numerator.is_finite()).then(|| numerator / denominator)
}

/// Whether `lot` closed within the [`WINDOW_DAYS`] ending at `as_of_ms`.
pub fn in_window(lot: &LotMeasures, as_of_ms: u64) -> bool {
    let start = as_of_ms.saturating_sub(WINDOW_MS);
    lot.status == "closed" && lot.closed_at_ms.is_some_and(|t| t > start && t <= as_of_ms)
}

/// Pools the lots closed in the window ending at `as_of_ms` into the yard's KPIs.
///
/// - ADG: Σ gain / Σ live head-days, where a lot's live head-days are its gain / its ADG
///   (deads out); lots without a gain (no weights) are left out of ADG, F:G and COG.
/// - F:G: Σ dry matter / Σ gain over the same lots.
/// - COG: Σ (feed + yardage + medicine) / Σ gain over those lots in the yard's main currency
///   (the one with most head shipped); lots in another currency are left out of COG.
/// - Death loss: 100 × Σ dead / Σ placed (every lot in window).
/// - DOF: Σ (a lot's closeout days on feed × its head shipped) / Σ head shipped, so the yard's
///   figure is the average over every animal shipped, as a lot's is over its own.
pub fn yard_kpis(
    feedlot_id: &str,
    lots: &[LotMeasures],
    as_of_ms: u64,
    computed_at_ms: u64,
) -> YardKpis {
    let closed: Vec<&LotMeasures> = lots.iter().filter(|l| in_window(l, as_of_ms)).collect();
    let head_in: u64 = closed.iter().map(|l| u64::from(l.head_in)).sum();
    let head_dead: u64 = closed.iter().map(|l| u64::from(l.head_dead)).sum();
    let head_shipped: u64 = closed.iter().map(|l| u64::from(l.head_shipped)).sum();
    let shipped_days: f64 = closed
        .iter()
        .map(|l| l.days_on_feed * f64::from(l.head_shipped))
        .sum();
    let (mut gain, mut live_days, mut dm) = (0.0, 0.0, 0.0);
    for lot in &closed {
        if let Some(g) = lot.gain_kg {
            gain += g;
            live_days += lot.live_head_days;
            dm += lot.dry_matter_kg;
        }
    }
    let currency = main_currency(&closed);
    let (mut cost, mut cost_gain) = (0.0, 0.0);
    for lot in closed.iter().filter(|l| l.currency == currency) {
        if let Some(g) = lot.gain_kg {
            cost += lot.feed_cost_minor + lot.yardage_minor + lot.medicine_minor;
            cost_gain += g;
        }
    }
    let cog = ratio(cost, cost_gain);
    let placed = head_in as f64;
    YardKpis {
        feedlot_id: feedlot_id.to_owned(),
        as_of_ms,
        lots_closed: u32::try_from(closed.len()).unwrap_or(u32::MAX),
        head_in,
        head_dead,
        head_shipped,
        adg_kg: ratio(gain, live_days),
        feed_to_gain_dm: ratio(dm, gain),
        currency: if cog.is_some() {
            currency
        } else {
            String::new()
        },
        cost_of_gain_per_kg_minor: cog,
        death_loss_pct: ratio(100.0 * head_dead as f64, placed),
        days_on_feed: ratio(shipped_days, head_shipped as f64),
        computed_at_ms,
    }
}

/// The currency with most head shipped (ties: alphabetical), or empty.
fn main_currency(lots: &[&LotMeasures]) -> String {
    let mut by: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for lot in lots.iter().filter(|l| !l.currency.is_empty()) {
        *by.entry(lot.currency.as_str()).or_default() += u64::from(lot.head_shipped);
    }
    let mut best: Option<(&str, u64)> = None;
    for (c, n) in by {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((c, n));
        }
    }
    best.map(|(c, _)| c.to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    /// A closed lot of `head` head (none dead), `gain` kg over `head × 100` live head-days.
    fn lot(
        closed_day: u64,
        head: u32,
        gain: Option<f64>,
        cost: f64,
        currency: &str,
    ) -> LotMeasures {
        let days = f64::from(head) * 100.0;
        LotMeasures {
            lot_id: format!("L{closed_day}"),
            status: "closed",
            origin: String::new(),
            arrived_at_ms: 0,
            closed_at_ms: Some(closed_day * DAY),
            pens: Vec::new(),
            head_in: head,
            head_dead: 0,
            head_shipped: head,
            head_on_hand: 0,
            head_days: days,
            live_head_days: days,
            days_on_feed: 100.0,
            head_days_per_head_in: 100.0,
            in_weight_kg: 300.0,
            current_weight_kg: None,
            gain_kg: gain,
            adg_deads_out_kg: gain.map(|g| g / days),
            adg_deads_in_kg: gain.map(|g| g / days),
            as_fed_kg: 0.0,
            dry_matter_kg: 1_000.0,
            dmi_kg: None,
            as_fed_intake_kg: None,
            feed_to_gain_dm: None,
            feed_to_gain_as_fed: None,
            feed_cost_minor: cost,
            feed_cost_per_head_day_minor: None,
            yardage_minor: 0.0,
            medicine_minor: 0.0,
            purchase_minor: 0.0,
            total_cost_minor: cost,
            total_cost_per_head_minor: None,
            feed_cost_of_gain_per_kg_minor: None,
            cost_of_gain_per_kg_minor: None,
            feed_cost_of_gain_per_cwt_minor: None,
            cost_of_gain_per_cwt_minor: None,
            sale_weight_kg: 600.0,
            breakeven_per_kg_minor: None,
            breakeven_per_cwt_minor: None,
            death_loss_pct: 0.0,
            pull_rate_pct: 0.0,
            revenue_minor: 0.0,
            profit_minor: None,
            profit_per_head_minor: None,
            currency: currency.into(),
        }
    }

    #[test]
    fn cog_is_pooled_in_the_currency_with_most_head_and_a_lot_without_gain_counts_only_for_dof() {
        let as_of = 400 * DAY;
        let lots = [
            lot(100, 10, Some(1_000.0), 100_000.0, "USD"),
            lot(200, 20, Some(3_000.0), 200_000.0, "USD"),
            lot(300, 5, Some(500.0), 900_000.0, "AUD"),
            lot(350, 5, None, 50_000.0, "USD"),
            // Closed 400 days before as_of: outside the window.
            lot(0, 50, Some(9_000.0), 1.0, "AUD"),
        ];
        let k = yard_kpis("y", &lots, as_of, as_of);
        assert_eq!((k.lots_closed, k.head_in, k.head_shipped), (4, 40, 40));
        assert_eq!(k.currency, "USD");
        // USD lots with a gain: (100,000 + 200,000) / (1,000 + 3,000).
        assert_eq!(k.cost_of_gain_per_kg_minor, Some(75.0));
        // Every lot with a gain: 4,500 kg over 3,500 live head-days; DM 3,000 kg / 4,500 kg.
        assert_eq!(k.adg_kg, Some(4_500.0 / 3_500.0));
        assert_eq!(k.feed_to_gain_dm, Some(3_000.0 / 4_500.0));
        assert_eq!(k.days_on_feed, Some(100.0));
        assert_eq!(k.death_loss_pct, Some(0.0));
    }

    #[test]
    fn days_on_feed_is_the_closeouts_weighted_by_head_shipped_not_head_days_per_head_placed() {
        let as_of = 400 * DAY;
        // 10 head shipped at 150 days; 30 head shipped at 190 days, 2 of 32 placed died early.
        let mut short = lot(100, 10, Some(1_000.0), 1.0, "USD");
        short.days_on_feed = 150.0;
        short.head_days_per_head_in = 150.0;
        let mut long = lot(200, 32, Some(3_000.0), 1.0, "USD");
        long.head_dead = 2;
        long.head_shipped = 30;
        long.days_on_feed = 190.0;
        long.head_days_per_head_in = 180.0;
        let k = yard_kpis("y", &[short, long], as_of, as_of);
        assert_eq!(k.days_on_feed, Some((10.0 * 150.0 + 30.0 * 190.0) / 40.0));
    }

    #[test]
    fn a_yard_without_closed_lots_has_no_measures() {
        let mut open = lot(100, 10, Some(1_000.0), 1.0, "USD");
        open.status = "open";
        open.closed_at_ms = None;
        let k = yard_kpis("y", &[open], 400 * DAY, 400 * DAY);
        assert_eq!((k.lots_closed, k.adg_kg, k.days_on_feed), (0, None, None));
        assert_eq!(k.currency, "");
    }
}
