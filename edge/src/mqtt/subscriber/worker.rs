//! The subscriber's worker: batches of messages → one outbox commit → acks and replies, in the
//! order the messages arrived.

use std::collections::HashSet;
use std::time::Duration;

use rumqttc::{AsyncClient, Publish, QoS};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::link::{Epoch, Handed};
use super::recent::RecentIds;
use super::{SUBSCRIPTIONS, Subscriber};
use crate::backoff::Backoff;
use crate::mqtt::payload::DeviceTopic;

/// Messages committed together, at most.
const MAX_BATCH: usize = 256;
/// Event ids remembered to answer re-sends without storing them again.
const RECENT_IDS: usize = 50_000;
/// First delay before retrying a refused outbox commit (full, failing disk).
const RETRY_INITIAL: Duration = Duration::from_millis(200);
/// Longest delay between retries of a refused commit.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What becomes of one message.
#[derive(Debug)]
enum Verdict {
    /// Stored in this batch's commit.
    Captured(Uuid),
    /// Captured before (a re-send): answered `captured`, not stored again.
    Resent(Uuid),
    /// Unusable, with the reason.
    Rejected(String),
}

/// The capturing half of the subscriber.
pub struct Worker<'a> {
    subscriber: &'a Subscriber,
    client: &'a AsyncClient,
    epoch: &'a Epoch,
    recent: RecentIds,
}

impl<'a> Worker<'a> {
    /// A worker for `subscriber`, answering through `client`.
    pub fn new(subscriber: &'a Subscriber, client: &'a AsyncClient, epoch: &'a Epoch) -> Self {
        Self {
            subscriber,
            client,
            epoch,
            recent: RecentIds::new(RECENT_IDS),
        }
    }

    /// Handles what the link hands over until the link is gone, or until `shutdown` once
    /// nothing more is waiting.
    pub async fn run(
        mut self,
        mut received: UnboundedReceiver<Handed>,
        shutdown: &CancellationToken,
    ) {
        loop {
            let first = tokio::select! {
                biased;
                handed = received.recv() => match handed {
                    Some(handed) => handed,
                    None => return,
                },
                _ = shutdown.cancelled() => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match received.try_recv() {
                    Ok(handed) => batch.push(handed),
                    Err(_) => break,
                }
            }
            if !self.handle(batch, shutdown).await {
                return;
            }
        }
    }

    /// Handles one batch; false if shutdown interrupted a commit that kept failing.
    async fn handle(&mut self, batch: Vec<Handed>, shutdown: &CancellationToken) -> bool {
        let mut messages = Vec::with_capacity(batch.len());
        let mut envelopes = Vec::new();
        let mut in_batch = HashSet::new();
        for handed in batch {
            match handed {
                Handed::Connected => self.subscribe().await,
                Handed::Message { epoch, publish } => {
                    let verdict = match self.subscriber.envelope(&publish.topic, &publish.payload) {
                        Err(reason) => Verdict::Rejected(reason.to_string()),
                        Ok(envelope) => {
                            let id = envelope.event_id;
                            if self.recent.contains(&id) || !in_batch.insert(id) {
                                Verdict::Resent(id)
                            } else {
                                envelopes.push(envelope);
                                Verdict::Captured(id)
                            }
                        }
                    };
                    messages.push((epoch, publish, verdict));
                }
            }
        }
        if !envelopes.is_empty() && !self.commit(&envelopes, shutdown).await {
            return false;
        }
        for envelope in &envelopes {
            self.recent.insert(envelope.event_id);
        }
        for (epoch, publish, verdict) in messages {
            self.answer(epoch, &publish, verdict).await;
        }
        true
    }

    async fn subscribe(&self) {
        for filter in SUBSCRIPTIONS {
            if let Err(error) = self.client.subscribe(filter, QoS::AtLeastOnce).await {
                tracing::error!(%error, filter, "MQTT subscribe failed");
            }
        }
    }

    /// Commits `envelopes`, retrying with back-off while the outbox refuses them (nothing is
    /// acknowledged meanwhile, so nothing is lost); false if `shutdown` came first.
    async fn commit(&self, envelopes: &[schemas::Envelope], shutdown: &CancellationToken) -> bool {
        let mut backoff = Backoff::new(RETRY_INITIAL, RETRY_MAX);
        loop {
            match self.subscriber.writer.append_envelopes(envelopes).await {
                Ok(_) => return true,
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::error!(%error, records = envelopes.len(), retry_in_ms = delay.as_millis() as u64, "device records not captured yet");
                    tokio::select! {
                        _ = shutdown.cancelled() => return false,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Acknowledges `publish` (only on the connection it came from) and answers the truck.
    async fn answer(&self, epoch: u64, publish: &Publish, verdict: Verdict) {
        let reply = match &verdict {
            Verdict::Captured(id) => {
                tracing::info!(topic = %publish.topic, event_id = %id, "device record captured");
                serde_json::json!({"id": id, "status": "captured"})
            }
            Verdict::Resent(id) => {
                tracing::info!(topic = %publish.topic, event_id = %id, "device record re-sent; captured before");
                serde_json::json!({"id": id, "status": "captured"})
            }
            Verdict::Rejected(reason) => {
                tracing::warn!(topic = %publish.topic, reason, "device record rejected");
                let id = serde_json::from_slice::<serde_json::Value>(&publish.payload)
                    .ok()
                    .and_then(|v| v.get("event_id").cloned())
                    .unwrap_or(serde_json::Value::Null);
                serde_json::json!({"id": id, "status": "rejected", "reason": reason})
            }
        };
        if epoch == self.epoch.current()
            && let Err(error) = self.client.ack(publish).await
        {
            tracing::warn!(%error, "MQTT ack failed");
        }
        let Ok(topic) = DeviceTopic::parse(&publish.topic) else {
            return; // Not a device topic: nowhere to answer.
        };
        if let Err(error) = self
            .client
            .publish(
                topic.ack_topic(),
                QoS::AtLeastOnce,
                false,
                reply.to_string(),
            )
            .await
        {
            tracing::warn!(%error, "MQTT reply failed");
        }
    }
}
