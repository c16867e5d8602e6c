//! The facts worker: finds the yards whose records changed (`fact_changes`, written by `ingest`
//! with every stored batch) and recomputes each one's facts from the earliest day the changes
//! touch, once per change, in the background.
//!
//! Each round takes the changes ClickHouse recorded up to its clock less
//! [`FactsConfig::settle_secs`] (so inserts of that second are finished), and for each yard
//! those after its `fact_state.through_recorded_at`, or seen for the first time within the
//! last [`LOOKBACK_SECS`] (a change that became visible late: an insert slower than the
//! settling time). The yard's rows are rewritten from that day
//! (or, when days passed with no change, from the day after its last facts) with a version that
//! grows with the changes seen, so several workers (one per `dashboards` replica) may work at
//! once: they write the same rows, and the one that saw more changes wins.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::animals::{animal_rows, stored_weighed, yard_gains};
use super::blanks;
use super::build::{Range, build};
use super::kept::{KEPT_DAYS, Kept, KeptYard};
use super::marks;
use super::retention::{self, ChangesTable};
use super::rows::{DAY_MS, FactStateRow, day_of};
use super::stays::{self, stay_rows};
use super::store;
use crate::analytics::{YardRecords, load};
use crate::config::FactsConfig;
use crate::telemetry::{FactsRecomputed, Metrics, facts_lag};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// How far back each round looks again for changes recorded before the last one's end (a
/// change stored late is found, and its yard's state says whether it is in).
const LOOKBACK_SECS: u32 = 60;

/// How often a worker looks for old months of `fact_changes` to drop.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// What one recompute did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recomputed {
    /// The first day rewritten.
    pub from_day: u16,
    /// Rows written (day facts and animals).
    pub rows: usize,
    /// Of them, animals (`animal_facts`) rewritten.
    pub animals: usize,
    /// Of them, animals' stays in pens (`animal_stays`) rewritten.
    pub stays: usize,
    /// Whether it resumed a kept replay (else it replayed the whole history).
    pub resumed: bool,
}

/// Recomputes `feedlot_id`'s facts from `from_day` (None: from its first record) to today,
/// for the changes recorded up to `through_recorded_at` (seconds since the epoch), the
/// state of each animal with a weighing or placement from that day on (every animal for None),
/// and the stays in pens of each animal whose stays change from that day on. Replays the
/// yard's whole history; see [`recompute_keeping`] for a worker's.
pub async fn recompute(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_day: Option<u16>,
    through_recorded_at: u32,
) -> Result<Recomputed> {
    recompute_keeping(
        client,
        &mut Kept::new(0),
        feedlot_id,
        from_day,
        through_recorded_at,
    )
    .await
}

