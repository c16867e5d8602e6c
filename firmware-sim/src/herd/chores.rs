//! The day's chores on a simulated yard: shipping drafts, finding deaths, processing new lots,
//! re-weighing, pulling sick cattle, and feeding.

use rand::Rng;
use schemas::{Death, Event, FeedPurchase, PenMove, Placement, Shipment, Weighing, Weight};

use super::feeding::{self, Bunk, FEEDINGS, PenCall};
use super::health::{self, HOSPITAL_PEN, PROCESSING, REIMPLANT, SUDDEN_DEATH_CAUSES};
use super::lots::Status;
use super::market::INGREDIENTS;
use super::yard::YardSim;
use super::{Channel, DaySummary, SimEvent};
use crate::growth::DMI_FRACTION_OF_BODY_WEIGHT;

/// Packers that buy the yard's fed cattle.
const BUYERS: [&str; 4] = [
    "Tyson Lexington",
    "JBS Grand Island",
    "Cargill Schuyler",
    "National Beef Dodge City",
];

/// Days on feed before a lot is first sorted for shipping; drafts go weekly after that.
const FIRST_SORT_DOF: u32 = 100;

/// Seconds between animals through the chute.
const CHUTE_SECONDS: i64 = 45;

impl YardSim {
    /// Weekly drafts at 05:00: animals at or above their target, out of withdrawal, in their pen.
    pub(super) fn ship(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        for l in 0..self.lots.len() {
            let dof = self.lots[l].dof(day);
            if dof < FIRST_SORT_DOF || !dof.is_multiple_of(7) {
                continue;
            }
            let draft: Vec<usize> = (0..self.animals.len())
                .filter(|&i| {
                    let a = &self.animals[i];
                    a.lot == l
                        && a.status == Status::OnFeed
                        && a.weight_kg >= a.target_kg
                        && a.clear_on_day <= day
                })
                .collect();
            if draft.is_empty() {
                continue;
            }
            let weight_kg: f64 = draft.iter().map(|&i| self.animals[i].weight_kg).sum();
            let weight_kg = (weight_kg * 2.0).round() / 2.0;
            // Sold live with a 4 % pencil shrink.
            let price_minor = (weight_kg * 0.96 * self.market.cattle.fed_per_kg.now()).round();
            for &i in &draft {
                self.animals[i].status = Status::Shipped;
                self.animals[i].left_on_day = Some(day);
            }
            summary.shipped_head += draft.len();
            out.push(SimEvent::office(
                self.at(day, 5, 0, 0),
                Event::Shipment(Shipment {
                    lot_id: self.lots[l].lot_id.clone(),
                    head_count: draft.len() as u32,
                    buyer: BUYERS[self.rng.random_range(0..BUYERS.len())].into(),
                    weight_kg,
                    price_minor: price_minor as u64,
                    currency: "USD".into(),
                    eids: draft.iter().map(|&i| self.animals[i].eid.clone()).collect(),
                }),
            ));
            self.empty_pen_if_done(l, day);
        }
    }

    /// When no animal of lot `l` is left in the yard, its pen is cleaned and refilled 3-10
    /// days later.
    fn empty_pen_if_done(&mut self, l: usize, day: u32) {
        let left = self
            .animals
            .iter()
            .any(|a| a.lot == l && !matches!(a.status, Status::Dead | Status::Shipped));
        if left {
            return;
        }
        let refill = day + self.rng.random_range(3..=10);
        if let Some(pen) = self.pens.iter_mut().find(|p| p.lot == Some(l)) {
            pen.lot = None;
            pen.fill_on_day = refill;
        }
    }

