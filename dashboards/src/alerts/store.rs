//! The alerts' state, in four ClickHouse tables made by `ingest migrate` (migration 13,
//! `ingest/migrations/0013_alerts.sql`; on a cluster replicated `_local` tables under
//! `Distributed` ones sharded by yard, so a yard's rows, all versions of a key, live on one
//! shard where `FINAL` settles them):
//!
//! - `alerts`: one row per alert id (ReplacingMergeTree by `(feedlot_id, alert_id)`; read with
//!   `FINAL`). The worker inserts only ids not already there; two replicas inserting the same
//!   id at once write the same alert, merged into one row.
//! - `alert_acks`: who acknowledged an alert and when; the first acknowledgement counts.
//! - `alert_deliveries`: per alert and channel (`webhook`, `email`) and target: `pending`,
//!   `sent` or `failed`, tries made, the next try's time, the last error.
//!   ReplacingMergeTree(version), version = tries × 4 + state, so a later try's row, and `sent`
//!   over `pending` for the same try, always wins.
//! - `alert_delivery_claims`: a replica about to make try *n* of a delivery inserts a claim, then
//!   counts the claims of try *n*: only a count of one sends (two replicas racing both back
//!   off). A claim older than the lease (3 × `alerts.timeout_ms`: a try takes at most
//!   about one timeout) whose try left no result (the replica died, or two raced) is counted
//!   as a failed try, and the next one is claimed. On a cluster ([`Claims::quorum`] of more
//!   than one replica) the claim is inserted with `insert_quorum` = every replica of the
//!   shard, so the other replica's count sees it; see [`claim`] for what happens when a
//!   replica is down.
//!
//! Reads joining two tables use `GLOBAL` joins: valid on one server, and needed over
//! `Distributed` tables.

use serde::{Deserialize, Serialize};

use super::{Alert, AlertError};

type Result<T> = std::result::Result<T, AlertError>;

/// The alerts' tables, made by `ingest migrate` (migration 13, `ingest/migrations/0013_alerts.sql`).
pub const TABLES: [&str; 4] = [
    "alerts",
    "alert_acks",
    "alert_deliveries",
    "alert_delivery_claims",
];

/// Fails with [`AlertError::NotMigrated`] unless the client's database has every table of
/// [`TABLES`] (the dashboards no longer create them).
pub async fn check_tables(client: &clickhouse::Client) -> Result<()> {
    let found: Vec<String> = client
        .query("SELECT name FROM system.tables WHERE database = currentDatabase() AND has(?, name)")
        .bind(&TABLES[..])
        .fetch_all()
        .await?;
    let missing: Vec<&str> = TABLES
        .into_iter()
        .filter(|t| !found.iter().any(|f| f.as_str() == *t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AlertError::NotMigrated(missing.join(", ")))
    }
}

/// An alert with its acknowledgement, as the page and API list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// Who acknowledged it; empty while open.
    pub acked_by: String,
    /// When, ms since the epoch UTC; 0 while open.
    pub acked_at_ms: u64,
}

impl Listed {
    /// Whether someone acknowledged it.
    pub fn acknowledged(&self) -> bool {
        self.acked_at_ms > 0
    }
}

