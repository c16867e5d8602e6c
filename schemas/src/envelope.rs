//! The envelope every message shares.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use schemars::JsonSchema;

use crate::validate::{Checked, non_empty};
use crate::{
    Arrival, Correction, Death, FeedDelivery, FeedLoad, FeedPurchase, LotDeath, LotTreatment,
    PenMove, Placement, Ration, Shipment, ShipmentPlan, TagRead, Treatment, Weighing, YardProfile,
    YardageRate, status::GatewayStatus,
};

/// The wire-format major version this crate writes and reads. Additive, optional fields do not
/// change it; a breaking change increments it.
pub const SCHEMA_VERSION: u16 = 1;

/// One captured event and where and when it was captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// The id of the gateway key that signed the envelope ([`crate::signing::key_id`] of its
    /// public key); absent on an unsigned envelope. Additive and optional: readers that predate
    /// it ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The gateway's Ed25519 signature (standard base64, 64 bytes) over
    /// [`crate::signing::signed_bytes`]; absent on an unsigned envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The body of an event, internally tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// An RFID ear-tag read.
    TagRead(TagRead),
    /// A stable weight paired with an animal's tag.
    Weighing(Weighing),
    /// A mixer load on a feed truck.
    FeedLoad(FeedLoad),
    /// Feed delivered to a pen's bunk.
    FeedDelivery(FeedDelivery),
    /// A treatment, vaccination or processing product given to an animal.
    Treatment(Treatment),
    /// A lot placed in the yard.
    Arrival(Arrival),
    /// An animal or lot moved between pens.
    PenMove(PenMove),
    /// An animal's death.
    Death(Death),
    /// A lot sold and shipped.
    Shipment(Shipment),
    /// A feed ingredient bought.
    FeedPurchase(FeedPurchase),
    /// A ration's formula.
    Ration(Ration),
    /// The yardage fee per head per day.
    YardageRate(YardageRate),
    /// An animal tagged into its lot and pen.
    Placement(Placement),
    /// The yard's name and location, for area benchmarks.
    YardProfile(YardProfile),
    /// Head of a lot or pen found dead without a readable tag.
    LotDeath(LotDeath),
    /// A product given to every head of a lot or pen.
    LotTreatment(LotTreatment),
    /// An earlier record voided or amended.
    Correction(Correction),
    /// A gateway's outbox, reported while it runs (telemetry, sent past the outbox).
    GatewayStatus(GatewayStatus),
    /// A shipment planned for a day.
    ShipmentPlan(ShipmentPlan),
}

/// The kind of an [`Event`], without its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// See [`Event::TagRead`].
    TagRead,
    /// See [`Event::Weighing`].
    Weighing,
    /// See [`Event::FeedLoad`].
    FeedLoad,
    /// See [`Event::FeedDelivery`].
    FeedDelivery,
    /// See [`Event::Treatment`].
    Treatment,
    /// See [`Event::Arrival`].
    Arrival,
    /// See [`Event::PenMove`].
    PenMove,
    /// See [`Event::Death`].
    Death,
    /// See [`Event::Shipment`].
    Shipment,
    /// See [`Event::FeedPurchase`].
    FeedPurchase,
    /// See [`Event::Ration`].
    Ration,
    /// See [`Event::YardageRate`].
    YardageRate,
    /// See [`Event::Placement`].
    Placement,
    /// See [`Event::YardProfile`].
    YardProfile,
    /// See [`Event::LotDeath`].
    LotDeath,
    /// See [`Event::LotTreatment`].
    LotTreatment,
    /// See [`Event::Correction`].
    Correction,
    /// See [`Event::GatewayStatus`].
    GatewayStatus,
    /// See [`Event::ShipmentPlan`].
    ShipmentPlan,
}

