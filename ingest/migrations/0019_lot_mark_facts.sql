-- Each lot's measures at its marks of days on feed (docs/facts.md, `lot_mark_facts`): a copy of
-- the lot's `lot_day_facts` row of each day 30, 60, 90, ... days after the day it arrived, kept
-- by the facts worker with the day rows, so the marks of every lot of a yard are a few thousand
-- rows to read instead of every lot-day. A mark that is no longer one (its lot's arrival
-- changed, or the lot is gone) is overwritten by a row with head_in = 0, which reads skip.
-- Read with FINAL.
CREATE TABLE IF NOT EXISTS lot_mark_facts
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
ORDER BY (feedlot_id, lot_id, day)
