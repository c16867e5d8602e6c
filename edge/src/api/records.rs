//! `POST /api/v1/records/{kind}`: one record, checked, committed, answered.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use schemas::{
    Arrival, Correction, Death, Envelope, Event, FeedDelivery, FeedPurchase, LotDeath,
    LotTreatment, PenMove, Placement, Ration, Shipment, ShipmentPlan, Treatment, YardageRate,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth::authenticate;
use super::{ApiError, ApiState, ApiToken, Role, bounds};
use crate::event_time::OutOfWindow;
use crate::outbox::once::{self, Once};

/// The header carrying a client-made UUIDv7 that makes a retried POST record once.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// One record kind: its path segment, who may submit it, and how its body becomes an event.
struct Kind {
    path: &'static str,
    roles: &'static [Role],
    parse: fn(&[u8]) -> Result<Event, ApiError>,
}

use Role::{Manager, Operator, Vet};

const KINDS: [Kind; 14] = [
    Kind {
        path: "arrivals",
        roles: &[Operator, Manager],
        parse: |b| {
            let b = with_both_weights(b, "pay_weight_kg", "pay_weight_per_head_kg");
            Ok(Event::Arrival(body::<Arrival>(&b)?))
        },
    },
    Kind {
        path: "treatments",
        roles: &[Vet, Manager],
        parse: |b| Ok(Event::Treatment(body::<Treatment>(b)?)),
    },
    Kind {
        path: "pen-moves",
        roles: &[Operator, Manager],
        parse: |b| Ok(Event::PenMove(body::<PenMove>(b)?)),
    },
    Kind {
        path: "deaths",
        roles: &[Operator, Vet, Manager],
        parse: |b| Ok(Event::Death(body::<Death>(b)?)),
    },
    Kind {
        path: "shipments",
        roles: &[Operator, Manager],
        parse: |b| {
            let b = with_both_weights(b, "weight_kg", "weight_per_head_kg");
            Ok(Event::Shipment(body::<Shipment>(&b)?))
        },
    },
    Kind {
        path: "feed-purchases",
        roles: &[Manager],
        parse: |b| Ok(Event::FeedPurchase(body::<FeedPurchase>(b)?)),
    },
    Kind {
        path: "rations",
        roles: &[Manager],
        parse: |b| Ok(Event::Ration(body::<Ration>(b)?)),
    },
    Kind {
        path: "yardage-rates",
        roles: &[Manager],
        parse: |b| Ok(Event::YardageRate(body::<YardageRate>(b)?)),
    },
    Kind {
        path: "placements",
        roles: &[Operator, Manager],
        parse: |b| Ok(Event::Placement(body::<Placement>(b)?)),
    },
    Kind {
        path: "lot-deaths",
        roles: &[Operator, Vet, Manager],
        parse: |b| Ok(Event::LotDeath(body::<LotDeath>(b)?)),
    },
    Kind {
        path: "lot-treatments",
        roles: &[Vet, Manager],
        parse: |b| Ok(Event::LotTreatment(body::<LotTreatment>(b)?)),
    },
    Kind {
        path: "feed-deliveries",
        roles: &[Operator, Manager],
        parse: |b| Ok(Event::FeedDelivery(body::<FeedDelivery>(b)?)),
    },
    // Whoever may record a shipment may plan one.
    Kind {
        path: "shipment-plans",
        roles: &[Operator, Manager],
        parse: |b| Ok(Event::ShipmentPlan(body::<ShipmentPlan>(b)?)),
    },
    // Any role may correct, but only records of a kind it may submit ([`may_correct`]).
    Kind {
        path: CORRECTIONS,
        roles: &[Operator, Vet, Manager],
        parse: |b| Ok(Event::Correction(body::<Correction>(b)?)),
    },
];

/// The path of corrections (`POST /api/v1/records/corrections`, docs/corrections.md).
pub const CORRECTIONS: &str = "corrections";

