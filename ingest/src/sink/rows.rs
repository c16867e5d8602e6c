//! Table rows for each event kind, one struct per table, grouped by role: the chute
//! (`weighings`, `tag_reads`), feed (`rows/feed.rs`) and the herd's records (`rows/herd.rs`).
//!
//! ClickHouse 18.16 takes plain `RowBinary`, so each struct lists its table's columns in table
//! order (checked against the migrations by a test below). Every table starts with the event's
//! identity (`event_id`, `feedlot_id`, `gateway_id`, `device_id`) and ends with its times
//! (`captured_at`, `captured_at_ms`, `schema_version`, `ingested_at`).

mod chute;
mod correction;
mod feed;
mod herd;
mod plan;
mod status;

use chrono::Utc;
use schemas::{Envelope, Event};
use uuid::Uuid;

pub use chute::{TagReadRow, WeighingRow};
pub use correction::CorrectionRow;
pub use feed::{FeedDeliveryRow, FeedLoadRow, FeedPurchaseRow, RationRow};
pub use herd::{
    ArrivalRow, DeathRow, PenMoveRow, PlacementRow, ShipmentRow, TreatmentRow, YardProfileRow,
    YardageRateRow,
};
pub use plan::ShipmentPlanRow;
pub use status::GatewayStatusRow;

/// The columns every table shares, taken from the envelope once.
#[derive(Debug, Clone)]
struct Meta {
    event_id: Uuid,
    feedlot_id: String,
    gateway_id: String,
    device_id: String,
    captured_at: u32,
    captured_at_ms: u64,
    schema_version: u16,
    ingested_at: u32,
}

impl Meta {
    fn of(envelope: &Envelope, ingested_at_ms: i64) -> Self {
        let ms = envelope.captured_at.timestamp_millis();
        Self {
            event_id: envelope.event_id,
            feedlot_id: envelope.feedlot_id.clone(),
            gateway_id: envelope.gateway_id.clone(),
            device_id: envelope.device_id.clone(),
            captured_at: secs(ms),
            captured_at_ms: u64::try_from(ms).unwrap_or(0),
            schema_version: envelope.schema_version,
            ingested_at: secs(ingested_at_ms),
        }
    }
}

/// Declares a row struct: the shared identity columns, then `$field`s, then the shared times.
macro_rules! event_row {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, clickhouse::Row, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            /// The event id (dedup key).
            #[serde(with = "clickhouse::serde::uuid")]
            pub event_id: uuid::Uuid,
            /// The yard.
            pub feedlot_id: String,
            /// The capturing gateway.
            pub gateway_id: String,
            /// The device or API that produced the event.
            pub device_id: String,
            $($(#[$fdoc])* pub $field: $ty,)*
            /// Capture time, whole seconds UTC (ClickHouse `DateTime`).
            pub captured_at: u32,
            /// Capture time, ms since the Unix epoch UTC.
            pub captured_at_ms: u64,
            /// The writer's schema version.
            pub schema_version: u16,
            /// When `ingest` stored it (seconds UTC).
            pub ingested_at: u32,
        }
    };
}
use event_row;

/// Builds a row struct literal from a [`Meta`] and the kind's own fields.
macro_rules! row {
    ($name:ident, $meta:expr, { $($field:ident : $value:expr),* $(,)? }) => {{
        let m: &Meta = $meta;
        $name {
            event_id: m.event_id,
            feedlot_id: m.feedlot_id.clone(),
            gateway_id: m.gateway_id.clone(),
            device_id: m.device_id.clone(),
            $($field: $value,)*
            captured_at: m.captured_at,
            captured_at_ms: m.captured_at_ms,
            schema_version: m.schema_version,
            ingested_at: m.ingested_at,
        }
    }};
}
use row;

