//! Reads kept [`HERD_TTL`] by key ([`KeyedCache`]): the herd summary (every animal's first and
//! last weighing, ranks in the yard and its lot, read from its `animal_facts`) per yard, shared
//! by the animals table's pages, its CSV and JSON, and each lot's animals; and who is in each
//! pen per yard and day (the pens page). A value may be that much behind the newest record; a
//! failed load is not kept. Requests that find a key's value stale at the same time share one
//! load, so a burst of requests for one page makes one read.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::queries::AnimalSummary;

/// How long a yard's summary is reused.
pub const HERD_TTL: Duration = Duration::from_secs(30);

/// Yards kept at most; older entries are dropped first when full.
const MAX_YARDS: usize = 64;

type Entry<V> = (Instant, Arc<V>);

/// A load under way, shared by the requests that found the value stale.
type Loading<V> = Arc<OnceCell<Arc<V>>>;

/// Values by key (a yard, or a yard and a day), each kept [`HERD_TTL`].
#[derive(Debug, Clone)]
pub struct KeyedCache<V> {
    yards: Arc<Mutex<HashMap<String, Entry<V>>>>,
    loading: Arc<Mutex<HashMap<String, Loading<V>>>>,
}

impl<V> Default for KeyedCache<V> {
    fn default() -> Self {
        Self {
            yards: Arc::default(),
            loading: Arc::default(),
        }
    }
}

/// Herd summaries by yard.
pub type HerdCache = KeyedCache<Vec<AnimalSummary>>;

/// Who is in each pen (pen -> EIDs), by yard and day (`{feedlot}@{end of day ms}`).
pub type PensCache = KeyedCache<std::collections::BTreeMap<String, Vec<String>>>;

impl<V> KeyedCache<V> {
    /// `feedlot_id`'s value (or any key's), reused when made less than [`HERD_TTL`] before
    /// `now`, else made by `load` and kept.
    pub async fn get_or_load<E, F, Fut>(
        &self,
        feedlot_id: &str,
        now: Instant,
        load: F,
    ) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.fresh(feedlot_id, now) {
            return Ok(hit);
        }
        let cell = {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(loading.entry(feedlot_id.to_owned()).or_default())
        };
        let loaded_here = AtomicBool::new(false);
        let loaded = cell
            .get_or_try_init(|| async {
                let herd = load().await.map(Arc::new);
                loaded_here.store(herd.is_ok(), Ordering::Relaxed);
                herd
            })
            .await
            .cloned();
        {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            if loading
                .get(feedlot_id)
                .is_some_and(|c| Arc::ptr_eq(c, &cell))
            {
                loading.remove(feedlot_id);
            }
        }
        let herd = loaded?;
        if loaded_here.load(Ordering::Relaxed) {
            self.keep(feedlot_id, now, Arc::clone(&herd));
        }
        Ok(herd)
    }

    /// Keeps `herd` as `feedlot_id`'s summary made at `now`, dropping stale ones and, when full,
    /// the oldest.
    fn keep(&self, feedlot_id: &str, now: Instant, herd: Arc<V>) {
        let mut yards = self.yards.lock().unwrap_or_else(|p| p.into_inner());
        yards.retain(|_, (at, _)| now.saturating_duration_since(*at) < HERD_TTL);
        if yards.len() >= MAX_YARDS
            && let Some(oldest) = yards
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
        {
            yards.remove(&oldest);
        }
        yards.insert(feedlot_id.to_owned(), (now, herd));
    }

    fn fresh(&self, feedlot_id: &str, now: Instant) -> Option<Arc<V>> {
        let yards = self.yards.lock().unwrap_or_else(|p| p.into_inner());
        yards
            .get(feedlot_id)
            .filter(|(at, _)| now.saturating_duration_since(*at) < HERD_TTL)
            .map(|(_, herd)| herd.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn herd(n: usize) -> Vec<AnimalSummary> {
        (0..n)
            .map(|i| AnimalSummary {
                eid: format!("98200000000{i:04}"),
                weighings: 1,
                first_kg: 300.0,
                first_at_ms: 0,
                last_kg: 300.0,
                last_at_ms: 0,
                gain_kg: 0.0,
                days: 0.0,
                adg_kg_per_day: None,
                adg_lb_per_day: None,
                adg_rank: None,
                adg_percentile: None,
                lot_id: None,
                pen_id: None,
                lot_rank: None,
                lot_percentile: None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_summary_is_reused_within_the_ttl_then_loaded_again_and_failures_are_not_kept() {
        let cache = HerdCache::default();
        let t0 = Instant::now();
        let ok = |n| async move { Ok::<_, ()>(herd(n)) };
        assert_eq!(cache.get_or_load("a", t0, || ok(1)).await.unwrap().len(), 1);
        let again = cache.get_or_load("a", t0 + Duration::from_secs(29), || ok(2));
        assert_eq!(again.await.unwrap().len(), 1, "reused inside the TTL");
        let later = cache.get_or_load("a", t0 + HERD_TTL, || ok(3));
        assert_eq!(later.await.unwrap().len(), 3, "loaded again after it");
        assert!(
            cache
                .get_or_load("b", t0, || async { Err(()) })
                .await
                .is_err()
        );
        assert_eq!(cache.get_or_load("b", t0, || ok(4)).await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn requests_finding_a_summary_stale_together_share_one_load() {
        let cache = HerdCache::default();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let t0 = Instant::now();
        let one = || async {
            cache
                .get_or_load("a", t0, || async {
                    loads.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    Ok::<_, ()>(herd(2))
                })
                .await
        };
        let (x, y, z) = tokio::join!(one(), one(), one());
        assert_eq!(
            (x.unwrap().len(), y.unwrap().len(), z.unwrap().len()),
            (2, 2, 2)
        );
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        assert!(cache.loading.lock().unwrap().is_empty());
    }
}
