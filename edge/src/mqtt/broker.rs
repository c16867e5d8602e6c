//! The embedded MQTT broker (rumqttd) for on-site devices. In the gateway it listens on
//! loopback only, behind the authorizing front (`super::front`).

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::mqtt::MqttConfig;

/// Why the embedded broker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// `mqtt.listen` is not `host:port`.
    #[error("mqtt.listen {0:?} is not an address:port")]
    Listen(String),
    /// The broker's thread could not be spawned.
    #[error("cannot start the MQTT broker thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The device listener (the authorizing front) could not bind `mqtt.listen`, or no
    /// loopback port was free for the broker behind it.
    #[error("cannot listen on {addr} for MQTT devices: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `mqtt.tls_cert_path` / `mqtt.tls_key_path` could not be used.
    #[error("{0}")]
    Tls(String),
}

/// Credentials the gateway's own subscriber uses on the embedded broker (random per start).
#[derive(Clone)]
pub struct InternalAccount {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl InternalAccount {
    /// A fresh random account.
    pub fn random() -> Self {
        Self::named("edge-gateway-internal")
    }

    /// A fresh random password for the account `user`.
    pub fn named(user: &str) -> Self {
        Self {
            user: user.into(),
            password: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

/// The rumqttd configuration for `config`: one MQTT 3.1.1 server on `config.listen`; with
/// `allow_anonymous` off, only `config.users` and the gateway's internal account may connect.
pub fn rumqttd_config(
    config: &MqttConfig,
    internal: &InternalAccount,
) -> Result<rumqttd::Config, BrokerError> {
    let listen: SocketAddr = config
        .listen
        .parse()
        .map_err(|_| BrokerError::Listen(config.listen.clone()))?;
    let auth = (!config.allow_anonymous).then(|| {
        let mut users: HashMap<String, String> = config.users.clone().into_iter().collect();
        users.insert(internal.user.clone(), internal.password.clone());
        users
    });
    Ok(settings(config, listen, auth))
}

/// The rumqttd configuration behind the front: on `listen` (loopback), only `accounts` (the
/// gateway's subscriber and the front) may connect; devices never reach it directly.
pub fn internal_config(
    config: &MqttConfig,
    listen: SocketAddr,
    accounts: &[&InternalAccount],
) -> rumqttd::Config {
    let auth = accounts
        .iter()
        .map(|a| (a.user.clone(), a.password.clone()))
        .collect();
    settings(config, listen, Some(auth))
}

fn settings(
    config: &MqttConfig,
    listen: SocketAddr,
    auth: Option<HashMap<String, String>>,
) -> rumqttd::Config {
    let server = rumqttd::ServerSettings {
        name: "edge-devices".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: config.max_payload_bytes,
            max_inflight_count: 100,
            auth,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 1_000,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    }
}

/// Waits (up to 5 s) until the broker answers an MQTT CONNECT from the internal account, so
/// the gateway's subscriber and the first devices do not race its start. (A bare TCP probe
/// would make rumqttd log an aborted connection as an error.)
async fn wait_until_ready(listen: &str, internal: &InternalAccount) {
    let (host, port) = listen.rsplit_once(':').unwrap_or((listen, "1883"));
    let host = if host == "0.0.0.0" { "127.0.0.1" } else { host };
    let port: u16 = port.parse().unwrap_or(1883);
    for _ in 0..25 {
        let mut options = rumqttc::MqttOptions::new("edge-ready-probe", host, port);
        options.set_credentials(&internal.user, &internal.password);
        let (client, mut events) = rumqttc::AsyncClient::new(options, 1);
        let answered = tokio::time::timeout(std::time::Duration::from_millis(200), async {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => return true,
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false);
        if answered {
            let _ = client.disconnect().await;
            // Drive the event loop until the DISCONNECT is sent and the broker closes.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(200), async {
                while events.poll().await.is_ok() {}
            })
            .await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tracing::warn!(listen, "embedded MQTT broker not answering after 5 s");
}

/// Starts the embedded broker on its own thread (rumqttd runs its own runtime) directly on
/// `config.listen`, with the config's accounts and no front (the benchmark's setup; the
/// gateway uses [`start_internal`]). It runs for the life of the process.
pub async fn start(config: &MqttConfig, internal: &InternalAccount) -> Result<(), BrokerError> {
    let broker_config = rumqttd_config(config, internal)?;
    spawn(broker_config)?;
    wait_until_ready(&config.listen, internal).await;
    tracing::info!(listen = %config.listen, anonymous = config.allow_anonymous, "embedded MQTT broker started");
    Ok(())
}

/// Starts the embedded broker behind the front, on a free loopback port, for `accounts` only;
/// returns its address. It runs for the life of the process.
pub async fn start_internal(
    config: &MqttConfig,
    accounts: &[&InternalAccount],
) -> Result<SocketAddr, BrokerError> {
    let listen = free_loopback_port()?;
    spawn(internal_config(config, listen, accounts))?;
    if let Some(first) = accounts.first() {
        wait_until_ready(&listen.to_string(), first).await;
    }
    tracing::info!(%listen, "embedded MQTT broker started (loopback, behind the front)");
    Ok(listen)
}

/// A loopback address whose port was free a moment ago.
fn free_loopback_port() -> Result<SocketAddr, BrokerError> {
    let bind = |source| BrokerError::Bind {
        addr: "127.0.0.1:0".into(),
        source,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(bind)?;
    listener.local_addr().map_err(bind)
}

fn spawn(broker_config: rumqttd::Config) -> Result<(), BrokerError> {
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(broker_config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "embedded MQTT broker stopped");
            }
        })?;
    Ok(())
}