/// Stores those of `alerts` whose id is not stored yet, raised at `now_ms`, with a pending
/// delivery for each of `channels` (channel, target); returns the ones stored.
pub async fn insert_new(
    client: &clickhouse::Client,
    feedlot_id: &str,
    alerts: Vec<Alert>,
    channels: &[(String, String)],
    now_ms: u64,
) -> Result<Vec<Alert>> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = alerts.iter().map(|a| a.alert_id.as_str()).collect();
    let known: Vec<String> = client
        .query("SELECT alert_id FROM alerts FINAL WHERE feedlot_id = ? AND has(?, alert_id)")
        .bind(feedlot_id)
        .bind(&ids)
        .fetch_all()
        .await?;
    let mut fresh: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| !known.contains(&a.alert_id))
        .collect();
    fresh.sort_by(|a, b| a.alert_id.cmp(&b.alert_id));
    fresh.dedup_by(|a, b| a.alert_id == b.alert_id);
    if fresh.is_empty() {
        return Ok(fresh);
    }
    for a in &mut fresh {
        a.raised_at_ms = now_ms;
    }
    // Deliveries first: an alert is never stored without its deliveries.
    let deliveries: Vec<Delivery> = fresh
        .iter()
        .flat_map(|a| {
            channels.iter().map(|(channel, target)| Delivery {
                feedlot_id: feedlot_id.to_owned(),
                alert_id: a.alert_id.clone(),
                channel: channel.clone(),
                target: target.clone(),
                state: PENDING.into(),
                attempts: 0,
                next_try_ms: now_ms,
                last_error: String::new(),
                updated_at_ms: now_ms,
                version: 0,
            })
        })
        .collect();
    ingest::sink::insert_table(client, "alert_deliveries", &deliveries).await?;
    ingest::sink::insert_table(client, "alerts", &fresh).await?;
    Ok(fresh)
}

/// `feedlot_id`'s alerts, newest first: the open ones, then (with `acknowledged`) the
/// acknowledged ones, at most `limit`.
pub async fn list(
    client: &clickhouse::Client,
    feedlot_id: &str,
    limit: u64,
) -> Result<Vec<Listed>> {
    /// A row of the listing (RowBinary has no nested structs).
    #[derive(Deserialize, clickhouse::Row)]
    struct Row {
        feedlot_id: String,
        alert_id: String,
        rule: String,
        subject: String,
        period: String,
        title: String,
        detail: String,
        link: String,
        raised_at_ms: u64,
        acked_by: String,
        acked_at_ms: u64,
    }
    let rows: Vec<Row> = client
        .query(
            "SELECT feedlot_id, alert_id, rule, subject, period, title, detail, link, \
             raised_at_ms, first_by AS acked_by, first_at_ms AS acked_at_ms \
             FROM (SELECT * FROM alerts FINAL WHERE feedlot_id = ?) AS raised \
             GLOBAL ANY LEFT JOIN (SELECT alert_id, argMin(acked_by, acked_at_ms) AS first_by, \
               min(acked_at_ms) AS first_at_ms FROM alert_acks WHERE feedlot_id = ? \
               GROUP BY alert_id) AS acks USING alert_id \
             ORDER BY first_at_ms > 0, raised_at_ms DESC, alert_id LIMIT ?",
        )
        .bind(feedlot_id)
        .bind(feedlot_id)
        .bind(limit)
        .fetch_all()
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Listed {
            alert: Alert {
                feedlot_id: r.feedlot_id,
                alert_id: r.alert_id,
                rule: r.rule,
                subject: r.subject,
                period: r.period,
                title: r.title,
                detail: r.detail,
                link: r.link,
                raised_at_ms: r.raised_at_ms,
            },
            acked_by: r.acked_by,
            acked_at_ms: r.acked_at_ms,
        })
        .collect())
}

/// How a row that every replica must see is inserted (a claim, an acknowledgement). On a
/// cluster with a quorum of every replica of the yard's shard, so a read through any server
/// sees it once the insert returns (a shard's replicas otherwise copy rows a moment later); on
/// one server (`replicas` 0) plainly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quorum {
    /// Replicas that must hold the row before its insert returns (the fewest any shard has,
    /// [`shard_replicas`]); 0 or 1: no quorum.
    pub replicas: u64,
    /// How long a quorum insert waits for the other replicas, ms.
    pub timeout_ms: u64,
}

/// How long an acknowledgement waits for its quorum before it is stored without it: a person
/// is waiting for the page.
pub const ACK_QUORUM_TIMEOUT_MS: u64 = 2_000;