/// The records API path of each kind a correction may name; weighings come from scales, and
/// whoever may record cattle work may correct them.
const CORRECTED_PATHS: [(schemas::EventKind, &str); 13] = {
    use schemas::EventKind as K;
    [
        (K::Weighing, "placements"),
        (K::FeedDelivery, "feed-deliveries"),
        (K::Treatment, "treatments"),
        (K::LotTreatment, "lot-treatments"),
        (K::Death, "deaths"),
        (K::LotDeath, "lot-deaths"),
        (K::Arrival, "arrivals"),
        (K::PenMove, "pen-moves"),
        (K::Shipment, "shipments"),
        (K::FeedPurchase, "feed-purchases"),
        (K::YardageRate, "yardage-rates"),
        (K::Placement, "placements"),
        (K::ShipmentPlan, "shipment-plans"),
    ]
};

/// Checks `caller` may correct the record `correction` names: a role that may submit a
/// record of its kind (a vet may amend a treatment, not a feed purchase).
fn may_correct(caller: &ApiToken, correction: &Correction) -> Result<(), ApiError> {
    let path = CORRECTED_PATHS
        .iter()
        .find(|(k, _)| k.as_str() == correction.record_kind)
        .map(|(_, path)| *path);
    // An unknown kind is refused by validation, naming the field.
    let Some(path) = path else { return Ok(()) };
    allowed(caller, path).map_err(|_| ApiError::Forbidden {
        role: caller.role.as_str(),
        kind: format!("{CORRECTIONS} of {}", correction.record_kind),
    })
}

/// A body stating a weight as the total (`total`, kg for all head) or per head (`per_head`,
/// kg), or both, with the missing one worked out from `head_count`: the record carries both.
/// A body that is not a JSON object, or lacks a number needed, is returned as it was (decoding
/// then names what is missing or wrong).
fn with_both_weights(bytes: &[u8], total: &str, per_head: &str) -> Vec<u8> {
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.to_vec();
    };
    let number = |name: &str| fields.get(name).and_then(Value::as_f64);
    let Some(head) = fields
        .get("head_count")
        .and_then(Value::as_u64)
        .and_then(|h| u32::try_from(h).ok())
    else {
        return bytes.to_vec();
    };
    let (total_kg, per_head_kg) =
        schemas::movement::total_and_per_head_kg(number(total), number(per_head), head);
    for (name, kg) in [(total, total_kg), (per_head, per_head_kg)] {
        if let (false, Some(kg)) = (fields.contains_key(name), kg) {
            fields.insert(name.to_owned(), json!(kg));
        }
    }
    serde_json::to_vec(&Value::Object(fields)).unwrap_or_else(|_| bytes.to_vec())
}

/// Each kind's path segment and the roles that may submit it.
pub(super) fn kinds() -> impl Iterator<Item = (&'static str, &'static [Role])> {
    KINDS.iter().map(|k| (k.path, k.roles))
}

/// Decodes a record strictly: a missing or mistyped field is named by its path, and a field
/// the record does not have is refused rather than silently dropped.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignored = serde_ignored::Deserializer::new(&mut de, &mut on_unknown);
    let value: T = serde_path_to_error::deserialize(ignored).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // A missing field is reported at the record's root: name it from the message.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        ApiError::Malformed {
            field: if path == "." { missing } else { Some(path) },
            message,
        }
    })?;
    if let Some(field) = unknown.into_iter().next() {
        return Err(ApiError::Malformed {
            message: format!("unknown field `{field}`"),
            field: Some(field),
        });
    }
    Ok(value)
}

/// `?occurred_at=` for a record entered after the fact (UTC, RFC 3339); default: now.
#[derive(Debug, Deserialize)]
pub struct When {
    occurred_at: Option<DateTime<Utc>>,
}

/// Checks the caller, the kind and the record, commits it to the outbox, answers its id.
pub async fn submit(
    State(state): State<ApiState>,
    Path(kind): Path<String>,
    Query(when): Query<When>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = authenticate(&headers, &state.tokens)?;
    let key = idempotency_key(&headers, Utc::now())?;
    let recorded = record(&state, caller, &kind, when.occurred_at, key, &bytes).await?;
    Ok(created(recorded.event_id, &kind, recorded.replayed))
}

/// A record committed to the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Its event id (the first send's, when replayed).
    pub event_id: uuid::Uuid,
    /// True when the idempotency key had recorded it already.
    pub replayed: bool,
}

