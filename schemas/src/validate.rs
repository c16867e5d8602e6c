//! Checking an event's values after it decoded: a message can be well-formed JSON and still be
//! wrong (a negative weight, a percentage over 100, an empty id). [`ValidationError`] names the
//! field and says why, so the sender (or the dead-letter topic) can tell what to fix.

use std::fmt;

/// Why one field's value is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// An id or name is empty (or only whitespace).
    #[error("must not be empty")]
    Empty,
    /// A quantity is below zero.
    #[error("must not be negative (found {0})")]
    Negative(f64),
    /// A quantity that has to be above zero is zero or below.
    #[error("must be greater than zero (found {0})")]
    NotPositive(f64),
    /// A number is NaN or infinite.
    #[error("must be a finite number")]
    NotFinite,
    /// A percentage is outside 0-100.
    #[error("must be a percentage between 0 and 100 (found {0})")]
    PercentOutOfRange(f64),
    /// A ration's inclusion rates do not add up to 100 %.
    #[error("must sum to 100 % within {tolerance} (found {sum})")]
    InclusionSum {
        /// The sum found.
        sum: f64,
        /// The allowed distance from 100.
        tolerance: f64,
    },
    /// A list that needs at least one element is empty.
    #[error("must list at least one entry")]
    EmptyList,
    /// The same name appears twice in one list.
    #[error("lists {0:?} twice")]
    Duplicate(String),
    /// Not an ISO 4217 alphabetic currency code.
    #[error("must be a 3-letter ISO 4217 currency code such as USD (found {0:?})")]
    Currency(String),
    /// A move whose source and destination are the same pen.
    #[error("must differ from from_pen_id (both {0:?})")]
    SamePen(String),
    /// Neither of two alternative identifying fields is present.
    #[error("is required when {0} is absent")]
    MissingAlternative(&'static str),
    /// A field that must accompany another one is absent.
    #[error("is required with {0}")]
    RequiredWith(&'static str),
    /// Not an ISO 3166-1 alpha-2 country code.
    #[error("must be a two-letter ISO 3166 country code (found {0:?})")]
    Country(String),
    /// A number outside ±limit (coordinates).
    #[error("must be between -{limit} and {limit} (found {value})")]
    OutOfRange {
        /// The value found.
        value: f64,
        /// The bound, either side of zero.
        limit: f64,
    },
    /// A per-head weight that is not the total over the head count.
    #[error("is {per_head_kg} kg per head but the total over head_count is {expected_kg:.1} kg")]
    PerHeadMismatch {
        /// The per-head weight stated.
        per_head_kg: f64,
        /// The total divided by the head count.
        expected_kg: f64,
    },
    /// A list of animals whose length differs from the head count beside it.
    #[error("lists {listed} animals but head_count is {head_count}")]
    CountMismatch {
        /// Animals listed.
        listed: usize,
        /// The head count stated.
        head_count: u32,
    },
    /// A list of animals longer than the head count beside it.
    #[error("lists {listed} animals but head_count is only {head_count}")]
    MoreThanHead {
        /// Animals listed.
        listed: usize,
        /// The head count stated.
        head_count: u32,
    },
    /// A correction names a record kind that cannot be corrected, or no kind at all.
    #[error("must name a correctable record kind such as weighing or treatment (found {0:?})")]
    NotCorrectable(String),
    /// A void that also gives new values.
    #[error("must be absent when action is void")]
    NotWithVoid,
    /// An amendment that gives no new value; lists the fields it may give.
    #[error("amend must give at least one new value ({0})")]
    NoNewValue(String),
    /// A new value for a field the corrected record's kind cannot have amended.
    #[error("cannot be amended on a {0}")]
    NotAmendable(&'static str),
}

/// An event field whose value is not acceptable, and why. Displays as
/// ``field `ingredients[1].weight_kg`: must not be negative (found -3)``.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ValidationError {
    /// The field's path in the event body, e.g. `shrink_pct` or `ingredients[1].weight_kg`.
    pub field: String,
    /// What is wrong with it.
    pub reason: Reason,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.reason)
    }
}

