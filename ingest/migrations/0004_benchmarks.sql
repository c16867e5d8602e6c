-- Benchmark rollup (docs/benchmarks-bands.md): one current row of KPIs per yard, over the lots
-- it closed in the trailing 365 days, recomputed by ingest's benchmark task. A measure the yard
-- has no data for is NULL and the yard does not contribute to that measure's bands.
-- Read with FINAL: the latest computed_at_ms per feedlot wins.
CREATE TABLE IF NOT EXISTS yard_kpis
(
    feedlot_id String,
    -- The end of the trailing window, ms since the epoch UTC (the window is 365 days before it).
    as_of_ms UInt64,
    lots_closed UInt32,
    head_in UInt64,
    head_dead UInt64,
    head_shipped UInt64,
    -- Total gain / total live head-days, kg per head per day (deads out).
    adg_kg Nullable(Float64),
    -- Total dry matter / total gain.
    feed_to_gain_dm Nullable(Float64),
    -- (Feed + yardage + medicine) / total gain, minor units of `currency` per kg.
    cost_of_gain_per_kg_minor Nullable(Float64),
    currency String,
    -- 100 × total dead / total placed.
    death_loss_pct Nullable(Float64),
    -- Total head-days / total placed.
    days_on_feed Nullable(Float64),
    -- When the row was computed, ms since the epoch UTC (ms, so two runs in a second still order).
    computed_at_ms UInt64
)
ENGINE = ReplacingMergeTree(computed_at_ms)
ORDER BY feedlot_id;
