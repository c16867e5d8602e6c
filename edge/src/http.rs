//! The gateway's local HTTP server: the records API (and the other local pages), on
//! `http.listen`.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Where the local HTTP server listens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address, e.g. `0.0.0.0:8090` for tablets on the yard network.
    pub listen: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".into(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    tracing::info!(listen = ?listener.local_addr().ok(), "local HTTP server listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
