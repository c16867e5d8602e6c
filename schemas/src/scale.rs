//! Weighings: a stable scale weight paired with the animal's tag.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Eid, Weight};

/// Whether the indicator showed the gross weight or the net (tared) weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrossNet {
    /// Gross weight.
    Gross,
    /// Net weight (gross minus tare).
    Net,
}

/// A stable weight taken while one animal stood on the platform, paired with its tag read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Weighing {
    /// The animal weighed.
    pub eid: Eid,
    /// The stable weight, in the unit the indicator showed.
    pub weight: Weight,
    /// The event id of the tag read this weight was paired with, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_read_event_id: Option<Uuid>,
    /// Gross or net, when the indicator says. Added after v1's first release: optional, so
    /// messages without it still decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_net: Option<GrossNet>,
}

impl Weighing {
    /// Checks the weight is a finite number. (A net weight may be negative, so the sign is not
    /// checked.)
    pub fn validate(&self) -> crate::validate::Checked {
        if self.weight.value.is_finite() {
            Ok(())
        } else {
            Err(crate::ValidationError::new(
                "weight.value",
                crate::validate::Reason::NotFinite,
            ))
        }
    }
}
