//! The gateway's local HTTP servers: the public listener (`http.listen`: the records API, the
//! chute pages and manifest imports behind the API's tokens, `/healthz`), optionally over TLS (`http.tls_cert_path`
//! and `http.tls_key_path`), and the ops listener (`http.ops_listen`: `/metrics` and
//! `/healthz`, plain HTTP, for Prometheus and probes). The public listener never serves
//! `/metrics`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::config::ConfigError;

/// A route table: (path pattern, methods). A router and the list of its paths (for the
/// security test matrix) are both made from one, so they cannot differ.
pub(crate) type RouteTable<S> = Vec<(&'static str, axum::routing::MethodRouter<S>)>;

/// The router serving every route of `table`.
pub(crate) fn router_of<S>(table: RouteTable<S>) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    table
        .into_iter()
        .fold(axum::Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

/// The path patterns of `table`, in its order.
pub(crate) fn paths_of<S>(table: RouteTable<S>) -> Vec<&'static str> {
    table.into_iter().map(|(path, _)| path).collect()
}

/// How long a client may take over the TLS handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections that may wait for the server to take them.
const ACCEPTED_QUEUE: usize = 64;

/// `[http]`: where the local HTTP servers listen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address of the public listener (records API, chute pages, `/healthz`), e.g.
    /// `0.0.0.0:8090` for tablets on the yard network.
    pub listen: String,
    /// A second, plain-HTTP listener for `/metrics` and `/healthz` (Prometheus, probes), e.g.
    /// `127.0.0.1:9108`; keep it off the yard network. Empty: `/metrics` is served nowhere.
    pub ops_listen: String,
    /// The public listener's certificate chain (PEM, leaf first), e.g.
    /// `/etc/edge/tls/cert.pem`. With `tls_key_path`, the public listener speaks HTTPS only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_path: Option<PathBuf>,
    /// The private key of `tls_cert_path` (PEM: PKCS#8, PKCS#1 or SEC1), e.g.
    /// `/etc/edge/tls/key.pem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key_path: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".into(),
            ops_listen: String::new(),
            tls_cert_path: None,
            tls_key_path: None,
        }
    }
}

impl HttpConfig {
    /// Checks the listeners and TLS paths; the error names the field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listen.trim().is_empty() {
            return Err(ConfigError::invalid("http.listen", "must not be empty"));
        }
        if !self.ops_listen.is_empty() && self.ops_listen.trim() == self.listen.trim() {
            return Err(ConfigError::invalid(
                "http.ops_listen",
                "must differ from http.listen (the public listener never serves /metrics)",
            ));
        }
        match (&self.tls_cert_path, &self.tls_key_path) {
            (Some(_), None) => Err(ConfigError::invalid(
                "http.tls_key_path",
                "must be set with http.tls_cert_path (TLS needs both, or neither)",
            )),
            (None, Some(_)) => Err(ConfigError::invalid(
                "http.tls_cert_path",
                "must be set with http.tls_key_path (TLS needs both, or neither)",
            )),
            _ => Ok(()),
        }
    }

    /// The TLS configuration of the public listener, read from the PEM files; `None` without
    /// TLS.
    pub fn tls(&self) -> Result<Option<Arc<ServerConfig>>, TlsError> {
        match (&self.tls_cert_path, &self.tls_key_path) {
            (Some(cert), Some(key)) => tls_config(cert, key).map(Some),
            _ => Ok(None),
        }
    }
}

