//! The subscriber: device messages → events in the outbox → MQTT ack and a `captured` reply.
//!
//! It runs as two halves joined in one task ([`Subscriber::run`]):
//! - [`link`] polls the MQTT connection and nothing else: it never waits for anything but the
//!   network and the shutdown token, reconnects with back-off, re-subscribes, and reports the
//!   link's state (`/healthz` input `mqtt:…`).
//! - [`worker`] takes the messages the link hands over, commits them to the outbox in batches,
//!   then acknowledges them (in order, as rumqttd requires) and answers on the truck's `ack`
//!   topic. A record whose `event_id` it captured recently ([`recent`]) is answered `captured`
//!   again without a second outbox entry.
//!
//! Why: rumqttc's client hands acks and publishes to its event loop through a bounded channel
//! that only `EventLoop::poll` drains. Handling a message inside the poll loop and awaiting
//! `client.ack`/`client.publish` there deadlocks as soon as that channel is full (a burst of
//! trucks): the loop waits for itself, forever, and never sees the shutdown token either. See
//! `docs/mqtt.md`, "Known problems".

mod link;
mod recent;
mod worker;

use rumqttc::{AsyncClient, MqttOptions};
use schemas::{Envelope, SCHEMA_VERSION};
use tokio_util::sync::CancellationToken;

use crate::ops::InputHandle;

use crate::mqtt::MqttConfig;
use crate::mqtt::broker::InternalAccount;
use crate::mqtt::payload::{DeviceTopic, PayloadError, check_device_time, device_event};
use crate::outbox::OutboxWriter;

/// How long the subscriber keeps capturing what it already received after shutdown was asked
/// for, at most.
const DRAIN_MAX: std::time::Duration = std::time::Duration::from_secs(3);

/// Requests (acks, replies, subscriptions) that may wait for the MQTT event loop.
const REQUESTS_QUEUE: usize = 1024;

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
    /// `host:port`, for logs and `/healthz`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The embedded broker at `listen` (loopback, behind the front), as the gateway's
    /// internal account.
    pub fn embedded(listen: std::net::SocketAddr, internal: &InternalAccount) -> Self {
        Self {
            host: listen.ip().to_string(),
            port: listen.port(),
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

impl Subscriber {
    /// Connects, subscribes and captures messages until `shutdown`, reconnecting by itself
    /// whenever the link dies; reports the link's state through `input`. After `shutdown` it
    /// finishes what it already received (at most [`DRAIN_MAX`]) and returns.
    pub async fn run(
        self,
        connection: Connection,
        input: InputHandle,
        shutdown: CancellationToken,
    ) {
        let mut options = MqttOptions::new(
            format!("edge-{}", self.gateway_id),
            &connection.host,
            connection.port,
        );
        options
            .set_keep_alive(std::time::Duration::from_secs(15))
            .set_clean_session(false)
            .set_manual_acks(true)
            .set_max_packet_size(self.max_payload_bytes + 1024, self.max_payload_bytes + 1024);
        if let Some((user, password)) = &connection.credentials {
            options.set_credentials(user, password);
        }
        let (client, events) = AsyncClient::new(options, REQUESTS_QUEUE);
        let (handed, received) = tokio::sync::mpsc::unbounded_channel();
        let epoch = link::Epoch::default();
        let drained = CancellationToken::new();
        let poll = link::Link {
            events,
            handed,
            epoch: epoch.clone(),
            address: connection.address(),
            input,
        }
        .run(&shutdown, &drained);
        let capture = async {
            worker::Worker::new(&self, &client, &epoch)
                .run(received, &shutdown)
                .await;
            drained.cancel();
        };
        let both = async { tokio::join!(poll, capture) };
        tokio::select! {
            _ = both => {}
            _ = async { shutdown.cancelled().await; tokio::time::sleep(DRAIN_MAX).await } => {
                tracing::warn!(drain_s = DRAIN_MAX.as_secs(), "MQTT subscriber still busy at shutdown; stopping it");
            }
        }
        let _ = client.try_disconnect();
    }

    /// The event a message carries, or why it is unusable.
    pub fn envelope(&self, topic: &str, payload: &[u8]) -> Result<Envelope, PayloadError> {
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
            key_id: None,
            signature: None,
        })
    }
}
