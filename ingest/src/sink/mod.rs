//! Writing events to ClickHouse: envelopes become table rows, a batch is one insert per table,
//! and a failed insert is retried with back-off until ClickHouse accepts it.

mod rows;
mod writer;

pub use rows::{Rows, TagReadRow, WeighingRow};
pub use writer::{client, insert_rows};
