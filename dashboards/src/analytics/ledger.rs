//! The yard's ledger: its records replayed in time order, keeping head counts per lot and pen,
//! head-days, feed (as fed, dry matter, cost) and yardage charged to each lot and pen.
//!
//! Rules (docs/analytics.md states them for users):
//! - A lot's head count rises with its arrivals and falls with deaths and shipments; head-days
//!   integrate it over time (exact to the ms), so a dead animal is charged its days until death.
//! - Placements put an animal (and one head) from the lot's arrival pen into its own pen; pen
//!   moves carry one animal or part/all of a lot; deaths and shipments take head from the
//!   animal's pen when known, else from the lot's fullest pen.
//! - A feed delivery is split among the lots in the pen at that moment by head count; feed
//!   dropped in an empty pen is reported as unallocated. Its cost is the ration in effect for
//!   its ingredients' FIFO prices (see [`super::inventory`]); its dry matter the ration's DM %.
//! - Yardage accrues per head per day at the lot's rate, else the yard's default, as in effect.
//! - Treatments and weighings, when the records carry them one by one (the facts replay), are
//!   charged to the animal's lot as of now: its medicine, whether it was pulled, and its latest
//!   weight when it is on hand and was re-weighed (see [`Reweighed`]).

use std::collections::{BTreeMap, HashMap};

use super::inventory::Inventory;
use super::lots::REWEIGH_AFTER_MS;
use super::records::{
    ArrivalRecord, DeathRecord, DeliveryRecord, MoveRecord, PlacementRecord, RationRecord,
    ShipmentRecord, TreatmentRecord, WeighingRecord, YardRecords, YardageRecord,
};

/// Milliseconds in a day.
pub const DAY_MS: f64 = 86_400_000.0;

/// A lot's head on hand that were re-weighed at least [`REWEIGH_AFTER_MS`] after the lot
/// arrived, summed over their latest weights: what an open lot's current weight is carried
/// forward from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reweighed {
    /// Head.
    pub head: u32,
    /// Their latest weights, kg as weighed (full), summed.
    pub full_kg: f64,
    /// Days from the lot's arrival to each one's latest weighing, summed.
    pub days_since_arrival: f64,
}

impl Reweighed {
    /// The sums of `weights` (full kg, when weighed) of a lot that arrived at `arrived_ms`,
    /// counting those weighed at least [`REWEIGH_AFTER_MS`] after it.
    pub fn of(weights: &[(f64, u64)], arrived_ms: u64) -> Self {
        let mut sums = Self::default();
        for (kg, at) in weights {
            sums.add(*kg, *at, arrived_ms, 1.0);
        }
        sums
    }

    fn add(&mut self, kg: f64, at: u64, arrived_ms: u64, sign: f64) {
        let since = at.saturating_sub(arrived_ms);
        if since < REWEIGH_AFTER_MS {
            return;
        }
        if sign > 0.0 {
            self.head += 1;
        } else {
            self.head = self.head.saturating_sub(1);
        }
        self.full_kg += sign * kg;
        self.days_since_arrival += sign * since as f64 / DAY_MS;
    }
}

