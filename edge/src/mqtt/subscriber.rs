//! The subscriber: device messages → events in the outbox → MQTT ack and a `captured` reply.

use std::time::Duration;

use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, Publish, QoS};
use schemas::{Envelope, SCHEMA_VERSION};
use tokio_util::sync::CancellationToken;

use crate::mqtt::MqttConfig;
use crate::mqtt::broker::InternalAccount;
use crate::mqtt::payload::{DeviceTopic, PayloadError, check_device_time, device_event};
use crate::outbox::OutboxWriter;

/// The topics the subscriber takes (QoS 1).
pub const SUBSCRIPTIONS: [&str; 2] = ["feedlot/+/truck/+/load", "feedlot/+/truck/+/delivery"];

/// Where and as whom the subscriber connects.
#[derive(Clone)]
pub struct Connection {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// User name and password, if the broker wants them.
    pub credentials: Option<(String, String)>,
}

impl Connection {
    /// The embedded broker, as the gateway's internal account.
    pub fn embedded(config: &MqttConfig, internal: &InternalAccount) -> Self {
        let (host, port) = split_host_port(&config.listen);
        let host = if host == "0.0.0.0" {
            "127.0.0.1".to_owned()
        } else {
            host
        };
        Self {
            host,
            port,
            credentials: Some((internal.user.clone(), internal.password.clone())),
        }
    }

    /// The external broker from the config.
    pub fn external(config: &MqttConfig, addr: &str) -> Self {
        let (host, port) = split_host_port(addr);
        let credentials = config
            .external_user
            .clone()
            .map(|user| (user, config.external_password.clone().unwrap_or_default()));
        Self {
            host,
            port,
            credentials,
        }
    }
}

fn split_host_port(addr: &str) -> (String, u16) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().unwrap_or(1883)),
        None => (addr.to_owned(), 1883),
    }
}

/// What the subscriber needs to turn messages into events.
pub struct Subscriber {
    /// The feedlot this gateway serves; messages for others are rejected.
    pub feedlot_id: String,
    /// The gateway's id, stamped on every envelope.
    pub gateway_id: String,
    /// Largest payload accepted.
    pub max_payload_bytes: usize,
    /// Where events go.
    pub writer: OutboxWriter,
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Durable in the outbox under this event id.
    Captured(uuid::Uuid),
    /// Unusable, with the reason.
    Rejected(String),
    /// The outbox refused it (full or failing): not acknowledged, so the broker re-delivers.
    NotCaptured(String),
}

impl Subscriber {
    /// Turns one message into an event and commits it to the outbox.
    pub async fn handle(&self, topic: &str, payload: &[u8]) -> Outcome {
        let envelope = match self.envelope(topic, payload) {
            Ok(envelope) => envelope,
            Err(reason) => return Outcome::Rejected(reason.to_string()),
        };
        match self
            .writer
            .append_envelopes(std::slice::from_ref(&envelope))
            .await
        {
            Ok(_) => Outcome::Captured(envelope.event_id),
            Err(e) => Outcome::NotCaptured(e.to_string()),
        }
    }

    fn envelope(&self, topic: &str, payload: &[u8]) -> Result<Envelope, PayloadError> {
        let topic = DeviceTopic::parse(topic)?;
        if payload.len() > self.max_payload_bytes {
            return Err(PayloadError::TooLarge(payload.len()));
        }
        if topic.feedlot_id != self.feedlot_id {
            return Err(PayloadError::OtherFeedlot {
                serves: self.feedlot_id.clone(),
                topic: topic.feedlot_id,
            });
        }
        let (event_id, recorded_at, event) = device_event(&topic, payload)?;
        let captured_at = check_device_time(recorded_at, chrono::Utc::now())?;
        Ok(Envelope {
            event_id,
            feedlot_id: self.feedlot_id.clone(),
            gateway_id: self.gateway_id.clone(),
            device_id: format!("truck-{}", topic.truck_id),
            captured_at,
            schema_version: SCHEMA_VERSION,
            event,
        })
    }

    /// Connects, subscribes and handles messages until `shutdown`; reconnects after errors.
    pub async fn run(self, connection: Connection, shutdown: CancellationToken) {
        let mut options = MqttOptions::new(
            format!("edge-{}", self.gateway_id),
            &connection.host,
            connection.port,
        );
        options
            .set_keep_alive(Duration::from_secs(15))
            .set_clean_session(false)
            .set_manual_acks(true)
            .set_max_packet_size(self.max_payload_bytes + 1024, self.max_payload_bytes + 1024);
        if let Some((user, password)) = &connection.credentials {
            options.set_credentials(user, password);
        }
        let (client, mut events) = AsyncClient::new(options, 64);
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => break,
                event = events.poll() => event,
            };
            match event {
                Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                    tracing::info!(host = %connection.host, port = connection.port, "MQTT connected");
                    for filter in SUBSCRIPTIONS {
                        if let Err(error) = client.subscribe(filter, QoS::AtLeastOnce).await {
                            tracing::error!(%error, filter, "MQTT subscribe failed");
                        }
                    }
                }
                Ok(MqttEvent::Incoming(Packet::Publish(publish))) => {
                    self.on_publish(&client, &publish).await
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "MQTT connection error; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        let _ = client.disconnect().await;
    }

    async fn on_publish(&self, client: &AsyncClient, publish: &Publish) {
        let outcome = self.handle(&publish.topic, &publish.payload).await;
        let reply = match &outcome {
            Outcome::Captured(id) => {
                tracing::info!(topic = %publish.topic, event_id = %id, "device record captured");
                serde_json::json!({"id": id, "status": "captured"})
            }
            Outcome::Rejected(reason) => {
                tracing::warn!(topic = %publish.topic, reason, "device record rejected");
                let id = serde_json::from_slice::<serde_json::Value>(&publish.payload)
                    .ok()
                    .and_then(|v| v.get("event_id").cloned())
                    .unwrap_or(serde_json::Value::Null);
                serde_json::json!({"id": id, "status": "rejected", "reason": reason})
            }
            Outcome::NotCaptured(reason) => {
                // No ack: the broker re-delivers it once the outbox takes writes again.
                tracing::error!(topic = %publish.topic, reason, "device record not captured");
                return;
            }
        };
        if let Err(error) = client.ack(publish).await {
            tracing::warn!(%error, "MQTT ack failed");
        }
        let Ok(topic) = DeviceTopic::parse(&publish.topic) else {
            return; // Not a device topic: nowhere to answer.
        };
        let answer = reply.to_string();
        if let Err(error) = client
            .publish(topic.ack_topic(), QoS::AtLeastOnce, false, answer)
            .await
        {
            tracing::warn!(%error, "MQTT reply failed");
        }
    }
}
