//! The registry of gateways and their keys (table `gateways`, migration 0010), its commands
//! (enrol, rotate, revoke, list) and the consumer's cached view of it.
//!
//! Each row says that key `key_id` (an Ed25519 public key) of gateway `gateway_id` may sign
//! events of feedlot `feedlot_id`, while `status` is `active` and, if `valid_until_ms` is set,
//! until then. The consumer ([`Registry::check`]) refuses any event whose signature does not
//! verify under such a row; see `docs/security.md`, "Gateway identity".

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use schemas::signing::{self, PublicKey, SignatureError};
use schemas::{Envelope, GatewayKey};
use serde::{Deserialize, Serialize};

/// `status` of a key that may sign.
pub const ACTIVE: &str = "active";
/// `status` of a key that may no longer sign.
pub const REVOKED: &str = "revoked";

/// One row of the `gateways` table.
#[derive(Debug, Clone, PartialEq, Eq, clickhouse::Row, Serialize, Deserialize)]
pub struct GatewayKeyRow {
    /// The gateway.
    pub gateway_id: String,
    /// Its key's id ([`schemas::signing::key_id`]).
    pub key_id: String,
    /// A feedlot the key may write.
    pub feedlot_id: String,
    /// The public key, standard base64.
    pub public_key: String,
    /// [`ACTIVE`] or [`REVOKED`].
    pub status: String,
    /// When enrolled, ms since the epoch.
    pub valid_from_ms: u64,
    /// 0, or the last moment (ms since the epoch) the key is accepted: a rotation's overlap.
    pub valid_until_ms: u64,
    /// Who set the row.
    pub set_by: String,
    /// When the row was set, ms since the epoch (the row's version).
    pub set_at_ms: u64,
}

/// Why a registry command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// ClickHouse refused or could not be reached.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    /// The public key given is not an Ed25519 key.
    #[error("{0}")]
    Key(#[from] SignatureError),
    /// The command cannot apply to the registry as it is.
    #[error("{0}")]
    Refused(String),
}

