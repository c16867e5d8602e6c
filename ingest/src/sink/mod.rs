//! Writing events to ClickHouse: envelopes become table rows, a batch is one insert per table,
//! and a failed insert is retried with back-off until ClickHouse accepts it.

pub mod failover;
pub mod rejection;
mod rows;
mod writer;

pub use rows::{
    ArrivalRow, DeathRow, FactChangeRow, FeedDeliveryRow, FeedLoadRow, FeedPurchaseRow, PenMoveRow,
    RationRow, Rows, ShipmentRow, TagReadRow, TreatmentRow, WeighingRow, YardageRateRow,
};
pub use writer::{
    DDL_READ_TIMEOUT_MS, RejectedRow, client, ddl_client, insert_rows, insert_rows_isolating,
    insert_table,
};
