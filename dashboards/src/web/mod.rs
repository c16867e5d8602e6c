//! The web pages and JSON API, read from ClickHouse. Routes are scoped by feedlot, and every
//! route but `/healthz` and `/login` needs a user; `/feedlots/{feedlot_id}/…` and
//! `/api/feedlots/{feedlot_id}/…` need a user of that yard (see [`auth`]):
//!
//! - `GET /healthz`
//! - `GET /`: the caller's feedlots; `GET|POST /login`, `POST /logout`,
//!   `POST /logout/everywhere`
//! - `GET /metrics`: only on the ops listener ([`ops_app`], `web.ops_listen`), never on the
//!   public one: the dashboards' metrics (requests by route and status, cold work, the facts worker),
//!   Prometheus text format (see [`crate::telemetry`]); the consumer's are `ingest`'s
//! - `GET /feedlots/{feedlot_id}/animals/{eid}`: the animal's page (HTML)
//! - `GET /api/feedlots/{feedlot_id}/animals/{eid}`: the same as JSON ([`AnimalReport`]);
//!   `.../animals/{eid}/weighings.csv` and `.../treatments.csv` its tables
//! - `GET /api/feedlots/{feedlot_id}/animals/{eid}/ade` and
//!   `GET /api/feedlots/{feedlot_id}/ade/animals?since=&after=&limit=`: ICAR ADE JSON export
//!   (see `ade`, docs/ade-export.md)
//! - `GET /feedlots/{feedlot_id}/animals`: every animal, sortable (`?sort=adg&order=desc`), with
//!   the ADG distribution; `.../animals.csv` and `/api/feedlots/{feedlot_id}/animals` export it
//! - `GET /feedlots/{feedlot_id}/lots` (+ `.csv`, `/api/...`): every lot's measures; `.../lots/{lot_id}`
//!   one lot's report or closeout, with its standing among the yard's lots
//!   (`/api/.../lots/{lot_id}/standing`) and its animals ranked in the lot (`.../animals.csv`)
//! - `GET /feedlots/{feedlot_id}/pens` (+ `.csv`, `/api/...`): head and feed by pen
//! - `GET /feedlots/{feedlot_id}/feed` (+ `/feed/{ingredients,sources,rations}.csv`, `/api/...`)
//! - `GET /feedlots/{feedlot_id}/lots/{lot_id}/closeout.pdf` and
//!   `GET /feedlots/{feedlot_id}/reports/monthly.pdf?month=YYYY-MM`: printed reports (PDF,
//!   see `printed`)
//! - `GET /api/feedlots/{feedlot_id}/lots/{lot_id}/forecast` (`?target_kg=`): an open lot's
//!   forecast, also a section of the lot's page; `GET /feedlots/{feedlot_id}/feed-plan`
//!   (+ `.csv`, `/api/...`, `?days=14`): feed needed per ingredient (docs/forecasts.md)
//!
//! - `GET /feedlots/{feedlot_id}/alerts` (+ `/api/...`): the yard's alerts;
//!   `POST .../alerts/ack` (form `alert_id`) acknowledges one ([`crate::alerts`]);
//!   `GET`/`POST /feedlots/{feedlot_id}/alerts/settings` (+ `/api/...`): the yard's thresholds,
//!   rules on and off, and email recipients
//!
//! The lot, pen and feed pages take `?as_of=` (RFC 3339, default now) and `?sort=&order=`.
//!
//! [`AnimalReport`]: crate::queries::AnimalReport

mod ade;
mod alert_settings_page;
mod alerts_page;
mod animal_page;
pub mod auth;
mod benchmarks_page;
mod breakdown_chart;
mod changes;
mod charts;
pub mod cold;
mod dof_page;
mod error;
mod feed_page;
mod forecast_page;
mod herd_cache;
mod herd_page;
mod lots_page;
mod money;
mod pens_page;
mod plans;
mod printed;
mod report;
pub mod table;
pub mod units;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::analytics::Settings;
use crate::telemetry::{Metrics, RequestServed};

pub use auth::{Auth, Caller};
pub use error::WebError;

/// The pages' shared stylesheet.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}th a{color:inherit}.chart{display:block;margin:1rem 0}";

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    client: clickhouse::Client,
    metrics: Metrics,
    settings: Settings,
    auth: Arc<Auth>,
    sessions: auth::store::Store,
    reports: report::ReportCache,
    herds: herd_cache::HerdCache,
    /// Who is in each pen, by yard and day (the pens page), kept like the herd.
    pens_who: herd_cache::PensCache,
    cold: cold::ColdLimits,
    default_units: units::Units,
    /// The config file's alert settings (what a yard's blank settings mean).
    alerts: Arc<crate::config::AlertsConfig>,
    /// The ClickHouse cluster the tables are on (`clickhouse.cluster`; empty: one server).
    cluster: Arc<str>,
    /// How acknowledgements are inserted, read from the cluster at the first one.
    ack_quorum: Arc<tokio::sync::OnceCell<crate::alerts::store::Quorum>>,
}

