//! `corrections`: a record voided or amended by a later one. Values not amended are stored as
//! zero or empty; `amended` lists the ones that count.

use schemas::Correction;

use super::{Meta, event_row, row};

event_row! {
    /// A row of `corrections`.
    CorrectionRow {
        /// The corrected record's event id.
        #[serde(with = "clickhouse::serde::uuid")]
        corrects_event_id: uuid::Uuid,
        /// The corrected record's kind (`weighing`, `treatment`, ...).
        record_kind: String,
        /// `void` or `amend`.
        action: String,
        /// Why.
        reason: String,
        /// The fields given new values.
        amended: Vec<String>,
        /// A weighing's new weight, kg.
        weight_kg: f64,
        /// A treatment's new product.
        product: String,
        /// A treatment's new dose.
        dose: f64,
        /// A treatment's new withdrawal period, days.
        withdrawal_days: u32,
        /// A death's new cause.
        cause: String,
        /// A feed delivery's new delivered weight, kg.
        delivered_kg: f64,
        /// A shipment plan's new planned day, days since 1970-01-01 UTC.
        planned_date: u16,
        /// A shipment plan's new head count.
        head_count: u32,
    }
}

impl CorrectionRow {
    /// The row for a correction.
    pub(super) fn new(m: &Meta, c: &Correction) -> Self {
        row!(CorrectionRow, m, {
            corrects_event_id: c.corrects_event_id,
            record_kind: c.record_kind.clone(),
            action: c.action.as_str().to_owned(),
            reason: c.reason.clone(),
            amended: c.amended_fields().into_iter().map(str::to_owned).collect(),
            weight_kg: c.weight_kg.unwrap_or(0.0),
            product: c.product.clone().unwrap_or_default(),
            dose: c.dose.unwrap_or(0.0),
            withdrawal_days: c.withdrawal_days.unwrap_or(0),
            cause: c.cause.clone().unwrap_or_default(),
            delivered_kg: c.delivered_kg.unwrap_or(0.0),
            planned_date: c.planned_date.map_or(0, super::plan::date_days),
            head_count: c.head_count.unwrap_or(0),
        })
    }
}
