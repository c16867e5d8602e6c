//! The alerts worker: each round evaluates every yard's rules, stores the alerts not yet
//! stored (with a pending delivery per channel the yard has), then makes every delivery that
//! is due: claimed first, so one replica makes each try; retried with a doubling wait; marked
//! sent once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store::{self, Claims, Delivery, FAILED, PENDING, SENT};
use super::webhook::Outcome;
use super::{AlertError, email, now_ms, rules, settings, webhook};
use crate::analytics::Settings;
use crate::config::{AlertsConfig, RuleSettings};
use crate::telemetry::{self, Metrics};

type Result<T> = std::result::Result<T, AlertError>;

/// Deliveries made per round at most.
const DELIVERIES_PER_ROUND: u64 = 500;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    /// Alerts raised (new ids stored).
    pub raised: usize,
    /// Deliveries made.
    pub delivered: usize,
    /// Tries that failed and will be retried.
    pub retried: usize,
    /// Deliveries given up.
    pub failed: usize,
}

/// The worker's clients and settings.
pub struct Worker {
    client: clickhouse::Client,
    config: AlertsConfig,
    analytics: Settings,
    http: reqwest::Client,
    smtp: Option<email::Transport>,
    claims: Claims,
    cluster: String,
    metrics: Metrics,
    ready: bool,
}

