//! Table rows for each event kind.

use chrono::Utc;
use schemas::{Envelope, Event, GrossNet, WeightUnit};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// One batch's rows, by table.
#[derive(Debug, Default, Clone)]
pub struct Rows {
    /// For `weighings`.
    pub weighings: Vec<WeighingRow>,
    /// For `tag_reads`.
    pub tag_reads: Vec<TagReadRow>,
}

fn secs(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(1000)).unwrap_or(0)
}

impl Rows {
    /// How many rows in all.
    pub fn len(&self) -> usize {
        self.weighings.len() + self.tag_reads.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the row for `envelope`.
    pub fn push(&mut self, envelope: &Envelope) {
        let ms = envelope.captured_at.timestamp_millis();
        let ingested_at = secs(Utc::now().timestamp_millis());
        let captured_at_ms = u64::try_from(ms).unwrap_or(0);
        match &envelope.event {
            Event::Weighing(w) => self.weighings.push(WeighingRow {
                event_id: envelope.event_id,
                feedlot_id: envelope.feedlot_id.clone(),
                gateway_id: envelope.gateway_id.clone(),
                device_id: envelope.device_id.clone(),
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
                captured_at: secs(ms),
                captured_at_ms,
                schema_version: envelope.schema_version,
                ingested_at,
            }),
            Event::TagRead(t) => self.tag_reads.push(TagReadRow {
                event_id: envelope.event_id,
                feedlot_id: envelope.feedlot_id.clone(),
                gateway_id: envelope.gateway_id.clone(),
                device_id: envelope.device_id.clone(),
                eid: t.eid.to_string(),
                captured_at: secs(ms),
                captured_at_ms,
                schema_version: envelope.schema_version,
                ingested_at,
            }),
            // A kind this build does not store yet is still acknowledged by the decoder's
            // version check; new kinds arrive with their table in the same release.
            _ => tracing::warn!(event_id = %envelope.event_id, "event kind without a table"),
        }
    }
}
