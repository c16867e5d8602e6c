-- Every weighed animal's average daily gain at a yard, in one row (docs/facts.md, `yard_gains`),
-- kept by the facts worker with each recompute, so a lot's page ranks its animals in the yard
-- by reading one row instead of every animal's row of `animal_facts`. Read with FINAL.
CREATE TABLE IF NOT EXISTS yard_gains
(
    feedlot_id String,
    -- The ADG of each weighed animal with a day or more between its first and latest weighing,
    -- kg per day, high to low (`animal_facts`: (last_kg - first_kg) / days).
    adg_kg_per_day Array(Float64),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY feedlot_id