/// One batch's rows, by table.
#[derive(Debug, Default, Clone)]
pub struct Rows {
    /// For `weighings`.
    pub weighings: Vec<WeighingRow>,
    /// For `tag_reads`.
    pub tag_reads: Vec<TagReadRow>,
    /// For `feed_loads`.
    pub feed_loads: Vec<FeedLoadRow>,
    /// For `feed_deliveries`.
    pub feed_deliveries: Vec<FeedDeliveryRow>,
    /// For `treatments`.
    pub treatments: Vec<TreatmentRow>,
    /// For `arrivals`.
    pub arrivals: Vec<ArrivalRow>,
    /// For `pen_moves`.
    pub pen_moves: Vec<PenMoveRow>,
    /// For `deaths`.
    pub deaths: Vec<DeathRow>,
    /// For `shipments`.
    pub shipments: Vec<ShipmentRow>,
    /// For `feed_purchases`.
    pub feed_purchases: Vec<FeedPurchaseRow>,
    /// For `rations`.
    pub rations: Vec<RationRow>,
    /// For `yardage_rates`.
    pub yardage_rates: Vec<YardageRateRow>,
    /// For `placements`.
    pub placements: Vec<PlacementRow>,
    /// For `yard_profiles`.
    pub yard_profiles: Vec<YardProfileRow>,
    /// For `corrections`.
    pub corrections: Vec<CorrectionRow>,
    /// For `gateway_status`.
    pub gateway_status: Vec<GatewayStatusRow>,
    /// For `shipment_plans`.
    pub shipment_plans: Vec<ShipmentPlanRow>,
}

/// One yard's change in a batch (`fact_changes`): the facts worker recomputes the yard from
/// the day of its earliest record. `recorded_at` is set by ClickHouse when stored.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, serde::Serialize, serde::Deserialize)]
pub struct FactChangeRow {
    /// The yard.
    pub feedlot_id: String,
    /// The earliest capture time among the batch's records of the yard, ms since the epoch.
    pub earliest_captured_ms: u64,
    /// How many of its records the batch holds.
    pub records: u32,
}

fn secs(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(1000)).unwrap_or(0)
}

