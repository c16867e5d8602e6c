//! The JSON payloads feed trucks publish, and what makes one unusable.
//!
//! **Device clocks.** A truck's `recorded_at` comes from its own clock, and it becomes the
//! event's `captured_at` unchanged: records buffered while the truck was out of range keep the
//! time they happened, and a re-send carries the same time as the first send (ClickHouse
//! deduplicates on a key that includes `captured_at_ms`, so the gateway must never rewrite it,
//! e.g. by clamping). A time the gateway cannot believe is refused instead, with the reason,
//! see [`check_device_time`]: more than [`MAX_AHEAD_SECS`] ahead of the gateway's clock, or
//! more than [`MAX_AGE_DAYS`] behind it (a clock that was reset or never set).

use chrono::{DateTime, Utc};

use crate::event_time::OutOfWindow;
use schemas::{Event, FeedDelivery, FeedLoad, LoadIngredient};
use serde::Deserialize;
use uuid::Uuid;

/// Why a payload was rejected; sent back to the device and logged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The topic is not one the gateway serves.
    #[error("unknown topic {0:?} (expected feedlot/<feedlot>/truck/<truck>/load|delivery)")]
    Topic(String),
    /// The payload is larger than `mqtt.max_payload_bytes`.
    #[error("payload of {0} bytes is over the limit")]
    TooLarge(usize),
    /// Not JSON, or a field missing or of the wrong type (the message names it).
    #[error("invalid payload: {0}")]
    Json(String),
    /// A field's value cannot be right (the message names the field).
    #[error("invalid record: {0}")]
    Invalid(String),
    /// `recorded_at` is ahead of the gateway's clock by more than [`MAX_AHEAD_SECS`].
    #[error(
        "recorded_at {recorded_at} is {ahead_secs} s ahead of the gateway's clock \
         (at most {MAX_AHEAD_SECS} s allowed): check the device's clock"
    )]
    ClockAhead {
        /// The device's time.
        recorded_at: DateTime<Utc>,
        /// How far ahead of the gateway it is, seconds.
        ahead_secs: i64,
    },
    /// `recorded_at` is older than [`MAX_AGE_DAYS`]: the device's clock was reset or never set.
    #[error(
        "recorded_at {recorded_at} is {behind_days} days behind the gateway's clock \
         (at most {MAX_AGE_DAYS} allowed): check the device's clock"
    )]
    ClockBehind {
        /// The device's time.
        recorded_at: DateTime<Utc>,
        /// How far behind the gateway it is, whole days.
        behind_days: i64,
    },
    /// The topic names another feedlot than the one this gateway serves.
    #[error("this gateway serves feedlot {serves:?}, not {topic:?}")]
    OtherFeedlot {
        /// The gateway's feedlot.
        serves: String,
        /// The feedlot in the topic.
        topic: String,
    },
}

pub use crate::event_time::{MAX_AGE_DAYS, MAX_AHEAD_SECS};

/// Accepts a device's own time if the gateway (whose clock reads `now`) can believe it
/// ([`crate::event_time::check`], the records API's rule too); the accepted time is kept as it
/// is (see the module doc for why it is never clamped).
pub fn check_device_time(
    recorded_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, PayloadError> {
    match crate::event_time::check(recorded_at, now) {
        Ok(()) => Ok(recorded_at),
        Err(OutOfWindow::Ahead { secs }) => Err(PayloadError::ClockAhead {
            recorded_at,
            ahead_secs: secs,
        }),
        Err(OutOfWindow::Behind { days }) => Err(PayloadError::ClockBehind {
            recorded_at,
            behind_days: days,
        }),
    }
}

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    /// A mixer load.
    Load,
    /// A delivery to a pen.
    Delivery,
}

/// The parts of a device topic `feedlot/{feedlot}/truck/{truck}/{kind}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTopic {
    /// The feedlot in the topic.
    pub feedlot_id: String,
    /// The truck.
    pub truck_id: String,
    /// Load or delivery.
    pub kind: TopicKind,
}

impl DeviceTopic {
    /// Parses a topic name.
    pub fn parse(topic: &str) -> Result<Self, PayloadError> {
        let parts: Vec<&str> = topic.split('/').collect();
        let kind = match parts.as_slice() {
            ["feedlot", f, "truck", t, kind] if !f.is_empty() && !t.is_empty() => match *kind {
                "load" => TopicKind::Load,
                "delivery" => TopicKind::Delivery,
                _ => return Err(PayloadError::Topic(topic.into())),
            },
            _ => return Err(PayloadError::Topic(topic.into())),
        };
        Ok(Self {
            feedlot_id: parts[1].into(),
            truck_id: parts[3].into(),
            kind,
        })
    }

