-- Weighings: a stable weight paired with an animal's tag. One row per event_id once merged;
-- read with FINAL so a redelivered event never counts twice.
CREATE TABLE IF NOT EXISTS weighings
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    weight_kg Float64,
    displayed_value Float64,
    displayed_unit String,
    gross_net String,
    tag_read_event_id String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, eid, captured_at_ms, event_id);

-- RFID tag reads (after the gateway's repeat window).
CREATE TABLE IF NOT EXISTS tag_reads
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, eid, captured_at_ms, event_id);