impl Worker {
    /// A worker over `client`'s database; fails when `alerts.smtp_url` cannot be used.
    pub fn new(
        client: clickhouse::Client,
        config: AlertsConfig,
        analytics: Settings,
    ) -> Result<Self> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let smtp = if config.smtp_url.is_empty() {
            None
        } else {
            Some(email::transport(&config.smtp_url, timeout).map_err(AlertError::Delivery)?)
        };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AlertError::Delivery(format!("http client: {e}")))?;
        let replica = crate::web::auth::generate_token()
            .map(|t| t[..16].to_owned())
            .unwrap_or_default();
        Ok(Self {
            client,
            analytics,
            http,
            smtp,
            claims: Claims {
                replica,
                quorum: store::Quorum {
                    replicas: 0,
                    timeout_ms: config.timeout_ms,
                },
            },
            config,
            cluster: String::new(),
            metrics: Metrics::new(),
            ready: false,
        })
    }

    /// Counts into `metrics` (the registry `/metrics` serves) instead of a registry of its own.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Works over the tables of ClickHouse cluster `cluster` (`clickhouse.cluster`; empty: one
    /// server): claims are then inserted with a quorum of every replica of a shard (see
    /// [`store::claim`]).
    pub fn on_cluster(mut self, cluster: &str) -> Self {
        self.cluster = cluster.to_owned();
        self
    }

    /// Runs rounds every `alerts.interval_ms` until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.config.interval_ms);
        tracing::info!(
            interval_ms = self.config.interval_ms,
            "alerts worker started"
        );
        loop {
            match self.round(now_ms()).await {
                Ok(r) if r != Round::default() => tracing::info!(?r, "alerts round"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "an alerts round failed; trying again"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// `feedlot_id`'s rules: the config file's for the yard, with what its users saved on the
    /// settings page over them.
    pub async fn rules_for(&self, feedlot_id: &str) -> Result<RuleSettings> {
        let saved = settings::current(&self.client, feedlot_id).await?;
        Ok(settings::over(&saved, &self.config.for_yard(feedlot_id)))
    }

    /// The channels alerts go to under the yard's rules `s`: (channel, target).
    fn channels(&self, s: &RuleSettings) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !s.webhook_url.is_empty() {
            out.push(("webhook".to_owned(), s.webhook_url.clone()));
        }
        if !s.emails.is_empty() && self.smtp.is_some() {
            out.push(("email".to_owned(), s.emails.join(",")));
        }
        out
    }

    /// Evaluates `feedlot_id`'s rules as of `now_ms` and stores the new alerts; returns them.
    pub async fn evaluate(&mut self, feedlot_id: &str, now_ms: u64) -> Result<usize> {
        self.check_schema().await?;
        let rules = self.rules_for(feedlot_id).await?;
        let alerts =
            rules::evaluate(&self.client, feedlot_id, &rules, &self.analytics, now_ms).await?;
        let channels = self.channels(&rules);
        let fresh = store::insert_new(&self.client, feedlot_id, alerts, &channels, now_ms).await?;
        for a in &fresh {
            telemetry::alert_raised(&self.metrics, &a.rule);
            tracing::info!(feedlot_id, alert_id = %a.alert_id, rule = %a.rule, title = %a.title, "alert raised");
        }
        Ok(fresh.len())
    }

    /// Once: fails unless `ingest migrate` made the alerts' tables; on a cluster, sets the
    /// claims' quorum to the fewest replicas any shard has.
    async fn check_schema(&mut self) -> Result<()> {
        if self.ready {
            return Ok(());
        }
        store::check_tables(&self.client).await?;
        if !self.cluster.is_empty() {
            let replicas = store::shard_replicas(&self.client, &self.cluster).await?;
            if replicas == 0 {
                tracing::warn!(cluster = %self.cluster, "no such cluster in system.clusters: alert claims without a quorum");
            }
            self.claims.quorum.replicas = replicas;
            tracing::info!(
                cluster = %self.cluster,
                quorum = replicas,
                "alert claims are inserted with a quorum"
            );
        }
        self.ready = true;
        Ok(())
    }

    /// One round as of `now_ms`: every yard with records, then the deliveries due.
    pub async fn round(&mut self, now_ms: u64) -> Result<Round> {
        let started = std::time::Instant::now();
        self.check_schema().await?;
        let mut yards: Vec<String> = self
            .client
            .query(
                "SELECT DISTINCT feedlot_id FROM (\
                 SELECT feedlot_id FROM arrivals UNION ALL \
                 SELECT feedlot_id FROM feed_purchases UNION ALL \
                 SELECT feedlot_id FROM treatments) ORDER BY feedlot_id",
            )
            .fetch_all()
            .await?;
        yards.extend(self.config.yards.keys().cloned());
        yards.sort();
        yards.dedup();
        let mut round = Round::default();
        for yard in &yards {
            match self.evaluate(yard, now_ms).await {
                Ok(n) => round.raised += n,
                Err(error) => tracing::warn!(feedlot_id = %yard, %error, "alert rules failed"),
            }
        }
        self.deliver(now_ms, &mut round).await?;
        telemetry::alerts_round(&self.metrics, super::now_ms(), started.elapsed());
        Ok(round)
    }

    /// Makes every delivery due at `now_ms`.
    async fn deliver(&self, now_ms: u64, round: &mut Round) -> Result<()> {
        for (d, alert) in store::due(&self.client, now_ms, DELIVERIES_PER_ROUND).await? {
            let lease_ms = self.config.timeout_ms.saturating_mul(3);
            let claimed = store::claim(&self.client, &d, &self.claims, now_ms, lease_ms).await?;
            let Some(attempt) = claimed else {
                continue;
            };
            let timeout = Duration::from_millis(self.config.timeout_ms);
            let outcome = match d.channel.as_str() {
                "webhook" => {
                    let secret = self.config.for_yard(&d.feedlot_id).webhook_secret;
                    webhook::send(
                        &self.http,
                        &d.target,
                        &secret,
                        &alert,
                        &self.config.public_url,
                        timeout,
                    )
                    .await
                }
                "email" => match &self.smtp {
                    Some(smtp) => {
                        email::send(
                            smtp,
                            &self.config.email_from,
                            &d.target,
                            &alert,
                            &self.config.public_url,
                            timeout,
                        )
                        .await
                    }
                    None => Outcome::Retry("alerts.smtp_url is not set".into()),
                },
                other => Outcome::Permanent(format!("unknown channel {other:?}")),
            };
            let next = self.after(&d, attempt, &outcome);
            let outcome = match next.state.as_str() {
                SENT => {
                    round.delivered += 1;
                    "sent"
                }
                FAILED => {
                    round.failed += 1;
                    "failed"
                }
                _ => {
                    round.retried += 1;
                    "retried"
                }
            };
            telemetry::alert_delivery(&self.metrics, &d.channel, outcome);
            tracing::info!(
                feedlot_id = %d.feedlot_id,
                alert_id = %d.alert_id,
                channel = %d.channel,
                attempt,
                state = %next.state,
                error = %next.last_error,
                "alert delivery"
            );
            store::record(&self.client, &next).await?;
        }
        Ok(())
    }

    /// `d` after try `attempt` came to `outcome`.
    fn after(&self, d: &Delivery, attempt: u32, outcome: &Outcome) -> Delivery {
        match outcome {
            Outcome::Delivered => d.after(attempt, SENT, 0, ""),
            Outcome::Permanent(e) => d.after(attempt, FAILED, 0, e),
            Outcome::Retry(e) if attempt >= self.config.max_attempts => {
                d.after(attempt, FAILED, 0, e)
            }
            Outcome::Retry(e) => {
                let wait = backoff_ms(&self.config, attempt);
                d.after(attempt, PENDING, now_ms() + wait, e)
            }
        }
    }
}

/// The wait after failed try `attempt` (1-based): `first_retry_ms` doubled per earlier try, at
/// most `max_retry_ms`.
pub fn backoff_ms(config: &AlertsConfig, attempt: u32) -> u64 {
    let doublings = attempt.saturating_sub(1).min(40);
    config
        .first_retry_ms
        .saturating_mul(1u64 << doublings)
        .min(config.max_retry_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let config = AlertsConfig {
            first_retry_ms: 1_000,
            max_retry_ms: 10_000,
            ..Default::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| backoff_ms(&config, a)).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    }
}