/// [`recompute`], resuming from the replay `kept` holds for the yard when it may
/// ([`super::kept`]: then only the records after its day are loaded and replayed), and keeping
/// this one's for the next.
pub async fn recompute_keeping(
    client: &clickhouse::Client,
    kept: &mut Kept,
    feedlot_id: &str,
    from_day: Option<u16>,
    through_recorded_at: u32,
) -> Result<Recomputed> {
    let from_day = from_day.unwrap_or(0);
    let from_ms = u64::from(from_day) * DAY_MS;
    let resume = match kept.take(feedlot_id, Instant::now()) {
        Some(yard) => {
            let states = store::states(client, &[feedlot_id.to_owned()]).await?;
            let still_ours = states
                .get(feedlot_id)
                .is_some_and(|s| s.version == yard.version);
            if still_ours {
                yard.resume_before(from_day)
            } else {
                None
            }
        }
        None => None,
    };
    let cut_ms = resume
        .as_ref()
        .map_or(0, |r| u64::from(r.start.day + 1) * DAY_MS);
    let loading = Instant::now();
    let (loaded, stored, stored_stays, stored_marks, any_marks, stored_weighed) = tokio::try_join!(
        load::yard_history_from(client, feedlot_id, cut_ms),
        blanks::Stored::read(client, feedlot_id, from_day),
        stays::stored_from(client, feedlot_id, from_ms),
        marks::stored_from(client, feedlot_id, from_day),
        marks::any_stored(client, feedlot_id),
        stored_weighed(client, feedlot_id, from_ms),
    )?;
    if !any_marks && from_day > 0 {
        // Facts made before `lot_mark_facts`: its marks before `from_day` are not rewritten.
        marks::copy_from_day_rows(client, feedlot_id).await?;
    }
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let today = day_of(now_ms);
    let range = Range {
        from_day,
        through_day: today,
        stored_until: stored.lots_until(),
    };
    // Versions grow with the changes seen (ms, so a later second always wins).
    let version = u64::from(through_recorded_at) * 1000;
    let keep = today.saturating_sub(KEPT_DAYS)..=today.saturating_sub(1);
    let (start, mut days, mut records, loaded_at) = match resume {
        Some(r) => (Some(r.start), r.days, r.records, r.loaded),
        None => (None, Vec::new(), YardRecords::default(), loading),
    };
    let resumed = start.is_some();
    let (mut facts, new_days) = build(feedlot_id, &loaded, &range, version, start, &keep);
    facts.marks = marks::mark_rows(feedlot_id, &facts.lots, &stored_marks, from_day, version);
    // What a correction took away is blanked on the days it has rows (`super::blanks`).
    stored.add_blanks(&mut facts, feedlot_id, from_day, version);
    if records.is_empty() {
        records = loaded;
    } else {
        records.append(loaded);
    }
    days.extend(new_days);
    days.retain(|d| keep.contains(&d.day));
    let animals = animal_rows(feedlot_id, &records, from_ms, &stored_weighed, version);
    // A yard whose facts were made before `animal_stays` gets every animal's stays.
    let stays_from_ms = if stored_stays.rows == 0 { 0 } else { from_ms };
    let stays = stay_rows(
        feedlot_id,
        &records,
        stays_from_ms,
        &stored_stays.animals,
        version,
    );
    let through_day = facts
        .yard
        .last()
        .map(|row| row.day)
        .unwrap_or(today)
        .max(today);
    let state = FactStateRow {
        feedlot_id: feedlot_id.to_owned(),
        through_recorded_at,
        through_day,
        computed_at_ms: now_ms,
        version,
    };
    // The yard's gains change only with an animal's weighings: a recompute that rewrote no
    // animal (and is not from the first day) keeps the stored row.
    // From the first day, `animals` is already every weighed animal's row.
    let gains = (!animals.is_empty() || from_day == 0).then(|| {
        if from_day == 0 {
            yard_gains(feedlot_id, &animals, version)
        } else {
            yard_gains(
                feedlot_id,
                &animal_rows(feedlot_id, &records, 0, &[], version),
                version,
            )
        }
    });
    let rows = store::AnimalRows {
        animals: &animals,
        stays: &stays,
        gains: gains.as_ref(),
    };
    store::write(client, &facts, rows, &state).await?;
    let done = Recomputed {
        from_day,
        rows: facts.len() + animals.len() + stays.len(),
        animals: animals.len(),
        stays: stays.len(),
        resumed,
    };
    kept.put(
        feedlot_id,
        KeptYard {
            version,
            loaded: loaded_at,
            records,
            days,
        },
    );
    Ok(done)
}

/// ClickHouse's clock, seconds since the epoch.
pub async fn server_now(client: &clickhouse::Client) -> Result<u32> {
    client
        .query("SELECT toUInt32(now())")
        .fetch_one::<u32>()
        .await
}

/// Yards with records (arrivals, deliveries or purchases): what `dashboards rebuild-facts`
/// covers when no yard is named.
pub async fn yards_with_records(client: &clickhouse::Client) -> Result<Vec<String>> {
    client
        .query(
            "SELECT DISTINCT feedlot_id FROM (\
             SELECT feedlot_id FROM arrivals UNION ALL \
             SELECT feedlot_id FROM feed_deliveries UNION ALL \
             SELECT feedlot_id FROM feed_purchases) ORDER BY feedlot_id",
        )
        .fetch_all()
        .await
}