/// The roles that may submit `kind`, or why there is no such kind.
pub fn roles_of(kind: &str) -> Result<&'static [Role], ApiError> {
    KINDS
        .iter()
        .find(|k| k.path == kind)
        .map(|k| k.roles)
        .ok_or_else(|| ApiError::UnknownKind(kind.to_owned()))
}

/// Checks `caller` may submit `kind`.
pub fn allowed(caller: &ApiToken, kind: &str) -> Result<(), ApiError> {
    if roles_of(kind)?.contains(&caller.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            role: caller.role.as_str(),
            kind: kind.to_owned(),
        })
    }
}

/// Checks `bytes` as a record of `kind` (role, bounds, fields, values) and the event it makes,
/// without recording it.
pub fn checked_event(caller: &ApiToken, kind: &str, bytes: &[u8]) -> Result<Event, ApiError> {
    allowed(caller, kind)?;
    let event = parse_checked(kind, bytes)?;
    if let Event::Correction(correction) = &event {
        may_correct(caller, correction)?;
    }
    Ok(event)
}

/// Checks `bytes` as a record of `kind` (bounds, fields, values), whoever sends it: for a
/// form that records several kinds under its own role check (processing at the chute).
pub fn parse_checked(kind: &str, bytes: &[u8]) -> Result<Event, ApiError> {
    let spec = KINDS
        .iter()
        .find(|k| k.path == kind)
        .ok_or_else(|| ApiError::UnknownKind(kind.to_owned()))?;
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        bounds::check(&value)?;
    }
    let event = (spec.parse)(bytes)?;
    event.validate()?;
    Ok(event)
}

/// The envelope of `event` recorded by `caller` now (or at `occurred_at`, when the gateway
/// believes it).
pub fn envelope_of(
    state: &ApiState,
    caller: &ApiToken,
    occurred_at: Option<DateTime<Utc>>,
    event: Event,
) -> Result<Envelope, ApiError> {
    let now = Utc::now();
    let captured_at = match occurred_at {
        Some(at) => self::occurred_at(at, now)?,
        None => now,
    };
    Ok(Envelope::new(
        &state.feedlot_id,
        &state.gateway_id,
        format!("api:{}", caller.user),
        captured_at,
        event,
    ))
}

/// The records API's whole path for one record of `kind` from `caller`, shared by the API and
/// the entry forms: checked, then committed to the outbox (once per idempotency `key`).
pub async fn record(
    state: &ApiState,
    caller: &ApiToken,
    kind: &str,
    occurred_at: Option<DateTime<Utc>>,
    key: Option<uuid::Uuid>,
    bytes: &[u8],
) -> Result<Recorded, ApiError> {
    let event = checked_event(caller, kind, bytes)?;
    let envelope = envelope_of(state, caller, occurred_at, event)?;
    let Some(key) = key else {
        state
            .writer
            .append_envelopes(std::slice::from_ref(&envelope))
            .await
            .map_err(|e| ApiError::from_outbox(&e))?;
        tracing::info!(kind, user = %caller.user, event_id = %envelope.event_id, "record captured");
        return Ok(Recorded {
            event_id: envelope.event_id,
            replayed: false,
        });
    };
    let print = fingerprint(&caller.user, kind, occurred_at, bytes);
    let outcome = state
        .writer
        .append_envelope_once(&envelope, key, print)
        .await
        .map_err(|e| ApiError::from_outbox(&e))?;
    match outcome {
        Once::Appended(_) => {
            tracing::info!(kind, user = %caller.user, event_id = %envelope.event_id, %key, "record captured");
            Ok(Recorded {
                event_id: envelope.event_id,
                replayed: false,
            })
        }
        Once::Replayed(event_id) => {
            tracing::info!(kind, user = %caller.user, %event_id, %key, "retried record not recorded again");
            Ok(Recorded {
                event_id,
                replayed: true,
            })
        }
        Once::Conflict(event_id) => Err(ApiError::KeyReused { key, event_id }),
    }
}

