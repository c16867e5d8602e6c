//! Records as they stand after their corrections (`corrections`, docs/corrections.md): the one
//! place every read that feeds analytics and pages takes a record table from. A voided record is
//! left out; an amended one shows the latest new value of each amended field. Nothing is
//! deleted: the original rows stay in their tables, and [`super::changes`] shows the history.
//!
//! [`source`] is a `FROM` source: a subquery over the table read `FINAL` with the caller's
//! conditions inside it (so they filter before the join), exposing the table's columns under
//! their own names. Reads over cluster tables take the corrections through `GLOBAL` joins.

/// An amendable column: its name in the record's table and the correction's field (the same
/// name in `corrections`).
struct Amended {
    column: &'static str,
    /// A column shown with it, rewritten when it is amended (a weighing's displayed value).
    shown: &'static [(&'static str, &'static str)],
}

/// A record table and its columns: those amendable and those passed as they are.
struct Table {
    name: &'static str,
    amended: &'static [Amended],
    others: &'static [&'static str],
}

const COMMON: [&str; 6] = [
    "event_id",
    "feedlot_id",
    "gateway_id",
    "device_id",
    "captured_at",
    "captured_at_ms",
];

const TABLES: [Table; 5] = [
    Table {
        name: "weighings",
        amended: &[Amended {
            column: "weight_kg",
            shown: &[
                ("displayed_value", "c_weight_kg"),
                ("displayed_unit", "'kg'"),
            ],
        }],
        others: &["eid", "gross_net", "tag_read_event_id"],
    },
    Table {
        name: "treatments",
        amended: &[
            Amended {
                column: "product",
                shown: &[],
            },
            Amended {
                column: "dose",
                shown: &[],
            },
            Amended {
                column: "withdrawal_days",
                shown: &[],
            },
        ],
        others: &[
            "eid",
            "purpose",
            "dose_unit",
            "route",
            "product_lot",
            "administered_by",
            "diagnosis",
            "booster_after_days",
            "cost_minor",
            "currency",
            "lot_id",
            "pen_id",
            "head_count",
        ],
    },
    Table {
        name: "deaths",
        amended: &[Amended {
            column: "cause",
            shown: &[],
        }],
        others: &["eid", "lot_id", "pen_id", "head_count"],
    },
    Table {
        name: "feed_deliveries",
        amended: &[Amended {
            column: "delivered_kg",
            shown: &[],
        }],
        others: &["pen_id", "ration_id", "target_kg", "truck_id", "operator"],
    },
    Table {
        name: "shipment_plans",
        amended: &[
            Amended {
                column: "planned_date",
                shown: &[],
            },
            Amended {
                column: "head_count",
                shown: &[],
            },
        ],
        others: &["lot_id", "pen_id", "eids", "buyer", "destination", "note"],
    },
];

/// The voided records, as `(feedlot_id, event_id)` pairs.
const VOIDED: &str =
    "SELECT feedlot_id, corrects_event_id FROM corrections FINAL WHERE action = 'void'";

/// `table` (a record table) read `FINAL` where `conditions` hold (SQL over its columns, may
/// hold `?` binds), without voided records and with amended values: a `FROM` source.
pub fn source(table: &str, conditions: &str) -> String {
    let Some(spec) = TABLES.iter().find(|t| t.name == table) else {
        return format!(
            "(SELECT * FROM {table} FINAL WHERE ({conditions}) \
             AND (feedlot_id, event_id) GLOBAL NOT IN ({VOIDED}))"
        );
    };
    let mut columns: Vec<String> = COMMON.iter().map(|c| (*c).to_owned()).collect();
    columns.extend(spec.others.iter().map(|c| (*c).to_owned()));
    let mut latest = Vec::new();
    for a in spec.amended {
        let c = a.column;
        columns.push(format!("if(c_has_{c}, c_{c}, {c}) AS {c}"));
        for (shown, value) in a.shown {
            columns.push(format!("if(c_has_{c}, {value}, {shown}) AS {shown}"));
        }
        latest.push(format!(
            "max(has(amended, '{c}')) AS c_has_{c}, \
             argMaxIf({c}, captured_at_ms, has(amended, '{c}')) AS c_{c}"
        ));
    }
    format!(
        "(SELECT {columns} FROM {table} FINAL GLOBAL ANY LEFT JOIN \
         (SELECT feedlot_id, corrects_event_id AS event_id, {latest} FROM corrections FINAL \
          WHERE action = 'amend' GROUP BY feedlot_id, event_id) AS corrected USING (feedlot_id, event_id) \
         WHERE ({conditions}) AND (feedlot_id, event_id) GLOBAL NOT IN ({VOIDED}))",
        columns = columns.join(", "),
        latest = latest.join(", "),
    )
}

/// Whether any record of `feedlot_id` has a correction. A read of a whole yard (the facts'
/// load) asks first: when none has, [`source_if`] reads the table alone, without the join and
/// the `NOT IN` over `corrections`. A correction stored after the answer makes the yard
/// recompute again (`fact_changes`), which reads it.
pub async fn has_corrections(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<bool, clickhouse::error::Error> {
    let n: u64 = client
        .query("SELECT count() FROM corrections WHERE feedlot_id = ?")
        .bind(feedlot_id)
        .fetch_one()
        .await?;
    Ok(n > 0)
}

/// [`source`] when `corrected` (the yard has corrections), else `table` read `FINAL` where
/// `conditions` hold: the same rows for a yard without corrections.
pub fn source_if(table: &str, conditions: &str, corrected: bool) -> String {
    if corrected {
        source(table, conditions)
    } else {
        format!("(SELECT * FROM {table} FINAL WHERE ({conditions}))")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amendable_table_exposes_its_columns_by_name_with_the_conditions_inside() {
        let sql = source("weighings", "feedlot_id = ? AND eid = ?");
        assert!(sql.starts_with("(SELECT event_id, "), "{sql}");
        assert!(
            sql.contains("if(c_has_weight_kg, c_weight_kg, weight_kg) AS weight_kg"),
            "{sql}"
        );
        assert!(
            sql.contains("WHERE (feedlot_id = ? AND eid = ?) AND"),
            "{sql}"
        );
        assert_eq!(sql.matches('?').count(), 2, "only the caller's binds");
        let other = source("arrivals", "feedlot_id = ?");
        assert!(other.contains("GLOBAL NOT IN"), "{other}");
    }
}