impl EventKind {
    /// The `kind` string used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TagRead => "tag_read",
            Self::Weighing => "weighing",
            Self::FeedLoad => "feed_load",
            Self::FeedDelivery => "feed_delivery",
            Self::Treatment => "treatment",
            Self::Arrival => "arrival",
            Self::PenMove => "pen_move",
            Self::Death => "death",
            Self::Shipment => "shipment",
            Self::FeedPurchase => "feed_purchase",
            Self::Ration => "ration",
            Self::YardageRate => "yardage_rate",
            Self::Placement => "placement",
            Self::YardProfile => "yard_profile",
            Self::LotDeath => "lot_death",
            Self::LotTreatment => "lot_treatment",
            Self::Correction => "correction",
            Self::GatewayStatus => "gateway_status",
            Self::ShipmentPlan => "shipment_plan",
        }
    }
}

impl Event {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::TagRead(_) => EventKind::TagRead,
            Self::Weighing(_) => EventKind::Weighing,
            Self::FeedLoad(_) => EventKind::FeedLoad,
            Self::FeedDelivery(_) => EventKind::FeedDelivery,
            Self::Treatment(_) => EventKind::Treatment,
            Self::Arrival(_) => EventKind::Arrival,
            Self::PenMove(_) => EventKind::PenMove,
            Self::Death(_) => EventKind::Death,
            Self::Shipment(_) => EventKind::Shipment,
            Self::FeedPurchase(_) => EventKind::FeedPurchase,
            Self::Ration(_) => EventKind::Ration,
            Self::YardageRate(_) => EventKind::YardageRate,
            Self::Placement(_) => EventKind::Placement,
            Self::YardProfile(_) => EventKind::YardProfile,
            Self::LotDeath(_) => EventKind::LotDeath,
            Self::LotTreatment(_) => EventKind::LotTreatment,
            Self::Correction(_) => EventKind::Correction,
            Self::GatewayStatus(_) => EventKind::GatewayStatus,
            Self::ShipmentPlan(_) => EventKind::ShipmentPlan,
        }
    }
}

impl Event {
    /// Checks the body's values (see each kind's `validate`): the first field that is wrong,
    /// and why.
    pub fn validate(&self) -> Checked {
        match self {
            Self::TagRead(_) => Ok(()),
            Self::Weighing(w) => w.validate(),
            Self::FeedLoad(e) => e.validate(),
            Self::FeedDelivery(e) => e.validate(),
            Self::Treatment(e) => e.validate(),
            Self::Arrival(e) => e.validate(),
            Self::PenMove(e) => e.validate(),
            Self::Death(e) => e.validate(),
            Self::Shipment(e) => e.validate(),
            Self::FeedPurchase(e) => e.validate(),
            Self::Ration(e) => e.validate(),
            Self::YardageRate(e) => e.validate(),
            Self::Placement(e) => e.validate(),
            Self::YardProfile(e) => e.validate(),
            Self::LotDeath(e) => e.validate(),
            Self::LotTreatment(e) => e.validate(),
            Self::Correction(e) => e.validate(),
            Self::GatewayStatus(e) => e.validate(),
            Self::ShipmentPlan(e) => e.validate(),
        }
    }
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 19] = [
        Self::TagRead,
        Self::Weighing,
        Self::FeedLoad,
        Self::FeedDelivery,
        Self::Treatment,
        Self::Arrival,
        Self::PenMove,
        Self::Death,
        Self::Shipment,
        Self::FeedPurchase,
        Self::Ration,
        Self::YardageRate,
        Self::Placement,
        Self::YardProfile,
        Self::LotDeath,
        Self::LotTreatment,
        Self::Correction,
        Self::GatewayStatus,
        Self::ShipmentPlan,
    ];
}

impl Envelope {
    /// Checks the envelope names its feedlot, gateway and device, then validates the body.
    /// A decoded message that fails this is dead-lettered with the error as its reason.
    pub fn validate(&self) -> Checked {
        non_empty("feedlot_id", &self.feedlot_id)?;
        non_empty("gateway_id", &self.gateway_id)?;
        non_empty("device_id", &self.device_id)?;
        self.event.validate()
    }

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
            key_id: None,
            signature: None,
        }
    }
}
