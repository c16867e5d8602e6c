//! `[facts]`: the facts worker that keeps each yard's daily facts (see `docs/facts.md`).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The facts worker's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FactsConfig {
    /// Run the worker in this process, e.g. `true`. Several replicas may all run it (they
    /// write the same rows), or one `dashboards facts-worker` process may run it alone.
    pub enabled: bool,
    /// Milliseconds between rounds, e.g. `1000`.
    pub interval_ms: u64,
    /// A change is taken once ClickHouse's clock is this many seconds past it, so the inserts
    /// of its second are finished, e.g. `2`.
    pub settle_secs: u32,
    /// Records of the yards recomputed lately kept in memory (with their replay at the end of
    /// their last two days), so the next recompute of such a yard from today loads and
    /// replays the new days only; the yards used longest ago are dropped first, and 0 keeps
    /// none (every recompute replays the whole history). A 50,000-head yard's year is about
    /// 426,000 records. E.g. `1000000`.
    pub kept_records: u64,
    /// Days `fact_changes` (the log of which yards changed, one row per yard and stored
    /// batch) is kept: its monthly partitions are dropped once they ended this long ago and
    /// every change in them is in its yard's facts; 0 keeps it all. E.g. `62`.
    pub changes_kept_days: u32,
}

impl Default for FactsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 1000,
            settle_secs: 2,
            kept_records: 1_000_000,
            changes_kept_days: 62,
        }
    }
}

impl FactsConfig {
    /// Checks the schedule is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(100..=600_000).contains(&self.interval_ms) {
            return Err(ConfigError::Invalid {
                field: "facts.interval_ms",
                reason: format!("{} is not 100 to 600000", self.interval_ms),
            });
        }
        if !(1..=60).contains(&self.settle_secs) {
            return Err(ConfigError::Invalid {
                field: "facts.settle_secs",
                reason: format!("{} is not 1 to 60", self.settle_secs),
            });
        }
        Ok(())
    }
}