/// What the ledger accumulated for one lot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LotAccount {
    /// First arrival.
    pub arrived_ms: u64,
    /// The pen the lot arrived in ("" when not given).
    pub arrival_pen: String,
    /// Origins of its arrivals.
    pub origins: Vec<String>,
    /// Head placed.
    pub head_in: u32,
    /// Pay weight in, kg.
    pub in_pay_kg: f64,
    /// Full weight in (pay weight before shrink), kg.
    pub in_full_kg: f64,
    /// Purchase cost, minor units.
    pub purchase_minor: f64,
    /// Currency of the purchase.
    pub currency: String,
    /// Head on hand now.
    pub on_hand: i64,
    /// Head-days (deads in), in head·ms.
    pub head_ms: f64,
    /// Dead animals' days (head·ms from the lot's arrival to each death).
    pub dead_ms: f64,
    /// Deaths.
    pub dead: u32,
    /// Head shipped.
    pub shipped: u32,
    /// Shipped head's days (head·ms from the lot's arrival to each shipment).
    pub shipped_ms: f64,
    /// Pay weight shipped, kg.
    pub out_kg: f64,
    /// Sale revenue, minor units.
    pub revenue_minor: f64,
    /// When the last head left (closed lots).
    pub closed_ms: Option<u64>,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter delivered, kg.
    pub dm_kg: f64,
    /// Feed cost, minor units.
    pub feed_minor: f64,
    /// Yardage, minor units.
    pub yardage_minor: f64,
    /// Medicine given to its animals (treatments replayed one by one), minor units.
    pub medicine_minor: f64,
    /// Its animals treated for sickness at least once (treatments replayed one by one).
    pub pulled: u32,
    /// Medicine given to the lot as a whole (lot- and pen-level treatments, also in
    /// `medicine_minor`), minor units.
    pub lot_medicine_minor: f64,
    /// Its re-weighed head on hand (weighings replayed one by one).
    pub reweighed: Reweighed,
    /// The lot's own yardage rate, when it has one.
    rate_minor: Option<f64>,
    last_ms: u64,
}

/// What the ledger accumulated for one pen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PenAccount {
    /// Head in the pen now.
    pub on_hand: i64,
    /// Head-days, head·ms.
    pub head_ms: f64,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter, kg.
    pub dm_kg: f64,
    /// Feed cost, minor units.
    pub feed_minor: f64,
    /// Last delivery.
    pub last_delivery_ms: Option<u64>,
    last_ms: u64,
}

/// Where an animal is.
#[derive(Debug, Clone, PartialEq)]
pub struct AnimalPlace {
    /// Its lot.
    pub lot_id: String,
    /// Its pen.
    pub pen_id: String,
    /// Still in the yard.
    pub on_hand: bool,
}

/// The replayed yard.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Lots by id.
    pub lots: BTreeMap<String, LotAccount>,
    /// Pens by id (pen "" holds arrivals without a pen until placed).
    pub pens: BTreeMap<String, PenAccount>,
    /// Animals by EID.
    pub animals: HashMap<String, AnimalPlace>,
    /// Feed inventory after every purchase and delivery.
    pub inventory: Inventory,
    /// Rations as last formulated.
    pub rations: HashMap<String, RationRecord>,
    /// Feed dropped in pens with no cattle, kg as fed.
    pub unallocated_kg: f64,
    /// Records that did not fit (a death of an unknown animal, ...), in words.
    pub warnings: Vec<String>,
    pen_lots: HashMap<String, BTreeMap<String, i64>>,
    /// Every animal ever placed in each lot (a later placement elsewhere leaves a stale
    /// entry, so users check the animal's lot), so closing a lot or moving all of it visits
    /// its animals instead of the whole yard's.
    lot_animals: HashMap<String, Vec<String>>,
    yard_rate_minor: f64,
    /// Per animal: medicine so far (minor units) and whether it was ever pulled.
    health: HashMap<String, (f64, bool)>,
    /// Per animal: its latest weight (full kg) and when.
    latest_weight: HashMap<String, (f64, u64)>,
}

