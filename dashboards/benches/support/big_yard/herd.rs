//! The herd's side of the big yard: lots placed into pen pairs, their animals' placements,
//! weighings, treatments, hospital moves and deaths, shipments, and yardage.
//!
//! A lot's survivors all ship on its ship day with their EIDs; the dead never ship.

use schemas::{
    Arrival, Death, DoseUnit, Eid, Event, PenMove, Placement, Route, Sex, Shipment, Treatment,
    TreatmentPurpose, Weighing, Weight, YardageRate,
};

use super::{Events, Rng, Size, Totals};

/// Seconds in an hour.
const H: u32 = 3_600;

/// One lot's place in the period.
#[derive(Debug, Clone)]
pub struct LotPlan {
    /// Its number, from 0.
    pub index: usize,
    /// `L0001`, ...
    pub id: String,
    /// Its two pens; half the lot in each.
    pub pens: [String; 2],
    /// The day it arrives.
    pub arrive_day: u32,
    /// The day it ships, when before the end.
    pub ship_day: Option<u32>,
    /// Head placed.
    pub head: u32,
}

impl LotPlan {
    /// Head in each of its pens (the first takes the odd one).
    pub fn pen_head(&self) -> [u32; 2] {
        [self.head.div_ceil(2), self.head / 2]
    }

    /// The day feeding stops: its ship day or the end of the period.
    pub fn end_day(&self, days: u32) -> u32 {
        self.ship_day.unwrap_or(days)
    }
}

/// Lots in pen pairs: each pair holds one lot at a time, the next placed a few days after the
/// last one shipped.
pub fn plan_lots(size: Size, rng: &mut Rng) -> Vec<LotPlan> {
    let n = (size.head / size.head_per_lot.max(1)).max(1) as usize;
    let slots = n.div_ceil(2);
    let spread = size.days * 11 / 100;
    let mut free_day: Vec<u32> = (0..slots)
        .map(|s| u32::try_from(s).unwrap_or(0) * spread / u32::try_from(slots).unwrap_or(1))
        .collect();
    let mut lots = Vec::with_capacity(n);
    for i in 0..n {
        let slot = i % slots;
        let arrive_day = free_day[slot];
        if arrive_day + 2 >= size.days {
            continue;
        }
        let dof = size.days * 42 / 100 + rng.below(size.days * 6 / 100 + 1);
        let ship = arrive_day + dof;
        free_day[slot] = ship + 3 + rng.below(7);
        let spread_head = size.head_per_lot / 20;
        lots.push(LotPlan {
            index: i,
            id: format!("L{:04}", i + 1),
            pens: [
                format!("P{:03}", 2 * slot + 1),
                format!("P{:03}", 2 * slot + 2),
            ],
            arrive_day,
            ship_day: (ship < size.days).then_some(ship),
            head: size.head_per_lot - spread_head + rng.below(2 * spread_head + 1),
        });
    }
    lots
}

fn eid(n: u64) -> Eid {
    // 982: a manufacturer code; the twelve digits number the yard's animals.
    Eid::parse(&format!("982{:012}", 100_000_000 + n)).unwrap_or_else(|_| unreachable!())
}

fn treatment(eid: &Eid, purpose: TreatmentPurpose, product: &str, minor: u64) -> Event {
    Event::Treatment(Treatment {
        eid: eid.clone(),
        purpose,
        product: product.into(),
        dose: 5.0,
        dose_unit: DoseUnit::Ml,
        route: Route::Subcutaneous,
        product_lot: "B-2025".into(),
        withdrawal_days: 28,
        administered_by: "crew".into(),
        diagnosis: matches!(purpose, TreatmentPurpose::Therapeutic).then(|| "BRD".into()),
        booster_after_days: None,
        cost_minor: Some(minor),
        currency: Some("USD".into()),
    })
}

fn weighing(eid: &Eid, kg: f64) -> Event {
    Event::Weighing(Weighing {
        eid: eid.clone(),
        weight: Weight::from_kg((kg * 2.0).round() / 2.0),
        tag_read_event_id: None,
        gross_net: None,
    })
}

fn single_move(eid: &Eid, from: &str, to: &str) -> Event {
    Event::PenMove(PenMove {
        eid: Some(eid.clone()),
        lot_id: None,
        head_count: None,
        from_pen_id: from.into(),
        to_pen_id: to.into(),
    })
}

