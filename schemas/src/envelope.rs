//! The envelope every message shares.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{TagRead, Weighing};

/// The wire-format major version this crate writes and reads. Additive, optional fields do not
/// change it; a breaking change increments it.
pub const SCHEMA_VERSION: u16 = 1;

/// One captured event and where and when it was captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique id minted where the reading was captured (UUIDv7, so ids sort by capture time).
    /// The pipeline deduplicates on it.
    pub event_id: Uuid,
    /// The feedlot (yard) the event belongs to.
    pub feedlot_id: String,
    /// The gateway that captured it.
    pub gateway_id: String,
    /// The device (reader, scale, truck, or the manual API) that produced it.
    pub device_id: String,
    /// When it was captured, UTC, serialized as RFC 3339 with a `Z` offset.
    pub captured_at: DateTime<Utc>,
    /// The schema major version the writer used.
    pub schema_version: u16,
    /// The event itself, tagged by `kind`.
    pub event: Event,
}

/// The body of an event, internally tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// An RFID ear-tag read.
    TagRead(TagRead),
    /// A stable weight paired with an animal's tag.
    Weighing(Weighing),
}

/// The kind of an [`Event`], without its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// See [`Event::TagRead`].
    TagRead,
    /// See [`Event::Weighing`].
    Weighing,
}

impl EventKind {
    /// The `kind` string used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TagRead => "tag_read",
            Self::Weighing => "weighing",
        }
    }
}

impl Event {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::TagRead(_) => EventKind::TagRead,
            Self::Weighing(_) => EventKind::Weighing,
        }
    }
}

impl Envelope {
    /// Wraps `event` in a new envelope with a fresh UUIDv7 id, captured at `captured_at`.
    pub fn new(
        feedlot_id: impl Into<String>,
        gateway_id: impl Into<String>,
        device_id: impl Into<String>,
        captured_at: DateTime<Utc>,
        event: Event,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            feedlot_id: feedlot_id.into(),
            gateway_id: gateway_id.into(),
            device_id: device_id.into(),
            captured_at,
            schema_version: SCHEMA_VERSION,
            event,
        }
    }
}
