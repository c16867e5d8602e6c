//! The replays a facts worker keeps between recomputes, so that the next recompute of a yard
//! from today (the common case: today's records arriving) replays the new days only.
//!
//! For each yard it recomputed lately the worker keeps the records it loaded and the ledger at
//! the end of the last [`KEPT_DAYS`] days before the last day it wrote ([`DayEnd`]). A later
//! recompute from a day after one of those loads only the records captured after that day,
//! resumes the replay from its ledger, and appends them to the kept records (the animals' rows
//! and stays are made from the whole history). A kept replay is used only when:
//!
//! - the yard's stored facts are still the ones it wrote (`fact_state.version`): another worker
//!   that recomputed the yard in between may have taken in records this one never loaded;
//! - it is younger than [`MAX_AGE`], so a record that became visible only after it was loaded
//!   (a replica catching up) is taken in by a whole replay within that time;
//! - the recompute starts after its first kept day (a correction starts from the first day).
//!
//! Otherwise the yard is replayed from its first record, as a worker that keeps nothing does.
//! Memory is bounded by [`crate::config::FactsConfig::kept_records`]: the yards used longest
//! ago are dropped first.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::build::DayEnd;
use crate::analytics::YardRecords;

/// Day ends kept per yard: the last two days before the last one written, so records of
/// today, or of yesterday arriving late, replay one or two days.
pub const KEPT_DAYS: u16 = 2;

/// How long a kept replay serves before the yard is replayed whole again.
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// One yard's kept replay.
#[derive(Debug, Clone)]
pub struct KeptYard {
    /// The version of the facts written with it (`fact_state.version`).
    pub version: u64,
    /// When its records were first loaded whole.
    pub loaded: Instant,
    /// Every record of the yard loaded so far.
    pub records: YardRecords,
    /// The ledger at the end of each kept day, oldest first.
    pub days: Vec<DayEnd>,
}

/// Where a recompute starts from a kept replay.
#[derive(Debug)]
pub struct Resume {
    /// The yard's records captured before the day after `start`.
    pub records: YardRecords,
    /// The ledger at the end of the day to resume after.
    pub start: DayEnd,
    /// The kept day ends up to `start` (still true after the recompute).
    pub days: Vec<DayEnd>,
    /// When the records were first loaded whole.
    pub loaded: Instant,
}

impl KeptYard {
    /// The resumption for a recompute writing from `from_day`: from the latest kept day
    /// before it, the records before the next day kept.
    pub fn resume_before(self, from_day: u16) -> Option<Resume> {
        let at = self.days.iter().rposition(|d| d.day < from_day)?;
        let mut days = self.days;
        days.truncate(at + 1);
        let start = days.get(at)?.clone();
        let mut records = self.records;
        records.keep_before(u64::from(start.day + 1) * super::rows::DAY_MS);
        Some(Resume {
            records,
            start,
            days,
            loaded: self.loaded,
        })
    }
}

/// The replays kept, by yard, with the total of their records bounded.
#[derive(Debug, Default)]
pub struct Kept {
    yards: HashMap<String, (u64, KeptYard)>,
    max_records: usize,
    uses: u64,
}

impl Kept {
    /// Keeps up to `max_records` records in all (0: none).
    pub fn new(max_records: usize) -> Self {
        Self {
            yards: HashMap::new(),
            max_records,
            uses: 0,
        }
    }

    /// `feedlot_id`'s kept replay if it is younger than [`MAX_AGE`] at `now`, taken out.
    pub fn take(&mut self, feedlot_id: &str, now: Instant) -> Option<KeptYard> {
        let (_, yard) = self.yards.remove(feedlot_id)?;
        (now.duration_since(yard.loaded) < MAX_AGE).then_some(yard)
    }

    /// Keeps `yard` for `feedlot_id`, then drops the yards used longest ago while the records
    /// kept are over the bound (`yard` too, if it alone is).
    pub fn put(&mut self, feedlot_id: &str, yard: KeptYard) {
        self.uses += 1;
        self.yards.insert(feedlot_id.to_owned(), (self.uses, yard));
        let mut total: usize = self.yards.values().map(|(_, y)| y.records.len()).sum();
        while total > self.max_records {
            let Some(oldest) = self
                .yards
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            if let Some((_, dropped)) = self.yards.remove(&oldest) {
                total -= dropped.records.len();
            }
        }
    }

    /// Yards kept.
    pub fn len(&self) -> usize {
        self.yards.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.yards.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::ledger::Ledger;
    use crate::analytics::records::WeighingRecord;

    fn yard(records: usize, days: &[u16]) -> KeptYard {
        KeptYard {
            version: 1,
            loaded: Instant::now(),
            records: YardRecords {
                weighings: (0..records)
                    .map(|i| WeighingRecord {
                        eid: format!("{i}"),
                        weight_kg: 300.0,
                        at_ms: i as u64 * super::super::rows::DAY_MS,
                    })
                    .collect(),
                ..YardRecords::default()
            },
            days: days
                .iter()
                .map(|day| DayEnd {
                    day: *day,
                    ledger: Ledger::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_recompute_resumes_after_the_latest_kept_day_before_it_with_the_records_before_the_next() {
        let resume = yard(10, &[5, 6]).resume_before(7).unwrap();
        assert_eq!(resume.start.day, 6);
        assert_eq!(resume.records.len(), 7, "days 0 to 6");
        assert_eq!(resume.days.len(), 2);
        let resume = yard(10, &[5, 6]).resume_before(6).unwrap();
        assert_eq!(resume.start.day, 5);
        assert_eq!(resume.records.len(), 6);
        assert_eq!(resume.days.len(), 1, "day 6's end changes");
        assert!(yard(10, &[5, 6]).resume_before(5).is_none());
    }

    #[test]
    fn the_yards_used_longest_ago_go_first_when_over_the_bound_and_an_old_one_serves_no_more() {
        let mut kept = Kept::new(25);
        kept.put("a", yard(10, &[1]));
        kept.put("b", yard(10, &[1]));
        kept.put("c", yard(10, &[1]));
        assert_eq!(kept.len(), 2);
        let now = Instant::now();
        assert!(kept.take("a", now).is_none(), "dropped");
        assert!(kept.take("b", now).is_some());
        assert!(kept.take("b", now).is_none(), "taken out");
        assert!(kept.take("c", now + MAX_AGE).is_none(), "too old");
        let mut none = Kept::new(0);
        none.put("a", yard(1, &[1]));
        assert!(none.is_empty());
    }
}
