//! Pen measures: who is in each pen and what the pen was fed.

use serde::Serialize;

use super::ledger::{DAY_MS, Ledger};

/// One pen's cattle and feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PenMeasures {
    /// The pen.
    pub pen_id: String,
    /// Head in it now.
    pub head_on_hand: i64,
    /// Lots in it now, with their head.
    pub lots: Vec<(String, i64)>,
    /// Head-days in the pen.
    pub head_days: f64,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter delivered, kg.
    pub dry_matter_kg: f64,
    /// Dry-matter intake, kg per head per day.
    pub dmi_kg: Option<f64>,
    /// Feed cost, minor units.
    pub feed_cost_minor: f64,
    /// Feed cost per head per day, minor units.
    pub feed_cost_per_head_day_minor: Option<f64>,
    /// The latest delivery, ms since the epoch UTC.
    pub last_delivery_at_ms: Option<u64>,
}

/// Every pen that held cattle or was fed (not the unpenned arrivals).
pub fn pen_measures(ledger: &Ledger) -> Vec<PenMeasures> {
    ledger
        .pens
        .iter()
        .filter(|(id, _)| !id.is_empty())
        .map(|(id, acc)| {
            let head_days = acc.head_ms / DAY_MS;
            let per_day = |x: f64| (head_days > 1e-9).then(|| x / head_days);
            PenMeasures {
                pen_id: id.clone(),
                head_on_hand: acc.on_hand,
                lots: ledger.lots_in(id),
                head_days,
                as_fed_kg: acc.as_fed_kg,
                dry_matter_kg: acc.dm_kg,
                dmi_kg: per_day(acc.dm_kg),
                feed_cost_minor: acc.feed_minor,
                feed_cost_per_head_day_minor: per_day(acc.feed_minor),
                last_delivery_at_ms: acc.last_delivery_ms,
            }
        })
        .collect()
}
