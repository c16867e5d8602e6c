//! The import API: `POST /api/v1/imports/preview` and `POST /api/v1/imports/confirm`, and the
//! steps both the API and the page take.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::manifest::{self, LotFields, Preview, RowError};
use super::{ImportState, ROLES};
use crate::api::{ApiError, ApiToken};
use crate::outbox::once::{self, Once};

/// The caller, if their token may import.
pub(super) fn caller<'a>(
    headers: &HeaderMap,
    state: &'a ImportState,
) -> Result<&'a ApiToken, ApiError> {
    let caller = crate::api::authenticate_page(headers, &state.tokens)?;
    if !ROLES.contains(&caller.role) {
        return Err(ApiError::Forbidden {
            role: caller.role.as_str(),
            kind: "imports".into(),
        });
    }
    Ok(caller)
}

/// Step 1: reads the manifest against the gateway's registry. Records nothing.
pub(super) async fn run_preview(
    state: &ImportState,
    fields: &LotFields,
    csv: Bytes,
    now: DateTime<Utc>,
) -> Result<(Preview, Option<manifest::Lot>), ApiError> {
    let lot = fields.check();
    let registry = state.registry.clone();
    let (mut preview, lot) = tokio::task::spawn_blocking(move || {
        let on_yard = |eid: &schemas::Eid| match registry.get(eid.as_str()) {
            Ok(Some(animal)) if !animal.dead => Some(match animal.pen_id {
                Some(pen) => format!("in pen {pen}"),
                None => "recorded at this gateway".to_owned(),
            }),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "import preview could not read the registry");
                None
            }
        };
        (manifest::preview(&csv, &lot, &on_yard), lot.ok())
    })
    .await
    .map_err(|e| ApiError::Storage(e.to_string()))?;
    if let Some(at) = lot.as_ref().and_then(|l| l.occurred_at)
        && crate::event_time::check(at, now).is_err()
    {
        preview.errors.insert(
            0,
            RowError {
                line: None,
                field: "occurred_at".into(),
                message: format!(
                    "{at} is outside what the gateway accepts (at most {} days ago, not in the future)",
                    crate::event_time::MAX_AGE_DAYS
                ),
            },
        );
    }
    Ok((preview, lot))
}

/// What a confirm did.
pub(super) enum Confirmed {
    /// The manifest has errors: nothing recorded.
    Refused(Preview),
    /// Recorded (or, `replayed`, recorded before under the same import id).
    Recorded {
        /// The preview it recorded.
        preview: Preview,
        /// The arrival's event id.
        event_id: Uuid,
        /// Events committed.
        events: usize,
        /// Whether this confirm was a re-submission that recorded nothing.
        replayed: bool,
    },
}

/// An import id: a UUIDv7 the gateway still remembers keys for.
pub(super) fn import_id(text: &str, now: DateTime<Utc>) -> Result<Uuid, ApiError> {
    let bad = |message: String| ApiError::Malformed {
        field: Some("import_id".into()),
        message,
    };
    let id = Uuid::try_parse(text.trim())
        .map_err(|_| bad("import_id must be the UUID the preview answered".into()))?;
    if id.get_version() != Some(uuid::Version::SortRand) {
        return Err(bad("import_id must be a UUID version 7".into()));
    }
    if !once::key_in_window(id, now.timestamp_millis()) {
        return Err(bad(format!(
            "import_id {id} is older than {} days or ahead of the gateway's clock: preview again",
            once::RETENTION_DAYS
        )));
    }
    Ok(id)
}

