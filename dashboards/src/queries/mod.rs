//! Reads over ClickHouse. Every query reads the tables deduplicated (`FINAL`) and is scoped to
//! one feedlot.

mod animal;
pub mod changes;
pub mod currency;
mod herd;
pub mod live;
pub mod plans;
pub mod whereabouts;

pub use animal::{
    AnimalReport, TreatmentLine, WeighingPoint, Whereabouts, animal_record, animal_report,
    given_while_there,
};
pub use herd::{
    AnimalSummary, Ranking, Weighed, adg_kg_per_day, herd_summary, lot_animals, of_lot,
    rank_and_percentile, summarize,
};