/// One lot's arrival, its animals' records and its shipment.
pub fn lot_events(lot: &LotPlan, days: u32, rng: &mut Rng, ev: &mut Events, totals: &mut Totals) {
    let end_day = lot.end_day(days);
    let a = lot.arrive_day;
    let mut in_kg = 0.0;
    let mut shipped = Vec::new();
    let mut out_kg = 0.0;
    for j in 0..lot.head {
        let eid = eid(totals.head_in + u64::from(j));
        let pen = &lot.pens[(j % 2) as usize];
        let w0 = 260.0 + 80.0 * rng.unit();
        let adg = 1.2 + 0.7 * rng.unit();
        in_kg += w0;
        let placed = ev.at(a, 8 * H + j * 15);
        let sex = if lot.index.is_multiple_of(2) {
            Sex::Steer
        } else {
            Sex::Heifer
        };
        let placement = Event::Placement(Placement {
            eid: eid.clone(),
            lot_id: lot.id.clone(),
            pen_id: pen.clone(),
            sex: Some(sex),
            breed: Some("Angus".into()),
        });
        ev.push(placed, "office", placement);
        ev.push(
            placed + chrono::Duration::seconds(5),
            "chute-1",
            weighing(&eid, w0),
        );
        let vaccine = treatment(&eid, TreatmentPurpose::Vaccination, "Bovi-Shield", 1_150);
        ev.push(placed + chrono::Duration::seconds(10), "chute-1", vaccine);
        totals.weighings += 1;
        let mut died = None;
        if rng.chance(0.15) {
            let pull = a + 3 + rng.below(35);
            if pull < end_day {
                let minor = 2_500 + u64::from(rng.below(2_000));
                let t = treatment(&eid, TreatmentPurpose::Therapeutic, "Draxxin", minor);
                ev.push(ev.at(pull, 7 * H + j * 7), "chute-1", t);
                totals.pulls += 1;
                let death_day = pull + 1 + rng.below(10);
                if rng.chance(0.10) && death_day < end_day {
                    let death = Event::Death(Death {
                        eid: eid.clone(),
                        cause: "BRD".into(),
                        lot_id: Some(lot.id.clone()),
                        pen_id: Some(pen.clone()),
                    });
                    ev.push(ev.at(death_day, 5 * H + j * 7), "office", death);
                    totals.dead += 1;
                    died = Some(death_day);
                } else if rng.chance(1.0 / 3.0) && pull + 3 < end_day {
                    ev.push(
                        ev.at(pull, 8 * H + j * 7),
                        "office",
                        single_move(&eid, pen, "H1"),
                    );
                    let back = single_move(&eid, "H1", pen);
                    ev.push(ev.at(pull + 3, 6 * H + j * 7), "office", back);
                }
            }
        }
        let alive_on = |d: u32| died.is_none_or(|x| x > d);
        // Re-weighed at 60 and 120 days on feed in a year (the same share of a shorter period).
        for dof in [days * 60 / 365, days * 120 / 365] {
            let d = a + dof;
            if d < end_day && alive_on(d) {
                let kg = w0 + adg * f64::from(dof) + 6.0 * (rng.unit() - 0.5);
                ev.push(ev.at(d, 10 * H + j * 15), "chute-1", weighing(&eid, kg));
                totals.weighings += 1;
            }
        }
        if let Some(ship) = lot.ship_day.filter(|_| died.is_none()) {
            out_kg += w0 + adg * f64::from(ship - a);
            shipped.push(eid);
        }
    }
    totals.head_in += u64::from(lot.head);
    let pay_kg = (in_kg * 0.96).round();
    let arrival = Event::Arrival(Arrival {
        lot_id: lot.id.clone(),
        head_count: lot.head,
        origin: ["Cherry County, NE", "Holt County, NE", "Meade County, SD"][lot.index % 3].into(),
        source: Some("Valentine Livestock Auction".into()),
        pen_id: Some(lot.pens[0].clone()),
        pay_weight_kg: pay_kg,
        pay_weight_per_head_kg: None,
        shrink_pct: 4.0,
        purchase_price_minor: (pay_kg * f64::from(520 + rng.below(80))) as u64,
        currency: "USD".into(),
    });
    ev.push(
        ev.at(a, 6 * H + (lot.index % 60) as u32 * 60),
        "office",
        arrival,
    );
    if let (Some(ship), false) = (lot.ship_day, shipped.is_empty()) {
        let weight_kg = (out_kg * 0.96).round();
        totals.shipped += shipped.len() as u64;
        totals.closed_lots += 1;
        if totals.a_closed_lot.is_empty() {
            totals.a_closed_lot = lot.id.clone();
        }
        let shipment = Event::Shipment(Shipment {
            lot_id: lot.id.clone(),
            head_count: u32::try_from(shipped.len()).unwrap_or(u32::MAX),
            buyer: "Tyson Lexington".into(),
            weight_per_head_kg: None,
            weight_kg,
            price_minor: (weight_kg * f64::from(380 + rng.below(60))) as u64,
            currency: "USD".into(),
            eids: shipped,
        });
        ev.push(ev.at(ship, 5 * H), "office", shipment);
    }
}

/// The yard's default yardage (raised at mid-period) and `first` lot's own rate.
pub fn yardage(days: u32, first: Option<&LotPlan>, ev: &mut Events) {
    let rate = |minor: u64, lot_id: Option<String>| {
        Event::YardageRate(YardageRate {
            per_head_per_day_minor: minor,
            currency: "USD".into(),
            lot_id,
        })
    };
    ev.push(ev.at(0, 0), "office", rate(45, None));
    ev.push(ev.at(days / 2, 0), "office", rate(50, None));
    if let Some(lot) = first {
        ev.push(
            ev.at(lot.arrive_day, 0),
            "office",
            rate(40, Some(lot.id.clone())),
        );
    }
}
