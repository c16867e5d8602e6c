//! Processing, sickness, treatment and death.
//!
//! Every animal is processed the morning after arrival: a respiratory vaccine, a clostridial
//! vaccine, a pour-on dewormer and an implant; it is re-implanted at its first re-weigh after
//! day 60. Sickness is mostly bovine respiratory disease (BRD) in the first weeks: a daily pull
//! probability of `0.012 × lot risk × e^(−dof/12)` (≈ 14 % morbidity for an average lot, more
//! for sale-barn calves), plus a small late-feeding hazard of footrot. A pulled animal goes to
//! the hospital pen, is treated (antibiotic dose by weight, with its withdrawal), eats and grows
//! little for 3-5 days and goes back; 7 % of BRD cases die. A small sudden-death hazard (bloat,
//! acute interstitial pneumonia) applies to every animal. Death loss comes out near 1-2.5 %.

use rand::Rng;
use rand::rngs::StdRng;
use schemas::{DoseUnit, Eid, Route, Treatment, TreatmentPurpose};

/// The hospital pen.
pub const HOSPITAL_PEN: &str = "H1";
/// Who processes and treats.
pub const CREW: &str = "chute-crew";
/// The share of BRD cases that die.
pub const BRD_CASE_FATALITY: f64 = 0.07;
/// Daily hazard of sudden death (bloat, AIP, ...).
pub const SUDDEN_DEATH_PER_DAY: f64 = 0.000_03;

/// A product as the chute crew gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// Trade name.
    pub name: &'static str,
    /// Why it is given.
    pub purpose: TreatmentPurpose,
    /// Dose: fixed, or per 45 kg (100 lb) body weight when `per_45_kg`.
    pub dose: f64,
    /// Whether `dose` is per 45 kg body weight.
    pub per_45_kg: bool,
    /// Dose unit.
    pub unit: DoseUnit,
    /// Route.
    pub route: Route,
    /// Meat withdrawal, days.
    pub withdrawal_days: u32,
    /// Cost per dose unit, minor units (cents).
    pub cost_per_unit_minor: f64,
    /// The product lot in the yard's fridge.
    pub product_lot: &'static str,
}

/// Given to every animal at processing.
pub const PROCESSING: [Product; 4] = [
    Product {
        name: "Bovi-Shield Gold 5",
        purpose: TreatmentPurpose::Vaccination,
        dose: 2.0,
        per_45_kg: false,
        unit: DoseUnit::Ml,
        route: Route::Subcutaneous,
        withdrawal_days: 21,
        cost_per_unit_minor: 160.0,
        product_lot: "BSG5-2611A",
    },
    Product {
        name: "Vision 7 with Spur",
        purpose: TreatmentPurpose::Vaccination,
        dose: 2.0,
        per_45_kg: false,
        unit: DoseUnit::Ml,
        route: Route::Subcutaneous,
        withdrawal_days: 21,
        cost_per_unit_minor: 45.0,
        product_lot: "V7S-0925",
    },
    Product {
        name: "Cydectin Pour-On",
        purpose: TreatmentPurpose::Processing,
        dose: 5.0,
        per_45_kg: true,
        unit: DoseUnit::Ml,
        route: Route::PourOn,
        withdrawal_days: 0,
        cost_per_unit_minor: 22.0,
        product_lot: "CYD-4471",
    },
    Product {
        name: "Revalor-XS",
        purpose: TreatmentPurpose::Processing,
        dose: 1.0,
        per_45_kg: false,
        unit: DoseUnit::Unit,
        route: Route::Implant,
        withdrawal_days: 0,
        cost_per_unit_minor: 950.0,
        product_lot: "RXS-1187",
    },
];

/// The re-implant.
pub const REIMPLANT: Product = Product {
    name: "Revalor-200",
    purpose: TreatmentPurpose::Processing,
    dose: 1.0,
    per_45_kg: false,
    unit: DoseUnit::Unit,
    route: Route::Implant,
    withdrawal_days: 0,
    cost_per_unit_minor: 800.0,
    product_lot: "R200-2203",
};

/// An illness the crew pulls and treats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Illness {
    /// The diagnosis as recorded.
    pub diagnosis: &'static str,
    /// The first-line therapy.
    pub therapy: Product,
    /// Share of cases that die despite treatment.
    pub case_fatality: f64,
}

