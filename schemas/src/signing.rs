//! Gateway signatures over envelopes.
//!
//! Every gateway holds an Ed25519 key pair. It signs each envelope over [`signed_bytes`]: a
//! domain tag, then, each length-prefixed, the schema version, event id, feedlot, gateway,
//! device, capture time (UTC ms), key id, and the event body's JSON bytes exactly as they
//! appear in the message. The signature and the key id travel in the envelope's optional
//! `signature` and `key_id` fields (additive: a reader that predates them ignores them).
//!
//! The verifier takes the body's bytes from the received message itself
//! ([`verify_message`]), never from a re-serialised [`Event`](crate::Event), so a body with
//! fields this build does not know still verifies, and any changed byte fails.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::Envelope;

/// Separates these signatures from any other use of a gateway key.
pub const DOMAIN_TAG: &[u8] = b"feedlot.envelope.signature.v1";

/// Why a key or a signature could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A key is not standard base64 of 32 bytes.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The system's random source failed while generating a key.
    #[error("cannot generate a key: {0}")]
    Random(String),
    /// The message carries no signature or no key id.
    #[error("unsigned")]
    Unsigned,
    /// The signature is malformed or does not verify under the key.
    #[error("bad signature")]
    BadSignature,
    /// The message is not an envelope (no `event` to take the signed bytes from).
    #[error("undecodable message: {0}")]
    Undecodable(String),
}

/// A gateway's private (signing) key.
pub struct GatewayKey {
    signing: SigningKey,
}

impl std::fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl GatewayKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, SignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SignatureError::Random(e.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// The key whose 32-byte secret seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The key from its seed in standard base64 (what [`Self::to_base64`] writes).
    pub fn from_base64(text: &str) -> Result<Self, SignatureError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SignatureError::InvalidKey(e.to_string()))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SignatureError::InvalidKey("a key seed is 32 bytes".into()))?;
        Ok(Self::from_seed(seed))
    }

    /// The secret seed in standard base64 (keep it secret: it is the gateway's identity).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.signing.to_bytes())
    }

    /// The public half, to enrol in the cloud's registry.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The id of this key ([`key_id`] of its public key).
    pub fn key_id(&self) -> String {
        self.public_key().key_id()
    }

    /// Signs `envelope`: sets its `key_id`, then its `signature` over [`signed_bytes`].
    pub fn sign(&self, envelope: &mut Envelope) {
        envelope.key_id = Some(self.key_id());
        envelope.signature = None;
        // Serializing these plain data types cannot fail (see `codec::encode`).
        let body = serde_json::to_vec(&envelope.event).unwrap_or_default();
        let signature = self.signing.sign(&signed_bytes(envelope, &body));
        envelope.signature = Some(STANDARD.encode(signature.to_bytes()));
    }

    /// A signed copy of `envelope`, encoded: what a gateway sends.
    pub fn encode_signed(&self, envelope: &Envelope) -> Vec<u8> {
        let mut signed = envelope.clone();
        self.sign(&mut signed);
        crate::encode(&signed)
    }
}

/// A gateway's public (verifying) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key from standard base64 of its 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SignatureError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SignatureError::InvalidKey(e.to_string()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SignatureError::InvalidKey("a public key is 32 bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|e| SignatureError::InvalidKey(e.to_string()))
    }

    /// Standard base64 of its 32 bytes.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// Its id: [`key_id`].
    pub fn key_id(&self) -> String {
        key_id(self.0.as_bytes())
    }
}

