//! The markets a yard buys and sells in: feed ingredients from named suppliers and origins,
//! feeder cattle in, fed cattle out. Prices follow a mean-reverting random walk that stays
//! within a band around a base price, so a year of purchases shows real movement (a few
//! percent a month) without running away.

use rand::Rng;
use rand::rngs::StdRng;

/// How far a price may wander from its base, as a fraction (±25 %).
pub const PRICE_BAND: f64 = 0.25;

/// Daily pull back toward the base price (mean reversion), as a fraction of the gap.
const REVERSION_PER_DAY: f64 = 0.02;

/// Daily price noise (standard deviation of the multiplicative step, approximately).
const DAILY_VOLATILITY: f64 = 0.008;

/// One feed ingredient the yard buys: name as on rations, dry matter, base price and who sells it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ingredient {
    /// Name as on rations and loads.
    pub name: &'static str,
    /// Dry matter, % of as-fed weight.
    pub dry_matter_pct: f64,
    /// Base price, minor units (cents) per tonne as fed.
    pub base_price_per_tonne_minor: u64,
    /// A truckload bought at once, kg as fed.
    pub truckload_kg: f64,
    /// Suppliers and where their product comes from.
    pub suppliers: &'static [(&'static str, &'static str)],
}

/// The ingredients of the simulated rations (US Plains finishing diets, 2025-26 prices).
pub const INGREDIENTS: [Ingredient; 5] = [
    Ingredient {
        name: "steam-flaked corn",
        dry_matter_pct: 85.0,
        base_price_per_tonne_minor: 21_500,
        truckload_kg: 25_000.0,
        suppliers: &[
            ("Central Valley Co-op", "Hall County, NE"),
            ("Frontier Grain", "Buffalo County, NE"),
            ("Plains Flaking Mill", "Finney County, KS"),
        ],
    },
    Ingredient {
        name: "wet distillers grains",
        dry_matter_pct: 35.0,
        base_price_per_tonne_minor: 7_500,
        truckload_kg: 22_000.0,
        suppliers: &[
            ("Husker Ethanol", "Wood River, NE"),
            ("Prairie Horizon Ethanol", "Phillipsburg, KS"),
        ],
    },
    Ingredient {
        name: "corn silage",
        dry_matter_pct: 35.0,
        base_price_per_tonne_minor: 5_500,
        truckload_kg: 30_000.0,
        suppliers: &[("Own pile (contract acres)", "Custer County, NE")],
    },
    Ingredient {
        name: "alfalfa hay",
        dry_matter_pct: 88.0,
        base_price_per_tonne_minor: 19_000,
        truckload_kg: 20_000.0,
        suppliers: &[
            ("Platte Valley Hay", "Dawson County, NE"),
            ("High Plains Forage", "Weld County, CO"),
        ],
    },
    Ingredient {
        name: "finishing supplement",
        dry_matter_pct: 90.0,
        base_price_per_tonne_minor: 52_000,
        truckload_kg: 10_000.0,
        suppliers: &[("Midwest Feed Supplements", "Lincoln, NE")],
    },
];

/// The ingredient named `name`, if it is one of [`INGREDIENTS`].
pub fn ingredient(name: &str) -> Option<&'static Ingredient> {
    INGREDIENTS.iter().find(|i| i.name == name)
}

/// A price that wanders around `base` within [`PRICE_BAND`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftingPrice {
    base: f64,
    now: f64,
}

impl DriftingPrice {
    /// A price starting at `base` (any unit).
    pub fn new(base: f64) -> Self {
        Self { base, now: base }
    }

    /// Today's price.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// The base price it reverts to.
    pub fn base(&self) -> f64 {
        self.base
    }

    /// Moves one day: a small random step plus a pull toward the base, clamped to the band.
    pub fn step(&mut self, rng: &mut StdRng) {
        let noise: f64 = (0..3)
            .map(|_| rng.random_range(-DAILY_VOLATILITY..DAILY_VOLATILITY))
            .sum();
        let pulled = self.now + (self.base - self.now) * REVERSION_PER_DAY;
        self.now = (pulled * (1.0 + noise)).clamp(
            self.base * (1.0 - PRICE_BAND),
            self.base * (1.0 + PRICE_BAND),
        );
    }
}

/// Cattle prices, minor units per kg live weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CattlePrices {
    /// Feeder steers of ~365 kg (heifers sell at a discount).
    pub feeder_per_kg: DriftingPrice,
    /// Fed (finished) cattle, live basis.
    pub fed_per_kg: DriftingPrice,
}

/// Feeder heifers' price relative to steers'.
pub const HEIFER_FEEDER_DISCOUNT: f64 = 0.92;

impl Default for CattlePrices {
    fn default() -> Self {
        Self {
            // ~$330/cwt feeders and ~$230/cwt fed cattle.
            feeder_per_kg: DriftingPrice::new(728.0),
            fed_per_kg: DriftingPrice::new(507.0),
        }
    }
}

/// Every price the yard sees, moved together one day at a time.
#[derive(Debug, Clone)]
pub struct Market {
    /// Feed ingredient prices, per tonne as fed, in [`INGREDIENTS`] order.
    pub feed_per_tonne: Vec<DriftingPrice>,
    /// Cattle prices.
    pub cattle: CattlePrices,
}

impl Default for Market {
    fn default() -> Self {
        Self {
            feed_per_tonne: INGREDIENTS
                .iter()
                .map(|i| DriftingPrice::new(i.base_price_per_tonne_minor as f64))
                .collect(),
            cattle: CattlePrices::default(),
        }
    }
}

impl Market {
    /// Moves every price one day.
    pub fn step(&mut self, rng: &mut StdRng) {
        for price in &mut self.feed_per_tonne {
            price.step(rng);
        }
        self.cattle.feeder_per_kg.step(rng);
        self.cattle.fed_per_kg.step(rng);
    }

    /// What `kg` (as fed) of ingredient `index` costs today, minor units.
    pub fn feed_cost_minor(&self, index: usize, kg: f64) -> u64 {
        let per_tonne = self.feed_per_tonne.get(index).map_or(0.0, |p| p.now());
        (per_tonne * kg / 1000.0).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn prices_move_over_a_year_but_stay_within_their_band() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut market = Market::default();
        let mut corn = Vec::new();
        for _ in 0..365 {
            market.step(&mut rng);
            corn.push(market.feed_per_tonne[0].now());
            for p in market
                .feed_per_tonne
                .iter()
                .chain([&market.cattle.feeder_per_kg, &market.cattle.fed_per_kg])
            {
                assert!((p.now() / p.base() - 1.0).abs() <= PRICE_BAND + 1e-9);
            }
        }
        let (lo, hi) = corn
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
        assert!(hi / lo > 1.04, "corn moved only {lo}..{hi}");
        let month_moves = corn
            .windows(30)
            .filter(|w| (w[29] / w[0] - 1.0).abs() > 0.005);
        assert!(month_moves.count() > 100, "prices move month to month");
    }

    #[test]
    fn every_ingredient_has_a_supplier_and_a_plausible_dry_matter() {
        for i in INGREDIENTS {
            assert!(!i.suppliers.is_empty(), "{}", i.name);
            assert!((20.0..=95.0).contains(&i.dry_matter_pct), "{}", i.name);
            assert_eq!(ingredient(i.name), Some(&i));
        }
        let market = Market::default();
        assert_eq!(market.feed_cost_minor(0, 25_000.0), 25 * 21_500);
    }
}