impl AppState {
    /// State over a ClickHouse client bound to the pipeline's database, with metrics of its
    /// own (see [`AppState::with_metrics`]).
    pub fn new(client: clickhouse::Client) -> Self {
        Self {
            sessions: auth::store::Store::new(client.clone()),
            client,
            metrics: Metrics::new(),
            settings: Settings::default(),
            auth: Arc::new(Auth::default()),
            reports: report::ReportCache::default(),
            herds: herd_cache::HerdCache::default(),
            pens_who: herd_cache::PensCache::default(),
            cold: cold::ColdLimits::default(),
            default_units: units::Units::default(),
            alerts: Arc::default(),
            cluster: Arc::from(""),
            ack_quorum: Arc::default(),
        }
    }

    /// Works over the tables of ClickHouse cluster `cluster` (`clickhouse.cluster`; empty: one
    /// server): alert acknowledgements are then inserted with a quorum of every replica of a
    /// shard ([`crate::alerts::store::acknowledge`]).
    pub fn on_cluster(mut self, cluster: &str) -> Self {
        self.cluster = Arc::from(cluster);
        self
    }

    /// How this state inserts acknowledgements: on a cluster, a quorum of the replicas of its
    /// smallest shard (read once); else none.
    async fn ack_quorum(&self) -> Result<crate::alerts::store::Quorum, crate::alerts::AlertError> {
        use crate::alerts::store::{ACK_QUORUM_TIMEOUT_MS, Quorum, shard_replicas};
        let quorum = self
            .ack_quorum
            .get_or_try_init(|| async {
                let replicas = if self.cluster.is_empty() {
                    0
                } else {
                    shard_replicas(&self.client, &self.cluster).await?
                };
                Ok::<_, crate::alerts::AlertError>(Quorum {
                    replicas,
                    timeout_ms: ACK_QUORUM_TIMEOUT_MS,
                })
            })
            .await?;
        Ok(*quorum)
    }

    /// Bounds cold reports and budgets the report cache by `web`'s limits (`cold_reports`,
    /// `cold_reports_per_user`, `cold_report_wait_ms`, `report_cache_slots`,
    /// `report_cache_slots_per_yard`); without it, their defaults.
    pub fn with_limits(mut self, web: &crate::config::WebConfig) -> Self {
        self.default_units = web.default_units;
        self.cold = cold::ColdLimits::from_config(web);
        self.reports = report::ReportCache::from_config(web);
        self
    }

    /// Serves yards to `auth`'s users; without it no user is known and every yard route is
    /// refused.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// Shows and checks yards' alert settings against `alerts` (the config file's); without
    /// it, the defaults.
    pub fn with_alerts(mut self, alerts: crate::config::AlertsConfig) -> Self {
        self.alerts = Arc::new(alerts);
        self
    }

    /// Computes lot measures with `settings` (target sale weight, ...).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// The metrics this state counts into (shared handles).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Counts into and serves `metrics` at `/metrics` (e.g. a registry the caller also reads).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }
}

/// `GET /metrics`: Prometheus text exposition format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// Counts every answered request by route pattern and status, and times it.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    RequestServed {
        route: &route,
        status: response.status().as_u16(),
        took: started.elapsed(),
    }
    .emit(&state.metrics);
    response
}

/// The ops listener's routes (see [`ops_app`]), as (path, methods).
fn ops_routes() -> RouteTable {
    vec![
        ("/healthz", get(|| async { "ok" })),
        ("/metrics", get(metrics)),
    ]
}

/// The ops listener's router (`web.ops_listen`): `/metrics` and `/healthz`, no users. Keep it
/// off the public network.
pub fn ops_app(state: AppState) -> Router {
    router_of(ops_routes()).with_state(state)
}

/// The path patterns [`ops_app`] serves, in its order.
pub fn ops_route_paths() -> Vec<&'static str> {
    paths_of(ops_routes())
}

