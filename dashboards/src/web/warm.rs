//! Keeping the dashboards of yards in use warm, so that no request pays a cold report.
//!
//! A cold yard report (load every record through `FINAL`, then replay) takes ~0.5 s on a
//! 50,000-head yard, and the herd summary ~0.3 s (docs/benchmarks.md). A yard is *in use*
//! while one of its dashboards was asked for in the last [`IN_USE_FOR`]. A background task
//! ([`run`]) makes, for every yard in use, each new "now" window's report as the window
//! starts (requests meanwhile get the previous window's, see [`super::report`]), and reloads
//! its herd summary every [`HERD_EVERY`] (before its [`super::herd_cache::HERD_TTL`] runs
//! out). Yards are warmed one at a time, so the background load on ClickHouse is at most one
//! report's queries at once; a yard that stopped being looked at stops being warmed, and at
//! most [`MAX_WARMED_YARDS`] (the most recently asked for) are warmed per round.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::AppState;
use super::herd_cache::HERD_TTL;
use super::report::{REPORT_TTL, now_ms, window_start_ms};
use crate::analytics::yard_report;
use crate::queries::herd_summary;
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

/// How long from `now_ms` until the next report window starts.
fn until_next_window(now_ms: u64) -> Duration {
    let window = REPORT_TTL.as_millis() as u64;
    Duration::from_millis(window_start_ms(now_ms) + window - now_ms)
}

/// Warms the dashboards of the yards in use until `shutdown` is cancelled.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut herd_due = Instant::now();
    loop {
        let wait =
            until_next_window(now_ms()).min(herd_due.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let window_ms = window_start_ms(now_ms());
        let herds_now = Instant::now() >= herd_due;
        if herds_now {
            herd_due = Instant::now() + HERD_EVERY;
        }
        for feedlot in state.in_use.yards(Instant::now()) {
            if shutdown.is_cancelled() {
                return;
            }
            warm_report(&state, &feedlot, window_ms).await;
            if herds_now {
                warm_herd(&state, &feedlot).await;
            }
        }
    }
}

/// Makes `feedlot`'s report of the window starting at `window_ms`, unless it is made.
async fn warm_report(state: &AppState, feedlot: &str, window_ms: u64) {
    let (client, settings) = (state.client.clone(), state.settings.clone());
    let id = feedlot.to_owned();
    let started = Instant::now();
    let made = state
        .reports
        .make_now(feedlot, window_ms, started, move || async move {
            yard_report(&client, &id, window_ms, &settings).await
        })
        .await;
    DashboardWarmed {
        what: "report",
        feedlot_id: feedlot,
        took: started.elapsed(),
        error: made.err().map(|e| e.to_string()),
    }
    .emit(&state.metrics);
}

/// Reloads `feedlot`'s herd summary.
async fn warm_herd(state: &AppState, feedlot: &str) {
    let started = Instant::now();
    let loaded = state
        .herds
        .reload(feedlot, started, || herd_summary(&state.client, feedlot))
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

    #[test]
    fn windows_are_aligned_to_the_report_ttl() {
        let w = REPORT_TTL.as_millis() as u64;
        assert_eq!(window_start_ms(10 * w + 1), 10 * w);
        assert_eq!(until_next_window(10 * w + 1), Duration::from_millis(w - 1));
        assert_eq!(until_next_window(10 * w), REPORT_TTL);
    }
}