/// Acknowledges `feedlot_id`'s alert `alert_id` as `user`; false when the yard has no such
/// alert. Acknowledging twice keeps the first. Inserted with `quorum` when it has one; when
/// the quorum cannot be met (a replica of the shard down, another quorum insert into the table
/// not yet everywhere, or the wait timed out) it is stored without it, on the live replica,
/// and the other copies it when it can (an identical insert is deduplicated).
pub async fn acknowledge(
    client: &clickhouse::Client,
    feedlot_id: &str,
    alert_id: &str,
    user: &str,
    now_ms: u64,
    quorum: Quorum,
) -> Result<bool> {
    let found: u64 = client
        .query("SELECT count() FROM alerts FINAL WHERE feedlot_id = ? AND alert_id = ?")
        .bind(feedlot_id)
        .bind(alert_id)
        .fetch_one()
        .await?;
    if found == 0 {
        return Ok(false);
    }
    let insert = || {
        client
            .query(
                "INSERT INTO alert_acks (feedlot_id, alert_id, acked_by, acked_at_ms) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(feedlot_id)
            .bind(alert_id)
            .bind(user)
            .bind(now_ms)
    };
    match with_quorum(insert, quorum).await? {
        QuorumInsert::Stored => {}
        QuorumInsert::TooFewReplicas(e) | QuorumInsert::Unfinished(e) => {
            tracing::warn!(feedlot_id, alert_id, error = %e, "alert acknowledged without quorum");
            without_quorum(insert, quorum).await?;
        }
    }
    Ok(true)
}

/// Replicas of the shard of `cluster` that has the fewest (a quorum every shard can meet with
/// all its servers up); 0 when `system.clusters` has no such cluster.
pub async fn shard_replicas(client: &clickhouse::Client, cluster: &str) -> Result<u64> {
    Ok(client
        .query(
            "SELECT min(n) FROM (SELECT shard_num, count() AS n FROM system.clusters \
             WHERE cluster = ? GROUP BY shard_num)",
        )
        .bind(cluster)
        .fetch_one()
        .await?)
}

/// How an insert with a quorum went.
enum QuorumInsert {
    /// Stored on the quorum's replicas (or, without a quorum, stored).
    Stored,
    /// Too few replicas of the shard are alive for the quorum (`TOO_FEW_LIVE_REPLICAS`): not
    /// stored.
    TooFewReplicas(String),
    /// The quorum insert did not finish (another quorum insert into the table not yet on
    /// every replica, or the wait timed out): it may be stored.
    Unfinished(String),
}

/// `insert` with `replicas` as its quorum (0: none), returning once the yard's shard has
/// stored it rather than when it is queued for the shard, waiting `timeout_ms` at most for the
/// quorum.
fn quorum_settings(
    insert: clickhouse::query::Query,
    replicas: u64,
    timeout_ms: u64,
) -> clickhouse::query::Query {
    insert
        .with_setting("insert_distributed_sync", "1")
        .with_setting("insert_quorum", replicas.to_string())
        .with_setting("insert_quorum_timeout", timeout_ms.max(1).to_string())
}

/// Runs the insert `insert` makes without a quorum: stored on the replica it reaches.
async fn without_quorum(
    insert: impl Fn() -> clickhouse::query::Query,
    quorum: Quorum,
) -> Result<()> {
    Ok(quorum_settings(insert(), 0, quorum.timeout_ms)
        .execute()
        .await?)
}

/// Runs the insert `insert` makes with `quorum` (none for 0 or 1 replicas) and says how it
/// went.
async fn with_quorum(
    insert: impl Fn() -> clickhouse::query::Query,
    quorum: Quorum,
) -> Result<QuorumInsert> {
    if quorum.replicas <= 1 {
        without_quorum(insert, quorum).await?;
        return Ok(QuorumInsert::Stored);
    }
    match quorum_settings(insert(), quorum.replicas, quorum.timeout_ms)
        .execute()
        .await
    {
        Ok(()) => Ok(QuorumInsert::Stored),
        Err(clickhouse::error::Error::BadResponse(e)) if too_few_replicas(&e) => {
            Ok(QuorumInsert::TooFewReplicas(e))
        }
        Err(clickhouse::error::Error::BadResponse(e)) if e.contains("uorum") => {
            Ok(QuorumInsert::Unfinished(e))
        }
        Err(e) => Err(e.into()),
    }
}

/// A delivery waiting or done.
pub const PENDING: &str = "pending";
/// Delivered (the receiver answered 2xx, or the SMTP server took the message).
pub const SENT: &str = "sent";
/// Given up: a permanent refusal, or `alerts.max_attempts` tries.
pub const FAILED: &str = "failed";

/// One alert's delivery on one channel (`alert_deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct Delivery {
    /// The yard.
    pub feedlot_id: String,
    /// The alert.
    pub alert_id: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The webhook's URL, or the recipients (comma-separated).
    pub target: String,
    /// [`PENDING`], [`SENT`] or [`FAILED`].
    pub state: String,
    /// Tries made.
    pub attempts: u32,
    /// When the next try is due, ms since the epoch UTC.
    pub next_try_ms: u64,
    /// Why the last try failed.
    pub last_error: String,
    /// When this row was written, ms since the epoch UTC.
    pub updated_at_ms: u64,
    /// Tries × 4 + 0 pending, 1 failed, 2 sent.
    pub version: u64,
}

