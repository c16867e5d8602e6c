-- Corrections (wire kind `correction`, docs/corrections.md): a later record voiding or amending
-- an earlier one, named by its event id. Nothing is deleted: the corrected record stays in its
-- table, and the dashboards read it through the corrections (voided: left out; amended: the
-- latest new value of each field). One row per correction event; read with FINAL.
CREATE TABLE IF NOT EXISTS corrections
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    -- Who corrected: `api:<user>` for the records API and the entry forms.
    device_id String,
    -- The record corrected, and its kind (`weighing`, `treatment`, ...).
    corrects_event_id UUID,
    record_kind String,
    -- `void` or `amend`.
    action String,
    -- Why (required).
    reason String,
    -- The fields an amendment gives new values for (empty for a void); each value below counts
    -- only when its name is listed here.
    amended Array(String),
    weight_kg Float64,
    product String,
    dose Float64,
    withdrawal_days UInt32,
    cause String,
    delivered_kg Float64,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, corrects_event_id, captured_at_ms, event_id);
