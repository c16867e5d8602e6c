//! Charges that are not feed or cattle (the yardage rate), and money as people type it:
//! amounts in a currency's major units turned into the minor units every record carries.

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

/// Currencies whose minor unit is the major unit (ISO 4217: no decimals).
const NO_DECIMALS: [&str; 17] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
/// Currencies with three decimals (ISO 4217).
const THREE_DECIMALS: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Decimals between `currency`'s major and minor units (ISO 4217): 2 for USD, AUD, EUR...,
/// 0 for JPY, 3 for KWD. An unknown code is taken as 2.
pub fn minor_digits(currency: &str) -> u32 {
    let code = currency.trim().to_ascii_uppercase();
    if NO_DECIMALS.contains(&code.as_str()) {
        0
    } else if THREE_DECIMALS.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// An amount typed in `currency`'s major units (`1300000`, `2500.5`, `4800.00`) as its minor
/// units, exactly (no floating point): at most as many decimals as the currency has, 0 or more.
pub fn minor_from_major(text: &str, currency: &str) -> Result<u64, String> {
    let digits = minor_digits(currency);
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(format!(
            "must be an amount in {currency}, like 1250.50 (digits, one decimal point)"
        ));
    }
    if fraction.len() > digits as usize {
        return Err(format!(
            "{currency} has {digits} decimal{}: {text:?} has {}",
            if digits == 1 { "" } else { "s" },
            fraction.len()
        ));
    }
    let scale = 10u64.pow(digits);
    let padded = format!("{fraction:0<width$}", width = digits as usize);
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("{text:?} is too large"))?
    };
    let fraction: u64 = if padded.is_empty() {
        0
    } else {
        padded
            .parse()
            .map_err(|_| format!("{text:?} is too large"))?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_typed_in_major_units_become_exact_minor_units_per_currency() {
        assert_eq!(minor_from_major("1300000", "USD"), Ok(130_000_000));
        assert_eq!(minor_from_major("2500.5", "USD"), Ok(250_050));
        assert_eq!(minor_from_major("0.07", "AUD"), Ok(7));
        assert_eq!(minor_from_major(".25", "usd"), Ok(25));
        assert_eq!(
            minor_from_major("1200", "JPY"),
            Ok(1_200),
            "yen has no decimals"
        );
        assert_eq!(minor_from_major("1.234", "KWD"), Ok(1_234));
        // 0.1 + 0.2 in floating point is not 0.3: none is used.
        assert_eq!(minor_from_major("19.99", "USD"), Ok(1_999));
        for bad in ["", ".", "-5", "1e3", "12,50", "1.2.3", "$12", "12.345"] {
            assert!(minor_from_major(bad, "USD").is_err(), "{bad:?} accepted");
        }
        assert!(
            minor_from_major("1.5", "JPY")
                .unwrap_err()
                .contains("0 decimals")
        );
        assert!(minor_from_major("999999999999999999999", "USD").is_err());
    }

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