/// The answer to a record captured (or, `replayed`, captured before under the same key).
fn created(event_id: uuid::Uuid, kind: &str, replayed: bool) -> (StatusCode, Json<Value>) {
    let mut body = json!({"event_id": event_id, "kind": kind});
    if replayed {
        body["replayed"] = Value::Bool(true);
    }
    (StatusCode::CREATED, Json(body))
}

/// `occurred_at` if the gateway believes it: the window MQTT device times get
/// ([`crate::event_time`]).
fn occurred_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let message = match crate::event_time::check(at, now) {
        Ok(()) => return Ok(at),
        Err(OutOfWindow::Ahead { secs }) => format!(
            "occurred_at {at} is {secs} s in the future (at most {} s allowed)",
            crate::event_time::MAX_AHEAD_SECS
        ),
        Err(OutOfWindow::Behind { days }) => format!(
            "occurred_at {at} is {days} days in the past (at most {} allowed)",
            crate::event_time::MAX_AGE_DAYS
        ),
    };
    Err(ApiError::Malformed {
        field: Some("occurred_at".into()),
        message,
    })
}

/// The `Idempotency-Key` header, if sent: a UUIDv7 whose time the gateway still remembers.
fn idempotency_key(
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Option<uuid::Uuid>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let bad = |message: String| ApiError::BadHeader {
        header: IDEMPOTENCY_KEY,
        message: format!("{IDEMPOTENCY_KEY} {message}"),
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| uuid::Uuid::try_parse(v.trim()).ok())
        .ok_or_else(|| bad("must be a UUID (version 7)".into()))?;
    if key.get_version() != Some(uuid::Version::SortRand) {
        return Err(bad(format!(
            "must be a UUID version 7, not version {}",
            key.get_version_num()
        )));
    }
    if !once::key_in_window(key, now.timestamp_millis()) {
        return Err(bad(format!(
            "{key} was made more than {} days ago or is ahead of the gateway's clock: make a new key",
            once::RETENTION_DAYS
        )));
    }
    Ok(Some(key))
}

