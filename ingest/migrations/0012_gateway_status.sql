-- Each gateway's outbox as it reported it (wire kind `gateway_status`, docs/schemas.md): sent
-- every `kafka.status_interval_secs` past the gateway's outbox, read by the `outbox_backlog`
-- alert (docs/alerts.md). Telemetry, not a record: no fact reads it.
CREATE TABLE IF NOT EXISTS gateway_status
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    -- Records stored at the yard and not yet accepted by Kafka.
    outbox_pending UInt64,
    -- When the oldest of them was stored, ms since the epoch UTC; 0 when none waits.
    oldest_pending_ms UInt64,
    -- Records Kafka will never take, in the gateway's dead-letter table, in all.
    dead_lettered UInt64,
    -- Seconds between the gateway's reports.
    interval_secs UInt32,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, gateway_id, captured_at_ms, event_id);
