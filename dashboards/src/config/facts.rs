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
}

impl Default for FactsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 1000,
            settle_secs: 2,
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
