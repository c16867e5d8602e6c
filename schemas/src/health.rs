//! Animal health: treatments and vaccinations given at the chute, and deaths.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Eid;
use crate::validate::{
    Checked, Reason, ValidationError, currency, non_empty, non_empty_if_present, positive,
};

/// Why a product was given: pull rate counts only `therapeutic` treatments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentPurpose {
    /// Treating a sick animal (a pull).
    Therapeutic,
    /// A vaccination or booster.
    Vaccination,
    /// Routine processing at arrival or re-implant (implants, dewormer, ...).
    Processing,
}

/// The unit of a dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DoseUnit {
    /// Millilitres (cc).
    Ml,
    /// Milligrams.
    Mg,
    /// Grams.
    G,
    /// Whole units: an implant, a bolus, a tablet.
    Unit,
}

/// How a product was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Intramuscular injection.
    Intramuscular,
    /// Subcutaneous injection.
    Subcutaneous,
    /// Intravenous injection.
    Intravenous,
    /// By mouth (drench, bolus).
    Oral,
    /// Into the nose.
    Intranasal,
    /// Poured on the back.
    PourOn,
    /// Implanted in the ear.
    Implant,
    /// On the skin.
    Topical,
}

impl DoseUnit {
    /// The name used on the wire and in ClickHouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ml => "ml",
            Self::Mg => "mg",
            Self::G => "g",
            Self::Unit => "unit",
        }
    }
}

impl Route {
    /// The name used on the wire and in ClickHouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intramuscular => "intramuscular",
            Self::Subcutaneous => "subcutaneous",
            Self::Intravenous => "intravenous",
            Self::Oral => "oral",
            Self::Intranasal => "intranasal",
            Self::PourOn => "pour_on",
            Self::Implant => "implant",
            Self::Topical => "topical",
        }
    }
}

impl TreatmentPurpose {
    /// The name used on the wire and in ClickHouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Therapeutic => "therapeutic",
            Self::Vaccination => "vaccination",
            Self::Processing => "processing",
        }
    }
}

/// One product given to one animal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Treatment {
    /// The animal.
    pub eid: Eid,
    /// Treatment, vaccination or processing.
    pub purpose: TreatmentPurpose,
    /// The product's name.
    pub product: String,
    /// How much was given, in `dose_unit`.
    pub dose: f64,
    /// The unit of `dose`.
    pub dose_unit: DoseUnit,
    /// How it was given.
    pub route: Route,
    /// The product's lot or serial number, for recalls.
    pub product_lot: String,
    /// The product's meat withdrawal period, days after this dose.
    pub withdrawal_days: u32,
    /// Who gave it.
    pub administered_by: String,
    /// The diagnosis, for therapeutic treatments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// For a vaccine given in two doses: days after this dose the booster is due. The chute
    /// warns from then until the product is given again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booster_after_days: Option<u32>,
    /// What the dose cost (product and its share of labour), in minor units of `currency`;
    /// charged to the animal's lot as medicine. Absent when not costed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_minor: Option<u64>,
    /// ISO 4217 code of `cost_minor`; required with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// An animal found dead or euthanized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Death {
    /// The animal.
    pub eid: Eid,
    /// The cause, as recorded (e.g. `bovine respiratory disease`).
    pub cause: String,
    /// The lot it belonged to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// The pen it died in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_id: Option<String>,
}

impl Treatment {
    /// Checks the product, its lot and who gave it are named and the dose is above zero.
    pub fn validate(&self) -> Checked {
        non_empty("product", &self.product)?;
        positive("dose", self.dose)?;
        non_empty("product_lot", &self.product_lot)?;
        non_empty("administered_by", &self.administered_by)?;
        non_empty_if_present("diagnosis", self.diagnosis.as_deref())?;
        match (&self.cost_minor, &self.currency) {
            (_, Some(code)) => currency("currency", code),
            (Some(_), None) => Err(ValidationError::new(
                "currency",
                Reason::RequiredWith("cost_minor"),
            )),
            (None, None) => Ok(()),
        }
    }
}

impl Death {
    /// Checks the cause is recorded and optional ids are not blank.
    pub fn validate(&self) -> Checked {
        non_empty("cause", &self.cause)?;
        non_empty_if_present("lot_id", self.lot_id.as_deref())?;
        non_empty_if_present("pen_id", self.pen_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Reason;

    fn treatment() -> Treatment {
        Treatment {
            eid: Eid::parse("982000001088420").unwrap(),
            purpose: TreatmentPurpose::Vaccination,
            product: "Bovi-Shield Gold 5".into(),
            dose: 2.0,
            dose_unit: DoseUnit::Ml,
            route: Route::Subcutaneous,
            product_lot: "A123-45".into(),
            withdrawal_days: 21,
            administered_by: "dr-lee".into(),
            diagnosis: None,
            booster_after_days: None,
            cost_minor: Some(412),
            currency: Some("USD".into()),
        }
    }

    #[test]
    fn a_treatment_needs_a_positive_dose_and_who_gave_it() {
        assert!(treatment().validate().is_ok());
        let mut t = treatment();
        t.dose = 0.0;
        assert_eq!(t.validate().unwrap_err().reason, Reason::NotPositive(0.0));
        let mut t = treatment();
        t.administered_by.clear();
        assert_eq!(t.validate().unwrap_err().field, "administered_by");
        let mut t = treatment();
        t.product_lot = "\t".into();
        assert_eq!(t.validate().unwrap_err().field, "product_lot");
    }

    #[test]
    fn a_costed_treatment_names_its_currency() {
        let mut t = treatment();
        t.currency = None;
        assert_eq!(t.validate().unwrap_err().field, "currency");
        t.currency = Some("usd".into());
        assert_eq!(t.validate().unwrap_err().field, "currency");
        t.cost_minor = None;
        t.currency = None;
        assert!(t.validate().is_ok());
    }

    #[test]
    fn routes_and_units_are_snake_case_on_the_wire() {
        let json = serde_json::to_value(treatment()).unwrap();
        assert_eq!(json["route"], "subcutaneous");
        assert_eq!(json["dose_unit"], "ml");
        assert_eq!(Route::PourOn.as_str(), "pour_on");
        assert_eq!(
            serde_json::to_value(Route::PourOn).unwrap(),
            Route::PourOn.as_str()
        );
    }

    #[test]
    fn a_death_needs_a_cause() {
        let mut d = Death {
            eid: Eid::parse("982000001088420").unwrap(),
            cause: "bloat".into(),
            lot_id: Some("L-2026-031".into()),
            pen_id: None,
        };
        assert!(d.validate().is_ok());
        d.cause.clear();
        assert_eq!(d.validate().unwrap_err().field, "cause");
    }
}
