-- The cloud's registry of benchmark peers (docs/benchmarks-bands.md): each yard's region and
-- position as an operator set them with `dashboards set-yard`, never as its gateway reports
-- them (a gateway's own `yard_profiles` row does not place it in any area). A yard without a
-- row, or whose latest row has peer = 0, is nobody's peer and sees no bands.
-- Read with FINAL: the latest set_at_ms per feedlot wins.
CREATE TABLE IF NOT EXISTS yard_registry
(
    feedlot_id String,
    -- The region it benchmarks in, e.g. US-NE.
    region String,
    -- WGS 84 degrees, north and east positive.
    latitude_deg Float64,
    longitude_deg Float64,
    -- 1 = a benchmark peer, 0 = taken out of the benchmarks.
    peer UInt8,
    -- Who set the row (the operator's name or the tool).
    set_by String,
    -- When the row was set, ms since the epoch UTC.
    set_at_ms UInt64
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY feedlot_id;
