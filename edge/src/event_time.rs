//! Which event times the gateway believes: one rule for every path that takes a time from
//! outside (a truck's `recorded_at` over MQTT, a record's `occurred_at` on the records API).
//!
//! A time more than [`MAX_AHEAD_SECS`] ahead of the gateway's clock, or more than
//! [`MAX_AGE_DAYS`] behind it, is refused; anything in between is kept exactly as given (never
//! clamped: ClickHouse deduplicates on a key that includes the time).

use chrono::{DateTime, TimeDelta, Utc};

/// How far an event time may be ahead of the gateway's clock (ordinary drift between two
/// clocks), seconds.
pub const MAX_AHEAD_SECS: i64 = 300;

/// How far an event time may be behind the gateway's clock, days: far longer than any truck
/// stays out of range with records buffered or any record is entered after the fact, far
/// shorter than a clock reset to 1970 or 2000 (or a year that is simply wrong).
pub const MAX_AGE_DAYS: i64 = 366;

/// Why an event time is not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfWindow {
    /// Ahead of the gateway's clock by this many seconds (more than [`MAX_AHEAD_SECS`]).
    Ahead {
        /// Seconds ahead.
        secs: i64,
    },
    /// Behind the gateway's clock by this many whole days (more than [`MAX_AGE_DAYS`]).
    Behind {
        /// Whole days behind.
        days: i64,
    },
}

/// Accepts `at` if the gateway, whose clock reads `now`, can believe it.
pub fn check(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), OutOfWindow> {
    let ahead = at.signed_duration_since(now);
    if ahead > TimeDelta::seconds(MAX_AHEAD_SECS) {
        return Err(OutOfWindow::Ahead {
            secs: ahead.num_seconds(),
        });
    }
    if -ahead > TimeDelta::days(MAX_AGE_DAYS) {
        return Err(OutOfWindow::Behind {
            days: (-ahead).num_days(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_reaches_a_year_back_and_five_minutes_ahead_inclusive() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(check(now, now), Ok(()));
        assert_eq!(check(now + TimeDelta::seconds(MAX_AHEAD_SECS), now), Ok(()));
        assert_eq!(
            check(now + TimeDelta::seconds(MAX_AHEAD_SECS + 1), now),
            Err(OutOfWindow::Ahead { secs: 301 })
        );
        assert_eq!(check(now - TimeDelta::days(MAX_AGE_DAYS), now), Ok(()));
        assert_eq!(
            check(now - TimeDelta::days(400), now),
            Err(OutOfWindow::Behind { days: 400 })
        );
    }
}
