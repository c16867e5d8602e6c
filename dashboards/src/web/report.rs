//! The yard report behind the lot, pen and feed dashboards, as of now or `?as_of=` (RFC 3339).
//!
//! Reports are cached for [`REPORT_TTL`] per (feedlot, as_of): the lot, pen, feed and lot
//! pages of one yard share one load and replay, and requests arriving while it runs wait for
//! it instead of starting their own. "Now" is taken to the start of its [`REPORT_TTL`]
//! window, so every request in the window shares the report; and while a new window's report
//! is being made, the previous window's is served (the new one is made in the background).
//! A dashboard without `?as_of=` thus shows new records up to two windows late (see
//! docs/analytics.md, "Speed").

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::table::Sorting;
use super::{AppState, WebError};
use crate::analytics::{YardReport, yard_report};

/// Query parameters of the report pages: the moment and the table's sorting.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// Report as of this UTC time (default: now), e.g. `2026-11-01T00:00:00Z`.
    pub as_of: Option<String>,
    /// Sort column.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
}

impl ReportQuery {
    /// The sorting part.
    pub fn sorting(&self) -> Sorting {
        Sorting {
            sort: self.sort.clone(),
            order: self.order.clone(),
        }
    }

    /// The report's moment, ms since the epoch: `as_of`, else now taken down to the start of
    /// its [`REPORT_TTL`] window.
    pub fn as_of_ms(&self) -> Result<u64, WebError> {
        let at = match &self.as_of {
            None => return Ok(window_start_ms(now_ms())),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    WebError::BadRequest(format!("as_of: {text:?} is not an RFC 3339 time: {e}"))
                })?
                .with_timezone(&Utc),
        };
        u64::try_from(at.timestamp_millis())
            .map_err(|_| WebError::BadRequest("as_of: before 1970".into()))
    }
}

/// How long a computed report is served again.
pub const REPORT_TTL: Duration = Duration::from_secs(30);

/// Now, ms since the epoch UTC.
pub fn now_ms() -> u64 {
    u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0)
}

/// The start of the "now" report window containing `now_ms`, ms since the epoch.
pub fn window_start_ms(now_ms: u64) -> u64 {
    let window = REPORT_TTL.as_millis() as u64;
    now_ms - now_ms % window
}

/// Most reports kept at once (the oldest goes first).
const MAX_REPORTS: usize = 64;

type Slot = Arc<OnceCell<Arc<YardReport>>>;

/// Each (feedlot, as_of ms)'s slot and when it was made.
type Slots = HashMap<(String, u64), (Instant, Slot)>;

/// Per yard: the start of its latest "now" window made, ms, and that window's report.
type Latest = HashMap<String, (u64, Arc<YardReport>)>;

/// Reports made in the last [`REPORT_TTL`], by (feedlot, as_of ms), and each yard's latest
/// "now" report.
#[derive(Clone, Default)]
pub struct ReportCache {
    slots: Arc<Mutex<Slots>>,
    latest: Arc<Mutex<Latest>>,
}

