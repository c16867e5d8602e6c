//! What the yard feeds: rations stepped up from starter to finisher, bunk calls read each
//! morning, and the truck's mixer loads and deliveries.
//!
//! A pen's daily call is its dry matter (DM) target: yesterday's delivery adjusted by the bunk
//! score (slick → +5 %, a trace left → the same, feed left → what they ate, +1 %), scaled by head
//! count changes. It is delivered as fed (call / ration DM) in two feedings (40 % at 07:00, 60 %
//! at 13:30), one mixer load per ration per feeding (split if over the mixer's capacity).

use rand::Rng;
use rand::rngs::StdRng;
use schemas::{FeedDelivery, FeedLoad, LoadIngredient, Ration, RationIngredient};

use super::market::ingredient;

/// Days on feed a lot eats the starter ration.
pub const STARTER_DAYS: u32 = 14;
/// Days on feed a lot has stepped up to the finisher (grower in between).
pub const FINISHER_FROM_DAY: u32 = 28;
/// A mixer's capacity, kg as fed.
pub const MIXER_CAPACITY_KG: f64 = 11_000.0;
/// The share of a day's call fed in each feeding.
pub const FEEDINGS: [(u32, u32, f64); 2] = [(7, 0, 0.4), (13, 30, 0.6)];

/// A ration's formula: ingredient names and as-fed inclusion, %.
type Formula = &'static [(&'static str, f64)];

const STARTER: Formula = &[
    ("steam-flaked corn", 30.0),
    ("wet distillers grains", 15.0),
    ("corn silage", 30.0),
    ("alfalfa hay", 20.0),
    ("finishing supplement", 5.0),
];
const GROWER: Formula = &[
    ("steam-flaked corn", 50.0),
    ("wet distillers grains", 18.0),
    ("corn silage", 20.0),
    ("alfalfa hay", 8.0),
    ("finishing supplement", 4.0),
];
/// The finisher; the yard reformulates it when distillers grains are cheap (see [`finisher`]).
const FINISHER: Formula = &[
    ("steam-flaked corn", 66.0),
    ("wet distillers grains", 20.0),
    ("corn silage", 9.0),
    ("alfalfa hay", 2.0),
    ("finishing supplement", 3.0),
];
const FINISHER_MORE_DISTILLERS: Formula = &[
    ("steam-flaked corn", 60.0),
    ("wet distillers grains", 26.0),
    ("corn silage", 9.0),
    ("alfalfa hay", 2.0),
    ("finishing supplement", 3.0),
];

fn ration(id: &str, formula: Formula) -> Ration {
    Ration {
        ration_id: id.into(),
        ingredients: formula
            .iter()
            .map(|(name, pct)| RationIngredient {
                ingredient: (*name).into(),
                inclusion_as_fed_pct: *pct,
                dry_matter_pct: ingredient(name).map_or(88.0, |i| i.dry_matter_pct),
            })
            .collect(),
    }
}

/// The three rations of the step-up program, as first formulated.
pub fn rations() -> [Ration; 3] {
    [
        ration("starter", STARTER),
        ration("grower", GROWER),
        finisher(false),
    ]
}

/// The finisher formula: the standard one, or with more distillers grains (a ration change).
pub fn finisher(more_distillers: bool) -> Ration {
    if more_distillers {
        ration("finisher", FINISHER_MORE_DISTILLERS)
    } else {
        ration("finisher", FINISHER)
    }
}

/// The ration a lot eats on day `dof` on feed.
pub fn ration_for(dof: u32) -> &'static str {
    if dof < STARTER_DAYS {
        "starter"
    } else if dof < FINISHER_FROM_DAY {
        "grower"
    } else {
        "finisher"
    }
}

/// How a bunk looked in the morning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BunkScore {
    /// Licked clean: they would eat more.
    Slick,
    /// A trace left: the call is right.
    Trace,
    /// Feed left over: they ate less than delivered.
    FeedLeft,
}

impl BunkScore {
    /// The score for a bunk that got `delivered_dm_kg` of which `eaten_dm_kg` was eaten.
    pub fn read(delivered_dm_kg: f64, eaten_dm_kg: f64) -> Self {
        let left = (delivered_dm_kg - eaten_dm_kg).max(0.0);
        if left <= delivered_dm_kg * 0.01 {
            Self::Slick
        } else if left <= delivered_dm_kg * 0.04 {
            Self::Trace
        } else {
            Self::FeedLeft
        }
    }
}

/// One pen's bunk: what it was fed yesterday and what the cattle ate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bunk {
    /// Dry matter delivered yesterday, kg.
    pub delivered_dm_kg: f64,
    /// Dry matter eaten yesterday, kg.
    pub eaten_dm_kg: f64,
    /// Head in the pen yesterday.
    pub head: usize,
}

impl Bunk {
    /// Today's dry-matter call for `head` head; `fresh_dm_kg` is the call for a pen with no
    /// feeding history (newly filled: the cattle's expected intake).
    pub fn call_dm_kg(&self, head: usize, fresh_dm_kg: f64) -> f64 {
        if self.head == 0 || self.delivered_dm_kg <= 0.0 {
            return fresh_dm_kg;
        }
        let per_head = match BunkScore::read(self.delivered_dm_kg, self.eaten_dm_kg) {
            BunkScore::Slick => self.delivered_dm_kg * 1.05,
            BunkScore::Trace => self.delivered_dm_kg,
            BunkScore::FeedLeft => self.eaten_dm_kg * 1.01,
        } / self.head as f64;
        per_head * head as f64
    }
}

