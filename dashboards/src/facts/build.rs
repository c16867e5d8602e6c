//! Making a yard's facts: its records replayed in time order (the same [`Replay`] as every
//! measure's definition), read at each day's end. The replay runs from the first record, or
//! from the ledger a replay of the same records left at the end of an earlier day ([`DayEnd`],
//! kept by the worker: the FIFO feed costs and where each animal is depend on all the history
//! before it), and rows are kept from `from_day` on, so a recompute from any day gives the rows
//! a rebuild from the first would: deterministic and idempotent.

use std::collections::{BTreeMap, HashMap};

use super::rows::{
    IngredientDayRow, LotDayRow, PenDayRow, SourceDayRow, YardDayRow, YardFacts, day_of, end_of,
};
use crate::analytics::YardRecords;
use crate::analytics::ledger::{Ledger, LotAccount, Replay};

/// What a recompute covers.
#[derive(Debug, Clone, Default)]
pub struct Range {
    /// The first day to write.
    pub from_day: u16,
    /// The last day to write (today, or a later day a record was captured on).
    pub through_day: u16,
    /// Lots whose stored rows run past `from_day` to this day: rows are written up to it
    /// even after the lot closed, so no older row outlives a changed closing.
    pub stored_until: HashMap<String, u16>,
}

/// The per-day counts a lot row carries as the day's own (arrivals, deaths, shipments, pulls).
type DayCounts = (u32, u32, u32, u32);

/// A ledger kept at the end of a day: where a later build may start instead of the first
/// record.
#[derive(Debug, Clone)]
pub struct DayEnd {
    /// The day.
    pub day: u16,
    /// The yard replayed through its end (every record captured before the next day).
    pub ledger: Ledger,
}

/// `feedlot_id`'s facts for `range`, versioned `version`: replayed from `start` (`records`
/// then hold the records captured after its day only) or from the first record (`records`
/// hold them all), and the ledger at the end of each day in `keep`.
pub fn build(
    feedlot_id: &str,
    records: &YardRecords,
    range: &Range,
    version: u64,
    start: Option<DayEnd>,
    keep: &std::ops::RangeInclusive<u16>,
) -> (YardFacts, Vec<DayEnd>) {
    let mut facts = YardFacts::default();
    let mut kept = Vec::new();
    let (mut replay, first_day) = match start {
        Some(start) => (Replay::resume(records, start.ledger), start.day + 1),
        None => {
            let replay = Replay::new(records);
            let Some(first_ms) = replay.first_ms() else {
                return (facts, kept);
            };
            (replay, day_of(first_ms))
        }
    };
    let last_day = replay.last_ms().map(day_of).unwrap_or(0);
    let through_day = range.through_day.max(last_day);
    let mut warnings_seen = replay.ledger.warnings.len();
    let mut previous: HashMap<String, DayCounts> = replay
        .ledger
        .lots
        .iter()
        .map(|(id, acc)| (id.clone(), counts(acc)))
        .collect();
    for day in first_day..=through_day {
        let end = end_of(day);
        replay.apply_through(end - 1);
        replay.accrue_to(end);
        let ledger = &replay.ledger;
        let warnings = ledger.warnings[warnings_seen..].to_vec();
        warnings_seen = ledger.warnings.len();
        if day >= range.from_day {
            let day_rows = DayRows {
                feedlot_id,
                day,
                end,
                version,
            };
            day_rows.lots(ledger, range, &previous, &mut facts.lots);
            day_rows.pens(ledger, &mut facts.pens);
            day_rows.feed(ledger, &mut facts);
            facts.yard.push(YardDayRow {
                feedlot_id: feedlot_id.to_owned(),
                day,
                unallocated_kg: ledger.unallocated_kg,
                warnings,
                version,
            });
        }
        for (id, acc) in &ledger.lots {
            previous.insert(id.clone(), counts(acc));
        }
        if keep.contains(&day) {
            kept.push(DayEnd {
                day,
                ledger: ledger.clone(),
            });
        }
    }
    (facts, kept)
}

fn counts(acc: &LotAccount) -> DayCounts {
    (acc.head_in, acc.dead, acc.shipped, acc.pulled)
}

/// The rows of one day.
struct DayRows<'a> {
    feedlot_id: &'a str,
    day: u16,
    end: u64,
    version: u64,
}