impl ReportCache {
    /// The slot of (feedlot, as_of) at `now`, new if none was made in the last TTL.
    fn slot(&self, feedlot_id: &str, as_of_ms: u64, now: Instant) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|_, (made, _)| now.saturating_duration_since(*made) < REPORT_TTL);
        let key = (feedlot_id.to_owned(), as_of_ms);
        if !slots.contains_key(&key) && slots.len() >= MAX_REPORTS {
            let oldest = slots
                .iter()
                .min_by_key(|(_, (made, _))| *made)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                slots.remove(&oldest);
            }
        }
        Arc::clone(&slots.entry(key).or_insert_with(|| (now, Slot::default())).1)
    }

    /// The report of (feedlot, as_of) made in the last TTL before `now`, else `make`'s, which
    /// concurrent callers share. A failed `make` is not kept: the next caller tries again.
    pub async fn get_or_make<E, F, Fut>(
        &self,
        feedlot_id: &str,
        as_of_ms: u64,
        now: Instant,
        make: F,
    ) -> Result<Arc<YardReport>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<YardReport, E>>,
    {
        let slot = self.slot(feedlot_id, as_of_ms, now);
        slot.get_or_try_init(|| async { make().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The report of the "now" window starting at `window_ms`, as [`Self::get_or_make`], except
    /// that when it is not made yet and the previous window's is at hand, that one is returned
    /// at once and this one is made in the background (a failure there is logged; the next
    /// request tries again).
    pub async fn now_or_previous<E, F, Fut>(
        &self,
        feedlot_id: &str,
        window_ms: u64,
        now: Instant,
        make: F,
    ) -> Result<Arc<YardReport>, E>
    where
        E: std::fmt::Display + Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<YardReport, E>> + Send + 'static,
    {
        if let Some(report) = self.slot(feedlot_id, window_ms, now).get() {
            return Ok(Arc::clone(report));
        }
        let cache = self.clone();
        let feedlot = feedlot_id.to_owned();
        let fill = async move { cache.make_now(&feedlot, window_ms, now, make).await };
        match self.previous(feedlot_id, window_ms) {
            Some(previous) => {
                tokio::spawn(async move {
                    if let Err(error) = fill.await {
                        tracing::warn!(%error, "refreshing a yard report failed");
                    }
                });
                Ok(previous)
            }
            None => fill.await,
        }
    }

    /// The report of the "now" window starting at `window_ms`: the one made, else `make`'s
    /// (shared with concurrent callers), which then becomes the yard's latest. The background
    /// warmer ([`super::warm`]) calls this as each window starts.
    pub async fn make_now<E, F, Fut>(
        &self,
        feedlot_id: &str,
        window_ms: u64,
        now: Instant,
        make: F,
    ) -> Result<Arc<YardReport>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<YardReport, E>>,
    {
        let made = self.get_or_make(feedlot_id, window_ms, now, make).await;
        if let Ok(report) = &made {
            self.remember(feedlot_id, window_ms, report);
        }
        made
    }

    /// The report of the window just before `window_ms`, if made.
    fn previous(&self, feedlot_id: &str, window_ms: u64) -> Option<Arc<YardReport>> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest
            .get(feedlot_id)
            .filter(|(w, _)| *w + REPORT_TTL.as_millis() as u64 == window_ms)
            .map(|(_, report)| Arc::clone(report))
    }

    /// Keeps `report` as the yard's latest "now" report, and forgets other yards' latest
    /// reports too old to be served as a previous window (so memory follows the yards in use,
    /// not every yard ever looked at).
    fn remember(&self, feedlot_id: &str, window_ms: u64, report: &Arc<YardReport>) {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest_kept = window_ms.saturating_sub(REPORT_TTL.as_millis() as u64);
        latest.retain(|_, (w, _)| *w >= oldest_kept);
        if latest.get(feedlot_id).is_none_or(|(w, _)| *w < window_ms) {
            latest.insert(feedlot_id.to_owned(), (window_ms, Arc::clone(report)));
        }
    }
}

/// `feedlot_id`'s report, from the cache or loaded and computed.
pub async fn load(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<YardReport, WebError> {
    let as_of = query.as_of_ms()?;
    state.in_use.touch(feedlot_id, Instant::now());
    let report = if query.as_of.is_some() {
        state
            .reports
            .get_or_make(feedlot_id, as_of, Instant::now(), || {
                yard_report(&state.client, feedlot_id, as_of, &state.settings)
            })
            .await?
    } else {
        let (client, settings) = (state.client.clone(), state.settings.clone());
        let feedlot = feedlot_id.to_owned();
        state
            .reports
            .now_or_previous(feedlot_id, as_of, Instant::now(), move || async move {
                yard_report(&client, &feedlot, as_of, &settings).await
            })
            .await?
    };
    Ok(YardReport::clone(&report))
}

/// The yard's dashboard links, on every page.
pub fn nav(feedlot_id: &str) -> Markup {
    html! {
        nav {
            @for (path, label) in [("animals", "Animals"), ("lots", "Lots"), ("pens", "Pens"), ("feed", "Feed"), ("benchmarks", "Benchmarks")] {
                a href={"/feedlots/" (feedlot_id) "/" (path)} { (label) } " · "
            }
        }
    }
}

/// "2026-03-21 12:00 UTC" for ms since the epoch.
pub fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

    use super::*;
    use crate::analytics::{FeedReport, YardReport};

    fn report(feedlot: &str, as_of_ms: u64, tag: &str) -> YardReport {
        YardReport {
            feedlot_id: feedlot.into(),
            as_of_ms,
            lots: Vec::new(),
            pens: Vec::new(),
            feed: FeedReport {
                ingredients: Vec::new(),
                sources: Vec::new(),
                rations: Vec::new(),
                unallocated_kg: 0.0,
            },
            warnings: vec![tag.into()],
        }
    }

    async fn get(cache: &ReportCache, feedlot: &str, at: u64, now: Instant, tag: &str) -> String {
        let made: Result<_, ()> = cache
            .get_or_make(
                feedlot,
                at,
                now,
                || async move { Ok(report(feedlot, at, tag)) },
            )
            .await;
        made.unwrap().warnings[0].clone()
    }

    #[tokio::test]
    async fn a_report_is_reused_within_the_ttl_per_yard_and_moment_then_made_again() {
        let cache = ReportCache::default();
        let t0 = Instant::now();
        assert_eq!(get(&cache, "a", 1, t0, "first").await, "first");
        let later = t0 + REPORT_TTL - Duration::from_millis(1);
        assert_eq!(get(&cache, "a", 1, later, "second").await, "first");
        assert_eq!(get(&cache, "b", 1, later, "b").await, "b", "another yard");
        assert_eq!(
            get(&cache, "a", 2, later, "a2").await,
            "a2",
            "another moment"
        );
        assert_eq!(get(&cache, "a", 1, t0 + REPORT_TTL, "third").await, "third");
    }

    #[tokio::test]
    async fn a_failed_report_is_not_kept_and_the_cache_stays_bounded() {
        let cache = ReportCache::default();
        let now = Instant::now();
        let failed: Result<_, &str> = cache
            .get_or_make("a", 1, now, || async { Err("clickhouse down") })
            .await;
        assert_eq!(failed.unwrap_err(), "clickhouse down");
        assert_eq!(get(&cache, "a", 1, now, "retried").await, "retried");
        for at in 0..(MAX_REPORTS as u64 + 10) {
            get(&cache, "x", 100 + at, now + Duration::from_millis(at), "x").await;
        }
        assert_eq!(cache.slots.lock().unwrap().len(), MAX_REPORTS);
    }

    async fn now(cache: &ReportCache, window: u64, at: Instant, tag: &'static str) -> String {
        let made: Result<_, String> = cache
            .now_or_previous("a", window, at, move || async move {
                Ok(report("a", window, tag))
            })
            .await;
        made.unwrap().warnings[0].clone()
    }

    /// Makes `feedlot`'s "now" report of the window starting at `window`.
    async fn made_now(cache: &ReportCache, feedlot: &'static str, window: u64, at: Instant) {
        let made: Result<_, String> = cache
            .make_now(feedlot, window, at, move || async move {
                Ok(report(feedlot, window, "made"))
            })
            .await;
        assert!(made.is_ok());
    }

    #[tokio::test]
    async fn a_new_now_window_serves_the_previous_report_while_its_own_is_made() {
        let cache = ReportCache::default();
        let w = REPORT_TTL.as_millis() as u64;
        let t0 = Instant::now();
        assert_eq!(
            now(&cache, 10 * w, t0, "w10").await,
            "w10",
            "none before: made"
        );
        let t1 = t0 + REPORT_TTL;
        assert_eq!(
            now(&cache, 11 * w, t1, "w11").await,
            "w10",
            "stale, at once"
        );
        // The background fill lands; from then on the window's own report is served.
        for _ in 0..1_000 {
            if cache.previous("a", 12 * w).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(now(&cache, 11 * w, t1, "again").await, "w11");
        // A window skipped (nobody looked): nothing that old is served; made in the request.
        let t3 = t0 + 3 * REPORT_TTL;
        assert_eq!(now(&cache, 13 * w, t3, "w13").await, "w13");
        // Another yard's report of long ago is forgotten when a newer window is remembered.
        made_now(&cache, "b", 2 * w, t0).await;
        made_now(&cache, "a", 14 * w, t3).await;
        assert!(!cache.latest.lock().unwrap().contains_key("b"));
    }

    #[test]
    fn now_is_taken_to_the_start_of_its_window() {
        let q = ReportQuery::default();
        let ms = q.as_of_ms().unwrap();
        assert_eq!(ms % REPORT_TTL.as_millis() as u64, 0);
        let now = Utc::now().timestamp_millis() as u64;
        assert!(now - ms < REPORT_TTL.as_millis() as u64 + 1_000);
    }
}
