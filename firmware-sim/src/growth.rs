//! How a feeder animal grows on a finishing ration, and what it eats.
//!
//! Each animal has its own potential ADG at placement (animal-to-animal variation, ~N(1.75,
//! 0.2) kg/day, i.e. about 3.9 lb/day) that declines linearly with days on feed as it fattens
//! (to ~75% by day 170), the shape of typical finishing closeouts: in 320-410 kg, out 600-680
//! kg after 150-200 days, lot ADG 1.45-1.8 kg/day (3.2-4.0 lb). Dry-matter intake follows body
//! weight at ~1.9% a day, giving a dry-matter F:G near 6 (`shared/reference/metrics.md`).

use rand::Rng;

/// How much of its placement ADG an animal loses per day on feed.
pub const ADG_DECLINE_PER_DAY: f64 = 0.0015;

/// Dry-matter intake as a fraction of body weight per day.
pub const DMI_FRACTION_OF_BODY_WEIGHT: f64 = 0.019;

/// One animal's growth curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthCurve {
    /// Weight at placement, kg.
    pub in_weight_kg: f64,
    /// ADG at placement, kg/day.
    pub placement_adg_kg: f64,
}

impl GrowthCurve {
    /// A curve with a random placement ADG around the breed/sex mean `mean_adg_kg`.
    pub fn sample(in_weight_kg: f64, mean_adg_kg: f64, rng: &mut impl Rng) -> Self {
        // Sum of uniforms approximates a normal with sd ≈ 0.2 kg/day.
        let spread: f64 = (0..3).map(|_| rng.random_range(-0.2..0.2)).sum();
        Self {
            in_weight_kg,
            placement_adg_kg: (mean_adg_kg + spread).max(0.5),
        }
    }

    /// ADG on day `dof` on feed, kg/day.
    pub fn adg_kg(&self, dof: f64) -> f64 {
        self.placement_adg_kg * (1.0 - ADG_DECLINE_PER_DAY * dof).max(0.3)
    }

    /// Weight after `dof` days on feed, kg (the integral of [`GrowthCurve::adg_kg`]).
    pub fn weight_kg(&self, dof: f64) -> f64 {
        let dof = dof.max(0.0);
        self.in_weight_kg + self.placement_adg_kg * (dof - ADG_DECLINE_PER_DAY * dof * dof / 2.0)
    }

    /// Dry matter eaten on day `dof`, kg.
    pub fn dmi_kg(&self, dof: f64) -> f64 {
        self.weight_kg(dof) * DMI_FRACTION_OF_BODY_WEIGHT
    }

    /// Days on feed until the animal reaches `target_kg` (None if it never does within 400).
    pub fn days_to(&self, target_kg: f64) -> Option<u32> {
        (0..=400u32).find(|d| self.weight_kg(f64::from(*d)) >= target_kg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_typical_steer_finishes_like_a_us_closeout() {
        let curve = GrowthCurve {
            in_weight_kg: 365.0,
            placement_adg_kg: 1.75,
        };
        let days = curve.days_to(635.0).unwrap();
        assert!((150..=200).contains(&days), "{days} days on feed");
        let adg = (curve.weight_kg(f64::from(days)) - 365.0) / f64::from(days);
        assert!((1.45..=1.8).contains(&adg), "lot-style ADG {adg}");
        let dm_fed: f64 = (0..days).map(|d| curve.dmi_kg(f64::from(d))).sum();
        let fg = dm_fed / (curve.weight_kg(f64::from(days)) - 365.0);
        assert!((5.5..=6.8).contains(&fg), "dry-matter F:G {fg}");
    }

    #[test]
    fn weight_never_falls_and_adg_declines_with_days_on_feed() {
        let curve = GrowthCurve::sample(350.0, 1.7, &mut rand::rngs::StdRng::seed_from_u64(3));
        for d in 0..300 {
            let d = f64::from(d);
            assert!(curve.weight_kg(d + 1.0) > curve.weight_kg(d));
            assert!(curve.adg_kg(d + 1.0) <= curve.adg_kg(d));
        }
    }
}
