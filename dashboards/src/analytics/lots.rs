//! Lot measures (a pen report or, for a shipped lot, its closeout), from the ledger's accounts.
//! Definitions follow `../shared/reference/metrics.md`; `docs/analytics.md` states each one.

use std::collections::HashMap;

use serde::Serialize;

use super::ledger::{DAY_MS, Ledger, LotAccount, Reweighed};
use super::records::YardRecords;
use schemas::weight::KG_PER_LB;

/// Kg in a hundredweight (100 lb).
pub const KG_PER_CWT: f64 = 100.0 * KG_PER_LB;

/// Choices the measures depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The pay weight an open lot is expected to sell at, kg per head (breakeven).
    pub target_sale_weight_kg: f64,
    /// The scale (full) weight an animal is finished at, kg (projected out dates).
    pub target_live_weight_kg: f64,
    /// How much of its placement ADG a lot loses per day on feed, for forecasts
    /// (`docs/forecasts.md`).
    pub adg_decline_per_day: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            // 1,400 lb, a typical US finished steer.
            target_sale_weight_kg: 635.0,
            // The same less a 4% pencil shrink's complement: 635 / 0.96.
            target_live_weight_kg: 661.5,
            // About 25 % slower by 170 days on feed than at placement.
            adg_decline_per_day: 0.0015,
        }
    }
}

/// One lot's performance and costs. Money is in minor units (cents) of `currency`, fractional
/// where it is an average; weights are kg on a pay basis (see `docs/analytics.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LotMeasures {
    /// The lot.
    pub lot_id: String,
    /// `open` while head are on feed, `closed` once the last head shipped or died.
    pub status: &'static str,
    /// Where the cattle came from.
    pub origin: String,
    /// First arrival, ms since the epoch UTC.
    pub arrived_at_ms: u64,
    /// When the last head left (closed lots).
    pub closed_at_ms: Option<u64>,
    /// Pens holding the lot now.
    pub pens: Vec<String>,
    /// Head placed.
    pub head_in: u32,
    /// Head dead.
    pub head_dead: u32,
    /// Head shipped.
    pub head_shipped: u32,
    /// Head on feed now.
    pub head_on_hand: i64,
    /// Head-days (deads in).
    pub head_days: f64,
    /// Head-days of the live head (deads out: dead animals' days left out).
    pub live_head_days: f64,
    /// Days on feed: for a closed lot, head-weighted days from arrival to shipment of the
    /// cattle shipped (as published closeouts report it); for an open lot, days since it
    /// arrived.
    pub days_on_feed: f64,
    /// Head-days / head placed (dead head count their days until death).
    pub head_days_per_head_in: f64,
    /// Pay weight in, kg per head.
    pub in_weight_kg: f64,
    /// Pay weight per head, kg: on hand and shipped together (open lots: the re-weighed
    /// head's latest scale weights less the arrival shrink, carried forward to now at the
    /// lot's measured ADG), or out (closed); None until a head on hand was re-weighed.
    pub current_weight_kg: Option<f64>,
    /// Weight gained by the live head (shipped + on hand), kg in all.
    pub gain_kg: Option<f64>,
    /// ADG, deads out: gain / live head's days, kg/day.
    pub adg_deads_out_kg: Option<f64>,
    /// ADG, deads in: gain / all head-days (dead head charged their days), kg/day.
    pub adg_deads_in_kg: Option<f64>,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter delivered, kg.
    pub dry_matter_kg: f64,
    /// Dry-matter intake, kg per head per day.
    pub dmi_kg: Option<f64>,
    /// As-fed intake, kg per head per day.
    pub as_fed_intake_kg: Option<f64>,
    /// Feed conversion, dry matter: kg DM fed per kg gained.
    pub feed_to_gain_dm: Option<f64>,
    /// Feed conversion, as fed.
    pub feed_to_gain_as_fed: Option<f64>,
    /// Feed cost.
    pub feed_cost_minor: f64,
    /// Feed cost per head per day.
    pub feed_cost_per_head_day_minor: Option<f64>,
    /// Yardage charged.
    pub yardage_minor: f64,
    /// Medicine and processing.
    pub medicine_minor: f64,
    /// What the cattle cost.
    pub purchase_minor: f64,
    /// Purchase + feed + yardage + medicine.
    pub total_cost_minor: f64,
    /// Total cost per live head (deads' costs carried by the live head).
    pub total_cost_per_head_minor: Option<f64>,
    /// Feed cost of gain, per kg.
    pub feed_cost_of_gain_per_kg_minor: Option<f64>,
    /// All-in cost of gain (feed + yardage + medicine), per kg.
    pub cost_of_gain_per_kg_minor: Option<f64>,
    /// Feed cost of gain per cwt (100 lb).
    pub feed_cost_of_gain_per_cwt_minor: Option<f64>,
    /// All-in cost of gain per cwt.
    pub cost_of_gain_per_cwt_minor: Option<f64>,
    /// The sale weight breakeven uses, kg per head: the shipped average (closed) or the target.
    pub sale_weight_kg: f64,
    /// Sale price per kg that covers the total cost.
    pub breakeven_per_kg_minor: Option<f64>,
    /// The same per cwt.
    pub breakeven_per_cwt_minor: Option<f64>,
    /// Deaths / head placed, %.
    pub death_loss_pct: f64,
    /// Head treated for sickness / head placed, %.
    pub pull_rate_pct: f64,
    /// Sale revenue so far.
    pub revenue_minor: f64,
    /// Revenue − total cost (closed lots).
    pub profit_minor: Option<f64>,
    /// Profit per head shipped (closed lots).
    pub profit_per_head_minor: Option<f64>,
    /// ISO 4217 code of every money field.
    pub currency: String,
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator.abs() > 1e-12 && numerator.is_finite()).then(|| numerator / denominator)
}