/// Bovine respiratory disease, treated with tulathromycin.
pub const BRD: Illness = Illness {
    diagnosis: "bovine respiratory disease",
    therapy: Product {
        name: "Draxxin",
        purpose: TreatmentPurpose::Therapeutic,
        dose: 1.1,
        per_45_kg: true,
        unit: DoseUnit::Ml,
        route: Route::Subcutaneous,
        withdrawal_days: 18,
        cost_per_unit_minor: 320.0,
        product_lot: "DRX-5520",
    },
    case_fatality: BRD_CASE_FATALITY,
};

/// Footrot, treated with oxytetracycline.
pub const FOOTROT: Illness = Illness {
    diagnosis: "footrot",
    therapy: Product {
        name: "LA-200",
        purpose: TreatmentPurpose::Therapeutic,
        dose: 4.5,
        per_45_kg: true,
        unit: DoseUnit::Ml,
        route: Route::Subcutaneous,
        withdrawal_days: 28,
        cost_per_unit_minor: 30.0,
        product_lot: "LA2-0831",
    },
    case_fatality: 0.0,
};

/// Causes recorded for sudden deaths.
pub const SUDDEN_DEATH_CAUSES: [&str; 3] =
    ["bloat", "acute interstitial pneumonia", "digestive, other"];

impl Product {
    /// The treatment record for giving this product to `eid`, weighing `weight_kg`.
    pub fn give(&self, eid: &Eid, weight_kg: f64, diagnosis: Option<&str>) -> Treatment {
        let dose = if self.per_45_kg {
            (self.dose * weight_kg / 45.0 * 10.0).round() / 10.0
        } else {
            self.dose
        };
        Treatment {
            eid: eid.clone(),
            purpose: self.purpose,
            product: self.name.into(),
            dose,
            dose_unit: self.unit,
            route: self.route,
            product_lot: self.product_lot.into(),
            withdrawal_days: self.withdrawal_days,
            administered_by: CREW.into(),
            diagnosis: diagnosis.map(Into::into),
            booster_after_days: None,
            cost_minor: Some((dose * self.cost_per_unit_minor).round() as u64),
            currency: Some("USD".into()),
        }
    }
}

/// The illness (if any) an animal on feed `dof` days, from a lot of risk `risk`, comes down
/// with today.
pub fn falls_ill(dof: u32, risk: f64, rng: &mut StdRng) -> Option<Illness> {
    let brd = 0.012 * risk * (-f64::from(dof) / 12.0).exp();
    let footrot = 0.0003;
    let draw: f64 = rng.random();
    if draw < brd {
        Some(BRD)
    } else if draw < brd + footrot {
        Some(FOOTROT)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn doses_by_weight_are_costed_and_valid() {
        let eid = Eid::parse("840000000000001").unwrap_or_else(|e| panic!("{e}"));
        let t = BRD.therapy.give(&eid, 300.0, Some(BRD.diagnosis));
        assert!(t.validate().is_ok());
        assert!((t.dose - 7.3).abs() < 1e-9, "1.1 ml per 45 kg: {}", t.dose);
        assert_eq!(t.cost_minor, Some(2336));
        assert_eq!(t.withdrawal_days, 18);
        for p in PROCESSING {
            assert!(p.give(&eid, 360.0, None).validate().is_ok());
        }
    }

    #[test]
    fn morbidity_is_mostly_early_and_rises_with_lot_risk() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut morbidity = |risk: f64| {
            let (mut early, mut late) = (0, 0);
            for _ in 0..4000 {
                for dof in 0..180 {
                    if falls_ill(dof, risk, &mut rng).is_some() {
                        if dof < 45 {
                            early += 1;
                        } else {
                            late += 1;
                        }
                        break;
                    }
                }
            }
            (f64::from(early) / 4000.0, f64::from(late) / 4000.0)
        };
        let (early, late) = morbidity(1.0);
        assert!((0.10..0.18).contains(&early), "BRD morbidity {early}");
        assert!(late < early / 2.0, "late pulls {late}");
        assert!(morbidity(1.8).0 > early * 1.4);
    }
}
