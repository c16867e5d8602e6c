//! Export of animal records as ICAR Animal Data Exchange (ADE) JSON (see [`resources`] for the
//! shapes and identifiers; `docs/ade-export.md` for what is covered):
//!
//! - `GET /api/feedlots/{feedlot_id}/animals/{eid}/ade`: one animal's resources, its
//!   `icarAnimalCoreResource` first, then its events in time order (`?since=` RFC 3339 keeps
//!   the events at or after it); an empty `member` when nothing is recorded for the EID at
//!   this yard (as any unknown tag's report).
//! - `GET /api/feedlots/{feedlot_id}/ade/animals?since=&after=&limit=`: the yard's animals
//!   with an event at or after `since` (default: all), by EID, `limit` animals a page (default
//!   100, at most [`MAX_PAGE_ANIMALS`]); `view.next` is the next page's path, `null` on the last.
//!
//! Both answer an ICAR collection: `{"member": [...], "view": {...}}`. Signed-in users of the
//! yard only (the guard in [`super::auth`], as every `/api/feedlots/{feedlot_id}/…` route).

pub mod resources;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use schemas::Eid;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::queries::live;
use resources::{
    AnimalRows, ArrivalRow, DeathRow, PenMoveRow, PlacementRow, ShipmentRow, TreatmentRow,
    WeighingRow,
};

use crate::web::{AppState, WebError};

/// Most animals on one page of the yard-wide export.
pub const MAX_PAGE_ANIMALS: u64 = 1000;
/// Animals on a page when `limit` is not given.
pub const DEFAULT_PAGE_ANIMALS: u64 = 100;

/// `?since=` (RFC 3339), and for the yard-wide export `?after=` (the last EID of the previous
/// page) and `?limit=`.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    since: Option<String>,
    after: Option<String>,
    limit: Option<u64>,
}

fn since_ms(q: &ExportQuery) -> Result<u64, WebError> {
    match q.since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| u64::try_from(t.with_timezone(&Utc).timestamp_millis()).unwrap_or(0))
            .map_err(|_| {
                WebError::BadRequest(format!(
                    "since: {s:?} is not an RFC 3339 time such as 2026-10-01T00:00:00Z"
                ))
            }),
    }
}

