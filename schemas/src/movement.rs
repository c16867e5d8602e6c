//! Cattle in, around and out of the yard: arrivals of lots, each animal's placement in its lot
//! and pen, pen moves and shipments.
//!
//! Weights are kg, money is in minor units (cents) of an ISO 4217 currency.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Eid;
use crate::validate::{
    Checked, Reason, ValidationError, at_least_one, currency, non_empty, non_empty_if_present,
    percent, positive,
};

/// A lot placed in the yard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Arrival {
    /// The lot the cattle are placed as.
    pub lot_id: String,
    /// How many head arrived.
    pub head_count: u32,
    /// Where they came from (ranch, region).
    pub origin: String,
    /// Who sold them (sale barn, order buyer, ranch), when different from `origin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The pen they were placed in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_id: Option<String>,
    /// The lot's pay weight, kg, for all `head_count` head together (not per head): the weight
    /// the price was paid on, after `shrink_pct`.
    pub pay_weight_kg: f64,
    /// The pay weight per head, kg (`pay_weight_kg / head_count`), as the office stated it or
    /// as the gateway worked it out. Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_weight_per_head_kg: Option<f64>,
    /// The shrink taken off the full weight to get `pay_weight_kg`, % (0-100; commonly 4).
    pub shrink_pct: f64,
    /// What the lot cost, in minor units of `currency` (cents).
    pub purchase_price_minor: u64,
    /// ISO 4217 code of `purchase_price_minor`, e.g. `USD`.
    pub currency: String,
}

/// The sex class of an animal, as feedlots sort and price cattle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// A castrated male.
    Steer,
    /// A young female.
    Heifer,
    /// An entire male.
    Bull,
    /// A female that has calved.
    Cow,
}

impl Sex {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Steer => "steer",
            Self::Heifer => "heifer",
            Self::Bull => "bull",
            Self::Cow => "cow",
        }
    }
}

/// One animal tagged into its lot and home pen (at processing, usually with its in-weight taken
/// on the chute scale as a separate weighing). Ties the animal's records to the lot's costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Placement {
    /// The animal.
    pub eid: Eid,
    /// The lot it belongs to (an `arrival`'s `lot_id`).
    pub lot_id: String,
    /// The pen it goes to.
    pub pen_id: String,
    /// Its sex class, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Its breed or breed type (e.g. `Angus`, `Angus x Hereford`), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breed: Option<String>,
}

/// Cattle moved from one pen to another: one animal (`eid`) or a lot (`lot_id`), or one animal
/// of a lot (both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PenMove {
    /// The animal moved, when one animal moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<Eid>,
    /// The lot moved (or the animal's lot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// How many head moved, for a lot move of part of a lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_count: Option<u32>,
    /// The pen they left.
    pub from_pen_id: String,
    /// The pen they went to.
    pub to_pen_id: String,
}

/// Cattle sold and shipped out of the yard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Shipment {
    /// The lot shipped.
    pub lot_id: String,
    /// How many head shipped.
    pub head_count: u32,
    /// Who bought them (packer, buyer).
    pub buyer: String,
    /// The shipped (pay) weight, kg, for all `head_count` head together (not per head).
    pub weight_kg: f64,
    /// The shipped weight per head, kg (`weight_kg / head_count`), as stated or worked out.
    /// Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_per_head_kg: Option<f64>,
    /// What the buyer paid, in minor units of `currency` (cents).
    pub price_minor: u64,
    /// ISO 4217 code of `price_minor`.
    pub currency: String,
    /// The animals shipped, when the draft was read at the chute (empty: not recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eids: Vec<Eid>,
}

/// How far a stated per-head weight may be from the total over the head count, kg per head
/// (rounding to the kg on a sheet).
pub const PER_HEAD_TOLERANCE_KG: f64 = 0.5;

/// Checks a per-head weight, when given, is above zero and agrees with `total_kg / head`.
fn per_head_agrees(field: &str, per_head_kg: Option<f64>, total_kg: f64, head: u32) -> Checked {
    let Some(per_head_kg) = per_head_kg else {
        return Ok(());
    };
    positive(field, per_head_kg)?;
    let expected = total_kg / f64::from(head.max(1));
    if (per_head_kg - expected).abs() > PER_HEAD_TOLERANCE_KG {
        return Err(ValidationError::new(
            field,
            Reason::PerHeadMismatch {
                per_head_kg,
                expected_kg: expected,
            },
        ));
    }
    Ok(())
}