/// Recomputes every day of each of `feedlots` (every yard with records when none are given),
/// taking in the changes recorded up to now; returns how many yards.
pub async fn rebuild(client: &clickhouse::Client, feedlots: &[String]) -> Result<usize> {
    rebuild_keeping(client, &mut Kept::new(0), feedlots).await
}

/// [`rebuild`], keeping each yard's replay in `kept` (as the worker's recomputes do).
pub async fn rebuild_keeping(
    client: &clickhouse::Client,
    kept: &mut Kept,
    feedlots: &[String],
) -> Result<usize> {
    let now = server_now(client).await?;
    let yards = if feedlots.is_empty() {
        yards_with_records(client).await?
    } else {
        feedlots.to_vec()
    };
    for yard in &yards {
        recompute_keeping(client, kept, yard, None, now).await?;
    }
    Ok(yards.len())
}

/// A yard's pending changes: the earliest capture time they hold and when the oldest was
/// recorded.
#[derive(Debug, Clone, Copy)]
struct Pending {
    earliest_captured_ms: u64,
    oldest_recorded_at: u32,
}

/// The worker's place in the change log.
pub struct Worker {
    client: clickhouse::Client,
    config: FactsConfig,
    metrics: Metrics,
    /// Changes recorded after this second are looked at (the previous round's cutoff less
    /// [`LOOKBACK_SECS`]; 0 at start: every change, each yard's state says what is in).
    since: u32,
    /// The changes already accounted for, by (yard, recorded second): how many were seen. A
    /// change that becomes visible only after its yard's facts moved past its second (an insert
    /// slower than `settle_secs`, a replica catching up) is new here though not after the
    /// yard's state, and is recomputed. Pruned to the look-back window.
    seen: std::collections::HashMap<(String, u32), u64>,
    /// Whether a round has filled `seen` (the first round trusts each yard's state alone).
    primed: bool,
    /// The replays of the yards recomputed lately.
    kept: Kept,
    /// Where `fact_changes` is, for dropping its old months.
    changes: ChangesTable,
    /// When old months of `fact_changes` were last looked for (at most once an hour).
    retention_checked: Option<Instant>,
}

impl Worker {
    /// A worker over `client`'s database.
    pub fn new(client: clickhouse::Client, config: FactsConfig, metrics: Metrics) -> Self {
        let kept = Kept::new(usize::try_from(config.kept_records).unwrap_or(usize::MAX));
        Self {
            client,
            config,
            metrics,
            since: 0,
            seen: Default::default(),
            primed: false,
            kept,
            changes: ChangesTable::default(),
            retention_checked: None,
        }
    }

    /// Works over the tables of ClickHouse cluster `cluster` (`clickhouse.cluster`; empty: one
    /// server) in `database`: old months of `fact_changes` are dropped from each shard's
    /// `fact_changes_local` ([`retention`]).
    pub fn on_cluster(mut self, cluster: &str, database: &str) -> Self {
        self.changes = ChangesTable {
            cluster: cluster.to_owned(),
            database: database.to_owned(),
        };
        self
    }

    /// Drops the months of `fact_changes` past `facts.changes_kept_days` whose changes are all
    /// in the facts ([`retention::drop_old_changes`]), at most once an hour (0 days: never);
    /// returns the months dropped. A failure is logged: the next look is an hour later.
    pub async fn drop_old_changes(&mut self, now_ms: u64) -> Vec<u32> {
        let days = self.config.changes_kept_days;
        let recent = self
            .retention_checked
            .is_some_and(|at| at.elapsed() < RETENTION_EVERY);
        if days == 0 || recent {
            return Vec::new();
        }
        self.retention_checked = Some(Instant::now());
        match retention::drop_old_changes(&self.client, &self.changes, now_ms, days).await {
            Ok(dropped) => dropped,
            Err(error) => {
                tracing::warn!(%error, "dropping old months of fact_changes failed");
                Vec::new()
            }
        }
    }

