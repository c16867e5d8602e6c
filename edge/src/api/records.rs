//! `POST /api/v1/records/{kind}`: one record, checked, committed, answered.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use schemas::{
    Arrival, Death, Envelope, Event, FeedPurchase, PenMove, Placement, Ration, Shipment, Treatment,
    YardageRate,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth::authenticate;
use super::{ApiError, ApiState, Role};

/// How far in the future an `occurred_at` may be (clock differences), seconds.
const MAX_FUTURE_SECS: i64 = 300;

/// One record kind: its path segment, who may submit it, and how its body becomes an event.
struct Kind {
    path: &'static str,
    roles: &'static [Role],
    parse: fn(&[u8]) -> Result<Event, ApiError>,
}

use Role::{Manager, Operator, Vet};

const KINDS: [Kind; 9] = [
    Kind {
        path: "arrivals",
        roles: &[Operator, Manager],
        parse: |b| Ok(Event::Arrival(body::<Arrival>(b)?)),
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
        parse: |b| Ok(Event::Shipment(body::<Shipment>(b)?)),
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
];

/// Decodes a record strictly: a missing or mistyped field is named by its path, and a field
/// the record does not have is refused rather than silently dropped.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignored = serde_ignored::Deserializer::new(&mut de, &mut on_unknown);
    let value: T = serde_path_to_error::deserialize(ignored).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Malformed {
            field: (path != ".").then_some(path),
            message: e.into_inner().to_string(),
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
    let spec = KINDS
        .iter()
        .find(|k| k.path == kind)
        .ok_or_else(|| ApiError::UnknownKind(kind.clone()))?;
    if !spec.roles.contains(&caller.role) {
        return Err(ApiError::Forbidden {
            role: caller.role.as_str(),
            kind,
        });
    }
    let event = (spec.parse)(&bytes)?;
    event.validate()?;
    let now = Utc::now();
    let captured_at = match when.occurred_at {
        Some(at) if at > now + chrono::Duration::seconds(MAX_FUTURE_SECS) => {
            return Err(ApiError::Malformed {
                field: Some("occurred_at".into()),
                message: format!("occurred_at {at} is in the future"),
            });
        }
        Some(at) => at,
        None => now,
    };
    let envelope = Envelope::new(
        &state.feedlot_id,
        &state.gateway_id,
        format!("api:{}", caller.user),
        captured_at,
        event,
    );
    state
        .writer
        .append_envelopes(std::slice::from_ref(&envelope))
        .await
        .map_err(|e| ApiError::from_outbox(&e))?;
    tracing::info!(kind, user = %caller.user, event_id = %envelope.event_id, "record captured");
    Ok((
        StatusCode::CREATED,
        Json(json!({"event_id": envelope.event_id, "kind": kind})),
    ))
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
}
