//! Planned shipments (`shipment_plans`, wire kind `shipment_plan`) as they stand after their
//! corrections ([`super::live`]): a voided plan is gone, an amended one shows its latest
//! planned date and head count. A plan counts as shipped once a shipment of its lot (as
//! corrected) is recorded after the plan and no more than [`SHIPPED_EARLY_DAYS`] before its
//! planned day. Read by the `withdrawal_on_shipment` alert and the lot page.

use serde::{Deserialize, Serialize};

use super::live;

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// A shipment of the lot this many days before a plan's day or later ships the plan (a
/// draft that left a little early).
pub const SHIPPED_EARLY_DAYS: u16 = 7;

/// One planned shipment, as corrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct ShipmentPlan {
    /// The plan's event id (what a correction names).
    pub event_id: String,
    /// The lot to ship.
    pub lot_id: String,
    /// The pen it ships from (empty: not given).
    pub pen_id: String,
    /// The planned day, days since 1970-01-01 UTC.
    pub planned_day: u16,
    /// Head planned.
    pub head_count: u32,
    /// The animals chosen (empty: the lot's).
    pub eids: Vec<String>,
    /// Who buys them (empty: not given).
    pub buyer: String,
    /// Where they go (empty: not given).
    pub destination: String,
    /// A free note.
    pub note: String,
    /// When the plan was recorded, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A shipment of a lot: when, as corrected.
#[derive(Debug, Clone, Deserialize, clickhouse::Row)]
struct Shipped {
    lot_id: String,
    at_ms: u64,
}

/// A plan and whether it has shipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStatus {
    /// The plan, as corrected.
    pub plan: ShipmentPlan,
    /// When a shipment of its lot shipped it, ms since the epoch UTC.
    pub shipped_at_ms: Option<u64>,
}

/// `feedlot_id`'s plans not voided (of `lot_id` only, when given), by planned day, each with
/// the shipment that shipped it, if any.
pub async fn plans(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: Option<&str>,
) -> Result<Vec<PlanStatus>> {
    let (conditions, lot) = match lot_id {
        Some(lot) => ("feedlot_id = ? AND lot_id = ?", lot),
        None => ("feedlot_id = ?", ""),
    };
    let corrected = live::has_corrections(client, feedlot_id).await?;
    let mut plans = client.query(&format!(
        "SELECT toString(event_id), lot_id, pen_id, planned_date, head_count, eids, buyer, \
                destination, note, captured_at_ms \
         FROM {} ORDER BY planned_date, captured_at_ms, event_id",
        live::source_if("shipment_plans", conditions, corrected)
    ));
    let mut shipped = client.query(&format!(
        "SELECT lot_id, captured_at_ms AS at_ms FROM {} ORDER BY captured_at_ms",
        live::source_if("shipments", conditions, corrected)
    ));
    plans = plans.bind(feedlot_id);
    shipped = shipped.bind(feedlot_id);
    if lot_id.is_some() {
        plans = plans.bind(lot);
        shipped = shipped.bind(lot);
    }
    let (plans, shipped) = tokio::try_join!(
        plans.fetch_all::<ShipmentPlan>(),
        shipped.fetch_all::<Shipped>()
    )?;
    Ok(plans
        .into_iter()
        .map(|plan| {
            let shipped_at_ms = shipped
                .iter()
                .find(|s| ships(&plan, &s.lot_id, s.at_ms))
                .map(|s| s.at_ms);
            PlanStatus {
                plan,
                shipped_at_ms,
            }
        })
        .collect())
}

/// Whether a shipment of `lot_id` at `at_ms` ships `plan`.
fn ships(plan: &ShipmentPlan, lot_id: &str, at_ms: u64) -> bool {
    let day = crate::facts::rows::day_of(at_ms);
    lot_id == plan.lot_id
        && at_ms >= plan.captured_at_ms
        && day.saturating_add(SHIPPED_EARLY_DAYS) >= plan.planned_day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shipment_of_the_lot_after_the_plan_and_near_its_day_ships_it() {
        const DAY: u64 = 86_400_000;
        let plan = ShipmentPlan {
            event_id: "p".into(),
            lot_id: "L1".into(),
            pen_id: String::new(),
            planned_day: 100,
            head_count: 10,
            eids: Vec::new(),
            buyer: String::new(),
            destination: String::new(),
            note: String::new(),
            captured_at_ms: 80 * DAY,
        };
        assert!(ships(&plan, "L1", 99 * DAY), "a day early");
        assert!(ships(&plan, "L1", 104 * DAY), "late");
        assert!(!ships(&plan, "L2", 100 * DAY), "another lot");
        assert!(!ships(&plan, "L1", 79 * DAY), "before it was planned");
        assert!(!ships(&plan, "L1", 85 * DAY), "an earlier draft of the lot");
    }
}