/// One pen's feeding: which ration and how much, kg as fed.
#[derive(Debug, Clone, PartialEq)]
pub struct PenCall {
    /// The pen.
    pub pen_id: String,
    /// The ration it eats.
    pub ration_id: &'static str,
    /// This feeding's target, kg as fed.
    pub target_kg: f64,
}

/// One feeding's loads and deliveries: for each ration a load (split at the mixer's
/// capacity) followed by its deliveries, each within ±1.5 % of its call.
pub fn mix_and_deliver(
    calls: &[PenCall],
    rations: &[Ration],
    batch_no: &mut u32,
    rng: &mut StdRng,
) -> Vec<(FeedLoad, Vec<FeedDelivery>)> {
    let mut out = Vec::new();
    for ration in rations {
        let pens: Vec<&PenCall> = calls
            .iter()
            .filter(|c| c.ration_id == ration.ration_id && c.target_kg > 0.0)
            .collect();
        let mut load_pens: Vec<Vec<&PenCall>> = vec![Vec::new()];
        let mut load_kg = 0.0;
        for pen in pens {
            if load_kg + pen.target_kg > MIXER_CAPACITY_KG
                && load_pens.last().is_some_and(|l| !l.is_empty())
            {
                load_pens.push(Vec::new());
                load_kg = 0.0;
            }
            load_kg += pen.target_kg;
            if let Some(l) = load_pens.last_mut() {
                l.push(pen);
            }
        }
        for group in load_pens.into_iter().filter(|g| !g.is_empty()) {
            *batch_no += 1;
            let total: f64 = group.iter().map(|p| p.target_kg).sum::<f64>() * 1.01;
            let load = FeedLoad {
                ration_id: ration.ration_id.clone(),
                batch_id: format!("T1-{batch_no}"),
                truck_id: "T1".into(),
                operator: "demo-driver".into(),
                ingredients: ration
                    .ingredients
                    .iter()
                    .map(|i| LoadIngredient {
                        ingredient: i.ingredient.clone(),
                        weight_kg: half_kg(
                            total * i.inclusion_as_fed_pct / 100.0 * rng.random_range(0.99..1.01),
                        ),
                    })
                    .collect(),
            };
            let deliveries = group
                .iter()
                .map(|p| FeedDelivery {
                    pen_id: p.pen_id.clone(),
                    ration_id: ration.ration_id.clone(),
                    target_kg: half_kg(p.target_kg),
                    delivered_kg: half_kg(p.target_kg * rng.random_range(0.985..1.015)),
                    truck_id: "T1".into(),
                    operator: "demo-driver".into(),
                })
                .collect();
            out.push((load, deliveries));
        }
    }
    out
}

/// Rounds to the truck scale's 0.5 kg graduation.
fn half_kg(kg: f64) -> f64 {
    (kg * 2.0).round() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rations_are_valid_and_step_up_from_roughage_to_grain() {
        let [starter, grower, finisher_ration] = rations();
        for r in [&starter, &grower, &finisher_ration, &finisher(true)] {
            assert!(r.validate().is_ok(), "{r:?}");
        }
        let corn = |r: &Ration| r.ingredients[0].inclusion_as_fed_pct;
        assert!(corn(&starter) < corn(&grower) && corn(&grower) < corn(&finisher_ration));
        assert_eq!(ration_for(0), "starter");
        assert_eq!(ration_for(20), "grower");
        assert_eq!(ration_for(150), "finisher");
    }

    #[test]
    fn the_bunk_call_follows_what_the_cattle_ate() {
        let slick = Bunk {
            delivered_dm_kg: 1000.0,
            eaten_dm_kg: 1000.0,
            head: 100,
        };
        assert!((slick.call_dm_kg(100, 0.0) - 1050.0).abs() < 1e-9);
        let left = Bunk {
            eaten_dm_kg: 900.0,
            ..slick
        };
        assert_eq!(BunkScore::read(1000.0, 900.0), BunkScore::FeedLeft);
        assert!((left.call_dm_kg(100, 0.0) - 909.0).abs() < 1e-9);
        assert!((left.call_dm_kg(50, 0.0) - 454.5).abs() < 1e-9, "per head");
        assert_eq!(Bunk::default().call_dm_kg(30, 240.0), 240.0);
    }

    #[test]
    fn loads_split_at_the_mixer_capacity_and_deliveries_match_their_calls() {
        let calls: Vec<PenCall> = (0..5)
            .map(|i| PenCall {
                pen_id: format!("P{i}"),
                ration_id: "finisher",
                target_kg: 4000.0,
            })
            .collect();
        let mut batch = 0;
        let out = mix_and_deliver(
            &calls,
            &rations(),
            &mut batch,
            &mut StdRng::seed_from_u64(1),
        );
        assert_eq!(out.len(), 3, "20 t in an 11 t mixer");
        assert_eq!(batch, 3);
        for (load, deliveries) in &out {
            assert!(load.validate().is_ok());
            let delivered: f64 = deliveries.iter().map(|d| d.delivered_kg).sum();
            assert!(
                load.total_kg() >= delivered * 0.99,
                "a load covers its drops"
            );
            for d in deliveries {
                assert!((d.delivered_kg - d.target_kg).abs() <= d.target_kg * 0.016);
            }
        }
    }
}
