//! The consumer's errors.

/// What stopped the consumer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A Kafka client could not be created or the broker refused an operation.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// ClickHouse refused a query or could not be reached.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    /// A migration failed.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// What ClickHouse said.
        source: clickhouse::error::Error,
    },
    /// A migration has no form for a ClickHouse cluster.
    #[error("migration {version} ({name}) cannot run on a cluster: {source}")]
    ClusterDdl {
        /// The migration's number.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// Which statement.
        source: crate::schema::cluster::ClusterDdlError,
    },
    /// The ops listener (`/metrics`, `/healthz`) could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The ops listener failed.
    #[error("web server: {0}")]
    Serve(std::io::Error),
    /// A background task panicked or was cancelled.
    #[error("task failed: {0}")]
    Task(String),
}
