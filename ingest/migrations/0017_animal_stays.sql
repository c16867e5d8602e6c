-- Where each animal is and has been (docs/facts.md, `animal_stays`): its stays in pens, as the
-- facts worker replays the yard's placements, pen moves (of the animal, or of its whole lot),
-- deaths and shipments by EID, so the pens page reads who is in each pen on any day instead of
-- replaying the yard's movements on a request. One row per animal ever placed or moved, its
-- stays oldest first in parallel arrays. Rewritten for the animals whose stays change from the
-- earliest day a change touches (every animal on a rebuild) with a higher `version`: read with
-- FINAL. Times ms since the epoch UTC.
CREATE TABLE IF NOT EXISTS animal_stays
(
    feedlot_id String,
    eid String,
    -- Each stay's pen, and the lot the animal belonged to during it.
    pen_ids Array(String),
    lot_ids Array(String),
    -- When each stay began, and when it ended (moved on, died or shipped), or
    -- 18446744073709551615 (the largest UInt64) while the animal is still there.
    from_ms Array(UInt64),
    to_ms Array(UInt64),
    -- How it came in: 'placed', 'moved' (alone) or 'lot_moved' (with its whole lot).
    whys Array(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (feedlot_id, eid)
