//! The yard's analytics: lot and pen performance, feed conversion, feed costing and cost of
//! gain, computed from the stored records (see `docs/analytics.md` for every definition).
//!
//! ```text
//! ClickHouse ─▶ load (one yard's records, FINAL) ─▶ ledger (replay in time order:
//!   head per lot and pen, head-days, feed split by head, FIFO feed cost, yardage)
//!   ─▶ lots (LotMeasures, closeouts) · pens (PenMeasures) · feed (FeedReport)
//! ```
//!
//! ClickHouse 18.16 has no window functions, and feed must follow cattle between pens, so the
//! replay runs here, in one pass over the yard's records (linear in their number).

pub mod compare;
pub mod feed;
pub mod inventory;
pub mod ledger;
pub mod load;
pub mod lots;
pub mod pens;
pub mod records;

use serde::Serialize;

pub use compare::{LotStanding, standing};
pub use feed::{FeedReport, RationCost};
pub use inventory::{IngredientCost, SourceCost};
pub use lots::{KG_PER_CWT, LotMeasures, Settings};
pub use pens::PenMeasures;
pub use records::YardRecords;

/// Everything the yard's dashboards show, as of one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YardReport {
    /// The yard.
    pub feedlot_id: String,
    /// The moment the report describes, ms since the epoch UTC.
    pub as_of_ms: u64,
    /// Lots, by id.
    pub lots: Vec<LotMeasures>,
    /// Pens, by id.
    pub pens: Vec<PenMeasures>,
    /// Feed bought, fed and costed.
    pub feed: FeedReport,
    /// Records that did not fit the rest (a death of an unknown animal, ...).
    pub warnings: Vec<String>,
}

/// The report over already loaded records.
pub fn report(
    feedlot_id: &str,
    records: &YardRecords,
    as_of_ms: u64,
    settings: &Settings,
) -> YardReport {
    let ledger = ledger::replay(records, as_of_ms);
    YardReport {
        feedlot_id: feedlot_id.to_owned(),
        as_of_ms,
        lots: lots::lot_measures(&ledger, records, settings, as_of_ms),
        pens: pens::pen_measures(&ledger),
        feed: feed::feed_report(&ledger),
        warnings: ledger.warnings,
    }
}

/// Loads `feedlot_id`'s records up to `as_of_ms` and reports on them.
pub async fn yard_report(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
    settings: &Settings,
) -> Result<YardReport, clickhouse::error::Error> {
    let records = load::yard_records(client, feedlot_id, as_of_ms).await?;
    Ok(report(feedlot_id, &records, as_of_ms, settings))
}
