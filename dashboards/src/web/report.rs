//! The yard report behind the lot, pen and feed dashboards, as of now or `?as_of=` (RFC 3339,
//! or a `YYYY-MM-DD` date: the end of that UTC day),
//! read from the yard's daily facts ([`crate::facts`]; a report as of a past moment counts that
//! whole day's records, see docs/facts.md).
//!
//! Reports are cached for [`REPORT_TTL`] per (feedlot, as_of): the lot, pen, feed and lot
//! pages of one yard share one load and replay, and requests arriving while it runs wait for
//! it instead of starting their own. "Now" is taken to the start of its [`REPORT_TTL`]
//! window, so every request in the window shares the report; and while a new window's report
//! is being made, the previous window's is served (the new one is made in the background).
//! A dashboard without `?as_of=` thus shows new records up to two windows late (see
//! docs/analytics.md, "Speed").
//!
//! No user can starve the others (docs/dashboards.md, "Load limits"):
//!
//! - `as_of` is refused (400 naming it) before [`AS_OF_FLOOR`] or more than [`AS_OF_SLACK`]
//!   after now, and taken down to the whole second (the pages show minutes), so requests
//!   differing only in milliseconds share a report;
//! - a report not in the cache is made under the cold-work limits ([`super::cold`]): per user
//!   (429 at once) and per replica (a bounded wait, then 503); a cache hit takes no permit;
//! - the cache is budgeted per yard: a yard holds at most `web.report_cache_slots_per_yard`
//!   explicit `as_of` reports, and a new one evicts that yard's oldest, never another yard's.
//!   "Now" reports do not count against it. When the whole cache (`web.report_cache_slots`,
//!   a safety: size it above yards in use × the per-yard budget) is over, the yard holding the
//!   most `as_of` reports loses its oldest; "now" reports go only when no `as_of` report is
//!   left. Budgets apply when a report is made, so a refused or failed request evicts nothing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::table::Sorting;
use super::{AppState, WebError, cold};
use crate::analytics::YardReport;
use crate::facts::yard_report;

