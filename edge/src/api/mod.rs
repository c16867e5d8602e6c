//! The local records API: arrivals, treatments, pen moves, deaths, shipments, feed purchases,
//! rations and yardage entered chute-side or in the office.
//!
//! `POST /api/v1/records/{kind}` with a JSON body of the record's fields (see
//! `docs/json-schema/` and `docs/records-api.md`) and `Authorization: Bearer <token>`. A token
//! carries a user and a role; each kind lists the roles that may submit it. A record is checked
//! field by field (unknown fields are refused, not ignored), then committed to the outbox as
//! one event in one transaction — it is written whole or not at all — and only then answered
//! `201 Created` with its `event_id`. Errors name the field and why; internals stay in the log.
//!
//! An `Idempotency-Key: <UUIDv7>` header makes a retried POST record once: the retry is
//! answered with the first send's `event_id` (and `"replayed": true`), across restarts too
//! (see [`crate::outbox::once`]); the same key with a different request is refused (422).
//! Bodies, strings and lists are bounded ([`bounds`]); `occurred_at` must lie in the window
//! MQTT device times get ([`crate::event_time`]).

mod auth;
pub mod bounds;
mod config;
mod error;
mod records;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;

pub use auth::{Role, authenticate_page};
pub use config::{ApiConfig, ApiToken};
pub use error::ApiError;
pub use records::{
    IDEMPOTENCY_KEY, Recorded, allowed, checked_event, envelope_of, parse_checked, record, roles_of,
};

use crate::outbox::OutboxWriter;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The yard every record belongs to.
    pub feedlot_id: String,
    /// This gateway.
    pub gateway_id: String,
    /// Who may submit.
    pub tokens: Arc<Vec<ApiToken>>,
    /// Where records go.
    pub writer: OutboxWriter,
}

/// The records API's routes, as (path pattern, methods): what [`router`] is built from.
fn routes() -> crate::http::RouteTable<ApiState> {
    vec![("/api/v1/records/{kind}", post(records::submit))]
}

/// The path patterns [`router`] serves (axum's `{param}` syntax).
pub fn route_paths() -> Vec<&'static str> {
    crate::http::paths_of(routes())
}

/// The record kinds (`{kind}` of `POST /api/v1/records/{kind}`) and the roles that may submit
/// each.
pub fn record_kinds() -> impl Iterator<Item = (&'static str, &'static [Role])> {
    records::kinds()
}

/// The records API's routes, testable without a socket.
pub fn router(state: ApiState) -> Router {
    crate::http::router_of(routes())
        .layer(DefaultBodyLimit::max(bounds::MAX_BODY_BYTES))
        .with_state(state)
}
