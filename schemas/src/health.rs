//! Animal health: treatments and vaccinations given at the chute, and deaths.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Eid;
use crate::validate::{
    Checked, Reason, ValidationError, at_least_one, currency, non_empty, non_empty_if_present,
    positive,
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

/// Head of one lot (or pen) found dead or euthanized without a readable tag: a lost or
/// unreadable EID is common on a dead animal, and the office records the loss against the lot.
/// Recorded alongside [`Death`] (one animal by EID) in `deaths`, with an empty `eid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LotDeath {
    /// The lot the dead head belonged to, when known; required without `pen_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// The pen they died in, when known; required without `lot_id` (then the loss is the
    /// pen's lot's, or, with several, the lot with the most head there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_id: Option<String>,
    /// How many head died (commonly 1).
    pub head_count: u32,
    /// The cause, as recorded (e.g. `bovine respiratory disease`).
    pub cause: String,
}

/// One product given to every head of a lot or pen (mass medication, processing a whole lot):
/// one record instead of one per animal. Charged to the lot as medicine. Recorded alongside
/// [`Treatment`] in `treatments`, with an empty `eid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LotTreatment {
    /// The lot treated; required without `pen_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// The pen treated, when known; required without `lot_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_id: Option<String>,
    /// How many head were given the product.
    pub head_count: u32,
    /// Treatment, vaccination or processing.
    pub purpose: TreatmentPurpose,
    /// The product's name.
    pub product: String,
    /// How much each head was given, in `dose_unit`.
    pub dose_per_head: f64,
    /// The unit of `dose_per_head`.
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
    /// What all `head_count` doses cost together, in minor units of `currency`; charged to the
    /// lot as medicine. Absent when not costed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost_minor: Option<u64>,
    /// ISO 4217 code of `total_cost_minor`; required with it.
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

/// Checks a lot or a pen is named (and neither is blank).
fn lot_or_pen(lot_id: Option<&str>, pen_id: Option<&str>) -> Checked {
    if lot_id.is_none() && pen_id.is_none() {
        return Err(ValidationError::new(
            "lot_id",
            Reason::MissingAlternative("pen_id"),
        ));
    }
    non_empty_if_present("lot_id", lot_id)?;
    non_empty_if_present("pen_id", pen_id)
}

/// Checks a cost, when given, names its ISO currency.
fn cost_currency(cost: Option<u64>, code: Option<&str>, cost_field: &'static str) -> Checked {
    match (cost, code) {
        (_, Some(code)) => currency("currency", code),
        (Some(_), None) => Err(ValidationError::new(
            "currency",
            Reason::RequiredWith(cost_field),
        )),
        (None, None) => Ok(()),
    }
}

impl LotDeath {
    /// Checks a lot or pen is named, at least one head died and the cause is recorded.
    pub fn validate(&self) -> Checked {
        lot_or_pen(self.lot_id.as_deref(), self.pen_id.as_deref())?;
        at_least_one("head_count", self.head_count)?;
        non_empty("cause", &self.cause)
    }
}

impl LotTreatment {
    /// Checks a lot or pen is named, at least one head was treated, the product, its lot and
    /// who gave it are named, the dose is above zero and a cost names its currency.
    pub fn validate(&self) -> Checked {
        lot_or_pen(self.lot_id.as_deref(), self.pen_id.as_deref())?;
        at_least_one("head_count", self.head_count)?;
        non_empty("product", &self.product)?;
        positive("dose_per_head", self.dose_per_head)?;
        non_empty("product_lot", &self.product_lot)?;
        non_empty("administered_by", &self.administered_by)?;
        non_empty_if_present("diagnosis", self.diagnosis.as_deref())?;
        cost_currency(
            self.total_cost_minor,
            self.currency.as_deref(),
            "total_cost_minor",
        )
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
    fn a_lot_death_names_a_lot_or_a_pen_and_at_least_one_head() {
        let mut d = LotDeath {
            lot_id: Some("L-2026-031".into()),
            pen_id: None,
            head_count: 1,
            cause: "bloat".into(),
        };
        assert!(d.validate().is_ok());
        d.lot_id = None;
        assert_eq!(
            d.validate().unwrap_err().to_string(),
            "field `lot_id`: is required when pen_id is absent"
        );
        d.pen_id = Some("P12".into());
        assert!(d.validate().is_ok(), "a pen-level death");
        d.head_count = 0;
        assert_eq!(d.validate().unwrap_err().field, "head_count");
    }

    #[test]
    fn a_lot_treatment_needs_a_dose_per_head_and_a_costs_currency() {
        let mut t = LotTreatment {
            lot_id: Some("L-2026-031".into()),
            pen_id: Some("P12".into()),
            head_count: 1000,
            purpose: TreatmentPurpose::Processing,
            product: "Ivomec".into(),
            dose_per_head: 10.0,
            dose_unit: DoseUnit::Ml,
            route: Route::PourOn,
            product_lot: "IV-9".into(),
            withdrawal_days: 48,
            administered_by: "crew".into(),
            diagnosis: None,
            total_cost_minor: Some(120_000),
            currency: Some("USD".into()),
        };
        assert!(t.validate().is_ok());
        t.dose_per_head = 0.0;
        assert_eq!(t.validate().unwrap_err().field, "dose_per_head");
        t.dose_per_head = 10.0;
        t.currency = None;
        assert_eq!(
            t.validate().unwrap_err().to_string(),
            "field `currency`: is required with total_cost_minor"
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