    /// The topic the gateway answers this device on.
    pub fn ack_topic(&self) -> String {
        format!("feedlot/{}/truck/{}/ack", self.feedlot_id, self.truck_id)
    }
}

/// One ingredient added to a load.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngredientPayload {
    /// Ingredient name, as in the yard's ration (e.g. `corn`).
    pub ingredient: String,
    /// Weight added, kg as fed.
    pub weight_kg: f64,
}

/// `feedlot/{f}/truck/{t}/load`: a mixer load.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedLoadPayload {
    /// Minted on the truck when the load was recorded (UUIDv7); re-sends carry the same.
    pub event_id: Uuid,
    /// When the load was finished, UTC.
    pub recorded_at: DateTime<Utc>,
    /// The ration mixed.
    pub ration_id: String,
    /// The truck's batch number.
    pub batch_id: String,
    /// Who drove.
    pub operator: String,
    /// What went in.
    pub ingredients: Vec<IngredientPayload>,
}

/// `feedlot/{f}/truck/{t}/delivery`: feed dropped in a pen's bunk.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDeliveryPayload {
    /// Minted on the truck when the delivery was recorded (UUIDv7).
    pub event_id: Uuid,
    /// When it was delivered, UTC.
    pub recorded_at: DateTime<Utc>,
    /// The pen.
    pub pen: String,
    /// The ration delivered.
    pub ration_id: String,
    /// The bunk call, kg as fed.
    pub target_kg: f64,
    /// What the scale says was delivered, kg as fed.
    pub delivered_kg: f64,
    /// Who drove.
    pub operator: String,
}

fn json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, PayloadError> {
    serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))
}

fn invalid(e: schemas::ValidationError) -> PayloadError {
    PayloadError::Invalid(e.to_string())
}

