-- Each animal's state now (docs/facts.md, `animal_facts`): its weighings (count, first and
-- latest weight and when) and its latest placement, kept by the facts worker so the herd
-- (animals) table and a lot's animals are one read instead of an aggregation over every
-- weighing. Only weighed animals have a row. Rewritten for the animals a change touches (those
-- with a weighing or placement captured on or after the earliest day it touches) with a higher
-- `version`: read with FINAL. Weights kg, times ms since the epoch UTC.
CREATE TABLE IF NOT EXISTS animal_facts
(
    feedlot_id String,
    eid String,
    -- Weighings recorded (each event once).
    weighings UInt64,
    -- The first weighing: kg and when.
    first_kg Float64,
    first_ms UInt64,
    -- The latest weighing: kg and when.
    last_kg Float64,
    last_ms UInt64,
    -- 1 when the animal was placed in a lot; its latest placement's lot and pen ('' when not).
    placed UInt8,
    lot_id String,
    pen_id String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (feedlot_id, eid)
