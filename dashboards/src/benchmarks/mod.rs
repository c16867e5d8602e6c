//! Anonymous benchmarks: a yard against the yards of its area and of the world, as percentile
//! bands of ADG, F:G, cost of gain, death loss and days on feed (`docs/benchmarks-bands.md`).
//!
//! ```text
//! records ─▶ analytics::yard_report ─▶ kpis (LotMeasures → YardKpis: lots closed in the
//!   trailing 365 days, pooled) ─▶ rollup (background task; inserts into `yard_kpis`,
//!   one current row per yard, ReplacingMergeTree) ─▶ bands (one query over `yard_kpis FINAL`
//!   joined to the latest `yard_profiles`: quantilesExact per measure, area and world)
//! ```
//!
//! The rollup is the materialized part: the bands query reads one row per yard, so 10,000
//! yards answer in milliseconds (`dashboards/benches/bands.rs`, `docs/benchmarks.md`).
//!
//! Anonymity: the bands query returns, for other yards, only counts and quantiles over sets of
//! at least [`bands::MIN_YARDS`] yards; ids, names, profiles and rows of other yards never
//! leave it. The caller's own row and region are its own.

pub mod bands;
pub mod kpis;
pub mod registry;
pub mod rollup;

pub use bands::{AreaRule, Band, Benchmarks, MIN_YARDS, MeasureBands, benchmarks};
pub use kpis::{WINDOW_DAYS, YardKpis, yard_kpis};
pub use registry::RegistryEntry;
pub use rollup::Rollup;