    /// Deaths found on the morning round (06:30): sudden deaths and fatal hospital cases.
    pub(super) fn deaths(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        for i in 0..self.animals.len() {
            let (cause, pen_id) = match self.animals[i].status {
                Status::Hospital {
                    dies_on_day: Some(d),
                    ..
                } if d == day => ("bovine respiratory disease", HOSPITAL_PEN.to_owned()),
                Status::OnFeed if self.rng.random_bool(health::SUDDEN_DEATH_PER_DAY) => (
                    SUDDEN_DEATH_CAUSES[self.rng.random_range(0..SUDDEN_DEATH_CAUSES.len())],
                    self.lots[self.animals[i].lot].pen_id.clone(),
                ),
                _ => continue,
            };
            let lot = self.animals[i].lot;
            self.animals[i].status = Status::Dead;
            self.animals[i].left_on_day = Some(day);
            summary.deaths += 1;
            out.push(SimEvent::office(
                self.at(day, 6, 30, summary.deaths as i64 * 60),
                Event::Death(Death {
                    eid: self.animals[i].eid.clone(),
                    cause: cause.into(),
                    lot_id: Some(self.lots[lot].lot_id.clone()),
                    pen_id: Some(pen_id),
                }),
            ));
            self.empty_pen_if_done(lot, day);
        }
    }

    /// Lots that arrived yesterday are processed from 08:00: placement, in-weight, products.
    pub(super) fn process(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        let mut n = 0i64;
        for i in 0..self.animals.len() {
            let lot = &self.lots[self.animals[i].lot];
            if self.animals[i].status != Status::Arrived || lot.arrived_day + 1 != day {
                continue;
            }
            let at = self.at(day, 8, 0, n * CHUTE_SECONDS);
            n += 1;
            let a = &mut self.animals[i];
            a.status = Status::OnFeed;
            out.push(SimEvent::office(
                at,
                Event::Placement(Placement {
                    eid: a.eid.clone(),
                    lot_id: lot.lot_id.clone(),
                    pen_id: lot.pen_id.clone(),
                    sex: Some(a.sex),
                    breed: Some(a.breed.into()),
                }),
            ));
            out.push(weighing(at, &a.eid, a.in_weight_kg));
            for (k, product) in PROCESSING.iter().enumerate() {
                let t = product.give(&a.eid, a.in_weight_kg, None);
                a.clear_on_day = a.clear_on_day.max(day + t.withdrawal_days + 1);
                out.push(SimEvent::office(
                    at + chrono::Duration::seconds(10 + k as i64 * 5),
                    Event::Treatment(t),
                ));
            }
            summary.processed_head += 1;
        }
    }

    /// Lots due a re-weigh go through the chute from 10:00 (re-implanted the first time after
    /// day 60); the next re-weigh is 30-60 days later.
    pub(super) fn reweigh(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        let mut n = 0i64;
        for l in 0..self.lots.len() {
            if self.lots[l].next_weigh_day != day {
                continue;
            }
            let reimplant = !self.lots[l].reimplanted && self.lots[l].dof(day) >= 60;
            self.lots[l].reimplanted |= reimplant;
            self.lots[l].next_weigh_day = day + self.rng.random_range(30..=60);
            for a in self
                .animals
                .iter()
                .filter(|a| a.lot == l && a.status == Status::OnFeed)
            {
                let at = self.at(day, 10, 0, n * CHUTE_SECONDS);
                n += 1;
                out.push(weighing(at, &a.eid, a.weight_kg));
                if reimplant {
                    out.push(SimEvent::office(
                        at + chrono::Duration::seconds(15),
                        Event::Treatment(REIMPLANT.give(&a.eid, a.weight_kg, None)),
                    ));
                }
                summary.weighed_head += 1;
            }
        }
    }

