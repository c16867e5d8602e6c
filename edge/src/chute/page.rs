//! The chute tablet's page: the animal on the scale, server-rendered (no JavaScript framework;
//! the page refreshes itself every two seconds).
//!
//! The pages show animals' treatments and weights, so they need one of the records API's tokens
//! (any role): as `Authorization: Bearer <token>`, or in a browser through HTTP Basic sign-in
//! (the browser asks once; any user name, the token as the password). Without it: 401 with a
//! `WWW-Authenticate: Basic` challenge. Serve the gateway over TLS (`http.tls_cert_path`) so the
//! token does not cross the yard network in clear.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use super::{AnimalRecord, Registry};
use crate::api::ApiToken;

const KG_PER_LB: f64 = schemas::weight::KG_PER_LB;

/// The routes, as (path pattern, methods): what [`router`] is built from.
fn routes() -> crate::http::RouteTable<Arc<Registry>> {
    vec![
        ("/chute", get(current)),
        ("/chute/animals/{eid}", get(animal)),
    ]
}

/// The path patterns [`router`] serves.
pub fn route_paths() -> Vec<&'static str> {
    crate::http::paths_of(routes())
}

/// `GET /chute` (the animal weighed last) and `GET /chute/animals/{eid}`, for holders of one of
/// `tokens` (see the module's doc).
pub fn router(registry: Arc<Registry>, tokens: Arc<Vec<ApiToken>>) -> Router {
    crate::http::router_of(routes())
        .with_state(registry)
        .route_layer(axum::middleware::from_fn_with_state(tokens, signed_in))
}

/// Lets a request through with a configured token; 401 with a Basic challenge otherwise.
async fn signed_in(
    State(tokens): State<Arc<Vec<ApiToken>>>,
    request: Request,
    next: Next,
) -> Response {
    if crate::api::authenticate_page(request.headers(), &tokens).is_ok() {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"chute\", charset=\"UTF-8\"",
        )],
        "Sign in with your records API token as the password.\n",
    )
        .into_response()
}

async fn lookup<F>(registry: Arc<Registry>, find: F) -> Result<Option<AnimalRecord>, StatusCode>
where
    F: FnOnce(&Registry) -> Result<Option<AnimalRecord>, super::RegistryError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || find(&registry))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .map_err(|error| {
            tracing::error!(%error, "chute page could not read the registry");
            StatusCode::SERVICE_UNAVAILABLE
        })
}

async fn current(State(registry): State<Arc<Registry>>) -> Result<Markup, StatusCode> {
    let record = lookup(registry, |r| r.last_weighed()).await?;
    Ok(render(record.as_ref(), Utc::now(), true))
}

async fn animal(
    State(registry): State<Arc<Registry>>,
    Path(eid): Path<String>,
) -> Result<Markup, StatusCode> {
    let eid = crate::readers::rfid::canonical_eid(&eid)
        .map_err(|_| StatusCode::BAD_REQUEST)?
        .to_string();
    let record = lookup(registry, move |r| r.get(&eid)).await?;
    Ok(render(record.as_ref(), Utc::now(), false))
}

fn kg_lb(kg: f64) -> String {
    format!("{kg:.1} kg ({:.0} lb)", kg / KG_PER_LB)
}

