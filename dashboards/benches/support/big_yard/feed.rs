//! The feed side of the big yard: three rations by days on feed, reformulated every 60 days,
//! two deliveries per occupied pen per day, and weekly purchases sized to the week's use.

use schemas::{Event, FeedDelivery, FeedPurchase, Ration, RationIngredient};

use super::herd::LotPlan;
use super::{Events, Rng, Totals};

/// An ingredient the yard buys.
struct Ingredient {
    name: &'static str,
    dry_matter_pct: f64,
    /// Typical price, minor units per kg as fed.
    price_minor_per_kg: f64,
    /// Two (supplier, origin)s, bought from in turn, week by week.
    sources: [(&'static str, &'static str); 2],
}

const INGREDIENTS: [Ingredient; 4] = [
    Ingredient {
        name: "corn",
        dry_matter_pct: 86.0,
        price_minor_per_kg: 22.0,
        sources: [("Cargill", "Hall County, NE"), ("ADM", "Platte County, NE")],
    },
    Ingredient {
        name: "silage",
        dry_matter_pct: 35.0,
        price_minor_per_kg: 6.0,
        sources: [("Own", "Home farm"), ("Miller Farms", "Custer County, NE")],
    },
    Ingredient {
        name: "hay",
        dry_matter_pct: 88.0,
        price_minor_per_kg: 15.0,
        sources: [("Sandhills Hay", "Cherry County, NE"), ("Own", "Home farm")],
    },
    Ingredient {
        name: "supplement",
        dry_matter_pct: 90.0,
        price_minor_per_kg: 60.0,
        sources: [("Purina", "Omaha, NE"), ("Land O'Lakes", "Omaha, NE")],
    },
];

/// Ration, inclusion % as fed of each ingredient, and the days on feed it is fed up to.
const RATIONS: [(&str, [f64; 4], u32); 3] = [
    ("R1-receiving", [30.0, 20.0, 40.0, 10.0], 14),
    ("R2-step", [50.0, 25.0, 17.0, 8.0], 28),
    ("R3-finish", [70.0, 18.0, 6.0, 6.0], u32::MAX),
];

/// Days a formula lasts before the next reformulation.
const FORMULA_DAYS: u32 = 60;

/// Ration `r`'s formula on `day`: corn moved against silage at each reformulation.
fn formula(r: usize, day: u32) -> [f64; 4] {
    const SHIFT: [f64; 7] = [0.0, 2.0, -1.0, 1.5, -2.0, 0.5, 1.0];
    let mut parts = RATIONS[r].1;
    let shift = SHIFT[(day / FORMULA_DAYS) as usize % SHIFT.len()];
    parts[0] += shift;
    parts[1] -= shift;
    parts
}

/// What the yard will feed, week by week, so purchases can cover it.
pub struct FeedPlan {
    days: u32,
    weekly_kg: Vec<[f64; 4]>,
}

impl FeedPlan {
    /// An empty plan over `days`.
    pub fn new(days: u32) -> Self {
        Self {
            days,
            weekly_kg: vec![[0.0; 4]; days.div_ceil(7) as usize],
        }
    }

    /// Every ration's formulas, and each week's purchases (at 00:00 of its first day).
    pub fn rations_and_purchases(&self, rng: &mut Rng, ev: &mut Events) {
        for (r, (ration_id, _, _)) in RATIONS.iter().enumerate() {
            for version in 0..self.days.div_ceil(FORMULA_DAYS) {
                let day = version * FORMULA_DAYS;
                let ingredients = formula(r, day)
                    .iter()
                    .zip(&INGREDIENTS)
                    .map(|(pct, ing)| RationIngredient {
                        ingredient: ing.name.into(),
                        inclusion_as_fed_pct: *pct,
                        dry_matter_pct: ing.dry_matter_pct,
                    })
                    .collect();
                let ration = Event::Ration(Ration {
                    ration_id: (*ration_id).into(),
                    ingredients,
                });
                ev.push(ev.at(day, 0), "office", ration);
            }
        }
        for (week, used) in self.weekly_kg.iter().enumerate() {
            let day = u32::try_from(week * 7).unwrap_or(u32::MAX);
            for (i, ing) in INGREDIENTS.iter().enumerate() {
                let kg = (used[i] * 1.1 / 1_000.0).ceil() * 1_000.0;
                if kg <= 0.0 {
                    continue;
                }
                let (supplier, origin) = ing.sources[week % 2];
                let per_kg = ing.price_minor_per_kg * (0.9 + 0.2 * rng.unit());
                let purchase = Event::FeedPurchase(FeedPurchase {
                    ingredient: ing.name.into(),
                    supplier: supplier.into(),
                    origin: origin.into(),
                    quantity_kg: kg,
                    price_minor: (kg * per_kg).round() as u64,
                    currency: "USD".into(),
                    dry_matter_pct: ing.dry_matter_pct,
                });
                ev.push(
                    ev.at(day, u32::try_from(i).unwrap_or(0)),
                    "office",
                    purchase,
                );
            }
        }
    }
}

/// `lot`'s feed: two deliveries a day to each of its pens from the day after arrival until it
/// ships, ~7 kg/head/day as fed rising to ~13 kg by 45 days on feed, rounded to 10 kg.
pub fn deliveries(
    lot: &LotPlan,
    days: u32,
    plan: &mut FeedPlan,
    ev: &mut Events,
    totals: &mut Totals,
) {
    let slot = u32::try_from(lot.index % 200).unwrap_or(0);
    for day in lot.arrive_day + 1..lot.end_day(days) {
        let dof = day - lot.arrive_day;
        let r = RATIONS
            .iter()
            .position(|(_, _, up_to)| dof <= *up_to)
            .unwrap_or(RATIONS.len() - 1);
        let parts = formula(r, day);
        let per_head_kg = 7.0 + 6.0 * (f64::from(dof) / 45.0).min(1.0);
        for (feeding, secs) in [(0, 7 * 3_600), (1, 15 * 3_600)] {
            for (p, head) in lot.pen_head().into_iter().enumerate() {
                let kg = (f64::from(head) * per_head_kg / 2.0 / 10.0).round() * 10.0;
                let delivery = Event::FeedDelivery(FeedDelivery {
                    pen_id: lot.pens[p].clone(),
                    ration_id: RATIONS[r].0.into(),
                    target_kg: kg,
                    delivered_kg: kg,
                    truck_id: format!("T{}", 1 + feeding),
                    operator: "sam".into(),
                });
                let at = ev.at(day, secs + slot * 20 + u32::try_from(p).unwrap_or(0) * 10);
                ev.push(at, "truck-1", delivery);
                totals.deliveries += 1;
                totals.delivered_kg += kg;
                for (used, pct) in plan.weekly_kg[(day / 7) as usize].iter_mut().zip(parts) {
                    *used += kg * pct / 100.0;
                }
            }
        }
    }
}
