-- Analytics inputs added to version 1 of the wire format (docs/clickhouse.md):
-- a treatment's cost and booster interval, the animals of a shipment, each animal's placement
-- in its lot and pen, and each yard's profile (region and location, for area benchmarks).

-- 0 = no booster due. cost_minor 0 with currency '' = not costed.
ALTER TABLE treatments ADD COLUMN booster_after_days UInt32 AFTER diagnosis;
ALTER TABLE treatments ADD COLUMN cost_minor UInt64 AFTER booster_after_days;
ALTER TABLE treatments ADD COLUMN currency String AFTER cost_minor;

-- The shipped animals' EIDs when the draft was read at the chute; empty when not recorded.
ALTER TABLE shipments ADD COLUMN eids Array(String) AFTER currency;

-- An animal tagged into its lot and pen. The latest placement of an eid is its lot.
CREATE TABLE IF NOT EXISTS placements
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    lot_id String,
    pen_id String,
    sex String,
    breed String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, eid, captured_at_ms, event_id);

-- A yard's name and location as its gateway last reported them (latest captured_at_ms wins).
-- Never shown to another yard: benchmarks read only its region and coordinates.
CREATE TABLE IF NOT EXISTS yard_profiles
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    name String,
    region String,
    country String,
    latitude Float64,
    longitude Float64,
    capacity_head UInt32,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (feedlot_id, captured_at_ms, event_id);
