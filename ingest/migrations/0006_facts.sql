-- A yard's measures kept as daily facts (docs/facts.md): made by the facts worker
-- (`dashboards serve` or `dashboards facts-worker`) from the records, read by every dashboard. Each row is the state at the
-- end of its day (UTC), with running totals since the lot, pen or ingredient began, so a
-- measure as of any day is one row per lot. Rows are rewritten from the earliest day a change
-- touches with a higher `version`: read with FINAL. Weights kg, money minor units of the yard's
-- currency, head-time head·ms (÷ 86,400,000 for head-days), times ms since the epoch UTC.

-- What changed: one row per yard per stored batch, with the earliest capture time it holds.
-- The facts worker recomputes each yard from that day once per change.
CREATE TABLE IF NOT EXISTS fact_changes
(
    feedlot_id String,
    -- The earliest capture time among the batch's records of this yard.
    earliest_captured_ms UInt64,
    -- Records in the batch for this yard.
    records UInt32,
    -- When ClickHouse stored the change (set by the server).
    recorded_at DateTime DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(recorded_at)
ORDER BY (recorded_at, feedlot_id);

-- How far each yard's facts are made: changes recorded up to `through_recorded_at` are in.
CREATE TABLE IF NOT EXISTS fact_state
(
    feedlot_id String,
    -- Changes recorded at or before this second are in the facts.
    through_recorded_at DateTime,
    -- The last day with facts.
    through_day Date,
    -- When the worker finished, ms since the epoch UTC.
    computed_at_ms UInt64,
    -- The facts' version (the rows it wrote).
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY feedlot_id;

-- Per lot and day (from its arrival to its closing): the lot's running totals at the day's end.
CREATE TABLE IF NOT EXISTS lot_day_facts
(
    feedlot_id String,
    lot_id String,
    day Date,
    -- The moment the totals are taken at: the day's end (the next day's 00:00 UTC).
    through_ms UInt64,
    origin String,
    currency String,
    -- Pens holding the lot at the day's end.
    pens Array(String),
    arrived_ms UInt64,
    -- When the last head left; 0 while open.
    closed_ms UInt64,
    head_in UInt32,
    in_pay_kg Float64,
    in_full_kg Float64,
    purchase_minor Float64,
    head_on_hand Int64,
    -- Head-time, deads in.
    head_ms Float64,
    -- Dead head's time from arrival to death.
    dead_ms Float64,
    head_dead UInt32,
    head_shipped UInt32,
    -- Shipped head's time from arrival to shipment.
    shipped_ms Float64,
    out_pay_kg Float64,
    revenue_minor Float64,
    as_fed_kg Float64,
    dry_matter_kg Float64,
    feed_minor Float64,
    yardage_minor Float64,
    -- The yardage rate in effect at the day's end, per head per day.
    yardage_rate_minor Float64,
    medicine_minor Float64,
    -- Animals treated for sickness at least once.
    head_pulled UInt32,
    -- Head on hand re-weighed 7+ days after arrival: count, latest full weights summed (kg),
    -- days from arrival to those weighings summed.
    reweighed_head UInt32,
    reweighed_full_kg Float64,
    reweighed_days Float64,
    -- Arrivals, deaths, shipments and pulls of this day alone (head).
    day_head_in UInt32,
    day_head_dead UInt32,
    day_head_shipped UInt32,
    day_head_pulled UInt32,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (feedlot_id, lot_id, day);

-- Per pen and day (from the first day it held cattle or was fed): the pen at the day's end.
CREATE TABLE IF NOT EXISTS pen_day_facts
(
    feedlot_id String,
    pen_id String,
    day Date,
    through_ms UInt64,
    head_on_hand Int64,
    -- Lots in the pen at the day's end, with their head (same order).
    lots Array(String),
    lot_head Array(Int64),
    head_ms Float64,
    as_fed_kg Float64,
    dry_matter_kg Float64,
    feed_minor Float64,
    -- The latest delivery, 0 for none.
    last_delivery_ms UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (feedlot_id, pen_id, day);

-- Per ingredient and day (from its first purchase or use): bought, fed (FIFO cost) and left.
CREATE TABLE IF NOT EXISTS ingredient_day_facts
(
    feedlot_id String,
    ingredient String,
    day Date,
    purchased_kg Float64,
    purchased_minor Float64,
    fed_kg Float64,
    fed_minor Float64,
    on_hand_kg Float64,
    -- Fed beyond what was bought.
    unbought_kg Float64,
    -- What the next kg fed costs (FIFO), per kg; NULL before any purchase.
    price_per_kg_minor Nullable(Float64),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (feedlot_id, ingredient, day);

-- Per source (ingredient, supplier, origin) and day: what was fed from it, and its cost.
CREATE TABLE IF NOT EXISTS feed_source_day_facts
(
    feedlot_id String,
    ingredient String,
    supplier String,
    origin String,
    day Date,
    fed_kg Float64,
    fed_minor Float64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (feedlot_id, ingredient, supplier, origin, day);

-- Per yard and day: feed dropped in empty pens (running total) and the day's warnings (records
-- that did not fit, in words).
CREATE TABLE IF NOT EXISTS yard_day_facts
(
    feedlot_id String,
    day Date,
    unallocated_kg Float64,
    warnings Array(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (feedlot_id, day)
