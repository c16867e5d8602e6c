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

/// The local HTTP server's router: the records API ([`crate::api`]), `/healthz` and `/metrics`
/// ([`crate::ops`]) and the chute pages ([`crate::chute`]). Every route it serves is in
/// [`route_paths`] (the security test matrix, `tests/it/route_matrix.rs`, fails on one it
/// lacks): merge a new router here and list its paths there.
pub fn app(
    api: crate::api::ApiState,
    ops: crate::ops::AppState,
    registry: std::sync::Arc<crate::chute::Registry>,
) -> axum::Router {
    crate::api::router(api)
        .merge(crate::ops::app(ops))
        .merge(crate::chute::router(registry))
}

/// The path patterns [`app`] serves (axum's `{param}` syntax).
pub fn route_paths() -> Vec<&'static str> {
    let mut paths = crate::api::route_paths();
    paths.extend(crate::ops::route_paths());
    paths.extend(crate::chute::route_paths());
    paths
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
