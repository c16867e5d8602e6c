//! Alerts (`docs/alerts.md`): a yard's open and acknowledged alerts, newest first, and a button
//! to acknowledge each. Acknowledging is a `POST` from the page (the session cookie is
//! `SameSite=Strict`, so another site cannot make a browser send it, as for
//! `POST /settings/units`), or from an API client with its bearer token; any user of the yard
//! may acknowledge, and the first acknowledgement is kept with its user's name.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

use super::report::{nav, utc};
use super::{AppState, Caller, WebError};
use crate::alerts::store::{self, Listed};

/// Most alerts listed.
const LIMIT: u64 = 500;

/// The acknowledge form.
#[derive(Debug, Deserialize)]
pub struct AckForm {
    /// The alert's id.
    #[serde(default)]
    pub alert_id: String,
}

/// What the API answers to an acknowledgement.
#[derive(Debug, Serialize)]
pub struct Acked {
    /// The alert.
    pub alert_id: String,
    /// Always true (an unknown alert answers 404).
    pub acknowledged: bool,
}

async fn listed(state: &AppState, feedlot_id: &str) -> Result<Vec<Listed>, WebError> {
    store::list(&state.client, feedlot_id, LIMIT)
        .await
        .map_err(from_alert)
}

fn from_alert(e: crate::alerts::AlertError) -> WebError {
    match e {
        crate::alerts::AlertError::ClickHouse(e) => WebError::Storage(e),
        other => WebError::BadRequest(other.to_string()),
    }
}

/// `GET /api/feedlots/{feedlot_id}/alerts`: open alerts first, then acknowledged, newest first.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
) -> Result<Json<Vec<Listed>>, WebError> {
    Ok(Json(listed(&state, &feedlot_id).await?))
}

/// `GET /feedlots/{feedlot_id}/alerts`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
) -> Result<Markup, WebError> {
    let alerts = listed(&state, &feedlot_id).await?;
    let open = alerts.iter().filter(|a| !a.acknowledged()).count();
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Alerts · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Alerts at " (feedlot_id) }
                p { span #open-count { (open) } " open · " (alerts.len() - open) " acknowledged · "
                    a href={"/api/feedlots/" (feedlot_id) "/alerts"} { "JSON" } " · "
                    a #settings href={"/feedlots/" (feedlot_id) "/alerts/settings"} { "Settings" } }
                table #alerts {
                    thead { tr { th { "Alert" } th { "Details" } th { "Raised" } th { "State" } } }
                    tbody {
                        @for a in &alerts {
                            tr.alert data-alert-id=(a.alert.alert_id) data-rule=(a.alert.rule) {
                                td { a href=(a.alert.link) { (a.alert.title) } }
                                td { (a.alert.detail) }
                                td { (utc(a.alert.raised_at_ms)) }
                                td.state {
                                    @if a.acknowledged() {
                                        "acknowledged by " (a.acked_by) " " (utc(a.acked_at_ms))
                                    } @else {
                                        form method="post" action={"/feedlots/" (feedlot_id) "/alerts/ack"} {
                                            input type="hidden" name="alert_id" value=(a.alert.alert_id);
                                            button type="submit" { "Acknowledge" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn ack(
    state: &AppState,
    caller: &Caller,
    feedlot_id: &str,
    form: &AckForm,
) -> Result<(), WebError> {
    if form.alert_id.is_empty() {
        return Err(WebError::BadRequest("alert_id: missing".into()));
    }
    let now = crate::alerts::now_ms();
    let quorum = state.ack_quorum().await.map_err(from_alert)?;
    let found = store::acknowledge(
        &state.client,
        feedlot_id,
        &form.alert_id,
        caller.name(),
        now,
        quorum,
    )
    .await
    .map_err(from_alert)?;
    if !found {
        return Err(WebError::NotFound(format!(
            "no alert {:?} at this yard",
            form.alert_id
        )));
    }
    tracing::info!(feedlot_id, alert_id = %form.alert_id, user = caller.name(), "alert acknowledged");
    Ok(())
}

/// `POST /feedlots/{feedlot_id}/alerts/ack` (form `alert_id`): acknowledges, then back to the
/// alerts page.
pub async fn ack_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(feedlot_id): Path<String>,
    Form(form): Form<AckForm>,
) -> Result<Response, WebError> {
    ack(&state, &caller, &feedlot_id, &form).await?;
    Ok(Redirect::to(&format!("/feedlots/{feedlot_id}/alerts")).into_response())
}

/// `POST /api/feedlots/{feedlot_id}/alerts/ack` (form `alert_id`): acknowledges; JSON.
pub async fn ack_json(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(feedlot_id): Path<String>,
    Form(form): Form<AckForm>,
) -> Result<Json<Acked>, WebError> {
    ack(&state, &caller, &feedlot_id, &form).await?;
    Ok(Json(Acked {
        alert_id: form.alert_id,
        acknowledged: true,
    }))
}
