//! Corrections: a later record that voids or amends an earlier one, named by its event id.
//! Nothing is deleted: the original stays, and readers apply the correction (see
//! `docs/corrections.md`). Who corrected is the envelope's `device_id` (`api:<user>`), when is
//! its `captured_at`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::EventKind;
use crate::validate::{
    Checked, Reason, ValidationError, at_least_one, non_empty, non_negative, positive,
};

/// What a correction does to the record it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionAction {
    /// The record is void: analytics and pages leave it out. A void is final.
    Void,
    /// The record stands with the new values given; the latest amendment of a field wins.
    Amend,
}

impl CorrectionAction {
    /// The name used on the wire and in ClickHouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Void => "void",
            Self::Amend => "amend",
        }
    }
}

/// A correction of one earlier record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Correction {
    /// The `event_id` of the record corrected.
    pub corrects_event_id: Uuid,
    /// The corrected record's kind, as on the wire (`weighing`, `treatment`, ...).
    pub record_kind: String,
    /// Void or amend.
    pub action: CorrectionAction,
    /// Why: required, shown in the record's history.
    pub reason: String,
    /// Amend a weighing: the right weight, kg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    /// Amend a treatment or lot treatment: the right product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Amend a treatment (or, per head, a lot treatment): the right dose, in its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose: Option<f64>,
    /// Amend a treatment or lot treatment: the right withdrawal period, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_days: Option<u32>,
    /// Amend a death or lot death: the right cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Amend a feed delivery: the right delivered weight, kg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_kg: Option<f64>,
    /// Amend a shipment plan: the new planned day (UTC calendar day, `YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_date: Option<chrono::NaiveDate>,
    /// Amend a shipment plan: the new number of head planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_count: Option<u32>,
}

/// The record kinds a correction may name (any record the analytics read).
pub const CORRECTABLE_KINDS: [EventKind; 13] = [
    EventKind::Weighing,
    EventKind::FeedDelivery,
    EventKind::Treatment,
    EventKind::LotTreatment,
    EventKind::Death,
    EventKind::LotDeath,
    EventKind::Arrival,
    EventKind::PenMove,
    EventKind::Shipment,
    EventKind::FeedPurchase,
    EventKind::YardageRate,
    EventKind::Placement,
    EventKind::ShipmentPlan,
];

/// The fields an amendment of `kind` may change.
pub fn amendable_fields(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::Weighing => &["weight_kg"],
        EventKind::Treatment | EventKind::LotTreatment => &["product", "dose", "withdrawal_days"],
        EventKind::Death | EventKind::LotDeath => &["cause"],
        EventKind::FeedDelivery => &["delivered_kg"],
        EventKind::ShipmentPlan => &["planned_date", "head_count"],
        _ => &[],
    }
}

