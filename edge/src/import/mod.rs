//! Importing arrivals from a sale-barn or order-buyer manifest (CSV), on the gateway, offline.
//!
//! Two steps, each over the API (`Authorization: Bearer <token>`) or the page (`/import`,
//! HTTP Basic sign-in with the token as the password, as the chute pages):
//!
//! 1. **Preview** (`POST /api/v1/imports/preview?lot_id=…&pen_id=…`, body: the CSV): every row
//!    parsed, every error named by line and field (an EID that is not a valid ISO 11784 number,
//!    listed twice, or already on the yard as far as the gateway's registry knows; a missing or
//!    non-numeric weight; a weight column that does not name its unit; a bad lot field), the
//!    totals (head, total and average weight, kg). Nothing is recorded. The answer carries a
//!    fresh `import_id` (a UUIDv7) for step 2.
//! 2. **Confirm** (`POST /api/v1/imports/confirm?import_id=…&lot_id=…`, the same body): if the
//!    preview is clean, the arrival (lot, pen, head, total weight as pay weight, source, price
//!    if given) and, per animal, a placement and its manifest weight as a weighing are committed
//!    to the outbox in one transaction, keyed by `import_id` as the records API's
//!    `Idempotency-Key`: a re-submitted confirm records nothing and answers `replayed`.
//!
//! Manifests are bounded ([`MAX_MANIFEST_BYTES`], [`MAX_ROWS`]); operators and managers may
//! import (the roles that may submit arrivals and placements).

mod handlers;
pub mod manifest;
mod page;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use manifest::{LotFields, MAX_MANIFEST_BYTES, MAX_ROWS, Preview, Row, RowError};

use crate::api::{ApiToken, Role};
use crate::chute::Registry;
use crate::outbox::OutboxWriter;

/// The roles that may import (as may submit arrivals and placements).
pub const ROLES: &[Role] = &[Role::Operator, Role::Manager];

/// Largest request body of the import routes, bytes: a manifest at its bound, form-encoded.
pub const MAX_REQUEST_BYTES: usize = 4 * MAX_MANIFEST_BYTES;

/// What the import handlers share.
#[derive(Clone)]
pub struct ImportState {
    /// The yard every record belongs to.
    pub feedlot_id: String,
    /// This gateway.
    pub gateway_id: String,
    /// Who may import.
    pub tokens: Arc<Vec<ApiToken>>,
    /// Where records go.
    pub writer: OutboxWriter,
    /// What the gateway knows of the animals on the yard.
    pub registry: Arc<Registry>,
}

fn routes() -> crate::http::RouteTable<ImportState> {
    vec![
        ("/api/v1/imports/preview", post(handlers::preview)),
        ("/api/v1/imports/confirm", post(handlers::confirm)),
        ("/import", get(page::form)),
        ("/import/preview", post(page::preview)),
        ("/import/confirm", post(page::confirm)),
    ]
}

/// The path patterns [`router`] serves.
pub fn route_paths() -> Vec<&'static str> {
    crate::http::paths_of(routes())
}

/// The import API and page.
pub fn router(state: ImportState) -> Router {
    crate::http::router_of(routes())
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}
