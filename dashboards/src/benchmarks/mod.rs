//! Anonymous benchmarks: a yard against the other yards of its area and of the world, as
//! percentile bands of ADG, F:G, cost of gain, death loss and days on feed
//! (`docs/benchmarks-bands.md`).
//!
//! ```text
//! facts ─▶ facts::yard_report ─▶ kpis (LotMeasures → YardKpis: lots closed in the
//!   trailing 365 days, pooled) ─▶ rollup (background task; inserts into `yard_kpis`,
//!   one current row per yard, ReplacingMergeTree) ─▶ bands (one query over `yard_kpis FINAL`
//!   joined to the registry `yard_registry FINAL`: each set's sorted values per measure,
//!   interpolated quantiles and the publication rule in Rust)
//! ```
//!
//! Anonymity: areas are a fixed set (the region, 100, 250 and 500 km) placed by the cloud's
//! registry ([`registry`], set by an operator), never by a gateway's own profile; a band is
//! published only over at least [`bands::MIN_PEERS`] yards other than the caller and only
//! when it differs from every other band published to the caller by none or at least that
//! many yards; its marks blend two neighbouring values. Ids, names, positions and rows of
//! other yards never leave [`bands`].

pub mod bands;
pub mod kpis;
pub mod registry;
pub mod rollup;

pub use bands::{
    AreaRule, Band, Benchmarks, Hidden, MIN_PEERS, MeasureBands, RADII_KM, benchmarks,
};
pub use kpis::{WINDOW_DAYS, YardKpis, yard_kpis};
pub use registry::RegistryEntry;
pub use rollup::Rollup;
