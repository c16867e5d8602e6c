//! Each lot's measures at its marks of days on feed (`lot_mark_facts`, migration 19): a copy of
//! the lot's day row at the end of each day [`MARK_DAYS`], 2 × [`MARK_DAYS`], ... days after the
//! day it arrived, written by the worker with the day rows. The marks of every lot of a yard
//! (what a lot's page sets beside the other lots) are then a few thousand rows, not every
//! lot-day.
//!
//! A recompute from a day writes the marks among the day rows it makes, and overwrites with a
//! blank row (`head_in` 0, which reads skip) each stored mark from that day on that is no longer
//! one: its lot's arrival moved, or the lot is gone.

use std::collections::HashSet;

use super::rows::{LotDayRow, date_text};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// Days between marks.
pub const MARK_DAYS: u16 = 30;

/// Whether `row` is its lot's row at a mark: a whole number of [`MARK_DAYS`] (one or more)
/// after the day the lot arrived.
pub fn is_mark(row: &LotDayRow) -> bool {
    let arrived_day = row.arrived_ms / super::rows::DAY_MS;
    let day = u64::from(row.day);
    day > arrived_day && (day - arrived_day).is_multiple_of(u64::from(MARK_DAYS))
}

/// A stored mark: (lot, day).
pub type StoredMark = (String, u16);

/// The rows to write for a recompute of `feedlot_id` from `from_day` whose lot-days are
/// `lots`: the marks among them, and a blank row (versioned `version`) for each of the `stored`
/// marks from `from_day` on that is not among them.
pub fn mark_rows(
    feedlot_id: &str,
    lots: &[LotDayRow],
    stored: &[StoredMark],
    from_day: u16,
    version: u64,
) -> Vec<LotDayRow> {
    let mut rows: Vec<LotDayRow> = lots.iter().filter(|r| is_mark(r)).cloned().collect();
    let kept: HashSet<(&str, u16)> = rows.iter().map(|r| (r.lot_id.as_str(), r.day)).collect();
    let gone: Vec<LotDayRow> = stored
        .iter()
        .filter(|(lot, day)| *day >= from_day && !kept.contains(&(lot.as_str(), *day)))
        .map(|(lot, day)| LotDayRow {
            feedlot_id: feedlot_id.to_owned(),
            lot_id: lot.clone(),
            day: *day,
            version,
            ..LotDayRow::default()
        })
        .collect();
    rows.extend(gone);
    rows
}

/// `feedlot_id`'s marks stored from `from_day` on (blank rows left out).
pub async fn stored_from(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_day: u16,
) -> Result<Vec<StoredMark>> {
    client
        .query(
            "SELECT lot_id, day FROM lot_mark_facts FINAL \
             WHERE feedlot_id = ? AND day >= ? AND head_in > 0 ORDER BY lot_id, day",
        )
        .bind(feedlot_id)
        .bind(date_text(from_day))
        .fetch_all()
        .await
}

/// Whether `feedlot_id` has any mark rows (blank or not).
pub async fn any_stored(client: &clickhouse::Client, feedlot_id: &str) -> Result<bool> {
    let n: u64 = client
        .query("SELECT count() FROM lot_mark_facts WHERE feedlot_id = ?")
        .bind(feedlot_id)
        .fetch_one()
        .await?;
    Ok(n > 0)
}

/// Copies `feedlot_id`'s marks from its stored day rows, for a yard whose facts were made
/// before `lot_mark_facts` existed (its next recompute rewrites only its later days).
pub async fn copy_from_day_rows(client: &clickhouse::Client, feedlot_id: &str) -> Result<()> {
    let columns = <LotDayRow as clickhouse::Row>::COLUMN_NAMES.join(", ");
    let sql = format!(
        "INSERT INTO lot_mark_facts ({columns}) SELECT {columns} FROM lot_day_facts FINAL \
         WHERE feedlot_id = ? AND toUInt64(day) > intDiv(arrived_ms, 86400000) \
         AND (toUInt64(day) - intDiv(arrived_ms, 86400000)) % {MARK_DAYS} = 0"
    );
    client.query(&sql).bind(feedlot_id).execute().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::rows::DAY_MS;

    fn row(lot: &str, arrived_day: u64, day: u16) -> LotDayRow {
        LotDayRow {
            feedlot_id: "y".into(),
            lot_id: lot.into(),
            day,
            arrived_ms: arrived_day * DAY_MS + 3_600_000,
            head_in: 10,
            version: 7,
            ..LotDayRow::default()
        }
    }

    #[test]
    fn a_mark_is_a_whole_number_of_thirty_days_after_the_arrival_day() {
        assert!(!is_mark(&row("A", 100, 100)), "the arrival day is no mark");
        assert!(is_mark(&row("A", 100, 130)));
        assert!(!is_mark(&row("A", 100, 131)));
        assert!(is_mark(&row("A", 100, 160)));
        assert!(!is_mark(&row("A", 100, 70)), "before the arrival");
    }

    #[test]
    fn marks_are_kept_and_a_stored_mark_no_longer_one_is_blanked_from_the_first_day() {
        // Lot A arrived a day earlier than its stored marks say; lot B is gone.
        let lots: Vec<LotDayRow> = (120..=135).map(|d| row("A", 99, d)).collect();
        let stored: Vec<StoredMark> = vec![
            ("A".into(), 100),
            ("A".into(), 130),
            ("B".into(), 125),
            ("B".into(), 95),
        ];
        let rows = mark_rows("y", &lots, &stored, 120, 9);
        let got: Vec<(&str, u16, u32)> = rows
            .iter()
            .map(|r| (r.lot_id.as_str(), r.day, r.head_in))
            .collect();
        // A's day 129 is its mark; A 130 and B 125 are blanked; A 100 and B 95 are before the
        // recompute's first day and stay.
        assert_eq!(got, vec![("A", 129, 10), ("A", 130, 0), ("B", 125, 0)]);
        assert!(rows.iter().all(|r| r.feedlot_id == "y"));
        assert_eq!(rows[1].version, 9);
    }
}