impl DayRows<'_> {
    /// A row for every lot placed and not closed before this day (or with stored rows to
    /// replace through this day).
    fn lots(
        &self,
        ledger: &Ledger,
        range: &Range,
        previous: &HashMap<String, DayCounts>,
        out: &mut Vec<LotDayRow>,
    ) {
        let mut pens_of: HashMap<String, Vec<String>> = HashMap::new();
        for pen in ledger.pens.keys() {
            for (lot, _) in ledger.lots_in(pen) {
                pens_of.entry(lot).or_default().push(pen.clone());
            }
        }
        for (id, acc) in &ledger.lots {
            let closed_before = acc.closed_ms.is_some_and(|at| day_of(at) < self.day);
            let stored = range.stored_until.get(id).is_some_and(|d| *d >= self.day);
            if acc.head_in == 0 || (closed_before && !stored) {
                continue;
            }
            let (in0, dead0, shipped0, pulled0) = previous.get(id).copied().unwrap_or_default();
            out.push(LotDayRow {
                feedlot_id: self.feedlot_id.to_owned(),
                lot_id: id.clone(),
                day: self.day,
                through_ms: self.end,
                origin: acc.origins.join(", "),
                currency: acc.currency.clone(),
                pens: pens_of.remove(id).unwrap_or_default(),
                arrived_ms: acc.arrived_ms,
                closed_ms: acc.closed_ms.unwrap_or(0),
                head_in: acc.head_in,
                in_pay_kg: acc.in_pay_kg,
                in_full_kg: acc.in_full_kg,
                purchase_minor: acc.purchase_minor,
                head_on_hand: acc.on_hand,
                head_ms: acc.head_ms,
                dead_ms: acc.dead_ms,
                head_dead: acc.dead,
                head_shipped: acc.shipped,
                shipped_ms: acc.shipped_ms,
                out_pay_kg: acc.out_kg,
                revenue_minor: acc.revenue_minor,
                as_fed_kg: acc.as_fed_kg,
                dry_matter_kg: acc.dm_kg,
                feed_minor: acc.feed_minor,
                yardage_minor: acc.yardage_minor,
                yardage_rate_minor: ledger.yardage_rate_minor(id),
                medicine_minor: acc.medicine_minor,
                head_pulled: acc.pulled,
                reweighed_head: acc.reweighed.head,
                reweighed_full_kg: acc.reweighed.full_kg,
                reweighed_days: acc.reweighed.days_since_arrival,
                day_head_in: acc.head_in.saturating_sub(in0),
                day_head_dead: acc.dead.saturating_sub(dead0),
                day_head_shipped: acc.shipped.saturating_sub(shipped0),
                day_head_pulled: acc.pulled.saturating_sub(pulled0),
                version: self.version,
            });
        }
    }

    /// A row for every pen that held cattle or was fed (not the unpenned arrivals).
    fn pens(&self, ledger: &Ledger, out: &mut Vec<PenDayRow>) {
        for (id, acc) in ledger.pens.iter().filter(|(id, _)| !id.is_empty()) {
            let (lots, lot_head): (Vec<String>, Vec<i64>) = ledger.lots_in(id).into_iter().unzip();
            out.push(PenDayRow {
                feedlot_id: self.feedlot_id.to_owned(),
                pen_id: id.clone(),
                day: self.day,
                through_ms: self.end,
                head_on_hand: acc.on_hand,
                lots,
                lot_head,
                head_ms: acc.head_ms,
                as_fed_kg: acc.as_fed_kg,
                dry_matter_kg: acc.dm_kg,
                feed_minor: acc.feed_minor,
                last_delivery_ms: acc.last_delivery_ms.unwrap_or(0),
                version: self.version,
            });
        }
    }

    /// A row for every ingredient bought or fed, and every source fed from.
    fn feed(&self, ledger: &Ledger, facts: &mut YardFacts) {
        for ing in ledger.inventory.ingredients() {
            facts.ingredients.push(IngredientDayRow {
                feedlot_id: self.feedlot_id.to_owned(),
                price_per_kg_minor: ledger.inventory.price_per_kg_minor(&ing.ingredient),
                ingredient: ing.ingredient,
                day: self.day,
                purchased_kg: ing.purchased_kg,
                purchased_minor: ing.purchased_cost_minor,
                fed_kg: ing.fed_kg,
                fed_minor: ing.fed_cost_minor,
                on_hand_kg: ing.on_hand_kg,
                unbought_kg: ing.unbought_kg,
                version: self.version,
            });
        }
        let mut sources: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
        for s in ledger.inventory.sources() {
            let entry = sources
                .entry((s.ingredient, s.supplier, s.origin))
                .or_default();
            entry.0 += s.fed_kg;
            entry.1 += s.fed_cost_minor;
        }
        for ((ingredient, supplier, origin), (fed_kg, fed_minor)) in sources {
            facts.sources.push(SourceDayRow {
                feedlot_id: self.feedlot_id.to_owned(),
                ingredient,
                supplier,
                origin,
                day: self.day,
                fed_kg,
                fed_minor,
                version: self.version,
            });
        }
    }
}