impl Delivery {
    /// This delivery after try `attempt` ended in `state` (`next_try_ms` for a retry).
    pub fn after(&self, attempt: u32, state: &str, next_try_ms: u64, error: &str) -> Self {
        let rank = match state {
            SENT => 2,
            FAILED => 1,
            _ => 0,
        };
        Self {
            state: state.to_owned(),
            attempts: attempt,
            next_try_ms,
            last_error: error.to_owned(),
            updated_at_ms: super::now_ms(),
            version: u64::from(attempt) * 4 + rank,
            ..self.clone()
        }
    }
}

/// Pending deliveries due at `now_ms`, with their alerts, oldest first, at most `limit`.
pub async fn due(
    client: &clickhouse::Client,
    now_ms: u64,
    limit: u64,
) -> Result<Vec<(Delivery, Alert)>> {
    let deliveries: Vec<Delivery> = client
        .query(
            "SELECT ?fields FROM alert_deliveries FINAL WHERE state = 'pending' \
             AND next_try_ms <= ? ORDER BY next_try_ms LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all()
        .await?;
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = deliveries.iter().map(|d| d.alert_id.as_str()).collect();
    let alerts: Vec<Alert> = client
        .query("SELECT ?fields FROM alerts FINAL WHERE has(?, alert_id)")
        .bind(&ids)
        .fetch_all()
        .await?;
    Ok(deliveries
        .into_iter()
        .filter_map(|d| {
            let a = alerts
                .iter()
                .find(|a| a.alert_id == d.alert_id && a.feedlot_id == d.feedlot_id)?;
            Some((d, a.clone()))
        })
        .collect())
}

/// Writes `delivery`'s new state.
pub async fn record(client: &clickhouse::Client, delivery: &Delivery) -> Result<()> {
    Ok(
        ingest::sink::insert_table(client, "alert_deliveries", std::slice::from_ref(delivery))
            .await?,
    )
}

/// How a worker inserts its claims (see [`claim`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// The worker's random id, written in each claim.
    pub replica: String,
    /// The quorum a claim is inserted with: on a cluster every replica of a shard; none on
    /// one server.
    pub quorum: Quorum,
}

/// How a claim's insert went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimInsert {
    /// Stored on the [`Claims::quorum`]'s replicas (or on the one server).
    Stored,
    /// Too few replicas of the shard are alive for the quorum: stored on the live one without
    /// it (at least once from here on).
    WithoutQuorum,
    /// The quorum insert did not finish (another quorum insert into the table not yet on every
    /// replica, or the wait timed out): this try backs off.
    Unsure,
}

