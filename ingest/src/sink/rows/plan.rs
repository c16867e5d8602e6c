//! `shipment_plans`: a shipment planned for a day. Optional names are stored empty when not
//! given; the planned day as ClickHouse `Date` (days since 1970-01-01).

use chrono::NaiveDate;
use schemas::ShipmentPlan;

use super::{Meta, event_row, row};

/// Days since 1970-01-01 of `day` (ClickHouse `Date`); 0 for a day before it, the last
/// `Date` for one past 2149.
pub(super) fn date_days(day: NaiveDate) -> u16 {
    let days = day.signed_duration_since(NaiveDate::default()).num_days();
    u16::try_from(days.max(0)).unwrap_or(u16::MAX)
}

event_row! {
    /// A row of `shipment_plans`.
    ShipmentPlanRow {
        /// The lot to ship.
        lot_id: String,
        /// The pen it ships from (empty: not given).
        pen_id: String,
        /// The planned day, days since 1970-01-01 UTC.
        planned_date: u16,
        /// Head planned.
        head_count: u32,
        /// The animals chosen (empty: the lot's).
        eids: Vec<String>,
        /// Who buys them.
        buyer: String,
        /// Where they go.
        destination: String,
        /// A free note.
        note: String,
    }
}

impl ShipmentPlanRow {
    /// The row for a shipment plan.
    pub(super) fn new(m: &Meta, p: &ShipmentPlan) -> Self {
        row!(ShipmentPlanRow, m, {
            lot_id: p.lot_id.clone(),
            pen_id: p.pen_id.clone().unwrap_or_default(),
            planned_date: date_days(p.planned_date),
            head_count: p.head_count,
            eids: p.eids.iter().map(|e| e.as_str().to_owned()).collect(),
            buyer: p.buyer.clone().unwrap_or_default(),
            destination: p.destination.clone().unwrap_or_default(),
            note: p.note.clone().unwrap_or_default(),
        })
    }
}
