//! `[benchmarks]`: how often the yard KPI rollup behind the benchmark bands runs (see
//! `docs/benchmarks-bands.md`).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The benchmark rollup's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BenchmarksConfig {
    /// Run the rollup in this process, e.g. `true`. With several replicas it may run in all of
    /// them (the newest row per yard wins) or be switched off in all but one.
    pub enabled: bool,
    /// Seconds between passes; each pass recomputes the yards with new records, e.g. `300`.
    pub refresh_secs: u64,
    /// Every yard is recomputed at least this often, seconds, since the trailing 365-day window
    /// moves even without new records, e.g. `86400`.
    pub full_refresh_secs: u64,
}

impl Default for BenchmarksConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            refresh_secs: 300,
            full_refresh_secs: 86_400,
        }
    }
}

impl BenchmarksConfig {
    /// Checks the intervals are usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.refresh_secs == 0 {
            return Err(ConfigError::Invalid {
                field: "benchmarks.refresh_secs",
                reason: "must be at least 1".into(),
            });
        }
        if self.full_refresh_secs < self.refresh_secs {
            return Err(ConfigError::Invalid {
                field: "benchmarks.full_refresh_secs",
                reason: "must be at least benchmarks.refresh_secs".into(),
            });
        }
        Ok(())
    }
}
