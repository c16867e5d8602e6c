//! Keeping the herd summaries of yards in use warm. (Lot, pen and feed reports need no
//! warming: they are read from the yard's daily facts, see `crate::facts`.)
//!
//! The herd summary takes ~0.3 s cold on a 50,000-head yard (docs/benchmarks.md). A yard is
//! *in use* while one of its dashboards was asked for in the last [`IN_USE_FOR`]. A background
//! task ([`run`]) reloads the herd summary of every yard in use every [`HERD_EVERY`] (before
//! its [`super::herd_cache::HERD_TTL`] runs out), one yard at a time; a yard that stopped being
//! looked at stops being warmed, and at most [`MAX_WARMED_YARDS`] (the most recently asked
//! for) are warmed per round.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::AppState;
use super::herd_cache::HERD_TTL;
use crate::facts::animals;
use crate::telemetry::DashboardWarmed;

/// How long a yard stays in use after its last dashboard request.
pub const IN_USE_FOR: Duration = Duration::from_secs(15 * 60);

/// Most yards warmed per round: the most recently asked for. Past it a replica's yards in use
/// pay cold reports again instead of the warmer falling ever further behind.
pub const MAX_WARMED_YARDS: usize = 200;

/// How often the herd summaries of yards in use are reloaded (under [`HERD_TTL`]).
pub const HERD_EVERY: Duration = Duration::from_secs(20);

const _: () = assert!(HERD_EVERY.as_millis() < HERD_TTL.as_millis());

/// The yards whose dashboards were asked for, and when last.
#[derive(Debug, Clone, Default)]
pub struct InUse {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
}

impl InUse {
    /// Notes that a dashboard of `feedlot_id` was asked for at `now`.
    pub fn touch(&self, feedlot_id: &str, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.get_mut(feedlot_id) {
            Some(at) => *at = now,
            None => {
                seen.insert(feedlot_id.to_owned(), now);
            }
        }
    }

    /// The yards in use at `now` (asked for within [`IN_USE_FOR`]), most recently asked for
    /// first, at most [`MAX_WARMED_YARDS`]; yards no longer in use are forgotten.
    pub fn yards(&self, now: Instant) -> Vec<String> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, at| now.saturating_duration_since(*at) < IN_USE_FOR);
        let mut yards: Vec<(&String, &Instant)> = seen.iter().collect();
        yards.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        yards
            .into_iter()
            .take(MAX_WARMED_YARDS)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Warms the herd summaries of the yards in use until `shutdown` is cancelled.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(HERD_EVERY) => {}
        }
        for feedlot in state.in_use.yards(Instant::now()) {
            if shutdown.is_cancelled() {
                return;
            }
            warm_herd(&state, &feedlot).await;
        }
    }
}

/// Reloads `feedlot`'s herd summary.
async fn warm_herd(state: &AppState, feedlot: &str) {
    let started = Instant::now();
    let loaded = state
        .herds
        .reload(feedlot, started, || animals::herd(&state.client, feedlot))
        .await;
    DashboardWarmed {
        what: "herd",
        feedlot_id: feedlot,
        took: started.elapsed(),
        error: loaded.err().map(|e| e.to_string()),
    }
    .emit(&state.metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yard_is_in_use_for_a_while_after_it_was_last_asked_for() {
        let in_use = InUse::default();
        let t0 = Instant::now();
        in_use.touch("b", t0);
        in_use.touch("a", t0);
        assert_eq!(in_use.yards(t0), ["a", "b"], "same moment: by id");
        in_use.touch("a", t0 + IN_USE_FOR / 2);
        assert_eq!(in_use.yards(t0 + IN_USE_FOR), ["a"], "b not asked again");
        assert!(in_use.yards(t0 + IN_USE_FOR * 2).is_empty());
    }

    #[test]
    fn only_the_most_recently_asked_for_yards_are_warmed() {
        let in_use = InUse::default();
        let t0 = Instant::now();
        for i in 0..=MAX_WARMED_YARDS {
            in_use.touch(
                &format!("yard-{i:04}"),
                t0 + Duration::from_millis(i as u64),
            );
        }
        let yards = in_use.yards(t0 + Duration::from_secs(1));
        assert_eq!(yards.len(), MAX_WARMED_YARDS);
        assert_eq!(
            yards[0],
            format!("yard-{MAX_WARMED_YARDS:04}"),
            "latest first"
        );
        assert!(
            !yards.contains(&"yard-0000".to_owned()),
            "the least recent left out"
        );
    }
}
