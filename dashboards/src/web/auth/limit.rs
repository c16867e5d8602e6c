//! Failed sign-in attempts, counted per key (a client address, a user name) in fixed windows,
//! in this replica's memory: after [`MAX_FAILURES`] failures in [`WINDOW_SECS`] a key is
//! refused (429) until its window ends. At most [`MAX_KEYS`] keys are kept; when full, expired
//! windows are dropped, and if none has expired new keys go uncounted (memory stays bounded).

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures a key may have in a window.
pub const MAX_FAILURES: u32 = 10;
/// The window, seconds.
pub const WINDOW_SECS: u64 = 300;
/// Most keys tracked.
const MAX_KEYS: usize = 20_000;

/// Failure counts by key.
#[derive(Default)]
pub(super) struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    start: u64,
    failures: u32,
}

impl Limiter {
    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds until `key` may try again, if it is refused at `now` (unix seconds).
    pub(super) fn retry_after(&self, key: &str, now: u64) -> Option<u64> {
        let window = *self.windows().get(key)?;
        let ends = window.start + WINDOW_SECS;
        (window.failures >= MAX_FAILURES && now < ends).then(|| ends - now)
    }

    /// Counts a failed attempt by `key` at `now`.
    pub(super) fn failed(&self, key: &str, now: u64) {
        let mut windows = self.windows();
        if !windows.contains_key(key) && windows.len() >= MAX_KEYS {
            windows.retain(|_, w| now < w.start + WINDOW_SECS);
            if windows.len() >= MAX_KEYS {
                tracing::warn!("sign-in limiter full: not counting a new client");
                return;
            }
        }
        let window = windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            failures: 0,
        });
        if now >= window.start + WINDOW_SECS {
            *window = Window {
                start: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_in_a_window_refuse_the_key_until_the_window_ends() {
        let limiter = Limiter::default();
        for i in 0..MAX_FAILURES {
            assert_eq!(limiter.retry_after("ip:a", 100), None, "attempt {i}");
            limiter.failed("ip:a", 100 + u64::from(i));
        }
        assert_eq!(limiter.retry_after("ip:a", 110), Some(290));
        assert_eq!(limiter.retry_after("ip:b", 110), None, "other keys are not");
        assert_eq!(limiter.retry_after("ip:a", 100 + WINDOW_SECS), None);
        limiter.failed("ip:a", 100 + WINDOW_SECS);
        assert_eq!(limiter.retry_after("ip:a", 100 + WINDOW_SECS), None);
    }

    #[test]
    fn the_limiter_keeps_at_most_max_keys() {
        let limiter = Limiter::default();
        for i in 0..MAX_KEYS + 5 {
            limiter.failed(&format!("ip:{i}"), 0);
        }
        assert_eq!(limiter.windows().len(), MAX_KEYS);
        limiter.failed("ip:late", WINDOW_SECS);
        assert_eq!(limiter.windows().len(), 1, "expired windows dropped");
    }
}
