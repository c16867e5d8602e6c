//! The yard, one day at a time: pens filled with lots, the day's chores in time order, and the
//! records they leave.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use schemas::{Eid, Event, Ration, YardageRate};

use super::feeding::{self, Bunk};
use super::lots::{HerdAnimal, Lot, Status, buy_lot};
use super::market::Market;
use super::{Channel, DaySummary, SimEvent};

/// The yard's default yardage fee on its first day, cents per head per day.
pub const YARDAGE_MINOR: u64 = 45;

/// What yard to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct YardConfig {
    /// Home pens (`P01`, `P02`, ...; the hospital pen `H1` comes on top).
    pub pens: usize,
    /// Mean head per lot (each lot within ±10 %).
    pub head_per_lot: usize,
    /// Everything random is drawn from this seed.
    pub seed: u64,
    /// The model's day 0.
    pub start: NaiveDate,
    /// Days between filling one pen and the next at the start (staggered placements).
    pub stagger_days: u32,
}

impl YardConfig {
    /// A yard of `pens` pens of `head_per_lot`, starting on `start`, its pens first filled
    /// spread over about one feeding period (at most 45 days apart), so that later every stage
    /// from receiving to shipping is in the yard at once.
    pub fn new(pens: usize, head_per_lot: usize, seed: u64, start: NaiveDate) -> Self {
        Self {
            pens: pens.max(1),
            head_per_lot: head_per_lot.max(1),
            seed,
            start,
            stagger_days: (180 / pens.max(1) as u32).clamp(1, 45),
        }
    }
}

/// One home pen.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pen {
    pub(super) pen_id: String,
    pub(super) lot: Option<usize>,
    pub(super) fill_on_day: u32,
}

/// The yard's state; [`YardSim::step`] runs one day.
#[derive(Debug, Clone)]
pub struct YardSim {
    pub(super) config: YardConfig,
    pub(super) rng: StdRng,
    pub(super) market: Market,
    pub(super) lots: Vec<Lot>,
    pub(super) animals: Vec<HerdAnimal>,
    pub(super) pens: Vec<Pen>,
    /// Each pen's bunk (home pens, the sorting pen, the hospital pen), by pen id.
    pub(super) bunks: BTreeMap<String, Bunk>,
    pub(super) rations: Vec<Ration>,
    pub(super) stock_kg: Vec<f64>,
    pub(super) batch_no: u32,
    eid_base: u64,
    eids_issued: u64,
    pub(super) day: u32,
}

impl YardSim {
    /// A yard with empty pens on its day 0.
    pub fn new(config: YardConfig) -> Self {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let eid_base = rng.random_range(1..9_000u64) * 100_000_000;
        let pens = (0..config.pens)
            .map(|i| Pen {
                pen_id: format!("P{:02}", i + 1),
                lot: None,
                fill_on_day: i as u32 * config.stagger_days,
            })
            .collect();
        Self {
            rng,
            market: Market::default(),
            lots: Vec::new(),
            animals: Vec::new(),
            pens,
            bunks: BTreeMap::new(),
            rations: feeding::rations().to_vec(),
            stock_kg: vec![0.0; super::market::INGREDIENTS.len()],
            batch_no: 0,
            eid_base,
            eids_issued: 0,
            day: 0,
            config,
        }
    }

    /// The day [`YardSim::step`] runs next (days since the start).
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The date of day `day`.
    pub fn date(&self, day: u32) -> NaiveDate {
        self.config.start + chrono::Days::new(u64::from(day))
    }

    /// Every animal that has arrived, with its state.
    pub fn animals(&self) -> &[HerdAnimal] {
        &self.animals
    }

    /// Every lot that has arrived.
    pub fn lots(&self) -> &[Lot] {
        &self.lots
    }

