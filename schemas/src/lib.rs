//! Wire types shared by every part of the feedlot product.
//!
//! Every message is an [`Envelope`]: who captured it (feedlot, gateway, device), when (UTC), a
//! UUIDv7 event id minted at capture, the schema version, and one [`Event`] body tagged by `kind`.
//! Messages travel as JSON (see [`codec`]); `docs/schemas.md` states the evolution rules:
//! additive optional fields keep the version, readers ignore unknown fields, and a breaking
//! change bumps [`SCHEMA_VERSION`] (and the Kafka topic suffix).

pub mod codec;
pub mod correction;
pub mod costs;
pub mod eid;
pub mod envelope;
pub mod feed;
pub mod health;
pub mod movement;
pub mod plan;
pub mod rfid;
pub mod scale;
pub mod signing;
pub mod status;
pub mod transport;
pub mod validate;
pub mod weight;
pub mod yard;

pub use codec::{DecodeError, decode, encode};
pub use correction::{CORRECTABLE_KINDS, Correction, CorrectionAction, amendable_fields};
pub use costs::{YardageRate, minor_digits, minor_from_major};
pub use eid::{Eid, EidError};
pub use envelope::{Envelope, Event, EventKind, SCHEMA_VERSION};
pub use feed::{FeedDelivery, FeedLoad, FeedPurchase, LoadIngredient, Ration, RationIngredient};
pub use health::{Death, DoseUnit, LotDeath, LotTreatment, Route, Treatment, TreatmentPurpose};
pub use movement::{Arrival, PenMove, Placement, Sex, Shipment};
pub use plan::ShipmentPlan;
pub use rfid::TagRead;
pub use scale::{GrossNet, Weighing};
pub use signing::{GatewayKey, PublicKey, SignatureError};
pub use status::GatewayStatus;
pub use validate::{Reason, ValidationError};
pub use weight::{Weight, WeightUnit};
pub use yard::YardProfile;