    /// Sick cattle are pulled to the hospital pen and treated (from 09:30); recovered ones go
    /// back to their home pen at 11:00.
    pub(super) fn pulls_and_returns(
        &mut self,
        day: u32,
        out: &mut Vec<SimEvent>,
        summary: &mut DaySummary,
    ) {
        let mut n = 0i64;
        for i in 0..self.animals.len() {
            let lot = &self.lots[self.animals[i].lot];
            let (home, lot_id, dof, risk) = (
                lot.pen_id.clone(),
                lot.lot_id.clone(),
                lot.dof(day),
                lot.risk,
            );
            let move_record = |from: &str, to: &str, a: &super::lots::HerdAnimal| {
                Event::PenMove(PenMove {
                    eid: Some(a.eid.clone()),
                    lot_id: Some(lot_id.clone()),
                    head_count: None,
                    from_pen_id: from.into(),
                    to_pen_id: to.into(),
                })
            };
            match self.animals[i].status {
                Status::Hospital {
                    back_on_day,
                    dies_on_day: None,
                } if back_on_day == day => {
                    self.animals[i].status = Status::OnFeed;
                    out.push(SimEvent::office(
                        self.at(day, 11, 0, n * 60),
                        move_record(HOSPITAL_PEN, &home, &self.animals[i]),
                    ));
                    n += 1;
                }
                Status::OnFeed if dof >= 2 => {
                    let Some(illness) = health::falls_ill(dof, risk, &mut self.rng) else {
                        continue;
                    };
                    let at = self.at(day, 9, 30, n * 120);
                    n += 1;
                    let dies = self.rng.random_bool(illness.case_fatality);
                    let back_on_day = day + self.rng.random_range(3..=5);
                    let dies_on_day = dies.then(|| day + self.rng.random_range(1..=3));
                    let a = &mut self.animals[i];
                    a.status = Status::Hospital {
                        back_on_day,
                        dies_on_day,
                    };
                    let t = illness
                        .therapy
                        .give(&a.eid, a.weight_kg, Some(illness.diagnosis));
                    a.clear_on_day = a.clear_on_day.max(day + t.withdrawal_days + 1);
                    out.push(SimEvent::office(at, move_record(&home, HOSPITAL_PEN, a)));
                    out.push(SimEvent::office(
                        at + chrono::Duration::seconds(60),
                        Event::Treatment(t),
                    ));
                    summary.pulls += 1;
                }
                _ => {}
            }
        }
    }

    /// Two feedings: bunk calls per pen (and the hospital pen), loads and deliveries, ingredient
    /// purchases when stocks run low, and the day's intake and growth.
    pub(super) fn feed(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        // Pen 0..n are home pens; n is the hospital pen.
        let pens = self.pens.len();
        let pen_of = |sim: &YardSim, i: usize| -> Option<usize> {
            let a = &sim.animals[i];
            match a.status {
                Status::Hospital { .. } => Some(pens),
                Status::OnFeed | Status::Arrived => {
                    sim.pens.iter().position(|p| p.lot == Some(a.lot))
                }
                _ => None,
            }
        };
        let mut demand = vec![0.0; pens + 1];
        let mut head = vec![0usize; pens + 1];
        let mut members = vec![Vec::new(); pens + 1];
        for i in 0..self.animals.len() {
            let Some(p) = pen_of(self, i) else { continue };
            let a = &self.animals[i];
            let dof = self.lots[a.lot].dof(day);
            let ramp = 0.7 + 0.3 * (f64::from(dof) / 21.0).min(1.0);
            let sick = if p == pens { 0.5 } else { 1.0 };
            let dmi = a.weight_kg * DMI_FRACTION_OF_BODY_WEIGHT * ramp * sick;
            demand[p] += dmi;
            head[p] += 1;
            members[p].push((i, dmi));
        }
        let mut calls = Vec::new();
        let mut ration_dm = vec![0.0; pens + 1];
        for p in 0..=pens {
            if head[p] == 0 {
                continue;
            }
            let (pen_id, ration_id, bunk) = if p == pens {
                (HOSPITAL_PEN.to_owned(), "starter", self.hospital_bunk)
            } else {
                let lot = self.pens[p].lot.map_or(0, |l| self.lots[l].dof(day));
                (
                    self.pens[p].pen_id.clone(),
                    feeding::ration_for(lot),
                    self.pens[p].bunk,
                )
            };
            let dm_pct = self
                .rations
                .iter()
                .find(|r| r.ration_id == ration_id)
                .map_or(70.0, |r| r.dry_matter_pct());
            ration_dm[p] = dm_pct / 100.0;
            let call_dm = bunk.call_dm_kg(head[p], demand[p] * 0.9);
            calls.push((p, pen_id, ration_id, call_dm / ration_dm[p]));
        }
        let mut delivered_dm = vec![0.0; pens + 1];
        let mut used_kg = vec![0.0; INGREDIENTS.len()];
        let mut loads_out = Vec::new();
        for (hour, minute, share) in FEEDINGS.iter() {
            let feeding_calls: Vec<PenCall> = calls
                .iter()
                .map(|(_, pen_id, ration_id, kg)| PenCall {
                    pen_id: pen_id.clone(),
                    ration_id,
                    target_kg: kg * share,
                })
                .collect();
            let rations = self.rations.clone();
            let loads = feeding::mix_and_deliver(
                &feeding_calls,
                &rations,
                &mut self.batch_no,
                &mut self.rng,
            );
            let mut minute_of = 0i64;
            for (load, deliveries) in loads {
                for ing in &load.ingredients {
                    if let Some(k) = INGREDIENTS.iter().position(|i| i.name == ing.ingredient) {
                        used_kg[k] += ing.weight_kg;
                    }
                }
                loads_out.push((
                    self.at(day, *hour, *minute, minute_of * 60),
                    Event::FeedLoad(load),
                ));
                for d in deliveries {
                    minute_of += 8;
                    if let Some((p, ..)) = calls.iter().find(|c| c.1 == d.pen_id) {
                        delivered_dm[*p] += d.delivered_kg * ration_dm[*p];
                    }
                    summary.fed_kg += d.delivered_kg;
                    loads_out.push((
                        self.at(day, *hour, *minute, minute_of * 60),
                        Event::FeedDelivery(d),
                    ));
                }
                minute_of += 10;
            }
        }
        self.buy_feed(day, &used_kg, out);
        out.extend(loads_out.into_iter().map(|(at, event)| SimEvent {
            at,
            channel: Channel::Truck,
            event,
        }));
        // Intake and growth.
        for p in 0..=pens {
            if head[p] == 0 {
                continue;
            }
            let eaten = delivered_dm[p].min(demand[p]);
            let fed_share = if demand[p] > 0.0 {
                eaten / demand[p]
            } else {
                1.0
            };
            for &(i, _) in &members[p] {
                let a = &mut self.animals[i];
                let days_fed = self.lots[a.lot].dof(day).saturating_sub(1);
                let sick = if p == pens { 0.25 } else { 1.0 };
                if a.status != Status::Arrived {
                    a.weight_kg += a.curve.adg_kg(f64::from(days_fed)) * fed_share * sick;
                }
            }
            let bunk = Bunk {
                delivered_dm_kg: delivered_dm[p],
                eaten_dm_kg: eaten,
                head: head[p],
            };
            if p == pens {
                self.hospital_bunk = bunk;
            } else {
                self.pens[p].bunk = bunk;
            }
        }
    }

