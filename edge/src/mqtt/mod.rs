//! Feed trucks and sensors over MQTT.
//!
//! The gateway embeds an MQTT broker (rumqttd, on loopback) for on-site devices behind an
//! authorizing [`front`] on `mqtt.listen` — per-device accounts that publish only as their own
//! trucks and read only their acks, anonymous access off unless configured — and can instead
//! (or also) subscribe to an external broker with rumqttc. Either way one subscriber takes the
//! devices' messages:
//!
//! | topic | payload (JSON, see `docs/mqtt.md`) |
//! |---|---|
//! | `feedlot/{feedlot_id}/truck/{truck_id}/load` | [`payload::FeedLoadPayload`] |
//! | `feedlot/{feedlot_id}/truck/{truck_id}/delivery` | [`payload::FeedDeliveryPayload`] |
//!
//! **Acknowledgement.** The subscriber uses manual MQTT acks: a message is acknowledged only
//! after its event has committed to the outbox (see [`subscriber`] for how it is built so
//! that no burst of trucks can wedge it). Because the embedded broker acknowledges the
//! truck's publish when *it* receives it, the gateway also answers on
//! `feedlot/{feedlot_id}/truck/{truck_id}/ack` with `{"id": ..., "status": "captured"}` once
//! the event is durable, or `{"id": ..., "status": "rejected", "reason": ...}` for a payload it
//! cannot use. A truck keeps a record until it sees `captured` and re-sends it otherwise; the
//! record's `event_id` (minted on the truck) makes the re-send a duplicate that the pipeline
//! removes; a re-send the gateway captured recently is answered `captured` again without a
//! second outbox entry. Durability lives in the outbox, never in the broker.

pub mod broker;
pub mod config;
pub mod front;
pub mod payload;
pub mod subscriber;

pub use config::MqttConfig;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::ops::Inputs;
use crate::outbox::OutboxWriter;
use crate::telemetry::Metrics;

/// Starts what `config.mqtt` asks for: the embedded broker (on loopback) behind the
/// authorizing [`front`] on `mqtt.listen`, and a subscriber on it, and/or a subscriber on the
/// external broker, each registered in `inputs` (`mqtt:embedded`, `mqtt:external`). Does
/// nothing when MQTT is off.
pub async fn start(
    config: &Config,
    writer: OutboxWriter,
    inputs: &Inputs,
    tasks: &mut JoinSet<&'static str>,
    shutdown: &CancellationToken,
    metrics: &Metrics,
) -> Result<(), broker::BrokerError> {
    let mqtt = &config.mqtt;
    let subscriber = |writer: OutboxWriter| subscriber::Subscriber {
        feedlot_id: config.feedlot_id.clone(),
        gateway_id: config.gateway_id.clone(),
        max_payload_bytes: mqtt.max_payload_bytes,
        writer,
    };
    if mqtt.embedded {
        // Before the broker's thread starts: an unusable certificate or a taken port stops the
        // gateway, naming the field or address.
        let tls = match (&mqtt.tls_cert_path, &mqtt.tls_key_path) {
            (Some(cert), Some(key)) => Some(front::tls::acceptor(cert, key)?),
            _ => None,
        };
        let internal = broker::InternalAccount::random();
        let front_login = broker::InternalAccount::named("edge-front");
        let listener = tokio::net::TcpListener::bind(&mqtt.listen)
            .await
            .map_err(|source| broker::BrokerError::Bind {
                addr: mqtt.listen.clone(),
                source,
            })?;
        let upstream = broker::start_internal(mqtt, &[&internal, &front_login]).await?;
        let shared = std::sync::Arc::new(front::Shared {
            accounts: front::acl::Accounts::new(&config.feedlot_id, mqtt),
            upstream,
            login: front_login,
            max_packet_bytes: mqtt.max_packet_bytes(),
            metrics: metrics.clone(),
        });
        tracing::info!(listen = %mqtt.listen, tls = tls.is_some(), accounts = mqtt.users.len(), anonymous = mqtt.allow_anonymous, "MQTT front listening for devices");
        let (max_connections, stop) = (mqtt.max_connections, shutdown.clone());
        tasks.spawn(async move {
            front::run(listener, tls, shared, max_connections, stop).await;
            "mqtt front"
        });
        let (sub, connection, stop) = (
            subscriber(writer.clone()),
            subscriber::Connection::embedded(upstream, &internal),
            shutdown.clone(),
        );
        let input = inputs.register("mqtt:embedded", "mqtt");
        tasks.spawn(async move {
            sub.run(connection, input, stop).await;
            "mqtt subscriber (embedded broker)"
        });
    }
    if let Some(addr) = &mqtt.external_broker {
        let (sub, connection, stop) = (
            subscriber(writer),
            subscriber::Connection::external(mqtt, addr),
            shutdown.clone(),
        );
        let input = inputs.register("mqtt:external", "mqtt");
        tasks.spawn(async move {
            sub.run(connection, input, stop).await;
            "mqtt subscriber (external broker)"
        });
    }
    Ok(())
}