enum Step<'a> {
    Ration(&'a RationRecord),
    Yardage(&'a YardageRecord),
    Purchase(&'a super::records::PurchaseRecord),
    Arrival(&'a ArrivalRecord),
    Placement(&'a PlacementRecord),
    Weighing(&'a WeighingRecord),
    Treatment(&'a TreatmentRecord),
    LotTreatment(&'a super::records::LotTreatmentRecord),
    Move(&'a MoveRecord),
    Delivery(&'a DeliveryRecord),
    Death(&'a DeathRecord),
    Shipment(&'a ShipmentRecord),
}

/// A replay in progress: the yard's records in time order, applied up to a moment, so the
/// ledger can be read at each day's end (the facts) or once (a report).
pub struct Replay<'a> {
    steps: Vec<(u64, u8, Step<'a>)>,
    next: usize,
    /// The ledger so far.
    pub ledger: Ledger,
}

impl<'a> Replay<'a> {
    /// Every record of `records`, in time order, none applied yet. Records of one moment go
    /// formulas and rates first, then purchases, arrivals, placements, weighings, treatments,
    /// moves, deliveries, deaths and shipments.
    pub fn new(records: &'a YardRecords) -> Self {
        Self::resume(records, Ledger::default())
    }

    /// Like [`Self::new`], from `ledger` (the state a replay of the earlier records left):
    /// `records` are the ones after them.
    pub fn resume(records: &'a YardRecords, ledger: Ledger) -> Self {
        let mut steps: Vec<(u64, u8, Step<'a>)> = Vec::new();
        let r = records;
        steps.extend(r.rations.iter().map(|x| (x.at_ms, 0, Step::Ration(x))));
        steps.extend(r.yardage.iter().map(|x| (x.at_ms, 1, Step::Yardage(x))));
        steps.extend(r.purchases.iter().map(|x| (x.at_ms, 2, Step::Purchase(x))));
        steps.extend(r.arrivals.iter().map(|x| (x.at_ms, 3, Step::Arrival(x))));
        steps.extend(
            r.placements
                .iter()
                .map(|x| (x.at_ms, 4, Step::Placement(x))),
        );
        steps.extend(r.weighings.iter().map(|x| (x.at_ms, 5, Step::Weighing(x))));
        steps.extend(
            r.treatments
                .iter()
                .map(|x| (x.at_ms, 6, Step::Treatment(x))),
        );
        steps.extend(
            r.lot_treatments
                .iter()
                .map(|x| (x.at_ms, 6, Step::LotTreatment(x))),
        );
        steps.extend(r.moves.iter().map(|x| (x.at_ms, 7, Step::Move(x))));
        steps.extend(r.deliveries.iter().map(|x| (x.at_ms, 8, Step::Delivery(x))));
        steps.extend(r.deaths.iter().map(|x| (x.at_ms, 9, Step::Death(x))));
        steps.extend(r.shipments.iter().map(|x| (x.at_ms, 10, Step::Shipment(x))));
        steps.sort_by_key(|(at, order, _)| (*at, *order));
        Self {
            steps,
            next: 0,
            ledger,
        }
    }

    /// When the first record was captured, if any.
    pub fn first_ms(&self) -> Option<u64> {
        self.steps.first().map(|(at, _, _)| *at)
    }

    /// When the last record was captured, if any.
    pub fn last_ms(&self) -> Option<u64> {
        self.steps.last().map(|(at, _, _)| *at)
    }

    /// Applies every record captured at or before `at_ms` not applied yet.
    pub fn apply_through(&mut self, at_ms: u64) {
        while let Some((at, _, step)) = self.steps.get(self.next) {
            if *at > at_ms {
                break;
            }
            self.ledger.apply(step, *at);
            self.next += 1;
        }
    }

    /// Accrues every lot's and pen's head-days and yardage up to `at_ms`.
    pub fn accrue_to(&mut self, at_ms: u64) {
        let lots: Vec<String> = self.ledger.lots.keys().cloned().collect();
        for lot in lots {
            self.ledger.flush_lot(&lot, at_ms);
        }
        let pens: Vec<String> = self.ledger.pens.keys().cloned().collect();
        for pen in pens {
            self.ledger.flush_pen(&pen, at_ms);
        }
    }
}

/// Replays `records` up to `as_of_ms` (later records are ignored).
pub fn replay(records: &YardRecords, as_of_ms: u64) -> Ledger {
    let mut replay = Replay::new(records);
    replay.apply_through(as_of_ms);
    replay.accrue_to(as_of_ms);
    replay.ledger
}

impl Ledger {
    fn apply(&mut self, step: &Step<'_>, at: u64) {
        match step {
            Step::Ration(r) => {
                self.rations.insert(r.ration_id.clone(), (*r).clone());
            }
            Step::Yardage(r) => self.yardage(r, at),
            Step::Purchase(p) => self.inventory.buy(p),
            Step::Arrival(a) => self.arrival(a, at),
            Step::Placement(p) => self.placement(p, at),
            Step::Weighing(w) => self.weighing(w),
            Step::Treatment(t) => self.treatment(t),
            Step::LotTreatment(t) => self.lot_treatment(t),
            Step::Move(m) => self.pen_move(m, at),
            Step::Delivery(d) => self.delivery(d),
            Step::Death(d) => self.death(d, at),
            Step::Shipment(s) => self.shipment(s, at),
        }
    }

    /// The yardage rate `lot` accrues at now, per head per day, minor units.
    pub fn yardage_rate_minor(&self, lot: &str) -> f64 {
        self.lots
            .get(lot)
            .and_then(|acc| acc.rate_minor)
            .unwrap_or(self.yard_rate_minor)
    }

    /// Pens holding `lot` now (the pen "" holds arrivals not yet penned).
    pub fn pens_of(&self, lot: &str) -> Vec<String> {
        self.pen_lots
            .iter()
            .filter(|(_, lots)| lots.get(lot).is_some_and(|h| *h > 0))
            .map(|(pen, _)| pen.clone())
            .collect()
    }

    /// What `eid` adds to its lot's [`Reweighed`] now: the lot, kg, when.
    fn reweighed_part(&self, eid: &str) -> Option<(String, f64, u64, u64)> {
        let animal = self.animals.get(eid).filter(|a| a.on_hand)?;
        let (kg, at) = *self.latest_weight.get(eid)?;
        let arrived = self.lots.get(&animal.lot_id)?.arrived_ms;
        Some((animal.lot_id.clone(), kg, at, arrived))
    }

    fn apply_reweighed(&mut self, part: Option<(String, f64, u64, u64)>, sign: f64) {
        if let Some((lot, kg, at, arrived)) = part
            && let Some(acc) = self.lots.get_mut(&lot)
        {
            acc.reweighed.add(kg, at, arrived, sign);
        }
    }

    /// Changes `eid`'s place by `change`, keeping its lot's re-weighed sums.
    fn change_animal(&mut self, eid: &str, change: impl FnOnce(&mut HashMap<String, AnimalPlace>)) {
        let before = self.reweighed_part(eid);
        change(&mut self.animals);
        let after = self.reweighed_part(eid);
        if before != after {
            self.apply_reweighed(before, -1.0);
            self.apply_reweighed(after, 1.0);
        }
    }

    fn weighing(&mut self, w: &WeighingRecord) {
        if self
            .latest_weight
            .get(&w.eid)
            .is_some_and(|(_, at)| *at > w.at_ms)
        {
            return;
        }
        let before = self.reweighed_part(&w.eid);
        self.latest_weight
            .insert(w.eid.clone(), (w.weight_kg, w.at_ms));
        let after = self.reweighed_part(&w.eid);
        self.apply_reweighed(before, -1.0);
        self.apply_reweighed(after, 1.0);
    }

    fn treatment(&mut self, t: &TreatmentRecord) {
        let health = self.health.entry(t.eid.clone()).or_default();
        health.0 += t.cost_minor as f64;
        let newly_pulled = t.therapeutic > 0 && !health.1;
        health.1 |= t.therapeutic > 0;
        let Some(lot) = self.animals.get(&t.eid).map(|a| a.lot_id.clone()) else {
            return; // Charged to its lot when it is placed.
        };
        if let Some(acc) = self.lots.get_mut(&lot) {
            acc.medicine_minor += t.cost_minor as f64;
            acc.pulled += u32::from(newly_pulled);
        }
    }

    /// A product given to a whole lot (or the lots of a pen, shared by head there): its cost
    /// is the lot's medicine. Not a pull: a lot treated at once (metaphylaxis, processing) was
    /// not pulled sick animal by animal.
    fn lot_treatment(&mut self, t: &super::records::LotTreatmentRecord) {
        let shares: Vec<(String, f64)> = if t.lot_id.is_empty() {
            let lots = self.lots_in(&t.pen_id);
            let head: i64 = lots.iter().map(|(_, h)| *h).sum();
            lots.into_iter()
                .map(|(lot, h)| (lot, h as f64 / head.max(1) as f64))
                .collect()
        } else {
            vec![(t.lot_id.clone(), 1.0)]
        };
        if shares.is_empty() || !shares.iter().all(|(l, _)| self.lots.contains_key(l)) {
            self.warnings.push(format!(
                "treatment of lot {:?} pen {:?} that holds no known lot",
                t.lot_id, t.pen_id
            ));
            return;
        }
        for (lot, share) in shares {
            if let Some(acc) = self.lots.get_mut(&lot) {
                acc.medicine_minor += t.cost_minor as f64 * share;
                acc.lot_medicine_minor += t.cost_minor as f64 * share;
            }
        }
    }

    /// Moves `eid`'s medicine and pull from lot `from` (when it had one) to lot `to`.
    fn move_health(&mut self, eid: &str, from: Option<&str>, to: &str) {
        let Some((minor, pulled)) = self.health.get(eid).copied() else {
            return;
        };
        let pulled = u32::from(pulled);
        if let Some(acc) = from.and_then(|lot| self.lots.get_mut(lot)) {
            acc.medicine_minor -= minor;
            acc.pulled = acc.pulled.saturating_sub(pulled);
        }
        if let Some(acc) = self.lots.get_mut(to) {
            acc.medicine_minor += minor;
            acc.pulled += pulled;
        }
    }

    /// Lots in `pen` now, with their head.
    pub fn lots_in(&self, pen: &str) -> Vec<(String, i64)> {
        self.pen_lots
            .get(pen)
            .map(|m| {
                m.iter()
                    .filter(|(_, h)| **h > 0)
                    .map(|(l, h)| (l.clone(), *h))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn flush_lot(&mut self, lot: &str, at: u64) {
        let yard_rate = self.yard_rate_minor;
        if let Some(acc) = self.lots.get_mut(lot).filter(|acc| at > acc.last_ms) {
            let head_ms = acc.on_hand.max(0) as f64 * (at - acc.last_ms) as f64;
            acc.head_ms += head_ms;
            acc.yardage_minor += head_ms / DAY_MS * acc.rate_minor.unwrap_or(yard_rate);
            acc.last_ms = at;
        }
    }

    fn flush_pen(&mut self, pen: &str, at: u64) {
        if let Some(acc) = self.pens.get_mut(pen).filter(|acc| at > acc.last_ms) {
            acc.head_ms += acc.on_hand.max(0) as f64 * (at - acc.last_ms) as f64;
            acc.last_ms = at;
        }
    }

    /// Adds `head` (negative: removes) of `lot` in `pen` at `at`.
    fn add_head(&mut self, lot: &str, pen: &str, head: i64, at: u64) {
        self.flush_lot(lot, at);
        self.flush_pen(pen, at);
        if let Some(acc) = self.lots.get_mut(lot) {
            acc.on_hand += head;
        }
        // Look up before inserting: most calls find the pen and lot, and keys are allocated
        // only for new ones (a 50,000-head yard makes a few hundred thousand calls).
        let p = match self.pens.get_mut(pen) {
            Some(p) => p,
            None => self.pens.entry(pen.to_owned()).or_default(),
        };
        if p.last_ms == 0 {
            p.last_ms = at;
        }
        p.on_hand += head;
        let lots = match self.pen_lots.get_mut(pen) {
            Some(lots) => lots,
            None => self.pen_lots.entry(pen.to_owned()).or_default(),
        };
        match lots.get_mut(lot) {
            Some(h) => *h += head,
            None => {
                lots.insert(lot.to_owned(), head);
            }
        }
    }

    fn head_of(&self, lot: &str, pen: &str) -> i64 {
        self.pen_lots
            .get(pen)
            .and_then(|m| m.get(lot))
            .copied()
            .unwrap_or(0)
    }

    /// The pen holding most of `lot`.
    fn fullest_pen(&self, lot: &str) -> Option<String> {
        self.pen_lots
            .iter()
            .filter_map(|(pen, lots)| lots.get(lot).filter(|h| **h > 0).map(|h| (pen, *h)))
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(pen, _)| pen.clone())
    }

    /// Takes `head` of `lot` out, from `pen` first when given, then from its fullest pens.
    fn take_head(&mut self, lot: &str, pen: Option<&str>, head: u32, at: u64) {
        let mut left = i64::from(head);
        if let Some(pen) = pen {
            let here = self.head_of(lot, pen).min(left);
            if here > 0 {
                self.add_head(lot, pen, -here, at);
                left -= here;
            }
        }
        while left > 0 {
            let Some(pen) = self.fullest_pen(lot) else {
                self.warnings.push(format!(
                    "lot {lot}: {left} head left that the records never placed"
                ));
                self.add_head(lot, "", -left, at);
                return;
            };
            let here = self.head_of(lot, &pen).min(left);
            self.add_head(lot, &pen, -here, at);
            left -= here;
        }
    }

    fn yardage(&mut self, r: &YardageRecord, at: u64) {
        if r.lot_id.is_empty() {
            let lots: Vec<String> = self.lots.keys().cloned().collect();
            for lot in lots {
                self.flush_lot(&lot, at);
            }
            self.yard_rate_minor = r.per_head_per_day_minor as f64;
        } else {
            self.flush_lot(&r.lot_id, at);
            self.lots.entry(r.lot_id.clone()).or_default().rate_minor =
                Some(r.per_head_per_day_minor as f64);
        }
    }

    fn arrival(&mut self, a: &ArrivalRecord, at: u64) {
        // Cattle arriving in a lot that shipped out open it again: they are on feed.
        let closed = self
            .lots
            .get_mut(&a.lot_id)
            .and_then(|acc| acc.closed_ms.take());
        if closed.is_some() {
            self.warnings.push(format!(
                "lot {} arrived again after it shipped out: open again",
                a.lot_id
            ));
        }
        let acc = self.lots.entry(a.lot_id.clone()).or_default();
        if acc.head_in == 0 {
            acc.arrived_ms = at;
            acc.last_ms = at;
            acc.arrival_pen = a.pen_id.clone();
            acc.currency = a.currency.clone();
        }
        acc.head_in += a.head_count;
        acc.in_pay_kg += a.pay_weight_kg;
        let kept = (1.0 - a.shrink_pct / 100.0).max(f64::EPSILON);
        acc.in_full_kg += a.pay_weight_kg / kept;
        acc.purchase_minor += a.purchase_price_minor as f64;
        if !acc.origins.contains(&a.origin) {
            acc.origins.push(a.origin.clone());
        }
        self.add_head(&a.lot_id, &a.pen_id, i64::from(a.head_count), at);
    }

    fn placement(&mut self, p: &PlacementRecord, at: u64) {
        if !self.lots.contains_key(&p.lot_id) {
            self.warnings.push(format!(
                "animal {} placed in lot {} that never arrived",
                p.eid, p.lot_id
            ));
            return;
        }
        let from = match self.animals.get(&p.eid) {
            Some(known) if known.on_hand => Some(known.pen_id.clone()),
            Some(_) => return,
            None => {
                let arrival_pen = self
                    .lots
                    .get(&p.lot_id)
                    .map(|l| l.arrival_pen.clone())
                    .unwrap_or_default();
                if self.head_of(&p.lot_id, &arrival_pen) > 0 {
                    Some(arrival_pen)
                } else {
                    self.fullest_pen(&p.lot_id)
                }
            }
        };
        match from {
            Some(from) if from != p.pen_id => {
                self.add_head(&p.lot_id, &from, -1, at);
                self.add_head(&p.lot_id, &p.pen_id, 1, at);
            }
            Some(_) => {}
            None => self.warnings.push(format!(
                "animal {} placed beyond lot {}'s head count",
                p.eid, p.lot_id
            )),
        }
        let previous_lot = self.animals.get(&p.eid).map(|a| a.lot_id.clone());
        if previous_lot.as_ref() != Some(&p.lot_id) {
            self.lot_animals
                .entry(p.lot_id.clone())
                .or_default()
                .push(p.eid.clone());
            self.move_health(&p.eid, previous_lot.as_deref(), &p.lot_id);
        }
        let place = AnimalPlace {
            lot_id: p.lot_id.clone(),
            pen_id: p.pen_id.clone(),
            on_hand: true,
        };
        self.change_animal(&p.eid, |animals| {
            animals.insert(p.eid.clone(), place);
        });
    }

    fn pen_move(&mut self, m: &MoveRecord, at: u64) {
        if !m.eid.is_empty() {
            let Some(animal) = self.animals.get(&m.eid).filter(|a| a.on_hand).cloned() else {
                self.warnings
                    .push(format!("move of animal {} that is not in the yard", m.eid));
                return;
            };
            let from = if self.head_of(&animal.lot_id, &m.from_pen_id) > 0 {
                m.from_pen_id.clone()
            } else {
                animal.pen_id.clone()
            };
            self.add_head(&animal.lot_id, &from, -1, at);
            self.add_head(&animal.lot_id, &m.to_pen_id, 1, at);
            if let Some(a) = self.animals.get_mut(&m.eid) {
                a.pen_id = m.to_pen_id.clone();
            }
            return;
        }
        let here = self.head_of(&m.lot_id, &m.from_pen_id);
        let head = if m.head_count == 0 {
            here
        } else {
            i64::from(m.head_count).min(here)
        };
        if head <= 0 {
            self.warnings.push(format!(
                "move of lot {} from pen {} where it has no head",
                m.lot_id, m.from_pen_id
            ));
            return;
        }
        self.add_head(&m.lot_id, &m.from_pen_id, -head, at);
        self.add_head(&m.lot_id, &m.to_pen_id, head, at);
        if head == here {
            for eid in self.lot_animals.get(&m.lot_id).into_iter().flatten() {
                if let Some(a) = self
                    .animals
                    .get_mut(eid)
                    .filter(|a| a.on_hand && a.lot_id == m.lot_id && a.pen_id == m.from_pen_id)
                {
                    a.pen_id = m.to_pen_id.clone();
                }
            }
        }
    }

    fn delivery(&mut self, d: &DeliveryRecord) {
        let inventory = &mut self.inventory;
        let (dm_pct, cost) = match self.rations.get(&d.ration_id) {
            Some(r) => (
                r.dry_matter_pct,
                r.ingredients
                    .iter()
                    .zip(&r.inclusion_as_fed_pct)
                    .map(|(ing, pct)| inventory.feed(ing, d.delivered_kg * pct / 100.0))
                    .sum::<f64>(),
            ),
            None => {
                self.warnings.push(format!(
                    "delivery to pen {} of ration {} before its formula: no dry matter or cost",
                    d.pen_id, d.ration_id
                ));
                (0.0, 0.0)
            }
        };
        let dm = d.delivered_kg * dm_pct / 100.0;
        let pen = match self.pens.get_mut(&d.pen_id) {
            Some(pen) => pen,
            None => self.pens.entry(d.pen_id.clone()).or_default(),
        };
        pen.as_fed_kg += d.delivered_kg;
        pen.dm_kg += dm;
        pen.feed_minor += cost;
        pen.last_delivery_ms = Some(d.at_ms);
        let lots = self.lots_in(&d.pen_id);
        let head: i64 = lots.iter().map(|(_, h)| h).sum();
        if head <= 0 {
            self.unallocated_kg += d.delivered_kg;
            return;
        }
        for (lot, h) in lots {
            let share = h as f64 / head as f64;
            if let Some(acc) = self.lots.get_mut(&lot) {
                acc.as_fed_kg += d.delivered_kg * share;
                acc.dm_kg += dm * share;
                acc.feed_minor += cost * share;
            }
        }
    }

    fn death(&mut self, d: &DeathRecord, at: u64) {
        if d.eid.is_empty() {
            self.lot_death(d, at);
            return;
        }
        let animal = self.animals.get(&d.eid).cloned();
        if animal.as_ref().is_some_and(|a| !a.on_hand) {
            self.warnings
                .push(format!("death of animal {} that already left", d.eid));
            return;
        }
        let lot = if d.lot_id.is_empty() {
            animal.as_ref().map(|a| a.lot_id.clone())
        } else {
            Some(d.lot_id.clone())
        };
        let Some(lot) = lot.filter(|l| self.lots.contains_key(l)) else {
            self.warnings
                .push(format!("death of animal {} of no known lot", d.eid));
            return;
        };
        let pen = if d.pen_id.is_empty() {
            animal.as_ref().map(|a| a.pen_id.clone())
        } else {
            Some(d.pen_id.clone())
        };
        self.take_head(&lot, pen.as_deref(), 1, at);
        if let Some(acc) = self.lots.get_mut(&lot) {
            acc.dead += 1;
            acc.dead_ms += at.saturating_sub(acc.arrived_ms) as f64;
        }
        self.change_animal(&d.eid, |animals| {
            if let Some(a) = animals.get_mut(&d.eid) {
                a.on_hand = false;
            }
        });
        self.close_if_empty(&lot, at);
    }

    /// Head of a lot (or, given only its pen, of the lot with the most head there) dead
    /// without a readable tag.
    fn lot_death(&mut self, d: &DeathRecord, at: u64) {
        let lot = if d.lot_id.is_empty() {
            self.lots_in(&d.pen_id)
                .into_iter()
                .max_by_key(|(_, head)| *head)
                .map(|(lot, _)| lot)
        } else {
            Some(d.lot_id.clone())
        };
        let Some(lot) = lot.filter(|l| self.lots.contains_key(l)) else {
            self.warnings.push(format!(
                "death in lot {:?} pen {:?} that holds no known lot",
                d.lot_id, d.pen_id
            ));
            return;
        };
        let pen = (!d.pen_id.is_empty()).then_some(d.pen_id.as_str());
        let head = d.head_count.max(1);
        self.take_head(&lot, pen, head, at);
        if let Some(acc) = self.lots.get_mut(&lot) {
            acc.dead += head;
            acc.dead_ms += f64::from(head) * at.saturating_sub(acc.arrived_ms) as f64;
        }
        self.close_if_empty(&lot, at);
    }

    fn shipment(&mut self, s: &ShipmentRecord, at: u64) {
        if !self.lots.contains_key(&s.lot_id) {
            self.warnings
                .push(format!("shipment of lot {} that never arrived", s.lot_id));
            return;
        }
        let mut left = s.head_count;
        for eid in &s.eids {
            let pen = match self.animals.get(eid) {
                Some(a) if a.on_hand && a.lot_id == s.lot_id => a.pen_id.clone(),
                _ => continue,
            };
            self.change_animal(eid, |animals| {
                if let Some(a) = animals.get_mut(eid) {
                    a.on_hand = false;
                }
            });
            self.take_head(&s.lot_id, Some(&pen), 1, at);
            left = left.saturating_sub(1);
        }
        if left > 0 {
            self.take_head(&s.lot_id, None, left, at);
        }
        if let Some(acc) = self.lots.get_mut(&s.lot_id) {
            acc.shipped += s.head_count;
            acc.shipped_ms += f64::from(s.head_count) * at.saturating_sub(acc.arrived_ms) as f64;
            acc.out_kg += s.weight_kg;
            acc.revenue_minor += s.price_minor as f64;
        }
        self.close_if_empty(&s.lot_id, at);
    }

    /// Closes `lot` at `at` when it has no head left (its last shipped or died then): its
    /// animals are no longer on hand. A later arrival opens it again ([`Self::arrival`]).
    fn close_if_empty(&mut self, lot: &str, at: u64) {
        let Some(acc) = self.lots.get_mut(lot) else {
            return;
        };
        if acc.on_hand > 0 {
            return;
        }
        acc.closed_ms = Some(at);
        let animals = self.lot_animals.get(lot).cloned().unwrap_or_default();
        for eid in &animals {
            self.change_animal(eid, |animals| {
                if let Some(a) = animals.get_mut(eid).filter(|a| a.lot_id == lot) {
                    a.on_hand = false;
                }
            });
        }
    }
}
