-- Every other event kind (see docs/clickhouse.md). Each table is a ReplacingMergeTree whose
-- sorting key ends in event_id, so a redelivered event is one row once merged; read with FINAL.
-- Capture time is kept as captured_at DateTime (partitioning) and captured_at_ms UInt64 (exact).
-- Money is in minor units (cents) of `currency`; weights are kg; percentages are 0-100.

-- Mixer loads: one row per load, ingredients as parallel arrays (same length, loading order).
CREATE TABLE IF NOT EXISTS feed_loads
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    ration_id String,
    batch_id String,
    truck_id String,
    operator String,
    ingredients Array(String),
    ingredient_weights_kg Array(Float64),
    total_kg Float64,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, ration_id, captured_at_ms, event_id);

-- Feed dropped in a pen's bunk, kg as fed.
CREATE TABLE IF NOT EXISTS feed_deliveries
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    pen_id String,
    ration_id String,
    target_kg Float64,
    delivered_kg Float64,
    truck_id String,
    operator String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, pen_id, captured_at_ms, event_id);

-- Treatments, vaccinations and processing products given to one animal.
CREATE TABLE IF NOT EXISTS treatments
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    purpose String,
    product String,
    dose Float64,
    dose_unit String,
    route String,
    product_lot String,
    withdrawal_days UInt32,
    administered_by String,
    diagnosis String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, eid, captured_at_ms, event_id);

-- Lots placed in the yard.
CREATE TABLE IF NOT EXISTS arrivals
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    lot_id String,
    head_count UInt32,
    origin String,
    source String,
    pen_id String,
    pay_weight_kg Float64,
    shrink_pct Float64,
    purchase_price_minor UInt64,
    currency String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, captured_at_ms, event_id);

-- Pen moves: one animal (eid) or a lot (lot_id, eid empty). head_count is 0 when not given
-- for a whole-lot move.
CREATE TABLE IF NOT EXISTS pen_moves
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    lot_id String,
    head_count UInt32,
    from_pen_id String,
    to_pen_id String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, eid, captured_at_ms, event_id);

-- Deaths.
CREATE TABLE IF NOT EXISTS deaths
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    eid String,
    cause String,
    lot_id String,
    pen_id String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, eid, captured_at_ms, event_id);

-- Lots sold and shipped.
CREATE TABLE IF NOT EXISTS shipments
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    lot_id String,
    head_count UInt32,
    buyer String,
    weight_kg Float64,
    price_minor UInt64,
    currency String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, captured_at_ms, event_id);

-- Feed ingredient purchases.
CREATE TABLE IF NOT EXISTS feed_purchases
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    ingredient String,
    supplier String,
    origin String,
    quantity_kg Float64,
    price_minor UInt64,
    currency String,
    dry_matter_pct Float64,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, ingredient, captured_at_ms, event_id);

-- Ration formulas, in effect from captured_at until the next row for the same ration_id.
-- Ingredients as parallel arrays (same length).
CREATE TABLE IF NOT EXISTS rations
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    ration_id String,
    ingredients Array(String),
    inclusion_as_fed_pct Array(Float64),
    ingredient_dry_matter_pct Array(Float64),
    dry_matter_pct Float64,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, ration_id, captured_at_ms, event_id);

-- Yardage rates per head per day, for the yard (lot_id empty) or one lot.
CREATE TABLE IF NOT EXISTS yardage_rates
(
    event_id UUID,
    feedlot_id String,
    gateway_id String,
    device_id String,
    lot_id String,
    per_head_per_day_minor UInt64,
    currency String,
    captured_at DateTime,
    captured_at_ms UInt64,
    schema_version UInt16,
    ingested_at DateTime
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(captured_at)
ORDER BY (feedlot_id, lot_id, captured_at_ms, event_id);