/// A key's id: the first 8 bytes of the SHA-256 of its 32 public bytes, in lowercase hex (16
/// characters). Derived, so a gateway and the registry agree on it without being told.
pub fn key_id(public: &[u8; 32]) -> String {
    let digest = Sha256::digest(public);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a signature covers: [`DOMAIN_TAG`], then each of schema version (u16 big-endian),
/// event id (16 bytes), feedlot, gateway, device, capture time (UTC ms, i64 big-endian), key id
/// and `body` (the event's JSON bytes as sent), each preceded by its length (u32 big-endian).
pub fn signed_bytes(envelope: &Envelope, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    let mut field = |bytes: &[u8]| {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    };
    field(DOMAIN_TAG);
    field(&envelope.schema_version.to_be_bytes());
    field(envelope.event_id.as_bytes());
    field(envelope.feedlot_id.as_bytes());
    field(envelope.gateway_id.as_bytes());
    field(envelope.device_id.as_bytes());
    field(&envelope.captured_at.timestamp_millis().to_be_bytes());
    field(envelope.key_id.as_deref().unwrap_or_default().as_bytes());
    field(body);
    out
}

/// Checks that `message` (the received bytes, which decoded to `envelope`) carries a valid
/// signature by `key`. The body's bytes are taken from `message` as received.
pub fn verify_message(
    message: &[u8],
    envelope: &Envelope,
    key: &PublicKey,
) -> Result<(), SignatureError> {
    #[derive(Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        event: &'a RawValue,
    }
    let (Some(_), Some(signature)) = (&envelope.key_id, &envelope.signature) else {
        return Err(SignatureError::Unsigned);
    };
    let body: Body<'_> =
        serde_json::from_slice(message).map_err(|e| SignatureError::Undecodable(e.to_string()))?;
    let signature = STANDARD
        .decode(signature)
        .map_err(|_| SignatureError::BadSignature)?;
    let signature = ed25519_dalek::Signature::from_slice(&signature)
        .map_err(|_| SignatureError::BadSignature)?;
    key.0
        .verify(
            &signed_bytes(envelope, body.event.get().as_bytes()),
            &signature,
        )
        .map_err(|_| SignatureError::BadSignature)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Event, TagRead};

    fn envelope() -> Envelope {
        Envelope::new(
            "yard-a",
            "gw-1",
            "reader-1",
            chrono::Utc::now(),
            Event::TagRead(TagRead {
                eid: crate::Eid::parse("982 000001088420").unwrap(),
            }),
        )
    }

    #[test]
    fn a_signed_envelope_verifies_and_any_change_fails() {
        let key = GatewayKey::generate().unwrap();
        let bytes = key.encode_signed(&envelope());
        let decoded = crate::decode(&bytes).unwrap();
        assert_eq!(decoded.key_id.as_deref(), Some(key.key_id().as_str()));
        verify_message(&bytes, &decoded, &key.public_key()).unwrap();

        let other = GatewayKey::generate().unwrap();
        assert!(matches!(
            verify_message(&bytes, &decoded, &other.public_key()),
            Err(SignatureError::BadSignature)
        ));

        let text = String::from_utf8(bytes.clone()).unwrap();
        for (from, to) in [("yard-a", "yard-b"), ("reader-1", "reader-2")] {
            let tampered = text.replace(from, to).into_bytes();
            let d = crate::decode(&tampered).unwrap();
            assert!(
                matches!(
                    verify_message(&tampered, &d, &key.public_key()),
                    Err(SignatureError::BadSignature)
                ),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn an_unsigned_envelope_is_refused_as_unsigned() {
        let key = GatewayKey::generate().unwrap();
        let env = envelope();
        let bytes = crate::encode(&env);
        assert!(matches!(
            verify_message(&bytes, &env, &key.public_key()),
            Err(SignatureError::Unsigned)
        ));
    }

    #[test]
    fn keys_round_trip_through_base64_and_ids_are_16_hex() {
        let key = GatewayKey::generate().unwrap();
        let again = GatewayKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = PublicKey::from_base64(&key.public_key().to_base64()).unwrap();
        assert_eq!(public.key_id(), key.key_id());
        assert_eq!(key.key_id().len(), 16);
        assert!(PublicKey::from_base64("AAAA").is_err());
    }
}