/// Why the consumer refuses an event; the text is the dead letter's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No signature or key id.
    #[error("unsigned")]
    Unsigned,
    /// The gateway has no key with this id in the registry.
    #[error("unknown gateway or key (gateway {gateway}, key {key_id})")]
    UnknownKey {
        /// The envelope's gateway.
        gateway: String,
        /// The envelope's key id.
        key_id: String,
    },
    /// The signature does not verify: the envelope was changed, or signed by another key.
    #[error("bad signature (gateway {gateway}, key {key_id})")]
    BadSignature {
        /// The envelope's gateway.
        gateway: String,
        /// The envelope's key id.
        key_id: String,
    },
    /// The key was revoked, or its rotation overlap ended before the event reached Kafka.
    #[error("key revoked (gateway {gateway}, key {key_id}){detail}")]
    Revoked {
        /// The envelope's gateway.
        gateway: String,
        /// The envelope's key id.
        key_id: String,
        /// Empty, or when the overlap ended.
        detail: String,
    },
    /// Not a verdict: the key is not in the cached registry and the registry could not be
    /// read to look again. The consumer waits and tries the batch again.
    #[error("cannot read the gateway registry: {0}")]
    RegistryUnavailable(String),
    /// The key is valid, but not for the envelope's feedlot.
    #[error("feedlot not allowed for gateway (gateway {gateway}, feedlot {feedlot})")]
    WrongFeedlot {
        /// The envelope's gateway.
        gateway: String,
        /// The envelope's feedlot.
        feedlot: String,
    },
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// `rows` as an aligned text table (what `ingest gateways` prints): gateway, key id, feedlot,
/// status (with the end of a rotation overlap), enrolled, set by.
pub fn table(rows: &[GatewayKeyRow]) -> String {
    let time = |ms: u64| {
        i64::try_from(ms)
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let mut lines = vec![[
        "GATEWAY".to_owned(),
        "KEY_ID".into(),
        "FEEDLOT".into(),
        "STATUS".into(),
        "ENROLLED".into(),
        "SET_BY".into(),
    ]];
    for r in rows {
        let status = if r.status == ACTIVE && r.valid_until_ms != 0 {
            format!("active until {}", time(r.valid_until_ms))
        } else {
            r.status.clone()
        };
        lines.push([
            r.gateway_id.clone(),
            r.key_id.clone(),
            r.feedlot_id.clone(),
            status,
            time(r.valid_from_ms),
            r.set_by.clone(),
        ]);
    }
    let mut widths = [0usize; 6];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Every row of the registry, latest version of each, ordered by gateway, key, feedlot.
pub async fn list(
    client: &clickhouse::Client,
    database: &str,
) -> Result<Vec<GatewayKeyRow>, RegistryError> {
    Ok(client
        .clone()
        .with_database(database)
        .query("SELECT ?fields FROM gateways FINAL ORDER BY gateway_id, key_id, feedlot_id")
        .fetch_all::<GatewayKeyRow>()
        .await?)
}

async fn insert(
    client: &clickhouse::Client,
    database: &str,
    rows: &[GatewayKeyRow],
) -> Result<(), RegistryError> {
    if rows.is_empty() {
        return Ok(());
    }
    let client = client.clone().with_database(database);
    let mut insert = client.insert::<GatewayKeyRow>("gateways").await?;
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await?;
    Ok(())
}

/// Enrols `public_key` (standard base64) as a key of `gateway` for each of `feedlots`, active
/// from now. Enrolling a key again adds feedlots (and re-activates it). Returns the rows set.
pub async fn enroll(
    client: &clickhouse::Client,
    database: &str,
    gateway: &str,
    feedlots: &[String],
    public_key: &str,
    set_by: &str,
) -> Result<Vec<GatewayKeyRow>, RegistryError> {
    let key = PublicKey::from_base64(public_key)?;
    if gateway.trim().is_empty() || feedlots.iter().any(|f| f.trim().is_empty()) {
        return Err(RegistryError::Refused(
            "a gateway id and at least one non-empty feedlot id are needed".into(),
        ));
    }
    if feedlots.is_empty() {
        return Err(RegistryError::Refused("name at least one --feedlot".into()));
    }
    let now = now_ms();
    let rows: Vec<GatewayKeyRow> = feedlots
        .iter()
        .map(|feedlot| GatewayKeyRow {
            gateway_id: gateway.into(),
            key_id: key.key_id(),
            feedlot_id: feedlot.trim().into(),
            public_key: key.to_base64(),
            status: ACTIVE.into(),
            valid_from_ms: now,
            valid_until_ms: 0,
            set_by: set_by.into(),
            set_at_ms: now,
        })
        .collect();
    insert(client, database, &rows).await?;
    Ok(rows)
}

/// Rotates `gateway` to `new_public_key`: the new key becomes active for every feedlot the
/// gateway's active keys may write, and those keys stay accepted until `old_valid_until_ms`
/// (then refused; `revoke` ends them sooner). Returns the rows set.
pub async fn rotate(
    client: &clickhouse::Client,
    database: &str,
    gateway: &str,
    new_public_key: &str,
    old_valid_until_ms: u64,
    set_by: &str,
) -> Result<Vec<GatewayKeyRow>, RegistryError> {
    let key = PublicKey::from_base64(new_public_key)?;
    let current: Vec<GatewayKeyRow> = list(client, database)
        .await?
        .into_iter()
        .filter(|r| r.gateway_id == gateway && r.status == ACTIVE && r.key_id != key.key_id())
        .collect();
    if current.is_empty() {
        return Err(RegistryError::Refused(format!(
            "gateway {gateway} has no active key to rotate from; use `enroll`"
        )));
    }
    let now = now_ms();
    let mut feedlots: Vec<String> = current.iter().map(|r| r.feedlot_id.clone()).collect();
    feedlots.sort();
    feedlots.dedup();
    let mut rows: Vec<GatewayKeyRow> = feedlots
        .iter()
        .map(|feedlot| GatewayKeyRow {
            gateway_id: gateway.into(),
            key_id: key.key_id(),
            feedlot_id: feedlot.clone(),
            public_key: key.to_base64(),
            status: ACTIVE.into(),
            valid_from_ms: now,
            valid_until_ms: 0,
            set_by: set_by.into(),
            set_at_ms: now,
        })
        .collect();
    rows.extend(current.into_iter().map(|old| GatewayKeyRow {
        valid_until_ms: old_valid_until_ms,
        set_by: set_by.into(),
        set_at_ms: now,
        ..old
    }));
    insert(client, database, &rows).await?;
    Ok(rows)
}

/// Revokes `key_id` of `gateway`, or every key of it when `None`: effective for every event
/// verified after the consumers next refresh the registry. Returns the rows set.
pub async fn revoke(
    client: &clickhouse::Client,
    database: &str,
    gateway: &str,
    key_id: Option<&str>,
    set_by: &str,
) -> Result<Vec<GatewayKeyRow>, RegistryError> {
    let now = now_ms();
    let rows: Vec<GatewayKeyRow> = list(client, database)
        .await?
        .into_iter()
        .filter(|r| r.gateway_id == gateway && key_id.is_none_or(|k| r.key_id == k))
        .map(|r| GatewayKeyRow {
            status: REVOKED.into(),
            set_by: set_by.into(),
            set_at_ms: now,
            ..r
        })
        .collect();
    if rows.is_empty() {
        return Err(RegistryError::Refused(match key_id {
            Some(k) => format!("gateway {gateway} has no key {k}"),
            None => format!("gateway {gateway} is not enrolled"),
        }));
    }
    insert(client, database, &rows).await?;
    Ok(rows)
}

/// One key as the consumer knows it.
#[derive(Debug, Clone)]
struct KnownKey {
    public: Option<PublicKey>,
    /// Feedlot -> (status, valid_until_ms).
    feedlots: BTreeMap<String, (String, u64)>,
}

/// The consumer's cached copy of the registry, read again every `refresh` and, at most once a
/// second, when an event names a key it does not know (so an enrolment takes effect without a
/// restart).
pub struct Registry {
    client: clickhouse::Client,
    database: String,
    refresh: Duration,
    state: RwLock<State>,
}

struct State {
    keys: BTreeMap<(String, String), KnownKey>,
    loaded_at: Option<Instant>,
    /// When the read behind `keys` began, ms since the epoch UTC (0: never read).
    read_from_ms: u64,
}

/// The shortest time between two reads of the registry.
const MIN_RELOAD: Duration = Duration::from_secs(1);

impl Registry {
    /// An empty cache over `database`, read on first use.
    pub fn new(client: clickhouse::Client, database: &str, refresh: Duration) -> Self {
        Self {
            client,
            database: database.into(),
            refresh,
            state: RwLock::new(State {
                keys: BTreeMap::new(),
                loaded_at: None,
                read_from_ms: 0,
            }),
        }
    }

    /// Whether the cached copy was read before `ms` (or never).
    fn read_before(&self, ms: u64) -> bool {
        self.state
            .read()
            .map_or(true, |s| s.loaded_at.is_none() || s.read_from_ms <= ms)
    }

    fn age(&self) -> Option<Duration> {
        self.state
            .read()
            .ok()
            .and_then(|s| s.loaded_at.map(|t| t.elapsed()))
    }

    /// Reads the registry again; on an error the cached copy stays as it was.
    pub async fn reload(&self) -> Result<(), RegistryError> {
        let read_from_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        let rows = list(&self.client, &self.database).await?;
        let mut keys: BTreeMap<(String, String), KnownKey> = BTreeMap::new();
        for row in rows {
            let entry = keys
                .entry((row.gateway_id.clone(), row.key_id.clone()))
                .or_insert_with(|| KnownKey {
                    public: PublicKey::from_base64(&row.public_key).ok(),
                    feedlots: BTreeMap::new(),
                });
            entry
                .feedlots
                .insert(row.feedlot_id, (row.status, row.valid_until_ms));
        }
        tracing::debug!(keys = keys.len(), "gateway registry loaded");
        if let Ok(mut state) = self.state.write() {
            state.keys = keys;
            state.loaded_at = Some(Instant::now());
            state.read_from_ms = read_from_ms;
        }
        Ok(())
    }

    /// Reloads when the copy is older than the refresh interval (or was never read).
    pub async fn refresh_if_stale(&self) {
        if self.age().is_none_or(|age| age >= self.refresh)
            && let Err(error) = self.reload().await
        {
            tracing::warn!(%error, "cannot read the gateway registry; keeping the cached copy");
        }
    }

    fn lookup(&self, gateway: &str, key_id: &str) -> Option<KnownKey> {
        self.state
            .read()
            .ok()
            .and_then(|s| s.keys.get(&(gateway.into(), key_id.into())).cloned())
    }

    /// Whether the event `envelope` (decoded from `message`, which reached Kafka at
    /// `arrived_ms`) may be stored: signed by an active key of its gateway, enrolled for its
    /// feedlot. An unknown key makes the registry be read again first if the cached copy is a
    /// second old, or was read before the event reached Kafka (then after waiting out that
    /// second: a key enrolled just before its gateway's first event is never refused); when
    /// that read fails the answer is [`Refusal::RegistryUnavailable`], not a verdict.
    pub async fn check(
        &self,
        message: &[u8],
        envelope: &Envelope,
        arrived_ms: u64,
    ) -> Result<(), Refusal> {
        let (Some(key_id), Some(_)) = (&envelope.key_id, &envelope.signature) else {
            return Err(Refusal::Unsigned);
        };
        let gateway = &envelope.gateway_id;
        let mut known = self.lookup(gateway, key_id);
        let stale = || self.age().is_none_or(|age| age >= MIN_RELOAD);
        if known.is_none() && (stale() || self.read_before(arrived_ms)) {
            if let Some(age) = self.age().filter(|age| *age < MIN_RELOAD) {
                tokio::time::sleep(MIN_RELOAD - age).await;
            }
            // Another batch may have read it meanwhile.
            if stale() || self.read_before(arrived_ms) {
                self.reload()
                    .await
                    .map_err(|e| Refusal::RegistryUnavailable(e.to_string()))?;
            }
            known = self.lookup(gateway, key_id);
        }
        let unknown = || Refusal::UnknownKey {
            gateway: gateway.clone(),
            key_id: key_id.clone(),
        };
        let known = known.ok_or_else(unknown)?;
        let public = known.public.ok_or_else(unknown)?;
        match signing::verify_message(message, envelope, &public) {
            Ok(()) => {}
            Err(SignatureError::Unsigned) => return Err(Refusal::Unsigned),
            Err(_) => {
                return Err(Refusal::BadSignature {
                    gateway: gateway.clone(),
                    key_id: key_id.clone(),
                });
            }
        }
        let revoked = |detail: String| Refusal::Revoked {
            gateway: gateway.clone(),
            key_id: key_id.clone(),
            detail,
        };
        if known.feedlots.values().all(|(status, _)| status != ACTIVE) {
            return Err(revoked(String::new()));
        }
        match known.feedlots.get(&envelope.feedlot_id) {
            Some((status, until)) if status == ACTIVE => {
                if *until != 0 && arrived_ms > *until {
                    let end = i64::try_from(*until)
                        .ok()
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    return Err(revoked(format!(": its rotation overlap ended at {end}")));
                }
                Ok(())
            }
            _ => Err(Refusal::WrongFeedlot {
                gateway: gateway.clone(),
                feedlot: envelope.feedlot_id.clone(),
            }),
        }
    }
}

/// For tests, simulators and the demo: applies the migrations (so the registry exists),
/// enrols a new key for each gateway the envelopes name, for every feedlot its envelopes name,
/// and returns each envelope signed as its gateway would send it, as (Kafka key = feedlot,
/// payload). A real gateway makes its own key (`edge keygen`) and an operator enrols it.
pub async fn sign_as_enrolled(
    clickhouse: &crate::config::ClickHouseConfig,
    envelopes: &[Envelope],
) -> Result<Vec<(String, Vec<u8>)>, RegistryError> {
    let ddl = crate::sink::ddl_client(clickhouse);
    crate::schema::migrate_on(&ddl, &clickhouse.database, clickhouse.cluster())
        .await
        .map_err(|e| RegistryError::Refused(format!("cannot apply the migrations: {e}")))?;
    let client = crate::sink::client(clickhouse);
    let mut feedlots: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for e in envelopes {
        let list = feedlots.entry(e.gateway_id.as_str()).or_default();
        if !list.contains(&e.feedlot_id) {
            list.push(e.feedlot_id.clone());
        }
    }
    let mut keys = BTreeMap::new();
    for (gateway, feedlots) in feedlots {
        let key = enroll_new_key(&client, &clickhouse.database, gateway, &feedlots).await?;
        keys.insert(gateway, key);
    }
    Ok(envelopes
        .iter()
        .map(|e| {
            let payload = match keys.get(e.gateway_id.as_str()) {
                Some(key) => key.encode_signed(e),
                None => schemas::encode(e),
            };
            (e.feedlot_id.clone(), payload)
        })
        .collect())
}

/// Makes a new key for a test or a simulator and enrols it for `feedlots` (a helper for the
/// workspace's tests and the demo; a real gateway makes its own key, see `edge keygen`).
pub async fn enroll_new_key(
    client: &clickhouse::Client,
    database: &str,
    gateway: &str,
    feedlots: &[String],
) -> Result<GatewayKey, RegistryError> {
    let key = GatewayKey::generate()?;
    enroll(
        client,
        database,
        gateway,
        feedlots,
        &key.public_key().to_base64(),
        "test",
    )
    .await?;
    Ok(key)
}