impl Correction {
    /// The names of the new values given, in declaration order.
    pub fn amended_fields(&self) -> Vec<&'static str> {
        let given = [
            ("weight_kg", self.weight_kg.is_some()),
            ("product", self.product.is_some()),
            ("dose", self.dose.is_some()),
            ("withdrawal_days", self.withdrawal_days.is_some()),
            ("cause", self.cause.is_some()),
            ("delivered_kg", self.delivered_kg.is_some()),
            ("planned_date", self.planned_date.is_some()),
            ("head_count", self.head_count.is_some()),
        ];
        given
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
    }

    /// The corrected record's kind, when it is one a correction may name.
    pub fn kind(&self) -> Option<EventKind> {
        CORRECTABLE_KINDS
            .into_iter()
            .find(|k| k.as_str() == self.record_kind)
    }

    /// Checks the record is named, the reason given, a void carries no new values, and an
    /// amendment gives at least one, each a field of the record's kind and a sound value.
    pub fn validate(&self) -> Checked {
        if self.corrects_event_id.is_nil() {
            return Err(ValidationError::new("corrects_event_id", Reason::Empty));
        }
        let Some(kind) = self.kind() else {
            return Err(ValidationError::new(
                "record_kind",
                Reason::NotCorrectable(self.record_kind.clone()),
            ));
        };
        non_empty("reason", &self.reason)?;
        let given = self.amended_fields();
        match self.action {
            CorrectionAction::Void => {
                if let Some(field) = given.first() {
                    return Err(ValidationError::new(*field, Reason::NotWithVoid));
                }
            }
            CorrectionAction::Amend => {
                if given.is_empty() {
                    return Err(ValidationError::new(
                        "action",
                        Reason::NoNewValue(amendable_fields(kind).join(", ")),
                    ));
                }
                let allowed = amendable_fields(kind);
                if let Some(field) = given.iter().copied().find(|f| !allowed.contains(f)) {
                    return Err(ValidationError::new(
                        field,
                        Reason::NotAmendable(kind.as_str()),
                    ));
                }
            }
        }
        if let Some(kg) = self.weight_kg {
            positive("weight_kg", kg)?;
        }
        if let Some(product) = &self.product {
            non_empty("product", product)?;
        }
        if let Some(dose) = self.dose {
            positive("dose", dose)?;
        }
        if let Some(cause) = &self.cause {
            non_empty("cause", cause)?;
        }
        if let Some(kg) = self.delivered_kg {
            non_negative("delivered_kg", kg)?;
        }
        if let Some(head) = self.head_count {
            at_least_one("head_count", head)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amend_weight() -> Correction {
        Correction {
            corrects_event_id: Uuid::now_v7(),
            record_kind: "weighing".into(),
            action: CorrectionAction::Amend,
            reason: "scale not zeroed".into(),
            weight_kg: Some(412.0),
            product: None,
            dose: None,
            withdrawal_days: None,
            cause: None,
            delivered_kg: None,
            planned_date: None,
            head_count: None,
        }
    }

    #[test]
    fn an_amendment_gives_a_new_value_of_its_records_kind() {
        assert!(amend_weight().validate().is_ok());
        let mut c = amend_weight();
        c.weight_kg = None;
        assert_eq!(c.validate().unwrap_err().field, "action");
        c.cause = Some("bloat".into());
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "cause");
        assert_eq!(
            err.to_string(),
            "field `cause`: cannot be amended on a weighing"
        );
        let mut c = amend_weight();
        c.weight_kg = Some(-1.0);
        assert_eq!(c.validate().unwrap_err().field, "weight_kg");
    }

    #[test]
    fn a_void_needs_a_reason_and_no_new_values() {
        let mut c = amend_weight();
        c.action = CorrectionAction::Void;
        assert_eq!(c.validate().unwrap_err().field, "weight_kg");
        c.weight_kg = None;
        assert!(c.validate().is_ok());
        c.reason = "  ".into();
        assert_eq!(c.validate().unwrap_err().field, "reason");
    }

    #[test]
    fn the_record_is_named_by_id_and_a_known_kind() {
        let mut c = amend_weight();
        c.record_kind = "tag_read".into();
        assert_eq!(c.validate().unwrap_err().field, "record_kind");
        let mut c = amend_weight();
        c.corrects_event_id = Uuid::nil();
        assert_eq!(c.validate().unwrap_err().field, "corrects_event_id");
    }

    #[test]
    fn a_shipment_plans_date_and_head_are_amendable() {
        let mut c = amend_weight();
        c.record_kind = "shipment_plan".into();
        assert_eq!(c.validate().unwrap_err().field, "weight_kg");
        c.weight_kg = None;
        c.planned_date = chrono::NaiveDate::from_ymd_opt(2027, 5, 9);
        assert!(c.validate().is_ok());
        c.head_count = Some(0);
        assert_eq!(c.validate().unwrap_err().field, "head_count");
        c.head_count = Some(40);
        assert_eq!(c.amended_fields(), ["planned_date", "head_count"]);
        let mut w = amend_weight();
        w.head_count = Some(3);
        assert_eq!(w.validate().unwrap_err().field, "head_count");
    }
}
