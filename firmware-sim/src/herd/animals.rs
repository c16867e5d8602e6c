//! Animals for the simulators: valid EIDs and realistic weights, reproducible from a seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use schemas::Eid;

/// One animal as the chute sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Animal {
    /// Its ear tag.
    pub eid: Eid,
    /// Its true weight today, kg (the scale shows it rounded to its graduation).
    pub weight_kg: f64,
}

/// Allflex's ISO 11784 manufacturer code, used for simulated tags.
pub const SIM_MANUFACTURER_CODE: u16 = 982;

/// The ISO 3166-1 numeric code of the USA: US animal identification numbers are `840` + 12 digits.
pub const US_COUNTRY_CODE: u16 = 840;

/// `count` arrival-weight animals (steers of roughly 320-410 kg, i.e. 700-900 lb) with distinct
/// Allflex-coded EIDs. The same seed gives the same animals.
pub fn arrivals(count: usize, seed: u64) -> Vec<Animal> {
    arrivals_coded(count, seed, SIM_MANUFACTURER_CODE)
}

/// Like [`arrivals`], tagged with US animal identification numbers (`840...`).
pub fn us_arrivals(count: usize, seed: u64) -> Vec<Animal> {
    arrivals_coded(count, seed, US_COUNTRY_CODE)
}

/// `code` must be a valid EID code (the callers pass constants; tests prove every EID parses).
fn arrivals_coded(count: usize, seed: u64, code: u16) -> Vec<Animal> {
    let mut rng = StdRng::seed_from_u64(seed);
    // A seed-dependent block of national ids keeps herds from different seeds apart.
    let base: u64 = rng.random_range(1..9_000_000) * 100_000;
    (0..count)
        .filter_map(|i| {
            let eid = Eid::parse(&format!("{code:03}{:012}", base + i as u64)).ok()?;
            // Sum of uniforms: a bell around 365 kg, rarely beyond 320-410.
            let spread: f64 = (0..4).map(|_| rng.random_range(-11.25..11.25)).sum();
            Some(Animal {
                eid,
                weight_kg: 365.0 + spread,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_have_distinct_valid_tags_and_feeder_weights() {
        let herd = arrivals(500, 7);
        assert_eq!(herd.len(), 500);
        let mut tags: Vec<_> = herd.iter().map(|a| a.eid.clone()).collect();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 500);
        for a in &herd {
            assert!(Eid::parse(a.eid.as_str()).is_ok());
            assert!((320.0..=410.0).contains(&a.weight_kg), "{}", a.weight_kg);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_herd() {
        assert_eq!(arrivals(20, 42), arrivals(20, 42));
        assert_ne!(arrivals(20, 42), arrivals(20, 43));
    }

    #[test]
    fn us_herds_carry_valid_840_animal_identification_numbers() {
        let herd = us_arrivals(50, 3);
        assert_eq!(herd.len(), 50);
        for a in &herd {
            assert_eq!(a.eid.country_code(), 840);
            assert_eq!(Eid::parse(a.eid.as_str()).as_ref(), Ok(&a.eid));
        }
    }

    #[test]
    fn herd_weights_vary_around_a_typical_feeder_steer() {
        let herd = arrivals(400, 9);
        let mean = herd.iter().map(|a| a.weight_kg).sum::<f64>() / 400.0;
        assert!((355.0..375.0).contains(&mean), "{mean}");
        let (min, max) = herd.iter().fold((f64::MAX, f64::MIN), |(lo, hi), a| {
            (lo.min(a.weight_kg), hi.max(a.weight_kg))
        });
        assert!(max - min > 30.0, "animals differ: {min}..{max}");
    }
}
