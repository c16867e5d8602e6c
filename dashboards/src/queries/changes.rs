//! A record's history of corrections (`corrections`, docs/corrections.md), as the animal and
//! lot pages show it: when, who, which record, void or amend, old value -> new value, why.
//! The old value is the record's as captured, or as the previous amendment left it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// One correction of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// When it was corrected, ms since the epoch UTC.
    pub at_ms: u64,
    /// Who corrected it: the user (`api:<user>` without `api:`), else the device.
    pub who: String,
    /// The corrected record's kind (`weighing`, `treatment`, ...).
    pub record_kind: String,
    /// The corrected record's event id.
    pub record_event_id: String,
    /// When the corrected record was captured, ms since the epoch UTC.
    pub record_at_ms: u64,
    /// `void` or `amend`.
    pub action: String,
    /// What changed, `field: old -> new` per field (`counted -> void` for a void).
    pub old_to_new: Vec<String>,
    /// Why.
    pub reason: String,
}

/// A corrected record's values as captured, by field.
#[derive(Debug, Clone, Deserialize, clickhouse::Row)]
struct Original {
    id: String,
    kind: String,
    at_ms: u64,
    fields: Vec<String>,
    vals: Vec<String>,
}

/// One row of `corrections`.
#[derive(Debug, Clone, Deserialize, clickhouse::Row)]
struct CorrectionLine {
    id: String,
    captured_at_ms: u64,
    device_id: String,
    record_kind: String,
    action: String,
    reason: String,
    amended: Vec<String>,
    weight_kg: f64,
    product: String,
    dose: f64,
    withdrawal_days: u32,
    cause: String,
    delivered_kg: f64,
    planned_date: u16,
    head_count: u32,
}

impl CorrectionLine {
    /// The new value of `field`, as text.
    fn value(&self, field: &str) -> String {
        match field {
            "weight_kg" => self.weight_kg.to_string(),
            "product" => self.product.clone(),
            "dose" => self.dose.to_string(),
            "withdrawal_days" => self.withdrawal_days.to_string(),
            "cause" => self.cause.clone(),
            "delivered_kg" => self.delivered_kg.to_string(),
            "planned_date" => crate::facts::rows::date_text(self.planned_date),
            "head_count" => self.head_count.to_string(),
            other => format!("({other}?)"),
        }
    }
}

/// The tables' records of one subject, each with its amendable fields as text: a `UNION ALL`
/// with one `{who}` condition per table (the caller binds its parameters for each).
fn originals_sql(who: &str) -> String {
    let part = |kind: &str, table: &str, fields: &str, values: &str| {
        format!(
            "SELECT toString(event_id) AS id, '{kind}' AS kind, captured_at_ms AS at_ms, \
             {fields} AS fields, {values} AS vals FROM {table} FINAL \
             WHERE feedlot_id = ? AND {who}"
        )
    };
    [
        part(
            "weighing",
            "weighings",
            "['weight_kg']",
            "[toString(weight_kg)]",
        ),
        part(
            "treatment",
            "treatments",
            "['product', 'dose', 'withdrawal_days']",
            "[product, toString(dose), toString(withdrawal_days)]",
        ),
        part("death", "deaths", "['cause']", "[cause]"),
        part(
            "placement",
            "placements",
            "emptyArrayString()",
            "emptyArrayString()",
        ),
        part(
            "pen_move",
            "pen_moves",
            "emptyArrayString()",
            "emptyArrayString()",
        ),
    ]
    .join(" UNION ALL ")
}

/// The corrections of the animal `eid`'s records (weighings, treatments, death, placement,
/// moves), oldest first.
pub async fn animal_changes(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eid: &str,
) -> Result<Vec<Change>> {
    if !super::live::has_corrections(client, feedlot_id).await? {
        return Ok(Vec::new());
    }
    let sql = originals_sql("eid = ?");
    let mut query = client.query(&sql);
    for _ in 0..5 {
        query = query.bind(feedlot_id).bind(eid);
    }
    let originals = query.fetch_all::<Original>().await?;
    history(client, feedlot_id, originals).await
}

