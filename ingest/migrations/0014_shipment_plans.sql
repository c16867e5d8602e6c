-- Planned shipments (wire kind `shipment_plan`, docs/schemas.md): a lot, or some of its animals,
-- to ship on a day, recorded ahead. Read by the `withdrawal_on_shipment` alert (docs/alerts.md)
-- and the lot page, as corrected (docs/corrections.md): a plan is cancelled by a void and
-- changed by an amendment of its planned_date or head_count. One row per plan event; read
-- with FINAL. Not read by the facts: a plan moves no animal and costs nothing.
CREATE TABLE IF NOT EXISTS shipment_plans
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    -- Who planned it: `api:<user>` for the records API and the entry forms.
    device_id String,
    -- The lot to ship.
    lot_id String,
    -- The pen it ships from; empty when not given.
    pen_id String,
    -- The day it is planned to ship, a UTC calendar day.
    planned_date Date,
    -- Head planned to ship, count of animals.
    head_count UInt32,
    -- The 15-digit EIDs of the animals chosen; empty: the lot's animals.
    eids Array(String),
    -- Who buys them, and where they go; empty when not given.
    buyer String,
    destination String,
    -- A free note; empty when none.
    note String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, captured_at_ms, event_id);
-- An amendment of a shipment plan: its new planned day (UTC calendar day) and its new number of
-- head; each counts only when `amended` names it (1970-01-01 and 0 otherwise).
ALTER TABLE corrections ADD COLUMN planned_date Date AFTER delivered_kg;
ALTER TABLE corrections ADD COLUMN head_count UInt32 AFTER planned_date;
