//! Planned shipments: a lot (or some of its animals) to ship on a day, recorded ahead so the
//! cloud can warn of animals whose meat withdrawal runs past that day. A plan is cancelled or
//! changed through a correction (void it; amend `planned_date` or `head_count`).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Eid;
use crate::validate::{
    Checked, Reason, ValidationError, at_least_one, non_empty, non_empty_if_present,
};

/// A shipment planned for a day: the lot, how many head, and optionally which animals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShipmentPlan {
    /// The lot to ship (an `arrival`'s `lot_id`).
    pub lot_id: String,
    /// The pen it ships from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_id: Option<String>,
    /// The day it is planned to ship: a UTC calendar day, `YYYY-MM-DD`.
    pub planned_date: NaiveDate,
    /// How many head are planned to ship.
    pub head_count: u32,
    /// The animals chosen, when the draft is drawn (empty: the lot's animals; at most
    /// `head_count`, each once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eids: Vec<Eid>,
    /// Who is buying them (packer, buyer), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    /// Where they go (plant, yard), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// A free note (trucking, sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ShipmentPlan {
    /// Checks the lot is named, head count is above zero, the animals listed are each listed
    /// once and no more than `head_count`, and the optional names are not blank. (Whether the
    /// date is after the lot arrived is not known at the gateway.)
    pub fn validate(&self) -> Checked {
        non_empty("lot_id", &self.lot_id)?;
        non_empty_if_present("pen_id", self.pen_id.as_deref())?;
        at_least_one("head_count", self.head_count)?;
        let mut seen = std::collections::BTreeSet::new();
        for eid in &self.eids {
            if !seen.insert(eid.as_str()) {
                return Err(ValidationError::new(
                    "eids",
                    Reason::Duplicate(eid.as_str().to_owned()),
                ));
            }
        }
        if self.eids.len() > self.head_count as usize {
            return Err(ValidationError::new(
                "eids",
                Reason::MoreThanHead {
                    listed: self.eids.len(),
                    head_count: self.head_count,
                },
            ));
        }
        non_empty_if_present("buyer", self.buyer.as_deref())?;
        non_empty_if_present("destination", self.destination.as_deref())?;
        non_empty_if_present("note", self.note.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ShipmentPlan {
        ShipmentPlan {
            lot_id: "L-2026-031".into(),
            pen_id: Some("P12".into()),
            planned_date: NaiveDate::from_ymd_opt(2027, 5, 2).unwrap(),
            head_count: 2,
            eids: vec![Eid::parse("982000001088420").unwrap()],
            buyer: Some("Tyson Lexington".into()),
            destination: None,
            note: None,
        }
    }

    #[test]
    fn a_plan_names_its_lot_and_ships_at_least_one_head() {
        assert!(plan().validate().is_ok());
        let mut p = plan();
        p.lot_id = " ".into();
        assert_eq!(p.validate().unwrap_err().field, "lot_id");
        let mut p = plan();
        p.head_count = 0;
        assert_eq!(p.validate().unwrap_err().field, "head_count");
        let mut p = plan();
        p.buyer = Some(String::new());
        assert_eq!(p.validate().unwrap_err().field, "buyer");
    }

    #[test]
    fn a_plans_animals_are_listed_once_and_no_more_than_its_head() {
        let mut p = plan();
        p.eids.push(p.eids[0].clone());
        let err = p.validate().unwrap_err();
        assert_eq!(err.field, "eids");
        assert_eq!(
            err.to_string(),
            "field `eids`: lists \"982000001088420\" twice"
        );
        let mut p = plan();
        p.eids.push(Eid::parse("982000001088421").unwrap());
        assert!(p.validate().is_ok(), "two animals for two head");
        p.eids.push(Eid::parse("982000001088422").unwrap());
        let err = p.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `eids`: lists 3 animals but head_count is only 2"
        );
    }

    #[test]
    fn the_planned_date_is_a_calendar_day_on_the_wire() {
        let json = serde_json::to_value(plan()).unwrap();
        assert_eq!(json["planned_date"], "2027-05-02");
        let bad = serde_json::json!({"lot_id": "L", "planned_date": "2027-05-02T10:00:00Z",
            "head_count": 1});
        assert!(serde_json::from_value::<ShipmentPlan>(bad).is_err());
    }
}