/// The corrections of the lot `lot_id`'s records: its animals' (as placed in it), its arrival,
/// its lot-level treatments, deaths and moves, and its shipments, oldest first.
pub async fn lot_changes(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
) -> Result<Vec<Change>> {
    // A yard with no corrections has no changes: its records are not read.
    if !super::live::has_corrections(client, feedlot_id).await? {
        return Ok(Vec::new());
    }
    let animals = "eid GLOBAL IN (SELECT eid FROM placements \
                   WHERE feedlot_id = ? AND lot_id = ? AND eid != '')";
    let mut sql = originals_sql(animals);
    // The lot's own records: its arrival, lot-level treatments, deaths and moves, its
    // shipments and shipment plans; each carries the lot, with no animal.
    let lot_level = [
        ("arrival", "arrivals", "1"),
        ("lot_treatment", "treatments", "eid = ''"),
        ("lot_death", "deaths", "eid = ''"),
        ("pen_move", "pen_moves", "eid = ''"),
        ("shipment", "shipments", "1"),
        ("shipment_plan", "shipment_plans", "1"),
    ];
    for (kind, table, which) in lot_level {
        let (fields, values) = match kind {
            "lot_treatment" => (
                "['product', 'dose', 'withdrawal_days']",
                "[product, toString(dose), toString(withdrawal_days)]",
            ),
            "lot_death" => ("['cause']", "[cause]"),
            "shipment_plan" => (
                "['planned_date', 'head_count']",
                "[toString(planned_date), toString(head_count)]",
            ),
            _ => ("emptyArrayString()", "emptyArrayString()"),
        };
        sql.push_str(&format!(
            " UNION ALL SELECT toString(event_id) AS id, '{kind}' AS kind, \
             captured_at_ms AS at_ms, {fields} AS fields, {values} AS vals FROM {table} FINAL \
             WHERE feedlot_id = ? AND {which} AND lot_id = ?"
        ));
    }
    let mut query = client.query(&sql);
    for _ in 0..5 {
        query = query.bind(feedlot_id).bind(feedlot_id).bind(lot_id);
    }
    for _ in lot_level {
        query = query.bind(feedlot_id).bind(lot_id);
    }
    let originals = query.fetch_all::<Original>().await?;
    history(client, feedlot_id, originals).await
}

/// The corrections of `originals`, each with the values it changed from and to.
async fn history(
    client: &clickhouse::Client,
    feedlot_id: &str,
    originals: Vec<Original>,
) -> Result<Vec<Change>> {
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = originals.iter().map(|o| o.id.as_str()).collect();
    let lines = client
        .query(
            "SELECT toString(corrects_event_id) AS id, captured_at_ms, device_id, record_kind, \
             action, reason, amended, weight_kg, product, dose, withdrawal_days, cause, \
             delivered_kg, planned_date, head_count FROM corrections FINAL \
             WHERE feedlot_id = ? AND has(?, toString(corrects_event_id)) \
             ORDER BY captured_at_ms, event_id",
        )
        .bind(feedlot_id)
        .bind(&ids)
        .fetch_all::<CorrectionLine>()
        .await?;
    Ok(changes_of(&originals, &lines))
}

/// Walks each record's corrections in order, from its captured values.
fn changes_of(originals: &[Original], lines: &[CorrectionLine]) -> Vec<Change> {
    let mut current: HashMap<&str, (&Original, HashMap<String, String>)> = originals
        .iter()
        .map(|o| {
            let values = o.fields.iter().cloned().zip(o.vals.iter().cloned());
            (o.id.as_str(), (o, values.collect()))
        })
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let Some((original, values)) = current.get_mut(line.id.as_str()) else {
            continue;
        };
        let old_to_new = if line.action == "void" {
            vec!["counted -> void".to_owned()]
        } else {
            line.amended
                .iter()
                .map(|field| {
                    let new = line.value(field);
                    let old = values
                        .insert(field.clone(), new.clone())
                        .unwrap_or_default();
                    format!("{field}: {old} -> {new}")
                })
                .collect()
        };
        out.push(Change {
            at_ms: line.captured_at_ms,
            who: line
                .device_id
                .strip_prefix("api:")
                .unwrap_or(&line.device_id)
                .to_owned(),
            record_kind: if line.record_kind.is_empty() {
                original.kind.clone()
            } else {
                line.record_kind.clone()
            },
            record_event_id: line.id.clone(),
            record_at_ms: original.at_ms,
            action: line.action.clone(),
            old_to_new,
            reason: line.reason.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(action: &str, amended: &[&str], kg: f64, at_ms: u64) -> CorrectionLine {
        CorrectionLine {
            id: "w1".into(),
            captured_at_ms: at_ms,
            device_id: "api:kim".into(),
            record_kind: "weighing".into(),
            action: action.into(),
            reason: "scale".into(),
            amended: amended.iter().map(|s| (*s).to_owned()).collect(),
            weight_kg: kg,
            product: String::new(),
            dose: 0.0,
            withdrawal_days: 0,
            cause: String::new(),
            delivered_kg: 0.0,
            planned_date: 0,
            head_count: 0,
        }
    }

    #[test]
    fn each_amendment_shows_the_value_it_replaced() {
        let originals = [Original {
            id: "w1".into(),
            kind: "weighing".into(),
            at_ms: 5,
            fields: vec!["weight_kg".into()],
            vals: vec!["450".into()],
        }];
        let lines = [
            line("amend", &["weight_kg"], 412.0, 10),
            line("amend", &["weight_kg"], 415.5, 20),
            line("void", &[], 0.0, 30),
        ];
        let changes = changes_of(&originals, &lines);
        let shown: Vec<_> = changes.iter().map(|c| c.old_to_new.join("; ")).collect();
        assert_eq!(
            shown,
            [
                "weight_kg: 450 -> 412",
                "weight_kg: 412 -> 415.5",
                "counted -> void"
            ]
        );
        assert_eq!(changes[0].who, "kim");
        assert_eq!(changes[0].record_at_ms, 5);
    }
}
