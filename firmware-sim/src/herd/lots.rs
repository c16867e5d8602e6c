//! Lots: cattle bought together from one source, placed in one pen, and the animals in them.
//!
//! A lot is steers (70 %) or heifers, of breed types typical of the US Plains, bought at a
//! sale barn or off a ranch. Full (sale-barn) weights are a bell around 365 kg for steers and
//! 330 kg for heifers; the lot's pay weight is the full weight less a 2-4 % pencil shrink, its
//! price today's feeder price on that. Animals lose ~5 % more on the truck, so the in-weight on
//! the chute next morning is below pay weight. Each animal has its own growth curve around the
//! sex and breed's mean placement ADG and its own target (out) weight.

use rand::Rng;
use rand::rngs::StdRng;
use schemas::{Arrival, Eid, Sex};

use super::market::{HEIFER_FEEDER_DISCOUNT, Market};
use crate::growth::GrowthCurve;

/// Where lots come from: origin, the seller (when not the ranch itself), and their health risk
/// (1.0 average; sale-barn calves higher, ranch-direct yearlings lower).
pub const SOURCES: [(&str, Option<&str>, f64); 5] = [
    (
        "Cherry County, NE",
        Some("Valentine Livestock Auction"),
        1.4,
    ),
    ("Sandhills ranch, Custer County, NE", None, 0.6),
    ("Potter County, TX", Some("Amarillo Livestock Auction"), 1.6),
    ("Ford County, KS", Some("Winter Livestock, Dodge City"), 1.2),
    ("Butte County, SD", Some("St. Onge Livestock"), 0.9),
];

/// Breed types and their effect on placement ADG (kg/day) and target weight (kg).
pub const BREEDS: [(&str, f64, f64); 5] = [
    ("Angus", 0.0, 0.0),
    ("Angus x Hereford", 0.02, 0.0),
    ("Charolais x Angus", 0.06, 20.0),
    ("Red Angus", 0.0, -5.0),
    ("Hereford", -0.05, -10.0),
];

/// The pen a lot's last few head (tail-enders) are sorted into, so their home pen can be
/// refilled.
pub const SORT_PEN: &str = "R1";

/// The target (out) weight of a steer / heifer, kg (about 1,400 / 1,280 lb).
pub const TARGET_KG: (f64, f64) = (635.0, 580.0);
/// Mean placement ADG of a steer / heifer, kg/day.
pub const MEAN_ADG_KG: (f64, f64) = (1.82, 1.62);
/// Mean full weight at the sale barn of a steer / heifer, kg.
pub const MEAN_FULL_KG: (f64, f64) = (375.0, 340.0);
/// Weight lost between the sale barn and the chute, as a fraction.
pub const TRANSIT_SHRINK: f64 = 0.05;

/// Where an animal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Arrived, not yet processed.
    Arrived,
    /// On feed in its home pen.
    OnFeed,
    /// In the hospital pen, going back on the day given.
    Hospital {
        /// The day it goes back to its home pen.
        back_on_day: u32,
        /// Whether it will die instead, and on which day.
        dies_on_day: Option<u32>,
    },
    /// Dead.
    Dead,
    /// Shipped.
    Shipped,
}

/// One animal in the model.
#[derive(Debug, Clone, PartialEq)]
pub struct HerdAnimal {
    /// Its tag.
    pub eid: Eid,
    /// Index of its lot in the yard's lots.
    pub lot: usize,
    /// Sex class.
    pub sex: Sex,
    /// Breed type.
    pub breed: &'static str,
    /// Its growth potential.
    pub curve: GrowthCurve,
    /// Its weight now, kg.
    pub weight_kg: f64,
    /// In-weight on the chute at processing, kg.
    pub in_weight_kg: f64,
    /// Out weight it ships at, kg.
    pub target_kg: f64,
    /// Where it is.
    pub status: Status,
    /// The first day it may be shipped for slaughter (withdrawal).
    pub clear_on_day: u32,
    /// The day it died or shipped.
    pub left_on_day: Option<u32>,
}

/// One lot.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    /// The lot id.
    pub lot_id: String,
    /// Its home pen.
    pub pen_id: String,
    /// The day (since the model's start) it arrived.
    pub arrived_day: u32,
    /// Sex class of the lot.
    pub sex: Sex,
    /// Health risk (1.0 average).
    pub risk: f64,
    /// The next day it goes through the chute for a re-weigh.
    pub next_weigh_day: u32,
    /// Whether it has been re-implanted.
    pub reimplanted: bool,
}

