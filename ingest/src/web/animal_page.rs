//! An animal's weighings and gain, as a page and as JSON.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use schemas::Eid;
use schemas::weight::KG_PER_LB;

use crate::queries::{AnimalReport, animal_report};
use crate::web::{AppState, WebError};

async fn load(state: &AppState, feedlot_id: &str, eid: &str) -> Result<AnimalReport, WebError> {
    let eid = Eid::parse(eid).map_err(|e| WebError::BadRequest(format!("eid: {e}")))?;
    Ok(animal_report(&state.client, feedlot_id, eid.as_str()).await?)
}

/// `GET /api/feedlots/{feedlot_id}/animals/{eid}`.
pub async fn json(
    State(state): State<AppState>,
    Path((feedlot_id, eid)): Path<(String, String)>,
) -> Result<Json<AnimalReport>, WebError> {
    Ok(Json(load(&state, &feedlot_id, &eid).await?))
}

fn utc(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_default()
}

/// `GET /feedlots/{feedlot_id}/animals/{eid}`.
pub async fn page(
    State(state): State<AppState>,
    Path((feedlot_id, eid)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let r = load(&state, &feedlot_id, &eid).await?;
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Animal " (r.eid) " · " (r.feedlot_id) }
                style { (crate::web::STYLE) }
            }
            body {
                h1 { "Animal " span #eid { (r.eid) } }
                p { "Feedlot " (r.feedlot_id) " · " span #count { (r.weighings.len()) } " weighings" }
                @if r.weighings.is_empty() {
                    p { "No weighings recorded for this animal." }
                } @else {
                    p #gain {
                        "Gain since first weighing: "
                        strong { (format!("{:.1} kg", r.gain_kg)) } " (" (format!("{:.1} lb", r.gain_lb)) ")"
                        " over " (format!("{:.1}", r.days)) " days"
                        @if let Some(adg) = r.adg_kg_per_day {
                            ", ADG " (format!("{adg:.2} kg/day ({:.2} lb/day)", adg / KG_PER_LB))
                        }
                    }
                    (crate::web::charts::line(
                        "weight-curve",
                        &r.weighings.iter().map(|w| (w.captured_at_ms, w.weight_kg)).collect::<Vec<_>>(),
                        "kg",
                    ))
                    p { a href={"/feedlots/" (r.feedlot_id) "/animals"} { "All animals at " (r.feedlot_id) } }
                    table #weighings {
                        thead { tr { th { "Captured (UTC)" } th { "Weight kg" } th { "Weight lb" } th { "Displayed" } th { "Scale" } } }
                        tbody {
                            @for w in &r.weighings {
                                tr data-captured-at-ms=(w.captured_at_ms) {
                                    td { (utc(w.captured_at_ms)) }
                                    td { (format!("{:.1}", w.weight_kg)) }
                                    td { (format!("{:.1}", w.weight_kg / KG_PER_LB)) }
                                    td { (w.displayed_value) " " (w.displayed_unit) }
                                    td { (w.device_id) }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}
