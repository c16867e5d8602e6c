//! A calendar month (UTC), as the monthly report's `?month=YYYY-MM` names it.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};

use super::ReportError;

/// A calendar month, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// The month named `text`, `YYYY-MM` (e.g. `2026-03`); anything else is a
    /// [`ReportError::Month`] naming the field.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let bad = || ReportError::Month(format!("month: {text:?} is not a month as YYYY-MM"));
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4
            || month.len() != 2
            || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month holding `at`.
    pub fn of(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Its first moment, UTC.
    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Its last whole second, UTC (a report as of then counts the month's last day whole).
    pub fn last_second(self) -> DateTime<Utc> {
        self.next().start() - TimeDelta::seconds(1)
    }

    /// Refuses a month before `floor`'s or one that has not begun at `now`, naming the field.
    pub fn check(self, floor: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ReportError> {
        if self < Self::of(floor) {
            return Err(ReportError::Month(format!(
                "month: {self} is before {}, the first month reported",
                Self::of(floor)
            )));
        }
        if self.start() > now {
            return Err(ReportError::Month(format!("month: {self} has not begun")));
        }
        Ok(())
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn months_parse_strictly_and_span_their_days() {
        let march = Month::parse("2026-03").unwrap();
        assert_eq!(march.to_string(), "2026-03");
        assert_eq!(march.start().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(
            march.last_second().to_rfc3339(),
            "2026-03-31T23:59:59+00:00"
        );
        assert_eq!(
            Month::parse("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-3",
            "26-03",
            "March",
            "2026-03-01",
            "",
            "+026-03",
        ] {
            let err = Month::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("month: "), "{bad}: {err}");
        }
        let floor = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap();
        assert!(Month::parse("2026-12").unwrap().check(floor, now).is_ok());
        assert!(Month::parse("2000-01").unwrap().check(floor, now).is_ok());
        for refused in ["2027-01", "1999-12"] {
            let err = Month::parse(refused)
                .unwrap()
                .check(floor, now)
                .unwrap_err();
            assert!(err.to_string().starts_with("month: "), "{err}");
        }
    }
}