    /// Today's prices.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// `hh:mm` plus `seconds` on day `day`, UTC.
    pub(super) fn at(&self, day: u32, hour: u32, minute: u32, seconds: i64) -> DateTime<Utc> {
        self.date(day)
            .and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN))
            .and_utc()
            + chrono::Duration::seconds(seconds)
    }

    fn next_eid(&mut self) -> Eid {
        self.eids_issued += 1;
        let id = self.eid_base + self.eids_issued;
        // 840 + 12 digits is a valid US animal identification number for any id < 10^12.
        Eid::parse(&format!("840{:012}", id % 1_000_000_000_000))
            .unwrap_or_else(|_| unreachable_eid())
    }

    /// Runs day [`YardSim::day`]: every record the yard made that day, in time order.
    pub fn step(&mut self) -> (DaySummary, Vec<SimEvent>) {
        let day = self.day;
        let mut out = Vec::new();
        let mut summary = DaySummary {
            date: self.date(day),
            ..DaySummary::default()
        };
        self.market.step(&mut self.rng);
        if day == 0 {
            for ration in &self.rations {
                out.push(SimEvent::office(
                    self.at(day, 0, 0, 0),
                    Event::Ration(ration.clone()),
                ));
            }
        }
        if day.is_multiple_of(365) {
            out.push(SimEvent::office(
                self.at(day, 0, 5, 0),
                Event::YardageRate(YardageRate {
                    per_head_per_day_minor: YARDAGE_MINOR + 2 * u64::from(day / 365),
                    currency: "USD".into(),
                    lot_id: None,
                }),
            ));
        }
        // A reformulated finisher every 120 days, between the morning and afternoon feedings.
        if day % 120 == 60 {
            let finisher = feeding::finisher(day % 240 == 60);
            if let Some(r) = self.rations.iter_mut().find(|r| r.ration_id == "finisher") {
                *r = finisher.clone();
            }
            out.push(SimEvent::office(
                self.at(day, 12, 0, 0),
                Event::Ration(finisher),
            ));
        }
        self.ship(day, &mut out, &mut summary);
        self.deaths(day, &mut out, &mut summary);
        self.process(day, &mut out, &mut summary);
        self.reweigh(day, &mut out, &mut summary);
        self.pulls_and_returns(day, &mut out, &mut summary);
        self.feed(day, &mut out, &mut summary);
        self.arrivals(day, &mut out, &mut summary);
        summary.head_on_feed = self
            .animals
            .iter()
            .filter(|a| !matches!(a.status, Status::Dead | Status::Shipped))
            .count();
        summary.mean_weight_kg = mean(
            self.animals
                .iter()
                .filter(|a| matches!(a.status, Status::OnFeed | Status::Hospital { .. }))
                .map(|a| a.weight_kg),
        );
        out.sort_by_key(|e| e.at);
        self.day += 1;
        (summary, out)
    }

    /// Empty pens whose turn has come get a new lot at 15:00.
    fn arrivals(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        for p in 0..self.pens.len() {
            if self.pens[p].lot.is_some() || self.pens[p].fill_on_day != day {
                continue;
            }
            let spread = (self.config.head_per_lot / 10).max(1);
            let head = self.config.head_per_lot + self.rng.random_range(0..=2 * spread) - spread;
            let head = head.max(1);
            let mut tags: Vec<Eid> = (0..head).map(|_| self.next_eid()).collect();
            tags.reverse();
            let mut next = || tags.pop().unwrap_or_else(unreachable_eid);
            let pen_id = self.pens[p].pen_id.clone();
            let (lot, animals, arrival) = buy_lot(
                self.lots.len(),
                &pen_id,
                day,
                head,
                &mut next,
                &self.market,
                &mut self.rng,
            );
            self.pens[p].lot = Some(self.lots.len());
            self.bunks.remove(&pen_id);
            self.lots.push(lot);
            self.animals.extend(animals);
            summary.arrived_head += head;
            out.push(SimEvent::office(
                self.at(day, 15, 0, 0),
                Event::Arrival(arrival),
            ));
        }
    }
}

/// The simulator only makes 840 + 12-digit tags, which always parse; this is never reached.
fn unreachable_eid() -> Eid {
    Eid::parse("840000000000001").unwrap_or_else(|_| unreachable!("a valid constant EID"))
}

/// The mean of `values` (0 for none).
pub(super) fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

impl SimEvent {
    /// A record entered in the office or on the chute-side tablet.
    pub(super) fn office(at: DateTime<Utc>, event: Event) -> Self {
        Self {
            at,
            channel: Channel::Office,
            event,
        }
    }
}