    /// Runs rounds every `interval_ms` until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.config.interval_ms);
        tracing::info!(
            interval_ms = self.config.interval_ms,
            "facts worker started"
        );
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(%error, "a facts round failed; trying again");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One round: recomputes every yard with pending changes; returns how many.
    pub async fn round(&mut self) -> Result<usize> {
        let now = server_now(&self.client).await?;
        let cutoff = now.saturating_sub(self.config.settle_secs);
        let changes: Vec<(String, u32, u64, u64)> = self
            .client
            .query(
                "SELECT feedlot_id, toUInt32(recorded_at) AS at, min(earliest_captured_ms), \
                 count() FROM fact_changes WHERE recorded_at > toDateTime(?) \
                 AND recorded_at <= toDateTime(?) GROUP BY feedlot_id, at",
            )
            .bind(self.since)
            .bind(cutoff)
            .fetch_all()
            .await?;
        let mut yards: Vec<String> = changes.iter().map(|c| c.0.clone()).collect();
        yards.sort();
        yards.dedup();
        let states = store::states(&self.client, &yards).await?;
        let mut pending: std::collections::BTreeMap<&str, Pending> = Default::default();
        for (yard, at, earliest, count) in &changes {
            let through = states.get(yard).map(|s| s.through_recorded_at).unwrap_or(0);
            let seen = self.seen.get(&(yard.clone(), *at)).copied().unwrap_or(0);
            let late = self.primed && seen < *count;
            if *at <= through && !late {
                continue;
            }
            let p = pending.entry(yard).or_insert(Pending {
                earliest_captured_ms: *earliest,
                oldest_recorded_at: *at,
            });
            p.earliest_captured_ms = p.earliest_captured_ms.min(*earliest);
            p.oldest_recorded_at = p.oldest_recorded_at.min(*at);
        }
        let mut oldest_left: Option<u32> = None;
        let mut done = 0;
        for (yard, p) in &pending {
            let from_day = states
                .get(*yard)
                .map(|s| day_of(p.earliest_captured_ms).min(s.through_day.saturating_add(1)));
            let started = Instant::now();
            let result =
                recompute_keeping(&self.client, &mut self.kept, yard, from_day, cutoff).await;
            let (rows, error) = match &result {
                Ok(r) => (r.rows, None),
                Err(e) => (0, Some(e.to_string())),
            };
            FactsRecomputed {
                feedlot_id: yard,
                from_day: from_day.unwrap_or(0),
                rows,
                took: started.elapsed(),
                error,
            }
            .emit(&self.metrics);
            if result.is_ok() {
                done += 1;
                for (y, at, _, count) in changes.iter().filter(|c| c.0 == *yard) {
                    self.seen.insert((y.clone(), *at), *count);
                }
            } else {
                oldest_left =
                    Some(oldest_left.map_or(p.oldest_recorded_at, |o| o.min(p.oldest_recorded_at)));
            }
        }
        let lag = match oldest_left {
            Some(oldest) => now.saturating_sub(oldest),
            None => pending
                .values()
                .map(|p| now.saturating_sub(p.oldest_recorded_at))
                .max()
                .unwrap_or(0),
        };
        facts_lag(&self.metrics, f64::from(lag));
        // Changes of yards with nothing to do are accounted for as they stand.
        for (yard, at, _, count) in &changes {
            if !pending.contains_key(yard.as_str()) {
                self.seen.insert((yard.clone(), *at), *count);
            }
        }
        self.since = match oldest_left {
            // A failed yard is looked at again from its oldest change.
            Some(oldest) => oldest.saturating_sub(1),
            None => cutoff.saturating_sub(LOOKBACK_SECS),
        };
        let since = self.since;
        self.seen.retain(|(_, at), _| *at > since);
        self.primed = true;
        self.drop_old_changes(u64::from(now) * 1000).await;
        Ok(done)
    }
}