/// Step 2: records a clean manifest once per `import_id`.
pub(super) async fn run_confirm(
    state: &ImportState,
    caller: &ApiToken,
    fields: &LotFields,
    id: Uuid,
    csv: Bytes,
) -> Result<Confirmed, ApiError> {
    let now = Utc::now();
    let print = fingerprint(&caller.user, fields, &csv);
    // A re-submitted confirm: its animals are on the yard now, so answer before the preview
    // would call them duplicates. (The keyed append below still settles a race.)
    if let Some((event_id, seen)) = state
        .writer
        .key_seen(id)
        .await
        .map_err(|e| ApiError::from_outbox(&e))?
    {
        if seen != print {
            return Err(reused(id, event_id));
        }
        let preview = manifest::preview(&csv, &fields.check(), &|_| None);
        tracing::info!(user = %caller.user, import_id = %id, %event_id, "re-submitted import not recorded again");
        return Ok(Confirmed::Recorded {
            events: 1 + 2 * preview.head,
            preview,
            event_id,
            replayed: true,
        });
    }
    let (preview, lot) = run_preview(state, fields, csv, now).await?;
    let Some(lot) = lot.filter(|_| preview.ok()) else {
        return Ok(Confirmed::Refused(preview));
    };
    let at = lot.occurred_at.unwrap_or(now);
    let device = format!("api:{}", caller.user);
    let Some(envelopes) = manifest::events(
        &preview,
        &lot,
        at,
        &state.feedlot_id,
        &state.gateway_id,
        &device,
    ) else {
        return Ok(Confirmed::Refused(preview));
    };
    for envelope in &envelopes {
        envelope.validate()?;
    }
    let events = envelopes.len();
    let outcome = state
        .writer
        .append_envelopes_once(&envelopes, id, print)
        .await
        .map_err(|e| ApiError::from_outbox(&e))?;
    match outcome {
        Once::Appended(_) => {
            let event_id = envelopes.first().map(|e| e.event_id).unwrap_or_default();
            tracing::info!(user = %caller.user, import_id = %id, %event_id, head = preview.head, events, "manifest imported");
            Ok(Confirmed::Recorded {
                preview,
                event_id,
                events,
                replayed: false,
            })
        }
        Once::Replayed(event_id) => {
            tracing::info!(user = %caller.user, import_id = %id, %event_id, "re-submitted import not recorded again");
            Ok(Confirmed::Recorded {
                preview,
                event_id,
                events,
                replayed: true,
            })
        }
        Once::Conflict(event_id) => Err(reused(id, event_id)),
    }
}

/// An import id already used for another manifest or lot.
fn reused(id: Uuid, event_id: Uuid) -> ApiError {
    ApiError::Malformed {
        field: Some("import_id".into()),
        message: format!(
            "import_id {id} already recorded a different manifest or lot (arrival {event_id}); \
             preview again for a new import_id"
        ),
    }
}

/// Who imported what: the user, the lot fields and the manifest's bytes.
fn fingerprint(user: &str, fields: &LotFields, csv: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let lot = serde_json::to_vec(fields).unwrap_or_default();
    let mut hash = Sha256::new();
    for part in [user.as_bytes(), b"imports".as_slice(), lot.as_slice(), csv] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// The preview as JSON.
pub(super) fn preview_json(preview: &Preview) -> Value {
    json!({
        "ok": preview.ok(),
        "head": preview.head,
        "total_weight_kg": preview.total_weight_kg,
        "average_weight_kg": preview.average_weight_kg,
        "weight_unit": preview.weight_unit,
        "source": preview.source,
        "errors": preview.errors,
        "rows": preview.rows,
    })
}

/// `POST /api/v1/imports/preview?lot_id=…&pen_id=…` with the CSV as the body.
pub async fn preview(
    State(state): State<ImportState>,
    Query(fields): Query<LotFields>,
    headers: HeaderMap,
    csv: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller(&headers, &state)?;
    let (preview, _) = run_preview(&state, &fields, csv, Utc::now()).await?;
    let mut body = preview_json(&preview);
    body["import_id"] = json!(Uuid::now_v7());
    Ok(Json(body))
}

/// The confirm's query: the lot fields and the preview's import id.
#[derive(Debug, Deserialize)]
pub struct ConfirmQuery {
    #[serde(flatten)]
    fields: LotFields,
    #[serde(default)]
    import_id: String,
}

/// `POST /api/v1/imports/confirm?import_id=…&lot_id=…&pen_id=…` with the CSV as the body.
pub async fn confirm(
    State(state): State<ImportState>,
    Query(query): Query<ConfirmQuery>,
    headers: HeaderMap,
    csv: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = caller(&headers, &state)?;
    let id = import_id(&query.import_id, Utc::now())?;
    match run_confirm(&state, caller, &query.fields, id, csv).await? {
        Confirmed::Refused(preview) => {
            let mut body = preview_json(&preview);
            body["error"] = json!("the manifest has errors; nothing was recorded");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)))
        }
        Confirmed::Recorded {
            preview,
            event_id,
            events,
            replayed,
        } => {
            let mut body = json!({"import_id": id, "event_id": event_id, "events": events,
                                  "head": preview.head, "total_weight_kg": preview.total_weight_kg});
            if replayed {
                body["replayed"] = Value::Bool(true);
            }
            Ok((StatusCode::CREATED, Json(body)))
        }
    }
}
