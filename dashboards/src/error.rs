//! The dashboards' errors.

/// What stopped the dashboards process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// ClickHouse refused a query or could not be reached.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    /// The web listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The alerts worker cannot start (e.g. `alerts.smtp_url` is unusable).
    #[error("alerts: {0}")]
    Alerts(#[from] crate::alerts::AlertError),
    /// The web server failed.
    #[error("web server: {0}")]
    Serve(std::io::Error),
}
