//! The gateway's own key pair: its identity to the cloud.
//!
//! The private key (an Ed25519 seed, standard base64) lives in `<data_dir>/gateway.key`,
//! created on first start (or by `edge keygen`) with mode 0600; a key file that group or
//! others may read is refused. Every envelope the gateway appends to its outbox is signed with
//! it ([`schemas::GatewayKey::sign`]); the cloud accepts the events only once the public key
//! is enrolled (`ingest gateways enroll`, see `docs/security.md`).

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use schemas::GatewayKey;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "gateway.key";

/// Why the gateway's key could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The file could not be read, created or written.
    #[error("gateway key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error("gateway key {path} is readable by others (mode {mode:o}); run `chmod 600` on it")]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a key, or no key could be generated.
    #[error("gateway key {path}: {source}")]
    Invalid {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: schemas::SignatureError,
    },
}

/// The key file of a gateway whose data directory is `data_dir`.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Reads the gateway's key from `data_dir`, generating and storing a new one (mode 0600)
/// when there is none. Returns the key and whether it was just made.
pub fn load_or_create(data_dir: &Path) -> Result<(GatewayKey, bool), IdentityError> {
    let path = key_path(data_dir);
    let io = |source| IdentityError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(IdentityError::Permissions { path, mode });
            }
            let key = GatewayKey::from_base64(&text).map_err(|source| IdentityError::Invalid {
                path: path.clone(),
                source,
            })?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(io)?;
            let key = GatewayKey::generate().map_err(|source| IdentityError::Invalid {
                path: path.clone(),
                source,
            })?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io)?;
            file.write_all(format!("{}\n", key.to_base64()).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            tracing::info!(path = %path.display(), key_id = %key.key_id(), "generated the gateway key");
            Ok((key, true))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_key_is_made_once_with_mode_0600_and_a_readable_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, made) = load_or_create(dir.path()).unwrap();
        assert!(made);
        let mode = std::fs::metadata(key_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, made) = load_or_create(dir.path()).unwrap();
        assert!(!made);
        assert_eq!(again.key_id(), first.key_id());
        std::fs::set_permissions(key_path(dir.path()), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(IdentityError::Permissions { .. })
        ));
    }
}
