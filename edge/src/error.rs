//! The gateway's error type, for starting and running it.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::outbox::OutboxError;

/// Why the gateway could not start or stopped with a failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid; fix the named field.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The outbox could not be opened or read.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The Kafka producer could not be created (invalid client properties).
    #[error("cannot create the Kafka producer: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The embedded MQTT broker could not start.
    #[error(transparent)]
    MqttBroker(#[from] crate::mqtt::broker::BrokerError),
    /// The local HTTP server could not bind its address.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The public listener's TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] crate::http::TlsError),
    /// The chute-side animal registry could not be opened.
    #[error(transparent)]
    Registry(#[from] crate::chute::RegistryError),
    /// The gateway's key could not be read or made.
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    /// A gateway task panicked or was aborted.
    #[error("gateway task failed: {0}")]
    Task(String),
}
