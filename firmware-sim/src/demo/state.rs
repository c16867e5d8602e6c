//! What the demo has already sent, kept beside the gateway's outbox so a restarted demo
//! resumes its yard instead of sending the same days again under new ids.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The demo's progress file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoState {
    /// The yard simulated.
    pub feedlot_id: String,
    /// Its seed.
    pub seed: u64,
    /// Its pens and mean head per lot (another size is another yard).
    pub pens_and_lot_size: (usize, usize),
    /// The model's day 0.
    pub model_start: NaiveDate,
    /// Every record up to this simulated time has been handed to the gateway.
    pub sent_until: DateTime<Utc>,
}

/// Where the state lives in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-state.json")
}

impl DemoState {
    /// The saved state for this yard, seed and size, if any (another's is ignored).
    pub fn load(
        data_dir: &Path,
        feedlot_id: &str,
        seed: u64,
        size: (usize, usize),
    ) -> Option<Self> {
        let text = std::fs::read_to_string(path(data_dir)).ok()?;
        let state: Self = serde_json::from_str(&text).ok()?;
        (state.feedlot_id == feedlot_id && state.seed == seed && state.pens_and_lot_size == size)
            .then_some(state)
    }

    /// Saves it (write to a temporary file, then rename).
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let tmp = data_dir.join("demo-state.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(tmp, path(data_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_loads_only_for_the_same_yard_seed_and_size() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = DemoState {
            feedlot_id: "demo-yard".into(),
            seed: 1,
            pens_and_lot_size: (4, 25),
            model_start: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default(),
            sent_until: Utc::now(),
        };
        state.save(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let size = (4, 25);
        assert_eq!(
            DemoState::load(dir.path(), "demo-yard", 1, size),
            Some(state)
        );
        assert_eq!(DemoState::load(dir.path(), "demo-yard", 2, size), None);
        assert_eq!(DemoState::load(dir.path(), "other", 1, size), None);
        assert_eq!(DemoState::load(dir.path(), "demo-yard", 1, (5, 25)), None);
    }
}