    /// Buys (06:00) about two weeks' worth of what runs below four days' use after today's.
    fn buy_feed(&mut self, day: u32, used_kg: &[f64], out: &mut Vec<SimEvent>) {
        let mut n = 0i64;
        for (k, ingredient) in INGREDIENTS.iter().enumerate() {
            let used = used_kg[k];
            while self.stock_kg[k] - used < used * 4.0 && used > 0.0 {
                let (supplier, origin) =
                    ingredient.suppliers[self.rng.random_range(0..ingredient.suppliers.len())];
                // About two weeks' use, at most a truckload (small yards buy small loads).
                let kg = (used * 14.0).clamp(2_000.0, ingredient.truckload_kg)
                    * self.rng.random_range(0.95..1.05);
                let kg = (kg / 10.0).round() * 10.0;
                self.stock_kg[k] += kg;
                out.push(SimEvent::office(
                    self.at(day, 6, 0, n * 300),
                    Event::FeedPurchase(FeedPurchase {
                        ingredient: ingredient.name.into(),
                        supplier: supplier.into(),
                        origin: origin.into(),
                        quantity_kg: kg,
                        price_minor: self.market.feed_cost_minor(k, kg),
                        currency: "USD".into(),
                        dry_matter_pct: ingredient.dry_matter_pct,
                    }),
                ));
                n += 1;
            }
            self.stock_kg[k] -= used;
        }
    }
}

/// A chute weighing of `eid` at `kg` (the scale's 0.5 kg graduation).
fn weighing(at: chrono::DateTime<chrono::Utc>, eid: &schemas::Eid, kg: f64) -> SimEvent {
    SimEvent {
        at,
        channel: Channel::Chute,
        event: Event::Weighing(Weighing {
            eid: eid.clone(),
            weight: Weight::from_kg((kg * 2.0).round() / 2.0),
            tag_read_event_id: None,
            gross_net: None,
        }),
    }
}
