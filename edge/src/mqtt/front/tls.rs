//! TLS on the front: the rustls server configuration from `mqtt.tls_cert_path` and
//! `mqtt.tls_key_path` (PEM).

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::mqtt::broker::BrokerError;

/// The acceptor for a certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or
/// SEC1); the error names the field whose file is at fault.
pub fn acceptor(
    cert_path: &Path,
    key_path: &Path,
) -> Result<tokio_rustls::TlsAcceptor, BrokerError> {
    let unusable = |field: &str, path: &Path, reason: String| {
        BrokerError::Tls(format!(
            "mqtt.{field}: cannot use {}: {reason}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| unusable("tls_cert_path", cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(unusable(
            "tls_cert_path",
            cert_path,
            "no CERTIFICATE in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| unusable("tls_key_path", key_path, e.to_string()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| BrokerError::Tls(format!("mqtt.tls_cert_path/mqtt.tls_key_path: {e}")))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