fn date(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The page for `record` as of `now`.
pub fn render(record: Option<&AnimalRecord>, now: DateTime<Utc>, refresh: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh { meta http-equiv="refresh" content="2"; }
                title { "Chute" }
                style { "body{font-family:system-ui,sans-serif;margin:1.5rem;font-size:1.4rem}.big{font-size:3rem;font-weight:700}.warn{background:#b00020;color:#fff;padding:1rem;border-radius:.4rem}dt{color:#555}dd{margin:0 0 .8rem 0;font-weight:600}" }
            }
            body {
                @match record {
                    None => { p #waiting { "Waiting for the first animal…" } }
                    Some(a) => {
                        p { "EID " span #eid { (a.eid) } }
                        @if let Some(last) = a.last { p.big #weight { (kg_lb(last.kg)) } }
                        @for (t, until) in a.in_withdrawal(now) {
                            p.warn.withdrawal {
                                "WITHDRAWAL: " (t.product) " given " (date(t.at_ms))
                                @if let Some(to) = &t.given_to { " to " (to) }
                                " — not for slaughter before " (until.format("%Y-%m-%d"))
                            }
                        }
                        @for t in a.boosters_due(now) {
                            p.warn.booster { "BOOSTER DUE: " (t.product) " (first dose " (date(t.at_ms)) ")" }
                        }
                        @if a.dead { p.warn { "Recorded dead" } }
                        dl {
                            dt { "Previous weight" }
                            dd #previous { @if let Some(p) = a.previous { (kg_lb(p.kg)) " on " (date(p.at_ms)) } @else { "first weighing" } }
                            dt { "Gain since previous" }
                            dd #gain-previous { @if let Some(g) = a.gain_since_previous_kg() { (kg_lb(g)) } @else { "–" } }
                            dt { "Arrival weight" }
                            dd #arrival { @if let Some(f) = a.first { (kg_lb(f.kg)) " on " (date(f.at_ms)) } }
                            dt { "Gain since arrival" }
                            dd #gain-arrival { @if let Some(g) = a.gain_since_arrival_kg() { (kg_lb(g)) } @else { "–" } }
                            dt { "ADG since arrival" }
                            dd #adg { @if let Some(adg) = a.adg_since_arrival_kg() { (format!("{adg:.2} kg/day ({:.2} lb/day)", adg / KG_PER_LB)) } @else { "–" } }
                            dt { "Days on feed" }
                            dd #dof { @if let Some(d) = a.days_on_feed() { (format!("{d:.0}")) } }
                            dt { "Pen" }
                            dd #pen { (a.pen_id.as_deref().unwrap_or("–")) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chute::{TreatmentAt, WeightAt};

    fn dose(
        product: &str,
        at_ms: i64,
        withdrawal_days: u32,
        booster_after_days: Option<u32>,
    ) -> TreatmentAt {
        TreatmentAt {
            product: product.into(),
            at_ms,
            withdrawal_days,
            booster_after_days,
            given_to: None,
            event_id: None,
        }
    }

    #[test]
    fn a_treated_animal_shows_its_withdrawal_until_it_ends_and_a_due_booster() {
        let day = 86_400_000;
        let now = DateTime::<Utc>::from_timestamp_millis(100 * day).unwrap();
        let a = AnimalRecord {
            eid: "982000000000001".into(),
            first: Some(WeightAt {
                at_ms: 50 * day,
                kg: 350.0,
            }),
            previous: Some(WeightAt {
                at_ms: 80 * day,
                kg: 390.0,
            }),
            last: Some(WeightAt {
                at_ms: 100 * day,
                kg: 420.0,
            }),
            treatments: vec![
                dose("Draxxin", 95 * day, 18, None),
                dose("old shot", 10 * day, 21, None),
                dose("Bovi-Shield", 60 * day, 21, Some(21)),
                dose("Vision 7", 60 * day, 21, Some(21)),
                dose("Vision 7", 82 * day, 21, None),
            ],
            ..AnimalRecord::default()
        };
        let page = render(Some(&a), now, false).into_string();
        assert!(page.contains("WITHDRAWAL: Draxxin"), "{page}");
        assert!(
            !page.contains("old shot"),
            "an ended withdrawal is not shown"
        );
        assert!(page.contains("1.40 kg/day"), "70 kg over 50 days: {page}");
        assert!(page.contains("30.0 kg"), "gain since previous: {page}");
        assert!(page.contains("BOOSTER DUE: Bovi-Shield"), "{page}");
        assert!(!page.contains("BOOSTER DUE: Vision 7"), "boosted already");
    }
}
