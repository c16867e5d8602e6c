//! Encoding envelopes to bytes and back.
//!
//! The wire format is UTF-8 JSON, one envelope per Kafka message. Readers ignore fields they do
//! not know (so a newer writer's additive fields pass through) and reject a newer major
//! `schema_version`, which means a breaking change they cannot interpret.

use crate::{Envelope, SCHEMA_VERSION};

/// Why bytes could not be read as an [`Envelope`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, a missing or invalid field, or an unknown `kind`.
    #[error("undecodable message: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A schema major version this build does not understand.
    #[error("unsupported schema version {found} (this build reads up to {supported})")]
    UnsupportedVersion {
        /// The version in the message.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
}

/// Serializes an envelope to its wire bytes.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    // Serializing these plain data types into a Vec cannot fail: no maps with non-string keys,
    // no custom serializers that error.
    serde_json::to_vec(envelope).unwrap_or_default()
}

/// Reads an envelope from its wire bytes.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        schema_version: u16,
    }
    let probe: VersionOnly = serde_json::from_slice(bytes)?;
    if probe.schema_version > SCHEMA_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: probe.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(serde_json::from_slice(bytes)?)
}
