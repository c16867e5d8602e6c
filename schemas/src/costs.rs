//! Charges that are not feed or cattle: the yardage rate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{Checked, currency, non_empty_if_present};

/// The yardage fee charged per head per day, in effect from the envelope's `captured_at` until
/// the next rate for the same scope (the whole yard, or one lot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct YardageRate {
    /// Fee per head per day, in minor units of `currency` (cents).
    pub per_head_per_day_minor: u64,
    /// ISO 4217 code of the fee.
    pub currency: String,
    /// The lot this rate applies to; absent for the yard's default rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
}

impl YardageRate {
    /// Checks the currency is an ISO code and a lot, when given, is named.
    pub fn validate(&self) -> Checked {
        currency("currency", &self.currency)?;
        non_empty_if_present("lot_id", self.lot_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yardage_rate_needs_an_iso_currency() {
        let mut r = YardageRate {
            per_head_per_day_minor: 45,
            currency: "USD".into(),
            lot_id: None,
        };
        assert!(r.validate().is_ok());
        r.currency = "$".into();
        assert_eq!(r.validate().unwrap_err().field, "currency");
        r.currency = "USD".into();
        r.lot_id = Some(String::new());
        assert_eq!(r.validate().unwrap_err().field, "lot_id");
    }
}