/// Reads every row of `eids`' records at `feedlot_id`, grouped by animal.
async fn load(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eids: &[String],
) -> Result<BTreeMap<String, AnimalRows>, clickhouse::error::Error> {
    if eids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let eids = eids.to_vec();
    let placements: Vec<PlacementRow> = client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, eid, lot_id, pen_id, sex, breed, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("placements", "feedlot_id = ? AND has(?, eid)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .fetch_all()
        .await?;
    let mut lots: Vec<String> = placements.iter().map(|p| p.lot_id.clone()).collect();
    lots.sort_unstable();
    lots.dedup();
    let arrivals: Vec<ArrivalRow> = if lots.is_empty() {
        Vec::new()
    } else {
        client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, lot_id, origin, source, pen_id, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("arrivals", "feedlot_id = ? AND has(?, lot_id)")
        ))
        .bind(feedlot_id)
        .bind(&lots)
        .fetch_all()
        .await?
    };
    let weighings: Vec<WeighingRow> = client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, eid, weight_kg, device_id, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("weighings", "feedlot_id = ? AND has(?, eid)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .fetch_all()
        .await?;
    let treatments: Vec<TreatmentRow> = client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, eid, purpose, product, dose, dose_unit, route, \
             product_lot, withdrawal_days, administered_by, diagnosis, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("treatments", "feedlot_id = ? AND has(?, eid)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .fetch_all()
        .await?;
    let pen_moves: Vec<PenMoveRow> = client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, eid, from_pen_id, to_pen_id, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("pen_moves", "feedlot_id = ? AND eid != '' AND has(?, eid)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .fetch_all()
        .await?;
    let deaths: Vec<DeathRow> = client
        .query(&format!(
            "SELECT toString(event_id) AS event_id, eid, cause, captured_at_ms \
             FROM {} ORDER BY captured_at_ms, event_id",
            live::source("deaths", "feedlot_id = ? AND has(?, eid)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .fetch_all()
        .await?;
    let shipments: Vec<ShipmentRow> = client
        .query(&format!(
            "SELECT event_id, eid, lot_id, buyer, captured_at_ms FROM ( \
               SELECT toString(event_id) AS event_id, arrayJoin(eids) AS eid, lot_id, buyer, captured_at_ms \
               FROM {}) \
             WHERE has(?, eid) ORDER BY captured_at_ms, event_id",
            live::source("shipments", "feedlot_id = ? AND hasAny(eids, ?)")
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .bind(&eids)
        .fetch_all()
        .await?;
    let mut out: BTreeMap<String, AnimalRows> = BTreeMap::new();
    for p in placements {
        let lot = p.lot_id.clone();
        let rows = out.entry(p.eid.clone()).or_default();
        rows.placements.push(p);
        for a in arrivals.iter().filter(|a| a.lot_id == lot) {
            if !rows.arrivals.contains(a) {
                rows.arrivals.push(a.clone());
            }
        }
    }
    for w in weighings {
        out.entry(w.eid.clone()).or_default().weighings.push(w);
    }
    for t in treatments {
        out.entry(t.eid.clone()).or_default().treatments.push(t);
    }
    for m in pen_moves {
        out.entry(m.eid.clone()).or_default().pen_moves.push(m);
    }
    for d in deaths {
        out.entry(d.eid.clone()).or_default().deaths.push(d);
    }
    for s in shipments {
        out.entry(s.eid.clone()).or_default().shipments.push(s);
    }
    Ok(out)
}

/// `GET /api/feedlots/{feedlot_id}/animals/{eid}/ade`.
pub async fn animal(
    State(state): State<AppState>,
    Path((feedlot_id, eid)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Result<Json<Value>, WebError> {
    let eid = Eid::parse(&eid).map_err(|e| WebError::BadRequest(format!("eid: {e}")))?;
    let since = since_ms(&q)?;
    let mut all = load(&state.client, &feedlot_id, &[eid.to_string()]).await?;
    let rows = all.remove(eid.as_str()).unwrap_or_default();
    // An EID with no records at this yard answers an empty collection, as any unknown tag's
    // report does (whether another yard holds it is not revealed).
    let member = if rows.is_empty() {
        Vec::new()
    } else {
        resources::animal_resources(&feedlot_id, eid.as_str(), &rows, since)
    };
    tracing::debug!(%feedlot_id, %eid, resources = member.len(), "ADE export of an animal");
    Ok(Json(
        json!({"member": member, "view": {"totalItems": member.len()}}),
    ))
}

/// The row of the page query.
#[derive(Debug, Deserialize, clickhouse::Row)]
struct EidRow {
    eid: String,
}

/// `GET /api/feedlots/{feedlot_id}/ade/animals?since=&after=&limit=`.
pub async fn animals(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Json<Value>, WebError> {
    let since = since_ms(&q)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE_ANIMALS);
    if limit == 0 || limit > MAX_PAGE_ANIMALS {
        return Err(WebError::BadRequest(format!(
            "limit: between 1 and {MAX_PAGE_ANIMALS} animals"
        )));
    }
    let after = q.after.clone().unwrap_or_default();
    let page: Vec<EidRow> = state
        .client
        .query(
            "SELECT eid FROM ( \
               SELECT eid, captured_at_ms FROM placements FINAL WHERE feedlot_id = ? \
               UNION ALL SELECT eid, captured_at_ms FROM weighings FINAL WHERE feedlot_id = ? \
               UNION ALL SELECT eid, captured_at_ms FROM treatments FINAL WHERE feedlot_id = ? \
               UNION ALL SELECT eid, captured_at_ms FROM pen_moves FINAL WHERE feedlot_id = ? AND eid != '' \
               UNION ALL SELECT eid, captured_at_ms FROM deaths FINAL WHERE feedlot_id = ? \
               UNION ALL SELECT arrayJoin(eids) AS eid, captured_at_ms FROM shipments FINAL WHERE feedlot_id = ?) \
             WHERE captured_at_ms >= ? AND eid > ? GROUP BY eid ORDER BY eid LIMIT ?",
        )
        .bind(&feedlot_id)
        .bind(&feedlot_id)
        .bind(&feedlot_id)
        .bind(&feedlot_id)
        .bind(&feedlot_id)
        .bind(&feedlot_id)
        .bind(since)
        .bind(&after)
        .bind(limit)
        .fetch_all()
        .await?;
    let eids: Vec<String> = page.into_iter().map(|r| r.eid).collect();
    let all = load(&state.client, &feedlot_id, &eids).await?;
    let mut member = Vec::new();
    for (eid, rows) in &all {
        member.extend(resources::animal_resources(&feedlot_id, eid, rows, since));
    }
    let next = (eids.len() as u64 == limit).then(|| {
        let last = eids.last().cloned().unwrap_or_default();
        let mut next = format!("/api/feedlots/{feedlot_id}/ade/animals?after={last}&limit={limit}");
        if let Some(s) = q.since.as_deref().filter(|s| !s.trim().is_empty()) {
            next.push_str("&since=");
            next.push_str(&s.replace('+', "%2B").replace(':', "%3A"));
        }
        next
    });
    tracing::debug!(%feedlot_id, animals = eids.len(), resources = member.len(), "ADE export page");
    Ok(Json(json!({
        "member": member,
        "view": {"totalItems": member.len(), "animals": eids.len(), "pageSize": limit, "next": next},
    })))
}