/// A lot's running totals at one moment: everything its measures are computed from. The
/// replay makes them from its accounts; a `lot_day_facts` row holds the same at a day's end.
/// Times are ms since the epoch UTC, head-time head·ms, weights kg, money minor units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LotTotals {
    /// The lot.
    pub lot_id: String,
    /// Where its cattle came from, joined with ", ".
    pub origin: String,
    /// ISO 4217 code of its money.
    pub currency: String,
    /// Pens holding it.
    pub pens: Vec<String>,
    /// First arrival.
    pub arrived_ms: u64,
    /// When the last head left (closed lots).
    pub closed_ms: Option<u64>,
    /// Head placed.
    pub head_in: u32,
    /// Pay weight in, kg in all.
    pub in_pay_kg: f64,
    /// Full weight in (before shrink), kg in all.
    pub in_full_kg: f64,
    /// Purchase cost.
    pub purchase_minor: f64,
    /// Head on hand.
    pub on_hand: i64,
    /// Head-time, deads in, head·ms.
    pub head_ms: f64,
    /// Dead head's time from arrival to death, head·ms.
    pub dead_ms: f64,
    /// Deaths.
    pub dead: u32,
    /// Head shipped.
    pub shipped: u32,
    /// Shipped head's time from arrival to shipment, head·ms.
    pub shipped_ms: f64,
    /// Pay weight shipped, kg in all.
    pub out_kg: f64,
    /// Sale revenue.
    pub revenue_minor: f64,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter delivered, kg.
    pub dm_kg: f64,
    /// Feed cost.
    pub feed_minor: f64,
    /// Yardage charged.
    pub yardage_minor: f64,
    /// Medicine given.
    pub medicine_minor: f64,
    /// Animals treated for sickness at least once.
    pub pulled: u32,
    /// Re-weighed head on hand.
    pub reweighed: Reweighed,
}

impl LotTotals {
    /// The totals of the ledger's account of lot `id`, its medicine, pulls and re-weighed head
    /// given.
    pub fn of_account(
        id: &str,
        acc: &LotAccount,
        pens: Vec<String>,
        medicine_minor: f64,
        pulled: u32,
        reweighed: Reweighed,
    ) -> Self {
        Self {
            lot_id: id.to_owned(),
            origin: acc.origins.join(", "),
            currency: acc.currency.clone(),
            pens,
            arrived_ms: acc.arrived_ms,
            closed_ms: acc.closed_ms,
            head_in: acc.head_in,
            in_pay_kg: acc.in_pay_kg,
            in_full_kg: acc.in_full_kg,
            purchase_minor: acc.purchase_minor,
            on_hand: acc.on_hand,
            head_ms: acc.head_ms,
            dead_ms: acc.dead_ms,
            dead: acc.dead,
            shipped: acc.shipped,
            shipped_ms: acc.shipped_ms,
            out_kg: acc.out_kg,
            revenue_minor: acc.revenue_minor,
            as_fed_kg: acc.as_fed_kg,
            dm_kg: acc.dm_kg,
            feed_minor: acc.feed_minor,
            yardage_minor: acc.yardage_minor,
            medicine_minor,
            pulled,
            reweighed,
        }
    }
}

