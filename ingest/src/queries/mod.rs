//! Reads over ClickHouse. Every query reads the tables deduplicated (`FINAL`) and is scoped to
//! one feedlot.

mod animal;

pub use animal::{AnimalReport, WeighingPoint, animal_report};