/// Every route of [`app`], as (path pattern, methods): the one list the router is built from,
/// so [`route_paths`] cannot miss a route (the security test matrix,
/// `tests/it/route_matrix.rs`, fails when a pattern here is missing from it).
fn routes() -> RouteTable {
    let mut routes = auth::routes();
    routes.extend(benchmarks_page::routes());
    routes.extend([
        ("/healthz", get(|| async { "ok" })),
        ("/settings/units", post(units::set)),
        (
            "/feedlots/{feedlot_id}/animals/{eid}",
            get(animal_page::page),
        ),
        (
            "/feedlots/{feedlot_id}/animals/{eid}/{table}",
            get(animal_page::csv),
        ),
        (
            "/api/feedlots/{feedlot_id}/animals/{eid}",
            get(animal_page::json),
        ),
        (
            "/api/feedlots/{feedlot_id}/animals/{eid}/ade",
            get(ade::animal),
        ),
        ("/api/feedlots/{feedlot_id}/ade/animals", get(ade::animals)),
        ("/feedlots/{feedlot_id}/animals", get(herd_page::page)),
        ("/feedlots/{feedlot_id}/animals.csv", get(herd_page::csv)),
        ("/api/feedlots/{feedlot_id}/animals", get(herd_page::json)),
        ("/feedlots/{feedlot_id}/lots", get(lots_page::page)),
        ("/feedlots/{feedlot_id}/lots.csv", get(lots_page::csv)),
        ("/api/feedlots/{feedlot_id}/lots", get(lots_page::json)),
        (
            "/feedlots/{feedlot_id}/lots/{lot_id}",
            get(lots_page::lot_page),
        ),
        (
            "/feedlots/{feedlot_id}/lots/{lot_id}/animals.csv",
            get(lots_page::lot_animals_csv),
        ),
        (
            "/feedlots/{feedlot_id}/lots/{lot_id}/closeout.pdf",
            get(printed::closeout_pdf),
        ),
        (
            "/api/feedlots/{feedlot_id}/lots/{lot_id}",
            get(lots_page::lot_json),
        ),
        (
            "/api/feedlots/{feedlot_id}/lots/{lot_id}/standing",
            get(lots_page::lot_standing_json),
        ),
        (
            "/api/feedlots/{feedlot_id}/lots/{lot_id}/by-dof",
            get(dof_page::json),
        ),
        (
            "/feedlots/{feedlot_id}/lots/{lot_id}/by-dof.csv",
            get(dof_page::csv),
        ),
        (
            "/api/feedlots/{feedlot_id}/lots/{lot_id}/forecast",
            get(forecast_page::lot_json),
        ),
        ("/feedlots/{feedlot_id}/pens", get(pens_page::page)),
        ("/feedlots/{feedlot_id}/pens.csv", get(pens_page::csv)),
        ("/api/feedlots/{feedlot_id}/pens", get(pens_page::json)),
        ("/feedlots/{feedlot_id}/feed", get(feed_page::page)),
        ("/feedlots/{feedlot_id}/feed/{table}", get(feed_page::csv)),
        ("/api/feedlots/{feedlot_id}/feed", get(feed_page::json)),
        (
            "/feedlots/{feedlot_id}/reports/monthly.pdf",
            get(printed::monthly_pdf),
        ),
        (
            "/feedlots/{feedlot_id}/feed-plan",
            get(forecast_page::plan_page),
        ),
        (
            "/feedlots/{feedlot_id}/feed-plan.csv",
            get(forecast_page::plan_csv),
        ),
        (
            "/api/feedlots/{feedlot_id}/feed-plan",
            get(forecast_page::plan_json),
        ),
        ("/feedlots/{feedlot_id}/alerts", get(alerts_page::page)),
        ("/api/feedlots/{feedlot_id}/alerts", get(alerts_page::json)),
        (
            "/feedlots/{feedlot_id}/alerts/ack",
            post(alerts_page::ack_page),
        ),
        (
            "/api/feedlots/{feedlot_id}/alerts/ack",
            post(alerts_page::ack_json),
        ),
        (
            "/feedlots/{feedlot_id}/alerts/settings",
            get(alert_settings_page::page).post(alert_settings_page::save_page),
        ),
        (
            "/api/feedlots/{feedlot_id}/alerts/settings",
            get(alert_settings_page::json).post(alert_settings_page::save_json),
        ),
    ]);
    routes
}

/// The path patterns [`app`] serves (axum's `{param}` syntax), in its order.
pub fn route_paths() -> Vec<&'static str> {
    paths_of(routes())
}

/// The router, testable without a socket. Every route, including any added here later, is
/// behind [`auth`]'s guard.
pub fn app(state: AppState) -> Router {
    router_of(routes())
        .with_state(state.clone())
        // Last, so that it wraps every route above, and the fallback (see `auth`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        // Outermost: refusals by the guard are counted too.
        .layer(axum::middleware::from_fn_with_state(state, count_requests))
}

/// A route table: (path pattern, methods). A router and the list of its paths (for the
/// security test matrix) are both made from one, so they cannot differ.
type RouteTable = Vec<(&'static str, MethodRouter<AppState>)>;

/// The router serving every route of `table`.
fn router_of(table: RouteTable) -> Router<AppState> {
    table
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

/// The path patterns of `table`, in its order.
fn paths_of(table: RouteTable) -> Vec<&'static str> {
    table.into_iter().map(|(path, _)| path).collect()
}