/// Every lot's measures, by lot id, with medicine, pulls and re-weighed head worked out from
/// the records' per-animal sums (`health`, `weights`).
pub fn lot_measures(
    ledger: &Ledger,
    records: &YardRecords,
    settings: &Settings,
    as_of_ms: u64,
) -> Vec<LotMeasures> {
    let weights: HashMap<&str, (f64, u64)> = records
        .weights
        .iter()
        .map(|w| (w.eid.as_str(), (w.weight_kg, w.at_ms)))
        .collect();
    let mut medicine: HashMap<&str, f64> = HashMap::new();
    let mut pulled: HashMap<&str, u32> = HashMap::new();
    for h in &records.health {
        let Some(animal) = ledger.animals.get(&h.eid) else {
            continue;
        };
        *medicine.entry(animal.lot_id.as_str()).or_default() += h.cost_minor as f64;
        if h.therapeutic > 0 {
            *pulled.entry(animal.lot_id.as_str()).or_default() += 1;
        }
    }
    let mut on_hand_weights: HashMap<&str, Vec<(f64, u64)>> = HashMap::new();
    for (eid, place) in &ledger.animals {
        if let (true, Some(w)) = (place.on_hand, weights.get(eid.as_str())) {
            on_hand_weights
                .entry(place.lot_id.as_str())
                .or_default()
                .push(*w);
        }
    }
    let mut pens_of: HashMap<String, Vec<String>> = HashMap::new();
    for pen in ledger.pens.keys() {
        for (lot, _) in ledger.lots_in(pen) {
            pens_of.entry(lot).or_default().push(pen.clone());
        }
    }
    ledger
        .lots
        .iter()
        .filter(|(_, acc)| acc.head_in > 0)
        .map(|(id, acc)| {
            let reweighed = Reweighed::of(
                on_hand_weights
                    .get(id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                acc.arrived_ms,
            );
            let totals = LotTotals::of_account(
                id,
                acc,
                pens_of.remove(id).unwrap_or_default(),
                medicine.get(id.as_str()).copied().unwrap_or(0.0) + acc.lot_medicine_minor,
                pulled.get(id.as_str()).copied().unwrap_or(0),
                reweighed,
            );
            measure(&totals, as_of_ms, settings)
        })
        .collect()
}

/// An animal weighed this soon after its lot arrived counts as weighed in, not re-weighed.
pub const REWEIGH_AFTER_MS: u64 = 7 * 86_400_000;

/// An open lot's head on hand, weighed now, pay basis, kg in all: the re-weighed head's
/// latest weights (less the arrival shrink) carried forward to `as_of` at the lot's measured
/// ADG. The ADG is measured over the re-weighed animals (arrival to their weighing) and the
/// shipped head (arrival to shipping). None until some head on hand has been re-weighed.
fn on_hand_now_kg(t: &LotTotals, as_of_ms: u64, kept: f64, in_per_head: f64) -> Option<f64> {
    let on_hand = t.on_hand.max(0) as f64;
    if on_hand == 0.0 {
        return Some(0.0);
    }
    let rw = &t.reweighed;
    if rw.head == 0 {
        return None;
    }
    let n = f64::from(rw.head);
    let weighed_gain = kept * rw.full_kg - n * in_per_head;
    let shipped_gain = t.out_kg - in_per_head * f64::from(t.shipped);
    let adg = ratio(
        weighed_gain + shipped_gain,
        rw.days_since_arrival + t.shipped_ms / DAY_MS,
    )?;
    // Days from each re-weighed head's weighing to now, summed.
    let days_to_now =
        n * as_of_ms.saturating_sub(t.arrived_ms) as f64 / DAY_MS - rw.days_since_arrival;
    let mean_now = (kept * rw.full_kg + adg * days_to_now) / n;
    Some(mean_now * on_hand)
}

/// A lot's measures as of `as_of_ms` from its totals then.
pub fn measure(t: &LotTotals, as_of_ms: u64, settings: &Settings) -> LotMeasures {
    let head_in = f64::from(t.head_in);
    let live = f64::from(t.head_in.saturating_sub(t.dead));
    let head_days = t.head_ms / DAY_MS;
    let live_days = (t.head_ms - t.dead_ms) / DAY_MS;
    let in_per_head = t.in_pay_kg / head_in;
    // Scale weights are full; the arrival's shrink puts them on the pay basis of `in`.
    let kept = if t.in_full_kg > 0.0 {
        t.in_pay_kg / t.in_full_kg
    } else {
        1.0
    };
    let on_hand = t.on_hand.max(0) as f64;
    let on_hand_pay_kg = on_hand_now_kg(t, as_of_ms, kept, in_per_head);
    let gain = on_hand_pay_kg.map(|now| t.out_kg + now - in_per_head * live);
    let current_weight_kg = on_hand_pay_kg.and_then(|now| {
        let head = on_hand + f64::from(t.shipped);
        ratio(now + t.out_kg, head)
    });
    let total_cost = t.purchase_minor + t.feed_minor + t.yardage_minor + t.medicine_minor;
    let cost_per_head = ratio(total_cost, live);
    let closed = t.closed_ms.is_some();
    let sale_weight_kg = if closed && t.shipped > 0 {
        t.out_kg / f64::from(t.shipped)
    } else {
        settings.target_sale_weight_kg
    };
    let feed_cog = gain.and_then(|g| ratio(t.feed_minor, g));
    let cog = gain.and_then(|g| ratio(t.feed_minor + t.yardage_minor + t.medicine_minor, g));
    let breakeven = cost_per_head.and_then(|c| ratio(c, sale_weight_kg));
    let profit = closed.then_some(t.revenue_minor - total_cost);
    // Published closeouts: head-weighted days from arrival to shipment of the cattle shipped;
    // an open lot's cattle have been on feed since it arrived.
    let days_on_feed = match t.closed_ms {
        Some(_) if t.shipped > 0 => t.shipped_ms / DAY_MS / f64::from(t.shipped),
        Some(closed_ms) => closed_ms.saturating_sub(t.arrived_ms) as f64 / DAY_MS,
        None => as_of_ms.saturating_sub(t.arrived_ms) as f64 / DAY_MS,
    };
    LotMeasures {
        lot_id: t.lot_id.clone(),
        status: if closed { "closed" } else { "open" },
        origin: t.origin.clone(),
        arrived_at_ms: t.arrived_ms,
        closed_at_ms: t.closed_ms,
        pens: t.pens.clone(),
        head_in: t.head_in,
        head_dead: t.dead,
        head_shipped: t.shipped,
        head_on_hand: t.on_hand,
        head_days,
        live_head_days: live_days,
        days_on_feed,
        head_days_per_head_in: head_days / head_in,
        in_weight_kg: in_per_head,
        current_weight_kg,
        gain_kg: gain,
        adg_deads_out_kg: gain.and_then(|g| ratio(g, live_days)),
        adg_deads_in_kg: gain.and_then(|g| ratio(g, head_days)),
        as_fed_kg: t.as_fed_kg,
        dry_matter_kg: t.dm_kg,
        dmi_kg: ratio(t.dm_kg, head_days),
        as_fed_intake_kg: ratio(t.as_fed_kg, head_days),
        feed_to_gain_dm: gain.and_then(|g| ratio(t.dm_kg, g)),
        feed_to_gain_as_fed: gain.and_then(|g| ratio(t.as_fed_kg, g)),
        feed_cost_minor: t.feed_minor,
        feed_cost_per_head_day_minor: ratio(t.feed_minor, head_days),
        yardage_minor: t.yardage_minor,
        medicine_minor: t.medicine_minor,
        purchase_minor: t.purchase_minor,
        total_cost_minor: total_cost,
        total_cost_per_head_minor: cost_per_head,
        feed_cost_of_gain_per_kg_minor: feed_cog,
        cost_of_gain_per_kg_minor: cog,
        feed_cost_of_gain_per_cwt_minor: feed_cog.map(|c| c * KG_PER_CWT),
        cost_of_gain_per_cwt_minor: cog.map(|c| c * KG_PER_CWT),
        sale_weight_kg,
        breakeven_per_kg_minor: breakeven,
        breakeven_per_cwt_minor: breakeven.map(|b| b * KG_PER_CWT),
        death_loss_pct: 100.0 * f64::from(t.dead) / head_in,
        pull_rate_pct: 100.0 * f64::from(t.pulled) / head_in,
        revenue_minor: t.revenue_minor,
        profit_minor: profit,
        profit_per_head_minor: profit.and_then(|p| ratio(p, f64::from(t.shipped))),
        currency: t.currency.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::records::{ArrivalRecord, LatestWeight, PlacementRecord};

    const DAY: u64 = 86_400_000;

    fn yard(weighed_day: u64) -> YardRecords {
        YardRecords {
            arrivals: vec![ArrivalRecord {
                lot_id: "L".into(),
                head_count: 2,
                origin: "NE".into(),
                pen_id: "P".into(),
                pay_weight_kg: 600.0,
                shrink_pct: 0.0,
                purchase_price_minor: 100_000,
                currency: "USD".into(),
                at_ms: 0,
            }],
            placements: ["A", "B"]
                .map(|eid| PlacementRecord {
                    eid: eid.into(),
                    lot_id: "L".into(),
                    pen_id: "P".into(),
                    at_ms: 0,
                })
                .to_vec(),
            weights: ["A", "B"]
                .map(|eid| LatestWeight {
                    eid: eid.into(),
                    weight_kg: 300.0 + 1.5 * weighed_day as f64,
                    at_ms: weighed_day * DAY,
                })
                .to_vec(),
            ..YardRecords::default()
        }
    }

    fn lot(records: &YardRecords, as_of_day: u64) -> LotMeasures {
        let ledger = super::super::ledger::replay(records, as_of_day * DAY);
        lot_measures(&ledger, records, &Settings::default(), as_of_day * DAY).remove(0)
    }

    #[test]
    fn a_lot_weighed_only_at_processing_has_no_gain_yet() {
        let l = lot(&yard(0), 40);
        assert_eq!((l.gain_kg, l.adg_deads_out_kg), (None, None));
    }

    #[test]
    fn an_open_lot_is_carried_from_its_last_weighing_to_now_at_its_measured_adg() {
        // Re-weighed on day 30 at 1.5 kg/day; 10 days later it is 15 kg heavier each.
        let l = lot(&yard(30), 40);
        let adg = l.adg_deads_out_kg.unwrap();
        assert!((adg - 1.5).abs() < 1e-9, "{adg}");
        assert!((l.current_weight_kg.unwrap() - 360.0).abs() < 1e-9);
    }

    #[test]
    fn a_lot_level_death_and_treatment_count_without_an_eid() {
        use crate::analytics::records::{DeathRecord, LotTreatmentRecord};
        let mut records = yard(0);
        records.deaths.push(DeathRecord {
            eid: String::new(),
            lot_id: "L".into(),
            pen_id: String::new(),
            head_count: 1,
            at_ms: 10 * DAY,
        });
        records.lot_treatments.push(LotTreatmentRecord {
            lot_id: String::new(),
            pen_id: "P".into(),
            head_count: 2,
            cost_minor: 2_400,
            at_ms: DAY,
        });
        let l = lot(&records, 20);
        assert_eq!((l.head_dead, l.head_on_hand), (1, 1));
        assert!(
            (l.medicine_minor - 2_400.0).abs() < 1e-9,
            "{}",
            l.medicine_minor
        );
        assert_eq!(l.pull_rate_pct, 0.0, "a lot treated at once is not pulled");
    }

    #[test]
    fn a_lot_closes_when_its_last_head_dies_and_opens_again_when_cattle_arrive() {
        use crate::analytics::records::DeathRecord;
        let mut records = yard(0);
        for (eid, day) in [("A", 10), ("B", 12)] {
            records.deaths.push(DeathRecord {
                eid: eid.into(),
                lot_id: "L".into(),
                pen_id: String::new(),
                head_count: 1,
                at_ms: day * DAY,
            });
        }
        let l = lot(&records, 20);
        assert_eq!((l.head_dead, l.head_on_hand), (2, 0));
        assert_eq!(l.status, "closed");
        assert_eq!(l.closed_at_ms, Some(12 * DAY), "when the last head died");
        assert!((l.days_on_feed - 12.0).abs() < 1e-9, "arrival to closing");

        let again = ArrivalRecord {
            at_ms: 15 * DAY,
            ..records.arrivals[0].clone()
        };
        records.arrivals.push(again);
        let l = lot(&records, 20);
        assert_eq!((l.head_in, l.head_on_hand), (4, 2));
        assert_eq!((l.status, l.closed_at_ms), ("open", None));
        let ledger = super::super::ledger::replay(&records, 20 * DAY);
        assert!(
            ledger.warnings.iter().any(|w| w.contains("arrived again")),
            "{:?}",
            ledger.warnings
        );
    }
}