/// Decodes a device message into its event id (minted on the truck), capture time and event,
/// checked with the schema's own validation.
pub fn device_event(
    topic: &DeviceTopic,
    bytes: &[u8],
) -> Result<(Uuid, DateTime<Utc>, Event), PayloadError> {
    match topic.kind {
        TopicKind::Load => {
            let p: FeedLoadPayload = json(bytes)?;
            let load = FeedLoad {
                ration_id: p.ration_id,
                batch_id: p.batch_id,
                truck_id: topic.truck_id.clone(),
                operator: p.operator,
                ingredients: p
                    .ingredients
                    .into_iter()
                    .map(|i| LoadIngredient {
                        ingredient: i.ingredient,
                        weight_kg: i.weight_kg,
                    })
                    .collect(),
            };
            load.validate().map_err(invalid)?;
            Ok((p.event_id, p.recorded_at, Event::FeedLoad(load)))
        }
        TopicKind::Delivery => {
            let p: FeedDeliveryPayload = json(bytes)?;
            let delivery = FeedDelivery {
                pen_id: p.pen,
                ration_id: p.ration_id,
                target_kg: p.target_kg,
                delivered_kg: p.delivered_kg,
                truck_id: topic.truck_id.clone(),
                operator: p.operator,
            };
            delivery.validate().map_err(invalid)?;
            Ok((p.event_id, p.recorded_at, Event::FeedDelivery(delivery)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_topics_parse_and_others_are_refused() {
        let t = DeviceTopic::parse("feedlot/yard-1/truck/T7/load").unwrap();
        assert_eq!(
            (t.feedlot_id.as_str(), t.truck_id.as_str(), t.kind),
            ("yard-1", "T7", TopicKind::Load)
        );
        assert_eq!(t.ack_topic(), "feedlot/yard-1/truck/T7/ack");
        assert!(DeviceTopic::parse("feedlot/yard-1/truck/T7/fuel").is_err());
        assert!(DeviceTopic::parse("feedlot//truck/T7/load").is_err());
    }

    fn delivery_topic() -> DeviceTopic {
        DeviceTopic::parse("feedlot/y/truck/T1/delivery").unwrap()
    }

    #[test]
    fn a_delivery_decodes_and_bad_fields_are_named() {
        let ok = br#"{"event_id":"01a211ae-46ed-7297-8e76-dcb33bd1a1cf","recorded_at":"2026-11-25T06:00:00Z","pen":"P12","ration_id":"finisher","target_kg":4200,"delivered_kg":4185.5,"operator":"sam"}"#;
        let (_, _, event) = device_event(&delivery_topic(), ok).unwrap();
        let Event::FeedDelivery(d) = event else {
            panic!("not a delivery")
        };
        assert_eq!(
            (d.pen_id.as_str(), d.delivered_kg, d.truck_id.as_str()),
            ("P12", 4185.5, "T1")
        );
        let negative = String::from_utf8_lossy(ok).replace("4185.5", "-3");
        let err = device_event(&delivery_topic(), negative.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("delivered_kg"), "{err}");
        let missing = String::from_utf8_lossy(ok).replace(r#""pen":"P12","#, "");
        assert!(
            device_event(&delivery_topic(), missing.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("pen")
        );
        assert!(matches!(
            device_event(&delivery_topic(), b"\xff garbage"),
            Err(PayloadError::Json(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn no_topic_or_payload_makes_the_decoder_panic(
            topic in proptest::prelude::any::<String>(),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        ) {
            let _ = DeviceTopic::parse(&topic);
            for kind in ["load", "delivery"] {
                let topic = DeviceTopic::parse(&format!("feedlot/y/truck/T1/{kind}")).unwrap();
                let _ = device_event(&topic, &bytes);
            }
        }

        #[test]
        fn any_delivery_values_decode_or_are_refused_with_a_reason(
            pen in ".{0,20}",
            target_kg in proptest::prelude::any::<f64>(),
            delivered_kg in proptest::prelude::any::<f64>(),
        ) {
            let payload = serde_json::json!({"event_id": Uuid::now_v7(), "recorded_at": "2026-11-25T06:00:00Z",
                "pen": pen, "ration_id": "r", "target_kg": target_kg, "delivered_kg": delivered_kg, "operator": "sam"});
            match device_event(&delivery_topic(), payload.to_string().as_bytes()) {
                Ok((_, _, Event::FeedDelivery(d))) => {
                    proptest::prop_assert_eq!(d.pen_id, pen);
                    proptest::prop_assert!(d.delivered_kg.is_finite() && d.delivered_kg >= 0.0);
                }
                Ok(other) => proptest::prop_assert!(false, "not a delivery: {other:?}"),
                Err(error) => proptest::prop_assert!(!error.to_string().is_empty()),
            }
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn device_times_near_the_gateway_clock_or_in_the_past_are_kept_as_they_are() {
        let now = at("2026-11-25T10:00:00Z");
        for t in [
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:05:00Z", // exactly the allowed drift
            "2026-11-25T09:59:59.999Z",
            "2026-11-20T04:00:00Z", // buffered while out of range
            "2025-11-24T10:00:00Z", // exactly the allowed age
        ] {
            assert_eq!(check_device_time(at(t), now), Ok(at(t)), "{t}");
        }
    }

    #[test]
    fn a_device_clock_too_far_ahead_is_refused_with_how_far() {
        let now = at("2026-11-25T10:00:00Z");
        let err = check_device_time(at("2026-11-25T10:05:01Z"), now).unwrap_err();
        assert_eq!(
            err,
            PayloadError::ClockAhead {
                recorded_at: at("2026-11-25T10:05:01Z"),
                ahead_secs: 301
            }
        );
        let text = check_device_time(at("2027-01-01T00:00:00Z"), now)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("ahead of the gateway's clock") && text.contains("3160800 s"),
            "{text}"
        );
    }

    #[test]
    fn a_reset_or_unset_device_clock_is_refused_as_too_old() {
        let now = at("2026-11-25T10:00:00Z");
        let err = check_device_time(at("1970-01-01T00:00:00Z"), now).unwrap_err();
        assert!(
            matches!(err, PayloadError::ClockBehind { behind_days, .. } if behind_days == 20_782),
            "{err:?}"
        );
        assert!(matches!(
            check_device_time(at("2025-11-24T09:59:59Z"), now),
            Err(PayloadError::ClockBehind { .. })
        ));
    }

    #[test]
    fn a_load_needs_ingredients() {
        let empty = br#"{"event_id":"01a211ae-46ed-7297-8e76-dcb33bd1a1cf","recorded_at":"2026-11-25T06:00:00Z","ration_id":"r","batch_id":"b1","operator":"sam","ingredients":[]}"#;
        let topic = DeviceTopic::parse("feedlot/y/truck/T1/load").unwrap();
        assert!(
            device_event(&topic, empty)
                .unwrap_err()
                .to_string()
                .contains("ingredients")
        );
    }
}
