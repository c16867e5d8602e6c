//! The authorizing MQTT front: the listener devices connect to.
//!
//! rumqttd 0.20 checks a user name and password at CONNECT and nothing after, so the gateway
//! puts this front before it. Each device connection is bound to its account at CONNECT
//! ([`acl`]): the password, and a client id that is the account's (never the gateway's own,
//! `edge-…`); then, packet by packet ([`session`]), a PUBLISH must be to one of the account's
//! trucks (`feedlot/<feedlot>/truck/<truck>/load|delivery`, else the connection is closed:
//! MQTT 3.1.1 has no negative PUBACK) and a SUBSCRIBE filter must be one of their `ack`
//! topics (else SUBACK 0x80). What passes goes to rumqttd on a loopback port that only the
//! front and the gateway's subscriber can log in to (random passwords per start).
//!
//! Memory per connection is bounded: packets over `mqtt.max_payload_bytes` + 1 KiB close the
//! connection from their fixed header; at most `mqtt.max_connections` are served at once.
//! With `mqtt.tls_cert_path` and `mqtt.tls_key_path` the listener speaks MQTT over TLS only
//! ([`tls`]; the handshake, like the CONNECT, must finish within 10 s).
//!
//! Every refusal is logged and counted in `edge_mqtt_refusals_total{device, reason}`.

pub mod acl;
pub mod session;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::mqtt::broker::InternalAccount;
use crate::telemetry::Metrics;
use acl::{Accounts, Refusal};

/// What every connection of the front shares.
pub struct Shared {
    /// The device accounts.
    pub accounts: Accounts,
    /// The embedded broker (loopback).
    pub upstream: SocketAddr,
    /// The front's own account on the embedded broker.
    pub login: InternalAccount,
    /// The largest packet (remaining length) either side may send.
    pub max_packet_bytes: usize,
    /// Where refusals are counted.
    pub metrics: Metrics,
}

impl Shared {
    /// Logs and counts a refusal that closes the connection.
    fn refused(&self, account: &str, refusal: Refusal, peer: SocketAddr, client_id: Option<&str>) {
        tracing::warn!(%peer, account, client_id, reason = refusal.reason(), "MQTT device refused: {refusal}; connection closed");
        self.metrics.count_mqtt_refusal(account, refusal.reason());
    }

    /// Logs and counts a refusal that keeps the connection (a refused subscription).
    fn counted(&self, account: &str, refusal: Refusal, peer: SocketAddr, client_id: &str) {
        tracing::warn!(%peer, account, client_id, reason = refusal.reason(), "MQTT device refused: {refusal}");
        self.metrics.count_mqtt_refusal(account, refusal.reason());
    }
}

/// Accepts device connections on `listener` until `shutdown`, at most `max_connections` at
/// once, each served by [`session::serve`] in its own task (after a TLS handshake, with `tls`).
pub async fn run(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(max_connections));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "MQTT front: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (shared, tls, stop) = (shared.clone(), tls.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => session::serve(stream, peer, &shared, &stop).await,
                Some(tls) => {
                    let handshake =
                        tokio::time::timeout(session::CONNECT_TIMEOUT, tls.accept(stream)).await;
                    match handshake {
                        Ok(Ok(stream)) => session::serve(stream, peer, &shared, &stop).await,
                        _ => shared.refused("unknown", Refusal::TlsHandshake, peer, None),
                    }
                }
            }
        });
    }
}
