//! The day's chores on a simulated yard: shipping drafts, finding deaths, processing new lots,
//! re-weighing and pulling sick cattle (feeding is in `feed_day`).

use rand::Rng;
use schemas::{Death, Event, PenMove, Placement, Shipment, Weighing, Weight};

use super::health::{self, HOSPITAL_PEN, PROCESSING, REIMPLANT, SUDDEN_DEATH_CAUSES};
use super::lots::{SORT_PEN, Status};
use super::yard::YardSim;
use super::{Channel, DaySummary, SimEvent};

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
                    weight_per_head_kg: None,
                    price_minor: price_minor as u64,
                    currency: "USD".into(),
                    eids: draft.iter().map(|&i| self.animals[i].eid.clone()).collect(),
                }),
            ));
            self.empty_pen_if_done(l, day);
            self.sort_tail_enders(l, day, out);
        }
    }

    /// After a draft, a lot down to its last few head (at most 15 % of those placed, or 2)
    /// moves to the sorting pen at 05:30 and its home pen is refilled 3-10 days later.
    fn sort_tail_enders(&mut self, l: usize, day: u32, out: &mut Vec<SimEvent>) {
        let (mut in_pen, mut left, mut placed) = (0u32, 0u32, 0u32);
        for a in self.animals.iter().filter(|a| a.lot == l) {
            placed += 1;
            match a.status {
                Status::OnFeed => {
                    in_pen += 1;
                    left += 1;
                }
                Status::Hospital { .. } => left += 1,
                _ => {}
            }
        }
        let lot = &self.lots[l];
        if left == 0
            || lot.pen_id == SORT_PEN
            || f64::from(left) > (f64::from(placed) * 0.15).max(2.0)
        {
            return;
        }
        let from = lot.pen_id.clone();
        if in_pen > 0 {
            out.push(SimEvent::office(
                self.at(day, 5, 30, 0),
                Event::PenMove(PenMove {
                    eid: None,
                    lot_id: Some(lot.lot_id.clone()),
                    head_count: Some(in_pen),
                    from_pen_id: from.clone(),
                    to_pen_id: SORT_PEN.into(),
                }),
            ));
        }
        self.lots[l].pen_id = SORT_PEN.into();
        let refill = day + self.rng.random_range(3..=10);
        if let Some(pen) = self.pens.iter_mut().find(|p| p.lot == Some(l)) {
            pen.lot = None;
            pen.fill_on_day = refill;
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