/// Fills in whichever of a total weight and a per-head weight is missing from the other and the
/// head count, so a record may state either (or both, when they agree: see `validate`).
/// Returns `(total_kg, per_head_kg)`; `None` for the total when neither is given.
pub fn total_and_per_head_kg(
    total_kg: Option<f64>,
    per_head_kg: Option<f64>,
    head: u32,
) -> (Option<f64>, Option<f64>) {
    let head = f64::from(head.max(1));
    match (total_kg, per_head_kg) {
        (Some(total), Some(per)) => (Some(total), Some(per)),
        (Some(total), None) => (Some(total), Some(total / head)),
        (None, Some(per)) => (Some(per * head), Some(per)),
        (None, None) => (None, None),
    }
}

impl Arrival {
    /// Checks the lot and origin are named, head count and pay weight are above zero, shrink is
    /// a percentage and the currency an ISO code.
    pub fn validate(&self) -> Checked {
        non_empty("lot_id", &self.lot_id)?;
        at_least_one("head_count", self.head_count)?;
        non_empty("origin", &self.origin)?;
        non_empty_if_present("source", self.source.as_deref())?;
        non_empty_if_present("pen_id", self.pen_id.as_deref())?;
        positive("pay_weight_kg", self.pay_weight_kg)?;
        per_head_agrees(
            "pay_weight_per_head_kg",
            self.pay_weight_per_head_kg,
            self.pay_weight_kg,
            self.head_count,
        )?;
        percent("shrink_pct", self.shrink_pct)?;
        currency("currency", &self.currency)
    }
}

impl Placement {
    /// Checks the lot and pen are named and the breed, when given, is not blank.
    pub fn validate(&self) -> Checked {
        non_empty("lot_id", &self.lot_id)?;
        non_empty("pen_id", &self.pen_id)?;
        non_empty_if_present("breed", self.breed.as_deref())
    }
}

impl PenMove {
    /// Checks the move says who moved (an eid or a lot), between two different, named pens.
    pub fn validate(&self) -> Checked {
        if self.eid.is_none() && self.lot_id.is_none() {
            return Err(ValidationError::new(
                "lot_id",
                Reason::MissingAlternative("eid"),
            ));
        }
        non_empty_if_present("lot_id", self.lot_id.as_deref())?;
        if let Some(head) = self.head_count {
            at_least_one("head_count", head)?;
        }
        non_empty("from_pen_id", &self.from_pen_id)?;
        non_empty("to_pen_id", &self.to_pen_id)?;
        if self.from_pen_id.trim() == self.to_pen_id.trim() {
            return Err(ValidationError::new(
                "to_pen_id",
                Reason::SamePen(self.to_pen_id.clone()),
            ));
        }
        Ok(())
    }

    /// Head moved: `head_count`, or 1 for a single animal.
    pub fn head(&self) -> Option<u32> {
        self.head_count.or_else(|| self.eid.as_ref().map(|_| 1))
    }
}