impl Lot {
    /// Days on feed on `day`.
    pub fn dof(&self, day: u32) -> u32 {
        day.saturating_sub(self.arrived_day)
    }
}

/// A sum of four uniforms: a bell of standard deviation ≈ `sd` around `mean`.
fn bell(mean: f64, sd: f64, rng: &mut StdRng) -> f64 {
    let half = sd * 3.0_f64.sqrt() / 2.0;
    mean + (0..4).map(|_| rng.random_range(-half..half)).sum::<f64>()
}

/// A new lot `number` of `head` head for `pen_id`, arriving on `day`: the lot, its animals
/// (indexed as lot `lot_index`, tags from `next_eid`) and its arrival record.
pub fn buy_lot(
    lot_index: usize,
    pen_id: &str,
    day: u32,
    head: usize,
    next_eid: &mut dyn FnMut() -> Eid,
    market: &Market,
    rng: &mut StdRng,
) -> (Lot, Vec<HerdAnimal>, Arrival) {
    let (origin, source, risk) = SOURCES[rng.random_range(0..SOURCES.len())];
    let steers = rng.random_bool(0.7);
    let sex = if steers { Sex::Steer } else { Sex::Heifer };
    let pick = |pair: (f64, f64)| if steers { pair.0 } else { pair.1 };
    let shrink_pct = f64::from(rng.random_range(4..=8u32)) / 2.0;
    let mut full_total = 0.0;
    let animals: Vec<HerdAnimal> = (0..head)
        .map(|_| {
            let breed = BREEDS[rng.random_range(0..BREEDS.len())];
            let full = bell(pick(MEAN_FULL_KG), 25.0, rng);
            full_total += full;
            let in_weight = (full * (1.0 - TRANSIT_SHRINK) * 2.0).round() / 2.0;
            let curve = GrowthCurve::sample(in_weight, pick(MEAN_ADG_KG) + breed.1, rng);
            HerdAnimal {
                eid: next_eid(),
                lot: lot_index,
                sex,
                breed: breed.0,
                curve,
                weight_kg: in_weight,
                in_weight_kg: in_weight,
                target_kg: pick(TARGET_KG) + breed.2,
                status: Status::Arrived,
                clear_on_day: 0,
                left_on_day: None,
            }
        })
        .collect();
    let pay_weight_kg = (full_total * (1.0 - shrink_pct / 100.0)).round();
    let per_kg =
        market.cattle.feeder_per_kg.now() * if steers { 1.0 } else { HEIFER_FEEDER_DISCOUNT };
    let lot_id = format!("L{:03}-{}", lot_index + 1, pen_id);
    let arrival = Arrival {
        lot_id: lot_id.clone(),
        head_count: u32::try_from(head).unwrap_or(u32::MAX),
        origin: origin.into(),
        source: source.map(Into::into),
        pen_id: Some(pen_id.into()),
        pay_weight_kg,
        pay_weight_per_head_kg: None,
        shrink_pct,
        purchase_price_minor: (pay_weight_kg * per_kg).round() as u64,
        currency: "USD".into(),
    };
    let lot = Lot {
        lot_id,
        pen_id: pen_id.into(),
        arrived_day: day,
        sex,
        risk: risk * rng.random_range(0.8..1.2),
        next_weigh_day: day + rng.random_range(30..=60),
        reimplanted: false,
    };
    (lot, animals, arrival)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_lot_is_paid_on_its_shrunk_weight_and_weighs_in_lighter_on_the_chute() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut n = 0u64;
        let mut next = || {
            n += 1;
            Eid::parse(&format!("840{n:012}")).unwrap_or_else(|e| panic!("{e}"))
        };
        let (lot, animals, arrival) =
            buy_lot(0, "P01", 3, 80, &mut next, &Market::default(), &mut rng);
        assert!(arrival.validate().is_ok());
        assert_eq!((lot.arrived_day, arrival.head_count), (3, 80));
        let in_total: f64 = animals.iter().map(|a| a.in_weight_kg).sum();
        assert!(
            in_total < arrival.pay_weight_kg,
            "transit shrink beyond the pencil shrink"
        );
        let mean_pay = arrival.pay_weight_kg / 80.0;
        assert!((300.0..400.0).contains(&mean_pay), "{mean_pay}");
        let per_cwt = arrival.purchase_price_minor as f64 / arrival.pay_weight_kg * 45.36 / 100.0;
        assert!((250.0..420.0).contains(&per_cwt), "${per_cwt}/cwt");
        assert!(
            animals
                .iter()
                .all(|a| a.sex == lot.sex && a.target_kg > 550.0)
        );
    }
}
