//! `withdrawal_on_shipment` over planned shipments (`shipment_plans`, as corrected): each plan
//! not voided and not yet shipped, due from [`OVERDUE_DAYS`] ago up to
//! `shipment_plan_within_days` ahead, whose animals (its EIDs, else its lot's animals still in
//! the yard) include some whose meat withdrawal has not ended by the start of its planned day.
//! An animal's withdrawal ends `withdrawal_days` after its latest dose, its own or one given to
//! its lot or pen while it was there (as the animal page counts them). One alert per plan and
//! the day its last animal clears (a new dose makes a new alert).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Alert, AlertError, day_text};
use crate::config::RuleSettings;
use crate::facts::rows::{DAY_MS, date_text, day_of};
use crate::queries::plans::{self, PlanStatus};
use crate::queries::whereabouts::{self, Replay};

type Result<T> = std::result::Result<T, AlertError>;

/// A plan whose day passed this many days ago without a shipment is still checked (the
/// cattle may not have left yet); older, it is taken as abandoned.
pub const OVERDUE_DAYS: u16 = 3;

/// What the plans say: their alerts, and the lots with an open plan (the proxy check of lots
/// near their target weight leaves those to the plans).
#[derive(Debug, Default)]
pub struct Planned {
    /// One alert per plan with animals in withdrawal on its day.
    pub alerts: Vec<Alert>,
    /// Lots with a plan not voided, not shipped and not more than [`OVERDUE_DAYS`] overdue.
    pub lots: BTreeSet<String>,
}

/// A lot- or pen-level dose with a withdrawal (no animal named).
#[derive(Debug, Clone, serde::Deserialize, clickhouse::Row)]
struct GroupDose {
    at_ms: u64,
    clear_ms: u64,
    lot_id: String,
    pen_id: String,
}

/// The planned shipments of `feedlot_id` as of `now_ms` and their alerts.
pub async fn check(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    now_ms: u64,
) -> Result<Planned> {
    let today = day_of(now_ms);
    let first = today.saturating_sub(OVERDUE_DAYS);
    let last =
        today.saturating_add(u16::try_from(rules.shipment_plan_within_days).unwrap_or(u16::MAX));
    let open: Vec<PlanStatus> = plans::plans(client, feedlot_id, None)
        .await?
        .into_iter()
        .filter(|p| p.shipped_at_ms.is_none() && p.plan.planned_day >= first)
        .collect();
    let lots = open.iter().map(|p| p.plan.lot_id.clone()).collect();
    let due: Vec<&PlanStatus> = open.iter().filter(|p| p.plan.planned_day <= last).collect();
    if due.is_empty() {
        return Ok(Planned {
            alerts: Vec::new(),
            lots,
        });
    }
    let yard = whereabouts::yard_on(client, feedlot_id, now_ms).await?;
    let animals_of: Vec<Vec<String>> = due
        .iter()
        .map(|p| {
            if p.plan.eids.is_empty() {
                yard.lot_animals(&p.plan.lot_id)
            } else {
                p.plan.eids.clone()
            }
        })
        .collect();
    let everyone: BTreeSet<&str> = animals_of.iter().flatten().map(String::as_str).collect();
    // Only doses still running at the start of the earliest planned day matter.
    let from_ms = u64::from(first) * DAY_MS;
    let clears = clear_days(client, feedlot_id, &yard, &everyone, from_ms).await?;
    let alerts = due
        .iter()
        .zip(&animals_of)
        .filter_map(|(p, animals)| alert(feedlot_id, p, animals, &clears))
        .collect();
    Ok(Planned { alerts, lots })
}

/// When each of `animals`' withdrawal ends (ms since the epoch), for those with one running
/// after `from_ms`: its own doses and those given to its lot or pen while it was there.
async fn clear_days(
    client: &clickhouse::Client,
    feedlot_id: &str,
    yard: &Replay,
    animals: &BTreeSet<&str>,
    from_ms: u64,
) -> Result<HashMap<String, u64>> {
    if animals.is_empty() {
        return Ok(HashMap::new());
    }
    let eids: Vec<&str> = animals.iter().copied().collect();
    let own: Vec<(String, u64)> = client
        .query(&format!(
            "SELECT eid, max(captured_at_ms + toUInt64(withdrawal_days) * 86400000) AS clear_ms \
             FROM {} GROUP BY eid HAVING clear_ms > ?",
            crate::queries::live::source(
                "treatments",
                "feedlot_id = ? AND withdrawal_days > 0 AND has(?, eid)"
            )
        ))
        .bind(feedlot_id)
        .bind(&eids)
        .bind(from_ms)
        .fetch_all()
        .await?;
    let group: Vec<GroupDose> = client
        .query(&format!(
            "SELECT captured_at_ms, captured_at_ms + toUInt64(withdrawal_days) * 86400000 AS clear_ms, \
             lot_id, pen_id FROM {} WHERE clear_ms > ?",
            crate::queries::live::source(
                "treatments",
                "feedlot_id = ? AND eid = '' AND withdrawal_days > 0"
            )
        ))
        .bind(feedlot_id)
        .bind(from_ms)
        .fetch_all()
        .await?;
    let mut clears: HashMap<String, u64> = own.into_iter().collect();
    for eid in animals {
        let stays = yard.history(eid);
        for dose in group
            .iter()
            .filter(|d| crate::queries::given_while_there(stays, d.at_ms, &d.lot_id, &d.pen_id))
        {
            let clear = clears.entry((*eid).to_owned()).or_default();
            *clear = (*clear).max(dose.clear_ms);
        }
    }
    Ok(clears)
}

/// The alert of plan `p` when any of its `animals` is in withdrawal at the start of its day.
fn alert(
    feedlot_id: &str,
    p: &PlanStatus,
    animals: &[String],
    clears: &HashMap<String, u64>,
) -> Option<Alert> {
    let plan = &p.plan;
    let day_starts_ms = u64::from(plan.planned_day) * DAY_MS;
    let held: BTreeMap<&str, u64> = animals
        .iter()
        .filter_map(|eid| {
            let clear = *clears.get(eid)?;
            (clear > day_starts_ms).then_some((eid.as_str(), clear))
        })
        .collect();
    let last_clear = held.values().copied().max()?;
    let date = date_text(plan.planned_day);
    let listed: Vec<String> = held
        .iter()
        .map(|(eid, clear)| format!("{eid} (clears {})", day_text(*clear)))
        .collect();
    let to = match (plan.buyer.as_str(), plan.destination.as_str()) {
        ("", "") => String::new(),
        (buyer, "") => format!(" to {buyer}"),
        ("", place) => format!(" to {place}"),
        (buyer, place) => format!(" to {buyer}, {place}"),
    };
    Some(Alert::new(
        feedlot_id,
        "withdrawal_on_shipment",
        &plan.event_id,
        &day_text(last_clear),
        format!(
            "Lot {} planned to ship {date} with {} head in withdrawal",
            plan.lot_id,
            held.len()
        ),
        format!(
            "Planned shipment of {} head on {date}{to} (plan {}): still in withdrawal that day: \
             {}. Do not ship them for slaughter before they clear; move the date or the draft.",
            plan.head_count,
            plan.event_id,
            listed.join(", ")
        ),
        format!("/feedlots/{feedlot_id}/lots/{}", plan.lot_id),
    ))
}