impl Shipment {
    /// Checks the lot and buyer are named, head and weight are above zero and the currency is
    /// an ISO code.
    pub fn validate(&self) -> Checked {
        non_empty("lot_id", &self.lot_id)?;
        at_least_one("head_count", self.head_count)?;
        non_empty("buyer", &self.buyer)?;
        positive("weight_kg", self.weight_kg)?;
        per_head_agrees(
            "weight_per_head_kg",
            self.weight_per_head_kg,
            self.weight_kg,
            self.head_count,
        )?;
        currency("currency", &self.currency)?;
        if !self.eids.is_empty() && self.eids.len() != self.head_count as usize {
            return Err(ValidationError::new(
                "eids",
                Reason::CountMismatch {
                    listed: self.eids.len(),
                    head_count: self.head_count,
                },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival() -> Arrival {
        Arrival {
            lot_id: "L-2026-031".into(),
            head_count: 120,
            origin: "Cherry County, NE".into(),
            source: Some("Valentine Livestock Auction".into()),
            pen_id: Some("P12".into()),
            pay_weight_kg: 43_500.0,
            pay_weight_per_head_kg: None,
            shrink_pct: 4.0,
            purchase_price_minor: 21_750_000,
            currency: "USD".into(),
        }
    }

    #[test]
    fn an_arrival_with_shrink_over_one_hundred_percent_is_refused() {
        assert!(arrival().validate().is_ok());
        let mut a = arrival();
        a.shrink_pct = 104.0;
        assert_eq!(
            a.validate().unwrap_err().to_string(),
            "field `shrink_pct`: must be a percentage between 0 and 100 (found 104)"
        );
        let mut a = arrival();
        a.pay_weight_kg = -43_500.0;
        assert_eq!(a.validate().unwrap_err().field, "pay_weight_kg");
        let mut a = arrival();
        a.head_count = 0;
        assert_eq!(a.validate().unwrap_err().field, "head_count");
    }

    #[test]
    fn a_per_head_weight_must_agree_with_the_total() {
        let mut a = arrival();
        a.pay_weight_per_head_kg = Some(362.5);
        assert!(a.validate().is_ok(), "43 500 kg over 120 head");
        a.pay_weight_per_head_kg = Some(43_500.0);
        let err = a.validate().unwrap_err();
        assert_eq!(err.field, "pay_weight_per_head_kg");
        assert!(err.to_string().contains("362.5"), "{err}");
        assert_eq!(
            total_and_per_head_kg(None, Some(362.5), 120),
            (Some(43_500.0), Some(362.5))
        );
        assert_eq!(
            total_and_per_head_kg(Some(43_500.0), None, 120),
            (Some(43_500.0), Some(362.5))
        );
    }

    #[test]
    fn a_pen_move_names_who_moved_and_two_different_pens() {
        let mut m = PenMove {
            eid: Some(Eid::parse("982000001088420").unwrap()),
            lot_id: None,
            head_count: None,
            from_pen_id: "P12".into(),
            to_pen_id: "H1".into(),
        };
        assert!(m.validate().is_ok());
        assert_eq!(m.head(), Some(1));
        m.to_pen_id = "P12".into();
        assert_eq!(m.validate().unwrap_err().field, "to_pen_id");
        m.to_pen_id = "H1".into();
        m.eid = None;
        let err = m.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `lot_id`: is required when eid is absent"
        );
        m.lot_id = Some("L-1".into());
        assert!(m.validate().is_ok());
        assert_eq!(m.head(), None, "a whole-lot move without a count");
    }

    #[test]
    fn a_shipment_needs_a_buyer_and_a_positive_weight() {
        let mut s = Shipment {
            lot_id: "L-2026-031".into(),
            head_count: 118,
            buyer: "Tyson Lexington".into(),
            weight_kg: 72_000.0,
            weight_per_head_kg: None,
            price_minor: 29_500_000,
            currency: "USD".into(),
            eids: Vec::new(),
        };
        assert!(s.validate().is_ok());
        s.weight_kg = 0.0;
        assert_eq!(s.validate().unwrap_err().field, "weight_kg");
        s.weight_kg = 1.0;
        s.buyer = String::new();
        assert_eq!(s.validate().unwrap_err().field, "buyer");
    }

    #[test]
    fn a_shipment_listing_animals_lists_one_per_head() {
        let mut s = Shipment {
            lot_id: "L-1".into(),
            head_count: 2,
            buyer: "Tyson Lexington".into(),
            weight_kg: 1_200.0,
            weight_per_head_kg: None,
            price_minor: 400_000,
            currency: "USD".into(),
            eids: vec![Eid::parse("982000001088420").unwrap()],
        };
        assert_eq!(s.validate().unwrap_err().field, "eids");
        s.eids.push(Eid::parse("982000001088421").unwrap());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_placement_names_its_lot_and_pen() {
        let mut p = Placement {
            eid: Eid::parse("982000001088420").unwrap(),
            lot_id: "L-1".into(),
            pen_id: "P1".into(),
            sex: Some(Sex::Heifer),
            breed: None,
        };
        assert!(p.validate().is_ok());
        assert_eq!(serde_json::to_value(&p).unwrap()["sex"], "heifer");
        p.pen_id.clear();
        assert_eq!(p.validate().unwrap_err().field, "pen_id");
    }
}
