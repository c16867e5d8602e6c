//! Cold work under bounds, so that no user can starve the others.
//!
//! A *cold* dashboard is one a request finds missing from the cache (a yard report for an
//! `?as_of=` nobody asked for in the last 30 s, a herd summary gone stale): it is loaded from
//! ClickHouse and replayed in the request, ~1 s on a big yard. Cold work runs under two bounds
//! (`[web]` in the config):
//!
//! - at most `cold_reports_per_user` at once per user: one more is refused **at once** with 429
//!   and `Retry-After: 1` ([`RETRY_USER_SECS`]), never queued;
//! - at most `cold_reports` at once on the replica, all users together: a request waits for
//!   one at most `cold_report_wait_ms`, then is refused with **503** and `Retry-After: 5`
//!   ([`RETRY_BUSY_SECS`]), since then the server, not this user, is busy.
//!
//! Cache hits never take a permit.
//! The user is the signed-in [`super::Caller`]'s name, which the auth guard puts in scope for
//! the request's task ([`with_user`]); requests without one (none reach these routes) share the
//! empty name.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{AppState, WebError};
use crate::config::WebConfig;
use crate::telemetry::{ColdOutcome, ColdWork};

/// `Retry-After` of a refusal by the per-user limit, seconds (about one cold report).
pub const RETRY_USER_SECS: u64 = 1;
/// `Retry-After` of a refusal because the replica stayed busy, seconds.
pub const RETRY_BUSY_SECS: u64 = 5;

tokio::task_local! {
    /// The name of the user the current request is for.
    static USER: String;
}

/// Runs `request` (the rest of a request's handling) with `user` as its user for the limits.
pub async fn with_user<F: Future>(user: String, request: F) -> F::Output {
    USER.scope(user, request).await
}

/// The current request's user (see [`with_user`]); empty outside one.
pub fn current_user() -> String {
    USER.try_with(String::clone).unwrap_or_default()
}

/// The bounds on cold work, shared by a replica's requests.
#[derive(Debug, Clone)]
pub struct ColdLimits {
    global: Arc<Semaphore>,
    per_user: u32,
    wait: Duration,
    running: Arc<Mutex<HashMap<String, u32>>>,
}

impl Default for ColdLimits {
    fn default() -> Self {
        Self::from_config(&WebConfig::default())
    }
}

/// One user's share of cold work, held while it runs: given back on drop.
#[derive(Debug)]
struct UserShare {
    user: String,
    running: Arc<Mutex<HashMap<String, u32>>>,
}

impl Drop for UserShare {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = running.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.user);
            }
        }
    }
}

/// Leave to run one piece of cold work; the capacity comes back when it is dropped.
#[derive(Debug)]
pub struct ColdPermit {
    _global: OwnedSemaphorePermit,
    _user: UserShare,
}

impl ColdLimits {
    /// The bounds of validated `[web]` config.
    pub fn from_config(web: &WebConfig) -> Self {
        Self {
            global: Arc::new(Semaphore::new(web.cold_reports as usize)),
            per_user: web.cold_reports_per_user,
            wait: Duration::from_millis(web.cold_report_wait_ms),
            running: Arc::default(),
        }
    }

    /// A permit for `user`: refused at once when the user already runs as much cold work as one
    /// may ([`ColdOutcome::RefusedUser`]), or after the bounded wait when the replica's
    /// capacity stays taken ([`ColdOutcome::RefusedBusy`]).
    pub async fn acquire(&self, user: &str) -> Result<ColdPermit, ColdOutcome> {
        let share = {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            let n = running.entry(user.to_owned()).or_insert(0);
            if *n >= self.per_user {
                return Err(ColdOutcome::RefusedUser);
            }
            *n += 1;
            UserShare {
                user: user.to_owned(),
                running: Arc::clone(&self.running),
            }
        };
        match tokio::time::timeout(self.wait, Arc::clone(&self.global).acquire_owned()).await {
            Ok(Ok(global)) => Ok(ColdPermit {
                _global: global,
                _user: share,
            }),
            // Timed out, or the semaphore closed (it never is): the share is given back on drop.
            Ok(Err(_)) | Err(_) => Err(ColdOutcome::RefusedBusy),
        }
    }
}

/// Runs `work` (a dashboard missing from the cache, `what` of `feedlot_id`) for the current
/// request's user under `state`'s limits, counting the outcome; a refusal is the matching
/// [`WebError`] (429 or 503, both with `Retry-After`).
pub async fn run<T, E, Fut>(
    state: &AppState,
    what: &'static str,
    feedlot_id: &str,
    user: &str,
    work: Fut,
) -> Result<T, WebError>
where
    Fut: Future<Output = Result<T, E>>,
    WebError: From<E>,
{
    let started = Instant::now();
    let emit = |outcome| {
        ColdWork {
            what,
            feedlot_id,
            user,
            outcome,
            took: started.elapsed(),
        }
        .emit(&state.metrics)
    };
    let _permit = match state.cold.acquire(user).await {
        Ok(permit) => permit,
        Err(refused) => {
            emit(refused);
            return Err(refusal(refused));
        }
    };
    let made = work.await;
    emit(if made.is_ok() {
        ColdOutcome::Made
    } else {
        ColdOutcome::Failed
    });
    made.map_err(WebError::from)
}

/// The error a refusal answers with.
fn refusal(outcome: ColdOutcome) -> WebError {
    match outcome {
        ColdOutcome::RefusedBusy => WebError::Busy {
            retry_after_secs: RETRY_BUSY_SECS,
            message: "The server is busy making other dashboards. Try again in a few seconds."
                .into(),
        },
        _ => WebError::TooManyRequests {
            retry_after_secs: RETRY_USER_SECS,
            message: "Too many dashboards not yet cached are being made for you at once \
                      (each loads and replays the yard). Try again in a second."
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(global: u32, per_user: u32, wait_ms: u64) -> ColdLimits {
        ColdLimits::from_config(&WebConfig {
            cold_reports: global,
            cold_reports_per_user: per_user,
            cold_report_wait_ms: wait_ms,
            ..WebConfig::default()
        })
    }

    #[tokio::test]
    async fn a_user_over_their_limit_is_refused_at_once_and_others_still_get_permits() {
        let limits = limits(3, 2, 60_000);
        let a1 = limits.acquire("a").await.unwrap();
        let _a2 = limits.acquire("a").await.unwrap();
        assert_eq!(
            limits.acquire("a").await.unwrap_err(),
            ColdOutcome::RefusedUser
        );
        let _b = limits.acquire("b").await.unwrap();
        drop(a1);
        let _a3 = limits.acquire("a").await.unwrap();
        assert_eq!(
            limits.acquire("a").await.unwrap_err(),
            ColdOutcome::RefusedUser
        );
    }

    #[tokio::test]
    async fn when_the_replica_stays_busy_a_request_waits_bounded_then_is_refused() {
        let limits = limits(1, 1, 20);
        let a = limits.acquire("a").await.unwrap();
        assert_eq!(
            limits.acquire("b").await.unwrap_err(),
            ColdOutcome::RefusedBusy
        );
        // The refused request gave its user share back.
        drop(a);
        let _b = limits.acquire("b").await.unwrap();
        assert!(limits.running.lock().unwrap().get("a").is_none());
    }

    #[tokio::test]
    async fn the_user_in_scope_is_the_requests() {
        assert_eq!(current_user(), "");
        let inside = with_user("alice".into(), async { current_user() }).await;
        assert_eq!(inside, "alice");
    }
}
