//! A yard's measures kept as daily facts in ClickHouse (`docs/facts.md`).
//!
//! ```text
//! ingest ─▶ records + fact_changes ─▶ worker (once per change: load the yard, replay it,
//!   keep each day's end from the earliest day touched) ─▶ lot/pen/ingredient/source/yard
//!   day facts ─▶ read (a report as of any moment: one row per lot, pen, ...; no replay)
//! ```
//!
//! Beside them, each weighed animal's state now (`animal_facts`, [`animals`]): the herd
//! (animals) table and a lot's animals read one row per animal; and each animal's stays in
//! pens (`animal_stays`, [`stays`]): the pens page reads who is in each pen on a day.
//!
//! The replay is the analytics' own ([`crate::analytics::ledger`]), so the measures are
//! defined once; the facts keep its state at each day's end.

pub mod animals;
#[cfg(test)]
mod balance_props;
pub mod blanks;
pub mod build;
pub mod kept;
pub mod marks;
pub mod read;
pub mod retention;
pub mod rows;
pub mod stays;
pub mod store;
pub mod worker;

pub use read::yard_report;
pub use rows::YardFacts;
pub use worker::{Worker, recompute};