impl Rows {
    /// How many rows in all.
    pub fn len(&self) -> usize {
        self.weighings.len()
            + self.tag_reads.len()
            + self.feed_loads.len()
            + self.feed_deliveries.len()
            + self.treatments.len()
            + self.arrivals.len()
            + self.pen_moves.len()
            + self.deaths.len()
            + self.shipments.len()
            + self.feed_purchases.len()
            + self.rations.len()
            + self.yardage_rates.len()
            + self.placements.len()
            + self.yard_profiles.len()
            + self.corrections.len()
            + self.gateway_status.len()
            + self.shipment_plans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each yard's change in this batch, for `fact_changes`: every table the analytics read
    /// (not tag reads, mixer loads, yard profiles, gateway status or shipment plans).
    pub fn fact_changes(&self) -> Vec<FactChangeRow> {
        let mut by_yard: std::collections::BTreeMap<&str, (u64, u32)> = Default::default();
        macro_rules! each {
            ($($table:ident),*) => {
                $(for r in &self.$table {
                    let entry = by_yard.entry(r.feedlot_id.as_str()).or_insert((u64::MAX, 0));
                    entry.0 = entry.0.min(r.captured_at_ms);
                    entry.1 += 1;
                })*
            };
        }
        each!(
            weighings,
            feed_deliveries,
            treatments,
            arrivals,
            pen_moves,
            deaths,
            shipments,
            feed_purchases,
            rations,
            yardage_rates,
            placements
        );
        // The consumer does not know when a corrected record was captured: a correction makes
        // its yard's facts recomputed from the first day (corrections are rare).
        for r in &self.corrections {
            let entry = by_yard
                .entry(r.feedlot_id.as_str())
                .or_insert((u64::MAX, 0));
            entry.0 = 0;
            entry.1 += 1;
        }
        by_yard
            .into_iter()
            .map(|(feedlot, (earliest, records))| FactChangeRow {
                feedlot_id: feedlot.to_owned(),
                earliest_captured_ms: earliest,
                records,
            })
            .collect()
    }

    /// Adds the row for `envelope` to its kind's table, ingested now.
    pub fn push(&mut self, envelope: &Envelope) {
        let _table = self.push_ingested(envelope, Utc::now().timestamp_millis());
    }

    /// Adds the row for `envelope` with `ingested_at` from `ingested_at_ms` (ms since the
    /// epoch): the same event and time always make the same row, so a batch made again is the
    /// same insert block. The latest `ingested_at` of an event wins in the tables.
    /// Returns the table the row went to (None for a kind without one).
    pub fn push_ingested(
        &mut self,
        envelope: &Envelope,
        ingested_at_ms: i64,
    ) -> Option<&'static str> {
        let m = &Meta::of(envelope, ingested_at_ms);
        let table = match &envelope.event {
            Event::Weighing(w) => {
                self.weighings.push(WeighingRow::new(m, w));
                "weighings"
            }
            Event::TagRead(t) => {
                self.tag_reads.push(TagReadRow::new(m, t));
                "tag_reads"
            }
            Event::FeedLoad(e) => {
                self.feed_loads.push(FeedLoadRow::new(m, e));
                "feed_loads"
            }
            Event::FeedDelivery(e) => {
                self.feed_deliveries.push(FeedDeliveryRow::new(m, e));
                "feed_deliveries"
            }
            Event::Treatment(e) => {
                self.treatments.push(TreatmentRow::new(m, e));
                "treatments"
            }
            Event::Arrival(e) => {
                self.arrivals.push(ArrivalRow::new(m, e));
                "arrivals"
            }
            Event::PenMove(e) => {
                self.pen_moves.push(PenMoveRow::new(m, e));
                "pen_moves"
            }
            Event::Death(e) => {
                self.deaths.push(DeathRow::new(m, e));
                "deaths"
            }
            Event::Shipment(e) => {
                self.shipments.push(ShipmentRow::new(m, e));
                "shipments"
            }
            Event::FeedPurchase(e) => {
                self.feed_purchases.push(FeedPurchaseRow::new(m, e));
                "feed_purchases"
            }
            Event::Ration(e) => {
                self.rations.push(RationRow::new(m, e));
                "rations"
            }
            Event::YardageRate(e) => {
                self.yardage_rates.push(YardageRateRow::new(m, e));
                "yardage_rates"
            }
            Event::Placement(e) => {
                self.placements.push(PlacementRow::new(m, e));
                "placements"
            }
            Event::YardProfile(e) => {
                self.yard_profiles.push(YardProfileRow::new(m, e));
                "yard_profiles"
            }
            Event::LotDeath(e) => {
                self.deaths.push(DeathRow::of_lot(m, e));
                "deaths"
            }
            Event::LotTreatment(e) => {
                self.treatments.push(TreatmentRow::of_lot(m, e));
                "treatments"
            }
            Event::Correction(e) => {
                self.corrections.push(CorrectionRow::new(m, e));
                "corrections"
            }
            Event::GatewayStatus(e) => {
                self.gateway_status.push(GatewayStatusRow::new(m, e));
                "gateway_status"
            }
            Event::ShipmentPlan(e) => {
                self.shipment_plans.push(ShipmentPlanRow::new(m, e));
                "shipment_plans"
            }
            // `Event` is non-exhaustive: a kind added to `schemas` without its table here is
            // logged, never a panic. New kinds arrive with their table in the same release.
            _ => {
                tracing::warn!(event_id = %envelope.event_id, "event kind without a table");
                return None;
            }
        };
        Some(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse::Row;

    /// The column names of `table`, in order, from the migration that creates it and the
    /// `ALTER TABLE .. ADD COLUMN .. AFTER ..` statements of later ones.
    fn columns(table: &str) -> Vec<String> {
        let mut cols = created_columns(table);
        let prefix = format!("ALTER TABLE {table} ADD COLUMN ");
        for m in crate::schema::MIGRATIONS {
            for line in m.sql.lines().filter_map(|l| l.strip_prefix(&prefix)) {
                let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
                let after = words.iter().position(|w| *w == "AFTER").unwrap();
                let at = cols.iter().position(|c| c == words[after + 1]).unwrap();
                cols.insert(at + 1, words[0].to_owned());
            }
        }
        cols
    }

    fn created_columns(table: &str) -> Vec<String> {
        let sql = crate::schema::MIGRATIONS
            .iter()
            .map(|m| m.sql)
            .collect::<Vec<_>>()
            .join("\n");
        let start = sql
            .find(&format!("CREATE TABLE IF NOT EXISTS {table}\n"))
            .unwrap_or_else(|| panic!("no table {table}"));
        let body = &sql[start..];
        let open = body.find('(').unwrap_or_default();
        let close = body.find("\n)").unwrap_or_default();
        body[open + 1..close]
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }

    fn names<R: Row>() -> Vec<String> {
        R::COLUMN_NAMES.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn every_row_struct_lists_its_tables_columns_in_table_order() {
        let pairs: [(&str, Vec<String>); 17] = [
            ("weighings", names::<WeighingRow>()),
            ("tag_reads", names::<TagReadRow>()),
            ("feed_loads", names::<FeedLoadRow>()),
            ("feed_deliveries", names::<FeedDeliveryRow>()),
            ("treatments", names::<TreatmentRow>()),
            ("arrivals", names::<ArrivalRow>()),
            ("pen_moves", names::<PenMoveRow>()),
            ("deaths", names::<DeathRow>()),
            ("shipments", names::<ShipmentRow>()),
            ("feed_purchases", names::<FeedPurchaseRow>()),
            ("rations", names::<RationRow>()),
            ("yardage_rates", names::<YardageRateRow>()),
            ("placements", names::<PlacementRow>()),
            ("yard_profiles", names::<YardProfileRow>()),
            ("corrections", names::<CorrectionRow>()),
            ("gateway_status", names::<GatewayStatusRow>()),
            ("shipment_plans", names::<ShipmentPlanRow>()),
        ];
        for (table, fields) in pairs {
            assert_eq!(fields, columns(table), "{table}");
        }
    }

    #[test]
    fn every_kind_in_the_fixtures_lands_in_exactly_one_table() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/tests/fixtures/v1");
        let mut rows = Rows::default();
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            rows.push(&schemas::decode(&bytes).unwrap());
            n += 1;
        }
        assert_eq!(n, schemas::EventKind::ALL.len());
        assert_eq!(rows.len(), n);
        let load = &rows.feed_loads[0];
        assert_eq!(load.ingredients.len(), load.ingredient_weights_kg.len());
        assert_eq!(load.total_kg, 4550.5);
        assert!((rows.rations[0].dry_matter_pct - 76.2).abs() < 1e-9);
        assert_eq!(rows.pen_moves[0].head_count, 1);
        assert_eq!(rows.yardage_rates[0].lot_id, "");
        let changes = rows.fact_changes();
        assert_eq!(changes.len(), 1, "the fixtures are one yard's");
        // Not tag reads, mixer loads, yard profiles, gateway status or shipment plans.
        let analysed = n - 5;
        assert_eq!(changes[0].records as usize, analysed);
        assert_eq!(
            changes[0].earliest_captured_ms, 0,
            "a correction recomputes its yard from the first day"
        );
        let fix = &rows.corrections[0];
        assert_eq!((fix.action.as_str(), fix.dose), ("amend", 6.5));
        assert_eq!(fix.amended, ["dose"]);
        let plan = &rows.shipment_plans[0];
        assert_eq!((plan.lot_id.as_str(), plan.head_count), ("L-2026-031", 118));
        assert_eq!(
            plan.planned_date, 20_940,
            "2027-05-02, days since 1970-01-01"
        );
        assert_eq!(plan.eids.len(), 2);
        assert_eq!(plan.destination, "Lexington, NE");
    }

    #[test]
    fn fact_changes_lists_the_columns_the_consumer_sends() {
        let mut table = columns("fact_changes");
        assert_eq!(
            table.pop().as_deref(),
            Some("recorded_at"),
            "set by ClickHouse"
        );
        assert_eq!(names::<FactChangeRow>(), table);
    }
}
