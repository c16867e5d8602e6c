//! The gateway's status report: every `kafka.status_interval_secs` a signed `gateway_status`
//! envelope (how many records wait in the outbox, since when, how many were dead-lettered) goes
//! straight to Kafka on a producer of its own, past the outbox. A backlog therefore cannot
//! delay the report that tells of it (a slow uplink, a forwarder stuck on an outbox error), and
//! the cloud's `outbox_backlog` alert sees it (docs/alerts.md). It is telemetry, not a record:
//! a report Kafka does not take within one interval is dropped and the next one replaces it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use schemas::{Envelope, Event, GatewayKey, GatewayStatus};
use tokio_util::sync::CancellationToken;

use super::{ForwarderContext, client_config};
use crate::config::KafkaConfig;
use crate::outbox::{Outbox, OutboxError, OutboxRecord};

/// Sends the gateway's status on a timer.
pub struct StatusReporter {
    outbox: Arc<Outbox>,
    producer: FutureProducer<ForwarderContext>,
    topic: String,
    feedlot_id: String,
    gateway_id: String,
    key: Arc<GatewayKey>,
    interval: Duration,
}

impl StatusReporter {
    /// A reporter for `outbox`, signing with `key`; `None` when `kafka.status_interval_secs`
    /// is 0. Fails only on invalid client properties (as the forwarder would).
    pub fn new(
        kafka: &KafkaConfig,
        feedlot_id: &str,
        gateway_id: &str,
        outbox: Arc<Outbox>,
        key: Arc<GatewayKey>,
    ) -> Result<Option<Self>, KafkaError> {
        if kafka.status_interval_secs == 0 {
            return Ok(None);
        }
        let mut config = client_config(kafka, gateway_id);
        config.set("client.id", format!("edge-{gateway_id}-status"));
        Ok(Some(Self {
            outbox,
            producer: config.create_with_context(ForwarderContext)?,
            topic: kafka.topic.clone(),
            feedlot_id: feedlot_id.to_owned(),
            gateway_id: gateway_id.to_owned(),
            key,
            interval: Duration::from_secs(u64::from(kafka.status_interval_secs)),
        }))
    }

    /// Reports at once, then every interval, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.status().await {
                Ok(status) => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = self.send(status) => {}
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the outbox for a status report"),
            }
        }
    }

    /// The outbox as it is now.
    async fn status(&self) -> Result<GatewayStatus, String> {
        let outbox = self.outbox.clone();
        let interval_secs = u32::try_from(self.interval.as_secs()).unwrap_or(u32::MAX);
        let read = tokio::task::spawn_blocking(move || -> Result<GatewayStatus, OutboxError> {
            let outbox_pending = outbox.depth()?;
            let oldest_pending_ms = if outbox_pending == 0 {
                None
            } else {
                outbox.oldest_enqueued_at_ms()?
            };
            Ok(GatewayStatus {
                outbox_pending,
                oldest_pending_ms,
                dead_lettered: outbox.dead_letter_count()?,
                interval_secs,
            })
        });
        read.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// One signed report to Kafka, given up after one interval.
    async fn send(&self, status: GatewayStatus) {
        let pending = status.outbox_pending;
        let envelope = Envelope::new(
            &self.feedlot_id,
            &self.gateway_id,
            &self.gateway_id,
            Utc::now(),
            Event::GatewayStatus(status),
        );
        let record = OutboxRecord::signed(&envelope, Some(&self.key));
        let message = FutureRecord::to(&self.topic)
            .key(record.key.as_bytes())
            .payload(record.payload.as_slice());
        match self
            .producer
            .send(message, Timeout::After(self.interval))
            .await
        {
            Ok(_) => tracing::debug!(outbox_pending = pending, "status reported"),
            Err((error, _)) => {
                tracing::debug!(%error, "status report not taken; the next replaces it")
            }
        }
    }
}