/// Inserts one claim with `claims`' quorum; falls back to an insert without it when the shard
/// has too few live replicas.
async fn insert_claim(
    client: &clickhouse::Client,
    d: &Delivery,
    attempt: u32,
    claims: &Claims,
    now_ms: u64,
) -> Result<ClaimInsert> {
    let insert = || {
        client
            .query(
                "INSERT INTO alert_delivery_claims (feedlot_id, alert_id, channel, target, \
                 attempt, replica, claimed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&d.feedlot_id)
            .bind(&d.alert_id)
            .bind(&d.channel)
            .bind(&d.target)
            .bind(attempt)
            .bind(&claims.replica)
            .bind(now_ms)
    };
    match with_quorum(insert, claims.quorum).await? {
        QuorumInsert::Stored => Ok(ClaimInsert::Stored),
        QuorumInsert::TooFewReplicas(e) => {
            tracing::warn!(
                alert_id = %d.alert_id,
                attempt,
                error = %e,
                "alert claim without quorum: a replica of the shard is down"
            );
            without_quorum(insert, claims.quorum).await?;
            Ok(ClaimInsert::WithoutQuorum)
        }
        QuorumInsert::Unfinished(e) => {
            tracing::info!(alert_id = %d.alert_id, attempt, error = %e, "alert claim unsure; backing off");
            Ok(ClaimInsert::Unsure)
        }
    }
}

/// Whether ClickHouse's `error` says the shard has fewer live replicas than the quorum
/// (`TOO_FEW_LIVE_REPLICAS`, code 285).
fn too_few_replicas(error: &str) -> bool {
    error.contains("Code: 285") || error.contains("less than requested quorum")
}

/// Claims the next try of `d` for `claims.replica`: the try's number when this replica may make
/// it, None when another replica holds it (or two raced and both back off, or the claim's
/// quorum insert did not finish). A claimed try older than `lease_ms` without a result is
/// taken over.
///
/// On a cluster the claim is inserted with `insert_quorum` = every replica of the shard: the
/// insert returns once both replicas hold it, so of two workers counting on different
/// replicas the one whose insert finished later counts both claims and backs off. With a
/// replica of the shard down the quorum cannot be met (ClickHouse says so at once once the
/// replica's ZooKeeper session has expired, else after the quorum's `timeout_ms`): the claim
/// is then inserted without a quorum on the live replica, which every worker's insert and
/// count reach, and delivery is at least once (receivers de-duplicate by `X-Alert-Id`).
pub async fn claim(
    client: &clickhouse::Client,
    d: &Delivery,
    claims: &Claims,
    now_ms: u64,
    lease_ms: u64,
) -> Result<Option<u32>> {
    let (claimed, latest_ms): (u32, u64) = client
        .query(
            "SELECT max(attempt), max(claimed_at_ms) FROM alert_delivery_claims \
             WHERE feedlot_id = ? AND alert_id = ? AND channel = ? AND target = ?",
        )
        .bind(&d.feedlot_id)
        .bind(&d.alert_id)
        .bind(&d.channel)
        .bind(&d.target)
        .fetch_one()
        .await?;
    let attempt = if claimed > d.attempts {
        // A try was claimed and left no result: running, or its replica died.
        if now_ms.saturating_sub(latest_ms) < lease_ms {
            return Ok(None);
        }
        claimed + 1
    } else {
        d.attempts + 1
    };
    if insert_claim(client, d, attempt, claims, now_ms).await? == ClaimInsert::Unsure {
        return Ok(None);
    }
    let claims: u64 = client
        .query(
            "SELECT count() FROM alert_delivery_claims WHERE feedlot_id = ? AND alert_id = ? \
             AND channel = ? AND target = ? AND attempt = ?",
        )
        .bind(&d.feedlot_id)
        .bind(&d.alert_id)
        .bind(&d.channel)
        .bind(&d.target)
        .bind(attempt)
        .fetch_one()
        .await?;
    Ok((claims == 1).then_some(attempt))
}

/// Every delivery of `feedlot_id`'s alert `alert_id`.
pub async fn deliveries_of(
    client: &clickhouse::Client,
    feedlot_id: &str,
    alert_id: &str,
) -> Result<Vec<Delivery>> {
    Ok(client
        .query(
            "SELECT ?fields FROM alert_deliveries FINAL WHERE feedlot_id = ? AND alert_id = ? \
             ORDER BY channel, target",
        )
        .bind(feedlot_id)
        .bind(alert_id)
        .fetch_all()
        .await?)
}
