//! The demo's clock: simulated time that starts in the past, runs `days_per_minute` times
//! faster than real time until it reaches the present, and then keeps pace with the wall
//! clock. Built on tokio's clock, so tests run it with paused time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Simulated time: accelerated until it catches up with the wall clock, then real time.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    sim_start: DateTime<Utc>,
    wall_start: DateTime<Utc>,
    real_start: Instant,
    /// Simulated seconds per real second while catching up.
    factor: f64,
}

impl SimClock {
    /// A clock reading `sim_start` now (wall time `wall_now`), running `days_per_minute`
    /// simulated days per real minute until it reaches the wall clock.
    pub fn new(sim_start: DateTime<Utc>, wall_now: DateTime<Utc>, days_per_minute: f64) -> Self {
        Self {
            sim_start: sim_start.min(wall_now),
            wall_start: wall_now,
            real_start: Instant::now(),
            factor: (days_per_minute * 1440.0).max(1.0),
        }
    }

    fn at_elapsed(&self, elapsed: Duration) -> DateTime<Utc> {
        let accelerated = self.sim_start + scaled(elapsed, self.factor);
        let wall = self.wall_start + scaled(elapsed, 1.0);
        accelerated.min(wall)
    }

    /// Simulated time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.at_elapsed(self.real_start.elapsed())
    }

    /// Whether simulated time has reached the wall clock (and now runs at its pace).
    pub fn caught_up(&self) -> bool {
        self.now() >= self.wall_start + scaled(self.real_start.elapsed(), 1.0)
    }

    /// The real instant at which simulated time reads `at`.
    pub fn instant_of(&self, at: DateTime<Utc>) -> Instant {
        let behind = (at - self.sim_start).to_std().unwrap_or_default();
        let accelerated = behind.as_secs_f64() / self.factor;
        // When the accelerated clock meets the wall clock, real elapsed seconds e satisfy
        // sim_start + e·factor = wall_start + e.
        let gap = (self.wall_start - self.sim_start)
            .to_std()
            .unwrap_or_default();
        let meet = gap.as_secs_f64() / (self.factor - 1.0).max(1e-9);
        let elapsed = if accelerated <= meet {
            accelerated
        } else {
            (at - self.wall_start)
                .to_std()
                .unwrap_or_default()
                .as_secs_f64()
        };
        self.real_start + Duration::from_secs_f64(elapsed.max(0.0))
    }

    /// Sleeps until simulated time reads `at` (returns at once if it already has).
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        tokio::time::sleep_until(self.instant_of(at)).await;
    }
}

fn scaled(elapsed: Duration, factor: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((elapsed.as_secs_f64() * factor * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[tokio::test(start_paused = true)]
    async fn two_days_a_minute_until_it_catches_up_then_real_time() {
        let wall = t("2026-11-25T12:00:00Z");
        let clock = SimClock::new(t("2026-11-15T12:00:00Z"), wall, 2.0);
        assert_eq!(clock.now(), t("2026-11-15T12:00:00Z"));
        tokio::time::advance(Duration::from_secs(60)).await;
        let now = clock.now();
        assert!(
            (now - t("2026-11-17T12:00:00Z")).num_seconds().abs() <= 1,
            "{now}"
        );
        assert!(!clock.caught_up());
        // Ten days at two a minute: about five minutes (plus the wall clock's own advance).
        tokio::time::advance(Duration::from_secs(4 * 60 + 1)).await;
        assert!(clock.caught_up());
        let caught = clock.now();
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!((clock.now() - caught).num_seconds(), 30, "real time after");
    }

    #[tokio::test(start_paused = true)]
    async fn sleeping_until_a_simulated_time_wakes_when_the_clock_reads_it() {
        let wall = t("2026-11-25T12:00:00Z");
        let clock = SimClock::new(t("2026-11-20T00:00:00Z"), wall, 60.0);
        let started = Instant::now();
        clock.sleep_until(t("2026-11-21T00:00:00Z")).await;
        assert_eq!(started.elapsed().as_secs(), 1, "one day at 60 a minute");
        assert!(
            (clock.now() - t("2026-11-21T00:00:00Z"))
                .num_seconds()
                .abs()
                <= 1
        );
        // Past the present: the wall clock's pace.
        let target = clock.now().max(wall) + chrono::Duration::seconds(3600);
        let before = Instant::now();
        clock.sleep_until(target).await;
        assert!(before.elapsed().as_secs() > 3000, "{:?}", before.elapsed());
        assert!(clock.caught_up());
        clock.sleep_until(t("2026-11-20T00:00:00Z")).await;
    }
}