/// Query parameters of the report pages: the moment and the table's sorting.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// Report as of this UTC time (default: now), e.g. `2026-11-01T00:00:00Z`, or a UTC date
    /// (`2026-11-01`: the end of that day, 23:59:59).
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

    /// The report's moment, ms since the epoch: `as_of` taken down to the whole second (refused
    /// outside [`AS_OF_FLOOR`] .. now + [`AS_OF_SLACK`]), else now taken down to the start of
    /// its [`REPORT_TTL`] window.
    pub fn as_of_ms(&self) -> Result<u64, WebError> {
        let Some(text) = &self.as_of else {
            return Ok(window_start_ms(now_ms()));
        };
        let at = match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => date
                .and_hms_opt(23, 59, 59)
                .map(|end| end.and_utc())
                .ok_or_else(|| WebError::BadRequest(format!("as_of: {text:?} has no end")))?,
            Err(_) => DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    WebError::BadRequest(format!(
                        "as_of: {text:?} is not an RFC 3339 time or a YYYY-MM-DD date: {e}"
                    ))
                })?
                .with_timezone(&Utc),
        };
        let latest = Utc::now() + AS_OF_SLACK;
        if at < AS_OF_FLOOR || at > latest {
            return Err(WebError::BadRequest(format!(
                "as_of: {text:?} is out of range: give a time from {} to a day from now",
                AS_OF_FLOOR.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        u64::try_from(at.timestamp())
            .map(|secs| secs * 1000)
            .map_err(|_| WebError::BadRequest("as_of: before 1970".into()))
    }
}

/// The earliest `as_of` accepted: 2000-01-01T00:00:00Z (no yard has records before it).
pub const AS_OF_FLOOR: DateTime<Utc> = DateTime::from_timestamp_nanos(946_684_800_000_000_000);

/// How far after now an `as_of` may be (clocks differ; a report of the future is today's).
pub const AS_OF_SLACK: chrono::TimeDelta = chrono::TimeDelta::days(1);

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

type Slot = Arc<OnceCell<Arc<YardReport>>>;

/// Which view a slot serves, for eviction: a yard's "now" windows are kept in preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A "now" window's report (the default view).
    Now,
    /// An explicit `?as_of=`'s report.
    AsOf,
}

/// Each (feedlot, as_of ms)'s slot, when it was made and what it serves.
type Slots = HashMap<(String, u64), (Instant, Kind, Slot)>;

/// Per yard: the start of its latest "now" window made, ms, and that window's report.
type Latest = HashMap<String, (u64, Arc<YardReport>)>;

/// Reports made in the last [`REPORT_TTL`], by (feedlot, as_of ms), and each yard's latest
/// "now" report.
#[derive(Clone)]
pub struct ReportCache {
    slots: Arc<Mutex<Slots>>,
    latest: Arc<Mutex<Latest>>,
    /// Most slots, all yards.
    max_slots: usize,
    /// Most [`Kind::AsOf`] slots per yard.
    max_as_of_per_yard: usize,
}

impl Default for ReportCache {
    fn default() -> Self {
        Self::from_config(&crate::config::WebConfig::default())
    }
}

impl ReportCache {
    /// A cache budgeted by validated `[web]` config (`report_cache_slots`,
    /// `report_cache_slots_per_yard`).
    pub fn from_config(web: &crate::config::WebConfig) -> Self {
        Self {
            slots: Arc::default(),
            latest: Arc::default(),
            max_slots: (web.report_cache_slots as usize).max(1),
            max_as_of_per_yard: (web.report_cache_slots_per_yard as usize).max(1),
        }
    }

    /// The slot of (feedlot, as_of) at `now`, new if none was made in the last TTL. Budgets
    /// are applied once a report is made ([`Self::keep_in_budget`]), so a request that is
    /// refused or fails evicts nothing.
    fn slot(&self, feedlot_id: &str, as_of_ms: u64, now: Instant, kind: Kind) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|_, (made, _, _)| now.saturating_duration_since(*made) < REPORT_TTL);
        let (_, held, slot) = slots
            .entry((feedlot_id.to_owned(), as_of_ms))
            .or_insert_with(|| (now, kind, Slot::default()));
        if kind == Kind::Now {
            *held = Kind::Now; // An `as_of` that is also a window start serves both.
        }
        Arc::clone(slot)
    }

    /// After (feedlot, as_of)'s report was made: evicts that yard's oldest `as_of` reports past
    /// its budget, then, while the whole cache is over its size, the oldest `as_of` report of
    /// the yard holding the most (on a tie this yard's, else the one with the oldest), and
    /// only when no `as_of` report is left, the oldest "now" report. The report just made
    /// stays.
    fn keep_in_budget(&self, feedlot_id: &str, as_of_ms: u64) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let made = (feedlot_id.to_owned(), as_of_ms);
        let evictable = |k: &(String, u64), kind: Kind| kind == Kind::AsOf && *k != made;
        loop {
            let of_yard = slots
                .iter()
                .filter(|(k, (_, kind, _))| k.0 == feedlot_id && *kind == Kind::AsOf)
                .count();
            if of_yard <= self.max_as_of_per_yard
                || !evict_oldest(&mut slots, |k, kind| {
                    k.0 == feedlot_id && evictable(k, kind)
                })
            {
                break;
            }
        }
        while slots.len() > self.max_slots {
            let mut held: HashMap<&str, (usize, Instant)> = HashMap::new();
            for (k, (at, kind, _)) in slots.iter() {
                if evictable(k, *kind) {
                    let entry = held.entry(k.0.as_str()).or_insert((0, *at));
                    entry.0 += 1;
                    entry.1 = entry.1.min(*at);
                }
            }
            let rank = |(yard, (n, oldest)): &(&str, (usize, Instant))| {
                (*n, *yard == feedlot_id, std::cmp::Reverse(*oldest))
            };
            let greediest = held
                .into_iter()
                .max_by_key(|entry| rank(entry))
                .map(|(yard, _)| yard.to_owned());
            let evicted = match greediest {
                Some(yard) => evict_oldest(&mut slots, |k, kind| k.0 == yard && evictable(k, kind)),
                None => evict_oldest(&mut slots, |k, _| *k != made),
            };
            if !evicted {
                break;
            }
        }
    }

    /// Forgets (feedlot, as_of)'s slot if it is still `slot` and holds no report (its make
    /// failed or was refused), so refused requests do not take room in the budgets.
    fn forget_unmade(&self, feedlot_id: &str, as_of_ms: u64, slot: &Slot) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (feedlot_id.to_owned(), as_of_ms);
        if slots
            .get(&key)
            .is_some_and(|(_, _, held)| Arc::ptr_eq(held, slot) && !held.initialized())
        {
            slots.remove(&key);
        }
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
        self.get_or_make_kind(feedlot_id, as_of_ms, now, Kind::AsOf, make)
            .await
    }

    /// [`Self::get_or_make`] for a slot of `kind`.
    async fn get_or_make_kind<E, F, Fut>(
        &self,
        feedlot_id: &str,
        as_of_ms: u64,
        now: Instant,
        kind: Kind,
        make: F,
    ) -> Result<Arc<YardReport>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<YardReport, E>>,
    {
        let slot = self.slot(feedlot_id, as_of_ms, now, kind);
        let made_here = AtomicBool::new(false);
        let made = slot
            .get_or_try_init(|| async {
                let report = make().await.map(Arc::new);
                made_here.store(report.is_ok(), Ordering::Relaxed);
                report
            })
            .await
            .cloned();
        match &made {
            Ok(_) if made_here.load(Ordering::Relaxed) => {
                self.keep_in_budget(feedlot_id, as_of_ms);
            }
            Ok(_) => {}
            Err(_) => self.forget_unmade(feedlot_id, as_of_ms, &slot),
        }
        made
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
        if let Some(report) = self.slot(feedlot_id, window_ms, now, Kind::Now).get() {
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
    /// (shared with concurrent callers), which then becomes the yard's latest.
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
        let made = self
            .get_or_make_kind(feedlot_id, window_ms, now, Kind::Now, make)
            .await;
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

/// Removes the oldest slot for which `which(key, kind)` holds; whether there was one.
fn evict_oldest(slots: &mut Slots, which: impl Fn(&(String, u64), Kind) -> bool) -> bool {
    let oldest = slots
        .iter()
        .filter(|(k, (_, kind, _))| which(k, *kind))
        .min_by_key(|(_, (made, _, _))| *made)
        .map(|(k, _)| k.clone());
    oldest.is_some_and(|oldest| slots.remove(&oldest).is_some())
}

/// `feedlot_id`'s report, from the cache or, under the cold-work limits ([`super::cold`]) of
/// the current request's user, loaded and computed.
pub async fn load(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<YardReport, WebError> {
    let as_of = query.as_of_ms()?;
    let user = cold::current_user();
    let report = if query.as_of.is_some() {
        state
            .reports
            .get_or_make(feedlot_id, as_of, Instant::now(), || {
                let work = yard_report(&state.client, feedlot_id, as_of, &state.settings);
                cold::run(state, "report", feedlot_id, &user, work)
            })
            .await?
    } else {
        let cold_state = state.clone();
        let feedlot = feedlot_id.to_owned();
        state
            .reports
            .now_or_previous(feedlot_id, as_of, Instant::now(), move || async move {
                let work = yard_report(&cold_state.client, &feedlot, as_of, &cold_state.settings);
                cold::run(&cold_state, "report", &feedlot, &user, work).await
            })
            .await?
    };
    Ok(YardReport::clone(&report))
}

/// The yard's dashboard links and the units switch, on every page.
pub fn nav(feedlot_id: &str) -> Markup {
    html! {
        nav {
            @for (path, label) in [("animals", "Animals"), ("lots", "Lots"), ("pens", "Pens"), ("feed", "Feed"), ("feed-plan", "Feed plan"), ("benchmarks", "Benchmarks"), ("alerts", "Alerts")] {
                a href={"/feedlots/" (feedlot_id) "/" (path)} { (label) } " · "
            }
            a #monthly-pdf href={"/feedlots/" (feedlot_id) "/reports/monthly.pdf"} { "Monthly report (PDF)" } " · "
            (super::units::switch(""))
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
        let max = cache.max_slots as u64;
        for at in 0..max + 10 {
            let yard = format!("x{}", at % 16);
            get(
                &cache,
                &yard,
                100 + at,
                now + Duration::from_millis(at),
                "x",
            )
            .await;
        }
        assert_eq!(cache.slots.lock().unwrap().len(), cache.max_slots);
    }

    fn budgeted(slots: u32, per_yard: u32) -> ReportCache {
        ReportCache::from_config(&crate::config::WebConfig {
            report_cache_slots: slots,
            report_cache_slots_per_yard: per_yard,
            ..Default::default()
        })
    }

    fn held(cache: &ReportCache, feedlot: &str) -> Vec<u64> {
        let slots = cache.slots.lock().unwrap();
        let mut held: Vec<u64> = slots
            .keys()
            .filter(|(f, _)| f == feedlot)
            .map(|(_, at)| *at)
            .collect();
        held.sort_unstable();
        held
    }

    #[tokio::test]
    async fn one_yards_many_moments_evict_only_that_yards_oldest_never_another_yards() {
        let cache = budgeted(8, 3);
        let t0 = Instant::now();
        let w = REPORT_TTL.as_millis() as u64;
        get(&cache, "b", 7, t0, "b's").await;
        made_now(&cache, "a", 10 * w, t0).await;
        for at in 0..50u64 {
            get(
                &cache,
                "a",
                100 + at,
                t0 + Duration::from_millis(at + 1),
                "a",
            )
            .await;
        }
        assert_eq!(
            held(&cache, "a"),
            [147, 148, 149, 10 * w],
            "a's newest 3 + now"
        );
        assert_eq!(held(&cache, "b"), [7]);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(get(&cache, "b", 7, later, "remade").await, "b's", "kept");
    }

    #[tokio::test]
    async fn a_full_cache_takes_room_from_the_yard_holding_the_most_and_keeps_now_reports() {
        let cache = budgeted(4, 3);
        let t0 = Instant::now();
        let w = REPORT_TTL.as_millis() as u64;
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        made_now(&cache, "a", 10 * w, at(0)).await;
        get(&cache, "b", 1, at(1), "b").await;
        get(&cache, "c", 2, at(2), "c").await;
        get(&cache, "c", 3, at(3), "c").await;
        // Full: c holds the most `as_of` reports, so c's oldest goes, not b's older one.
        get(&cache, "d", 4, at(4), "d").await;
        assert_eq!(held(&cache, "c"), [3]);
        assert_eq!(held(&cache, "b"), [1]);
        assert_eq!(held(&cache, "a"), [10 * w], "now reports kept");
        // A failed make leaves no slot behind.
        let failed: Result<_, &str> = cache
            .get_or_make("e", 5, at(5), || async { Err("refused") })
            .await;
        assert!(failed.is_err());
        assert!(held(&cache, "e").is_empty());
        assert_eq!(
            held(&cache, "b"),
            [1],
            "a refused or failed request evicts nothing"
        );
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
    fn as_of_is_bounded_and_taken_to_the_second() {
        let q = |t: &str| ReportQuery {
            as_of: Some(t.into()),
            ..Default::default()
        };
        assert_eq!(
            q("2026-03-21T12:00:00.999Z").as_of_ms().unwrap(),
            q("2026-03-21T12:00:00Z").as_of_ms().unwrap()
        );
        assert_eq!(
            q("2000-01-01T00:00:00Z").as_of_ms().unwrap(),
            946_684_800_000
        );
        assert_eq!(
            q("2026-03-21").as_of_ms().unwrap(),
            q("2026-03-21T23:59:59Z").as_of_ms().unwrap(),
            "a date is the end of that UTC day"
        );
        let tomorrow = (Utc::now() + chrono::TimeDelta::hours(23)).to_rfc3339();
        assert!(q(&tomorrow).as_of_ms().is_ok());
        let far = (Utc::now() + chrono::TimeDelta::hours(25)).to_rfc3339();
        for bad in [
            "1999-12-31T23:59:59Z",
            "1900-01-01T00:00:00Z",
            &far,
            "9999-01-01T00:00:00Z",
        ] {
            let err = q(bad).as_of_ms().unwrap_err().to_string();
            assert!(
                err.starts_with("as_of:") && err.contains("out of range"),
                "{bad}: {err}"
            );
        }
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