impl ValidationError {
    /// An error for `field`.
    pub fn new(field: impl Into<String>, reason: Reason) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }

    /// The same error for a field inside list element `index` of `list`
    /// (`weight_kg` becomes `ingredients[2].weight_kg`).
    pub fn within(self, list: &str, index: usize) -> Self {
        Self {
            field: format!("{list}[{index}].{}", self.field),
            reason: self.reason,
        }
    }
}

/// The result of a check.
pub type Checked = Result<(), ValidationError>;

/// Checks that an id or name has a non-blank value.
pub fn non_empty(field: &str, value: &str) -> Checked {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, Reason::Empty));
    }
    Ok(())
}

/// Checks an optional id: absent is fine, present must be non-blank.
pub fn non_empty_if_present(field: &str, value: Option<&str>) -> Checked {
    value.map_or(Ok(()), |v| non_empty(field, v))
}

fn finite(field: &str, value: f64) -> Checked {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ValidationError::new(field, Reason::NotFinite))
    }
}

/// Checks a quantity that may be zero but never negative (a delivered weight, a price).
pub fn non_negative(field: &str, value: f64) -> Checked {
    finite(field, value)?;
    if value < 0.0 {
        return Err(ValidationError::new(field, Reason::Negative(value)));
    }
    Ok(())
}

/// Checks a quantity that must be above zero (a dose, a pay weight).
pub fn positive(field: &str, value: f64) -> Checked {
    finite(field, value)?;
    if value <= 0.0 {
        return Err(ValidationError::new(field, Reason::NotPositive(value)));
    }
    Ok(())
}

/// Checks a count that must be at least one.
pub fn at_least_one(field: &str, value: u32) -> Checked {
    if value == 0 {
        return Err(ValidationError::new(field, Reason::NotPositive(0.0)));
    }
    Ok(())
}

/// Checks a percentage in 0-100 inclusive.
pub fn percent(field: &str, value: f64) -> Checked {
    finite(field, value)?;
    if !(0.0..=100.0).contains(&value) {
        return Err(ValidationError::new(
            field,
            Reason::PercentOutOfRange(value),
        ));
    }
    Ok(())
}

/// Checks an ISO 4217 alphabetic code: three ASCII capital letters (`USD`, `CAD`, `AUD`).
pub fn currency(field: &str, value: &str) -> Checked {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            Reason::Currency(value.to_owned()),
        ))
    }
}

/// Checks that a list is not empty.
pub fn not_empty_list<T>(field: &str, list: &[T]) -> Checked {
    if list.is_empty() {
        return Err(ValidationError::new(field, Reason::EmptyList));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_field_and_the_reason() {
        let e = ValidationError::new("weight_kg", Reason::Negative(-3.0)).within("ingredients", 1);
        assert_eq!(
            e.to_string(),
            "field `ingredients[1].weight_kg`: must not be negative (found -3)"
        );
    }

    #[test]
    fn percentages_are_bounded_and_currencies_are_iso_codes() {
        assert!(percent("shrink_pct", 0.0).is_ok());
        assert!(percent("shrink_pct", 100.0).is_ok());
        assert_eq!(
            percent("shrink_pct", 100.5).unwrap_err().reason,
            Reason::PercentOutOfRange(100.5)
        );
        assert!(percent("shrink_pct", f64::NAN).is_err());
        assert!(currency("currency", "USD").is_ok());
        assert!(currency("currency", "usd").is_err());
        assert!(currency("currency", "US").is_err());
    }

    #[test]
    fn blank_names_and_zero_counts_are_refused() {
        assert_eq!(non_empty("lot_id", "  ").unwrap_err().reason, Reason::Empty);
        assert!(non_empty_if_present("pen_id", None).is_ok());
        assert!(non_empty_if_present("pen_id", Some("")).is_err());
        assert!(at_least_one("head_count", 0).is_err());
        assert!(positive("dose", 0.0).is_err());
        assert!(non_negative("delivered_kg", 0.0).is_ok());
    }
}
