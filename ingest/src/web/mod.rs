//! The web pages and JSON API, read from ClickHouse. Routes are scoped by feedlot:
//!
//! - `GET /healthz`
//! - `GET /feedlots/{feedlot_id}/animals/{eid}`: the animal's page (HTML)
//! - `GET /api/feedlots/{feedlot_id}/animals/{eid}`: the same as JSON ([`AnimalReport`])
//!
//! [`AnimalReport`]: crate::queries::AnimalReport

mod animal_page;
mod error;

use axum::Router;
use axum::routing::get;

pub use error::WebError;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    client: clickhouse::Client,
}

impl AppState {
    /// State over a ClickHouse client bound to the pipeline's database.
    pub fn new(client: clickhouse::Client) -> Self {
        Self { client }
    }
}

/// The router, testable without a socket.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/feedlots/{feedlot_id}/animals/{eid}",
            get(animal_page::page),
        )
        .route(
            "/api/feedlots/{feedlot_id}/animals/{eid}",
            get(animal_page::json),
        )
        .with_state(state)
}
