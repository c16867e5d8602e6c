//! Sign-in state every replica shares, in small ClickHouse tables of the dashboards' own in the
//! pipeline's database (migration 16, `ingest migrate`):
//!
//! - `web_login_codes_used (nonce, replica, used_at)`: a login code's nonce once exchanged. A
//!   replica inserts the nonce, then counts it: only a count of one logs in, so a code raced on
//!   two replicas at once is refused on both rather than used twice. One small row per sign-in
//!   by link; rows older than [`super::code::MAX_MINUTES`] are no longer needed and may be
//!   deleted (no `TTL`: the oldest ClickHouse we run on, 18.16, has none for this syntax).
//! - `web_session_revocations (user, valid_after_ms, at)`: "sign out everywhere" inserts the
//!   time; a session issued at or before the latest one is dead. Each replica caches a user's
//!   value for [`CACHE`], so another replica honours a sign-out within that.
//!
//! - `web_user_settings (user, units, set_at_ms)`: each user's units (`super::super::units`);
//!   the latest row wins. Cached per replica like the revocations.
//!
//! On a cluster each table has a full replicated copy on every server (they are no yard's, so
//! not sharded; `ingest::schema::cluster::EVERYWHERE`): any server answers, and losing one
//! loses nothing. A login code raced on two replicas that talk to different servers within the
//! replication delay (milliseconds) could be counted once on each; replicas that talk to the same
//! server never can.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::web::units::Units;

/// How long a replica trusts its copy of a user's "valid after".
pub const CACHE: Duration = Duration::from_secs(3);

/// Most users cached; beyond this the cache starts over.
const MAX_CACHED: usize = 10_000;

/// The shared sign-in state, over the pipeline's database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    client: clickhouse::Client,
    replica: String,
    valid_after: Mutex<HashMap<String, (Instant, u64)>>,
    units: Mutex<HashMap<String, (Instant, Option<Units>)>>,
}

impl Store {
    /// Over `client` (bound to the pipeline's database).
    pub fn new(client: clickhouse::Client) -> Self {
        let replica = super::generate_token()
            .map(|t| t[..16].to_owned())
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                client,
                replica,
                valid_after: Mutex::new(HashMap::new()),
                units: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Records `nonce` as used; true if no one (on any replica) used it before.
    pub(super) async fn use_code(&self, nonce: &str) -> Result<bool, clickhouse::error::Error> {
        let client = &self.inner.client;
        client
            .query("INSERT INTO web_login_codes_used (nonce, replica) VALUES (?, ?)")
            .bind(nonce)
            .bind(&self.inner.replica)
            .execute()
            .await?;
        let uses: u64 = client
            .query("SELECT count() FROM web_login_codes_used WHERE nonce = ?")
            .bind(nonce)
            .fetch_one()
            .await?;
        Ok(uses == 1)
    }

    /// Sessions of `user` issued at or before this (unix ms) are dead; 0 when never revoked.
    pub(super) async fn valid_after_ms(&self, user: &str) -> Result<u64, clickhouse::error::Error> {
        if let Some(&(at, value)) = self.cache().get(user)
            && at.elapsed() < CACHE
        {
            return Ok(value);
        }
        let value: u64 = self
            .inner
            .client
            .query("SELECT max(valid_after_ms) FROM web_session_revocations WHERE user = ?")
            .bind(user)
            .fetch_one()
            .await?;
        self.remember(user, value);
        Ok(value)
    }

    /// Ends every session of `user` issued up to `now_ms`, on every replica.
    pub(super) async fn revoke_all(
        &self,
        user: &str,
        now_ms: u64,
    ) -> Result<(), clickhouse::error::Error> {
        self.inner
            .client
            .query("INSERT INTO web_session_revocations (user, valid_after_ms) VALUES (?, ?)")
            .bind(user)
            .bind(now_ms)
            .execute()
            .await?;
        self.remember(user, now_ms);
        Ok(())
    }

    /// The units `user` chose, if they ever did.
    pub async fn units_of(&self, user: &str) -> Result<Option<Units>, clickhouse::error::Error> {
        if let Some(&(at, value)) = self.units_cache().get(user)
            && at.elapsed() < CACHE
        {
            return Ok(value);
        }
        let chosen: String = self
            .inner
            .client
            .query("SELECT argMax(units, set_at_ms) FROM web_user_settings WHERE user = ?")
            .bind(user)
            .fetch_one()
            .await?;
        let value = Units::parse(&chosen);
        self.remember_units(user, value);
        Ok(value)
    }

    /// Keeps `units` as `user`'s choice, for every replica.
    pub async fn set_units(
        &self,
        user: &str,
        units: Units,
    ) -> Result<(), clickhouse::error::Error> {
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        self.inner
            .client
            .query("INSERT INTO web_user_settings (user, units, set_at_ms) VALUES (?, ?, ?)")
            .bind(user)
            .bind(units.key())
            .bind(now_ms)
            .execute()
            .await?;
        self.remember_units(user, Some(units));
        Ok(())
    }

    fn units_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Units>)>> {
        self.inner
            .units
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember_units(&self, user: &str, value: Option<Units>) {
        let mut cache = self.units_cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(user.to_owned(), (Instant::now(), value));
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u64)>> {
        self.inner
            .valid_after
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, user: &str, value: u64) {
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(user.to_owned(), (Instant::now(), value));
    }
}