/// What identifies a request for its idempotency key: who sent which kind, the time asked
/// for and the body's bytes.
fn fingerprint(
    user: &str,
    kind: &str,
    occurred_at: Option<DateTime<Utc>>,
    body: &[u8],
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let at = occurred_at.map(|at| at.timestamp_micros().to_string());
    let mut hash = Sha256::new();
    for part in [
        user.as_bytes(),
        kind.as_bytes(),
        at.unwrap_or_default().as_bytes(),
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(body);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_path_and_a_manager_may_submit_all() {
        let mut paths: Vec<_> = KINDS.iter().map(|k| k.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), KINDS.len());
        assert!(KINDS.iter().all(|k| k.roles.contains(&Manager)));
    }

    #[test]
    fn an_arrival_may_state_its_pay_weight_per_head_or_for_the_lot() {
        let per_head = br#"{"lot_id":"L1","head_count":1000,"origin":"NE","pay_weight_per_head_kg":250,"shrink_pct":4,"purchase_price_minor":1,"currency":"USD"}"#;
        let Ok(Event::Arrival(a)) = (KINDS[0].parse)(per_head) else {
            panic!("refused a per-head pay weight")
        };
        assert_eq!(
            (a.pay_weight_kg, a.pay_weight_per_head_kg),
            (250_000.0, Some(250.0))
        );
        let total = br#"{"lot_id":"L1","head_count":1000,"origin":"NE","pay_weight_kg":250000,"shrink_pct":4,"purchase_price_minor":1,"currency":"USD"}"#;
        let Ok(Event::Arrival(a)) = (KINDS[0].parse)(total) else {
            panic!("refused a total pay weight")
        };
        assert_eq!(a.pay_weight_per_head_kg, Some(250.0));
        let both = br#"{"lot_id":"L1","head_count":1000,"origin":"NE","pay_weight_kg":250,"pay_weight_per_head_kg":250,"shrink_pct":4,"purchase_price_minor":1,"currency":"USD"}"#;
        let Ok(Event::Arrival(a)) = (KINDS[0].parse)(both) else {
            panic!("refused both")
        };
        assert_eq!(
            a.validate().unwrap_err().field,
            "pay_weight_per_head_kg",
            "a per-head weight sent as the lot's total is caught"
        );
        let neither = br#"{"lot_id":"L1","head_count":1000,"origin":"NE","shrink_pct":4,"purchase_price_minor":1,"currency":"USD"}"#;
        let Err(ApiError::Malformed { message, .. }) = (KINDS[0].parse)(neither) else {
            panic!("accepted no pay weight")
        };
        assert!(message.contains("pay_weight_kg"), "{message}");
    }

    #[test]
    fn a_correction_is_refused_to_a_role_that_may_not_record_its_kind() {
        let token = |role| ApiToken {
            token: "t".into(),
            user: "kim".into(),
            role,
        };
        let body = br#"{"corrects_event_id":"0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7092","record_kind":"treatment","action":"void","reason":"wrong animal"}"#;
        assert!(checked_event(&token(Vet), CORRECTIONS, body).is_ok());
        let Err(ApiError::Forbidden { kind, .. }) =
            checked_event(&token(Operator), CORRECTIONS, body)
        else {
            panic!("an operator voided a treatment")
        };
        assert_eq!(kind, "corrections of treatment");
        let no_reason = br#"{"corrects_event_id":"0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7092","record_kind":"treatment","action":"void","reason":""}"#;
        let Err(ApiError::Invalid(e)) = checked_event(&token(Vet), CORRECTIONS, no_reason) else {
            panic!("a correction without a reason")
        };
        assert_eq!(e.field, "reason");
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let typo = br#"{"eid":"982000000000001","cause":"bloat","pen_Id":"P1"}"#;
        let Err(ApiError::Malformed { field, .. }) = body::<Death>(typo) else {
            panic!("accepted a typo")
        };
        assert_eq!(field.as_deref(), Some("pen_Id"));
        let mistyped = br#"{"lot_id":"L1","head_count":"many","origin":"NE","pay_weight_kg":1,"shrink_pct":4,"purchase_price_minor":1,"currency":"USD"}"#;
        let Err(ApiError::Malformed { field, .. }) = body::<Arrival>(mistyped) else {
            panic!("accepted a string head count")
        };
        assert_eq!(field.as_deref(), Some("head_count"));
    }

    #[test]
    fn occurred_at_is_refused_outside_the_mqtt_window_with_the_field_named() {
        let now = Utc::now();
        assert!(occurred_at(now - chrono::Duration::days(30), now).is_ok());
        for at in [
            now + chrono::Duration::minutes(10),
            now - chrono::Duration::days(400),
        ] {
            let Err(ApiError::Malformed { field, message }) = occurred_at(at, now) else {
                panic!("accepted {at}")
            };
            assert_eq!(field.as_deref(), Some("occurred_at"), "{message}");
        }
    }

    #[test]
    fn only_a_recent_uuid_v7_is_an_idempotency_key() {
        let now = Utc::now();
        let with = |v: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(IDEMPOTENCY_KEY, v.parse().unwrap());
            idempotency_key(&headers, now)
        };
        assert_eq!(idempotency_key(&HeaderMap::new(), now).unwrap(), None);
        let key = uuid::Uuid::now_v7();
        assert_eq!(with(&key.to_string()).unwrap(), Some(key));
        for bad in [
            "not-a-uuid",
            &uuid::Uuid::new_v4().to_string(),
            "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        ] {
            let Err(ApiError::BadHeader { header, message }) = with(bad) else {
                panic!("accepted {bad}")
            };
            assert_eq!(header, IDEMPOTENCY_KEY, "{message}");
        }
    }

    #[test]
    fn the_fingerprint_tells_apart_user_kind_time_and_body() {
        let base = fingerprint("sam", "deaths", None, b"{}");
        assert_eq!(base, fingerprint("sam", "deaths", None, b"{}"));
        assert_ne!(base, fingerprint("kim", "deaths", None, b"{}"));
        assert_ne!(base, fingerprint("sam", "arrivals", None, b"{}"));
        assert_ne!(base, fingerprint("sam", "deaths", Some(Utc::now()), b"{}"));
        assert_ne!(base, fingerprint("sam", "deaths", None, b"{ }"));
    }
}
