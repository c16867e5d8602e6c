//! ISO 11784 electronic identification numbers (EIDs) for animals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid animal EID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EidError {
    /// The number does not have 15 digits once separators are removed.
    #[error("an EID has 15 digits, found {0}")]
    WrongLength(usize),
    /// A character other than a digit (or a space/dash separator) was found.
    #[error("an EID holds digits only, found {0:?}")]
    NotDigits(char),
    /// Code 000 is never issued.
    #[error("country/manufacturer code 000 is invalid")]
    ZeroCode,
    /// The 3-digit code is neither an ISO 3166-1 numeric country nor a manufacturer code (900-999).
    #[error("unknown country code {0:03}")]
    UnknownCountry(u16),
}

/// A validated 15-digit ISO 11784 animal identification number, e.g. `982000001088420`.
///
/// The first three digits are an ISO 3166-1 numeric country code (840 USA) or a manufacturer
/// code (900-999); the remaining twelve are the national id. `982 000001088420` and
/// `982000001088420` parse to the same EID. Serialized as the 15-digit string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Eid(String);

impl Eid {
    /// Parses an EID, accepting spaces or dashes between digit groups.
    pub fn parse(input: &str) -> Result<Self, EidError> {
        let mut digits = String::with_capacity(15);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                other => return Err(EidError::NotDigits(other)),
            }
        }
        if digits.len() != 15 {
            return Err(EidError::WrongLength(digits.len()));
        }
        let code: u16 = digits[..3]
            .parse()
            .map_err(|_| EidError::WrongLength(digits.len()))?;
        if code == 0 {
            return Err(EidError::ZeroCode);
        }
        if code < 900 && isocountry::CountryCode::for_id(u32::from(code)).is_err() {
            return Err(EidError::UnknownCountry(code));
        }
        Ok(Self(digits))
    }

    /// The 15 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 3-digit country or manufacturer code.
    pub fn country_code(&self) -> u16 {
        self.0[..3].parse().unwrap_or_default()
    }

    /// The 12-digit national id.
    pub fn national_id(&self) -> &str {
        &self.0[3..]
    }
}

impl schemars::JsonSchema for Eid {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Eid".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A 15-digit ISO 11784 animal EID: a 3-digit ISO 3166-1 numeric country or 900-999 manufacturer code, then the 12-digit national id. Spaces or dashes between groups are accepted on input.",
            "type": "string",
            "pattern": "^[0-9][0-9 -]{13,}[0-9]$",
            "examples": ["982000001088420"]
        })
    }
}

impl fmt::Display for Eid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Eid {
    type Err = EidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Eid {
    type Error = EidError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Eid> for String {
    fn from(value: Eid) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_and_packed_forms_are_the_same_tag() {
        let a = Eid::parse("982 000001088420").unwrap();
        let b = Eid::parse("982000001088420").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.country_code(), 982);
        assert_eq!(a.national_id(), "000001088420");
    }

    #[test]
    fn us_and_test_range_codes_are_accepted() {
        assert!(Eid::parse("840003123456789").is_ok());
        assert!(Eid::parse("999000000000001").is_ok());
    }

    #[test]
    fn bad_numbers_are_rejected_with_a_reason() {
        assert_eq!(Eid::parse("98200000108842"), Err(EidError::WrongLength(14)));
        assert_eq!(Eid::parse("98200000108842X"), Err(EidError::NotDigits('X')));
        assert_eq!(Eid::parse("000000001088420"), Err(EidError::ZeroCode));
        assert_eq!(
            Eid::parse("001000001088420"),
            Err(EidError::UnknownCountry(1))
        );
    }

    #[test]
    fn serde_rejects_an_invalid_eid() {
        let ok: Eid = serde_json::from_str("\"982000001088420\"").unwrap();
        assert_eq!(ok.as_str(), "982000001088420");
        assert!(serde_json::from_str::<Eid>("\"12\"").is_err());
    }
}
