//! The dashboards' integration tests, in one binary (each extra test binary links rdkafka and
//! clickhouse again). Real-service tests read `CLICKHOUSE_URL` (default
//! `http://127.0.0.1:8123`) and start their own tansu; each uses its own database and topic
//! named after the test.
//!
//! ```text
//! cargo test -p dashboards --test it                   # all
//! cargo test -p dashboards --test it two_processes     # the two real binaries
//! ```

mod bench_yards;
mod support;
mod two_yards;

mod ade_export;
mod alert_settings;
mod alerts;
mod alerts_cluster;
mod alerts_delivery;
mod analytics;
mod auth;
mod auth_binary;
mod auth_login;
mod benchmarks;
mod benchmarks_page;
mod cli;
mod corrections;
mod currencies;
mod fact_views;
mod facts;
mod facts_kept;
mod forecasts;
mod herd;
mod metrics;
mod pages;
mod printed;
mod route_matrix;
mod shipment_plans;
mod signin;
mod starvation;
mod two_processes;
mod whereabouts;
