//! Who and where a yard is: its name and location, sent by its gateway when it starts, so the
//! cloud can compare a yard with yards in its area. Only aggregates of other yards are ever
//! shown to a yard; the profile itself is never shown to another yard.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Reason, ValidationError, non_empty};

/// A yard's name and location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct YardProfile {
    /// The yard's display name.
    pub name: String,
    /// The region it benchmarks against (e.g. `US-NE`, `AU-QLD`): yards in the same region
    /// form its local area.
    pub region: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `US`.
    pub country: String,
    /// Latitude, degrees north (-90 to 90).
    pub latitude: f64,
    /// Longitude, degrees east (-180 to 180).
    pub longitude: f64,
    /// One-time feedlot capacity, head, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_head: Option<u32>,
}

impl YardProfile {
    /// Checks the name and region are given, the country is a two-letter code and the
    /// coordinates are on the globe.
    pub fn validate(&self) -> Checked {
        non_empty("name", &self.name)?;
        non_empty("region", &self.region)?;
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                "country",
                Reason::Country(self.country.clone()),
            ));
        }
        within("latitude", self.latitude, 90.0)?;
        within("longitude", self.longitude, 180.0)
    }
}

fn within(field: &str, value: f64, limit: f64) -> Checked {
    if value.is_finite() && value.abs() <= limit {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            Reason::OutOfRange { value, limit },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> YardProfile {
        YardProfile {
            name: "Sandhills Feeders".into(),
            region: "US-NE".into(),
            country: "US".into(),
            latitude: 42.87,
            longitude: -100.55,
            capacity_head: Some(12_000),
        }
    }

    #[test]
    fn a_profile_needs_a_region_a_country_code_and_coordinates_on_the_globe() {
        assert!(profile().validate().is_ok());
        let mut p = profile();
        p.region = " ".into();
        assert_eq!(p.validate().unwrap_err().field, "region");
        let mut p = profile();
        p.country = "USA".into();
        assert_eq!(p.validate().unwrap_err().field, "country");
        let mut p = profile();
        p.latitude = 91.0;
        assert_eq!(p.validate().unwrap_err().field, "latitude");
        let mut p = profile();
        p.longitude = f64::NAN;
        assert_eq!(p.validate().unwrap_err().field, "longitude");
    }
}
