//! Chute rows: `weighings` and `tag_reads`.

use schemas::{GrossNet, TagRead, Weighing, WeightUnit};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Meta;

/// A row of `weighings`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct WeighingRow {
    /// The event id (dedup key).
    #[serde(with = "clickhouse::serde::uuid")]
    pub event_id: Uuid,
    /// The yard.
    pub feedlot_id: String,
    /// The capturing gateway.
    pub gateway_id: String,
    /// The scale.
    pub device_id: String,
    /// The animal's 15-digit EID.
    pub eid: String,
    /// The stable weight in kg.
    pub weight_kg: f64,
    /// The weight as the indicator displayed it.
    pub displayed_value: f64,
    /// `kg` or `lb`.
    pub displayed_unit: String,
    /// `gross`, `net` or empty when unknown.
    pub gross_net: String,
    /// The paired tag read's event id, or empty.
    pub tag_read_event_id: String,
    /// Capture time, whole seconds UTC (ClickHouse `DateTime`).
    pub captured_at: u32,
    /// Capture time, ms since the Unix epoch UTC.
    pub captured_at_ms: u64,
    /// The writer's schema version.
    pub schema_version: u16,
    /// When `ingest` stored it (seconds UTC).
    pub ingested_at: u32,
}

/// A row of `tag_reads`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct TagReadRow {
    /// The event id (dedup key).
    #[serde(with = "clickhouse::serde::uuid")]
    pub event_id: Uuid,
    /// The yard.
    pub feedlot_id: String,
    /// The capturing gateway.
    pub gateway_id: String,
    /// The reader.
    pub device_id: String,
    /// The animal's 15-digit EID.
    pub eid: String,
    /// Capture time, whole seconds UTC.
    pub captured_at: u32,
    /// Capture time, ms since the Unix epoch UTC.
    pub captured_at_ms: u64,
    /// The writer's schema version.
    pub schema_version: u16,
    /// When `ingest` stored it (seconds UTC).
    pub ingested_at: u32,
}

impl WeighingRow {
    pub(super) fn new(m: &Meta, w: &Weighing) -> Self {
        Self {
            event_id: m.event_id,
            feedlot_id: m.feedlot_id.clone(),
            gateway_id: m.gateway_id.clone(),
            device_id: m.device_id.clone(),
            eid: w.eid.to_string(),
            weight_kg: w.weight.kg(),
            displayed_value: w.weight.value,
            displayed_unit: match w.weight.unit {
                WeightUnit::Kg => "kg".into(),
                WeightUnit::Lb => "lb".into(),
            },
            gross_net: match w.gross_net {
                Some(GrossNet::Gross) => "gross".into(),
                Some(GrossNet::Net) => "net".into(),
                None => String::new(),
            },
            tag_read_event_id: w
                .tag_read_event_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            captured_at: m.captured_at,
            captured_at_ms: m.captured_at_ms,
            schema_version: m.schema_version,
            ingested_at: m.ingested_at,
        }
    }
}

impl TagReadRow {
    pub(super) fn new(m: &Meta, t: &TagRead) -> Self {
        Self {
            event_id: m.event_id,
            feedlot_id: m.feedlot_id.clone(),
            gateway_id: m.gateway_id.clone(),
            device_id: m.device_id.clone(),
            eid: t.eid.to_string(),
            captured_at: m.captured_at,
            captured_at_ms: m.captured_at_ms,
            schema_version: m.schema_version,
            ingested_at: m.ingested_at,
        }
    }
}