/// Why the TLS certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds no usable item.
    #[error("http.{field}: cannot read {path}: {reason}")]
    Pem {
        /// `tls_cert_path` or `tls_key_path`.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The certificate and key do not make a server configuration (e.g. they do not match).
    #[error("http.tls_cert_path/http.tls_key_path: {0}")]
    Rustls(#[from] tokio_rustls::rustls::Error),
}

/// A rustls server configuration from a PEM certificate chain and key. It offers HTTP/1.1 only
/// (ALPN `http/1.1`): the server speaks no HTTP/2, and a browser that negotiated `h2` would get
/// no answer.
pub fn tls_config(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let pem = |field, path: &Path, reason: String| TlsError::Pem {
        field,
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| pem("tls_cert_path", cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(pem(
            "tls_cert_path",
            cert_path,
            "no CERTIFICATE in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| pem("tls_key_path", key_path, e.to_string()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener whose connections have completed a TLS handshake. Handshakes run in their own
/// tasks (bounded by [`HANDSHAKE_TIMEOUT`]), so a slow or silent client delays no other.
#[derive(Debug)]
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` and handshakes with `config`, until the listener is dropped.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, accepted) = mpsc::channel(ACCEPTED_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = tokio::select! {
                    () = tx.closed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            tracing::warn!(%error, "HTTPS accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { accepted, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept task only ends once this receiver is gone; wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The public listener's router: the records API ([`crate::api`]), `/healthz`
/// ([`crate::ops::health_app`]; `/metrics` is on the ops listener only) and the chute pages
/// behind a token ([`crate::chute`]). Every route it serves is in [`route_paths`] (the security
/// test matrix, `tests/it/route_matrix.rs`, fails on one it lacks): merge a new router here and
/// list its paths there.
pub fn app(
    api: crate::api::ApiState,
    ops: crate::ops::AppState,
    registry: Arc<crate::chute::Registry>,
) -> axum::Router {
    let tokens = api.tokens.clone();
    let import = crate::import::ImportState {
        feedlot_id: api.feedlot_id.clone(),
        gateway_id: api.gateway_id.clone(),
        tokens: tokens.clone(),
        writer: api.writer.clone(),
        registry: registry.clone(),
    };
    crate::forms::router(api.clone())
        .merge(crate::api::router(api))
        .merge(crate::ops::health_app(ops))
        .merge(crate::chute::router(registry, tokens))
        .merge(crate::import::router(import))
}

/// The path patterns [`app`] serves on the public listener (axum's `{param}` syntax).
pub fn route_paths() -> Vec<&'static str> {
    let mut paths = crate::api::route_paths();
    paths.extend(crate::ops::public_route_paths());
    paths.extend(crate::chute::route_paths());
    paths.extend(crate::import::route_paths());
    paths.extend(crate::forms::route_paths());
    paths
}

/// Serves `app` on `listener` until `shutdown`, over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    app: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let addr = listener.local_addr().ok();
    let stop = async move { shutdown.cancelled().await };
    match tls {
        None => {
            tracing::info!(listen = ?addr, "local HTTP server listening");
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        }
        Some(config) => {
            tracing::info!(listen = ?addr, "local HTTPS server listening");
            axum::serve(TlsListener::new(listener, config)?, app)
                .with_graceful_shutdown(stop)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_config_with_one_path_only_is_refused_naming_the_missing_field() {
        let mut http = HttpConfig {
            tls_cert_path: Some("/etc/edge/cert.pem".into()),
            ..HttpConfig::default()
        };
        let err = http.validate().unwrap_err().to_string();
        assert!(err.contains("`http.tls_key_path`"), "{err}");
        http.tls_cert_path = None;
        http.tls_key_path = Some("/etc/edge/key.pem".into());
        let err = http.validate().unwrap_err().to_string();
        assert!(err.contains("`http.tls_cert_path`"), "{err}");
        http.tls_cert_path = Some("/etc/edge/cert.pem".into());
        http.validate().unwrap();
    }

    #[test]
    fn the_ops_listener_must_not_be_the_public_one() {
        let http = HttpConfig {
            ops_listen: "127.0.0.1:8090".into(),
            ..HttpConfig::default()
        };
        let err = http.validate().unwrap_err().to_string();
        assert!(err.contains("`http.ops_listen`"), "{err}");
    }

    #[test]
    fn a_certificate_and_its_key_make_an_http_1_1_only_config() {
        let dir = tempfile::tempdir().unwrap();
        let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, issued.cert.pem()).unwrap();
        std::fs::write(&key, issued.signing_key.serialize_pem()).unwrap();
        let config = tls_config(&cert, &key).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        // A key that is not the certificate's is refused.
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(&key, other.signing_key.serialize_pem()).unwrap();
        let err = tls_config(&cert, &key).unwrap_err().to_string();
        assert!(
            err.contains("http.tls_cert_path/http.tls_key_path"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_or_empty_pem_names_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = tls_config(&empty, &empty).unwrap_err().to_string();
        assert!(err.contains("http.tls_cert_path"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = tls_config(&missing, &empty).unwrap_err().to_string();
        assert!(err.contains("http.tls_cert_path"), "{err}");
    }
}
