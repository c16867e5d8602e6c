-- The alerts' state (docs/alerts.md, "State"): written and read by the dashboards' alerts worker
-- and alerts page (`dashboards/src/alerts/store.rs`). Until this migration they were created by
-- the dashboards on first use; created here so that on a cluster they are replicated and
-- sharded by yard like every other table (docs/cluster.md). Every statement is
-- `IF NOT EXISTS`, so a database whose dashboards already made them keeps its rows.

-- One row per alert: written once when a rule first finds its condition; two workers racing
-- write the same id, merged by the ReplacingMergeTree (read with FINAL).
CREATE TABLE IF NOT EXISTS alerts
(
    feedlot_id String,
    -- First 32 hex digits of SHA-256 of rule, yard, subject and period (the same condition
    -- always has the same id; receivers de-duplicate on it).
    alert_id String,
    -- The rule that raised it, e.g. `pulled_twice`.
    rule String,
    -- What it is about: an EID, a lot, an ingredient, a gateway.
    subject String,
    -- Which occurrence: a UTC day (`2026-12-01`) or another mark that changes when the
    -- condition starts over.
    period String,
    -- One line naming the subject.
    title String,
    -- The numbers behind it (kg, days, minutes as the rule says in words).
    detail String,
    -- The page to look at, a path on the site.
    link String,
    -- When it was raised, ms since the epoch UTC.
    raised_at_ms UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (feedlot_id, alert_id);

-- Acknowledgements: one row per click; the earliest of an alert counts.
CREATE TABLE IF NOT EXISTS alert_acks
(
    feedlot_id String,
    alert_id String,
    -- The web user's name.
    acked_by String,
    -- When, ms since the epoch UTC.
    acked_at_ms UInt64
)
ENGINE = MergeTree
ORDER BY (feedlot_id, alert_id);

-- Each alert's delivery per channel and target, one row per state change; the highest
-- version is the current state (read with FINAL).
CREATE TABLE IF NOT EXISTS alert_deliveries
(
    feedlot_id String,
    alert_id String,
    -- `webhook` or `email`.
    channel String,
    -- The webhook's URL, or the email recipients (comma-separated).
    target String,
    -- `pending`, `sent` or `failed`.
    state String,
    -- Tries made so far.
    attempts UInt32,
    -- When the next try is due, ms since the epoch UTC.
    next_try_ms UInt64,
    -- Why the last try failed; empty when it did not.
    last_error String,
    -- When this row was written, ms since the epoch UTC.
    updated_at_ms UInt64,
    -- attempts × 4 + state rank (0 pending, 1 failed, 2 sent): a later try, and `sent` over
    -- `pending` of the same try, wins.
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (feedlot_id, alert_id, channel, target);

-- Claims of delivery tries: a worker inserts one before try `attempt` and sends only when it
-- counts exactly one claim of that try (on a cluster inserted with a quorum of every replica
-- of the shard, docs/alerts.md "No duplicates").
CREATE TABLE IF NOT EXISTS alert_delivery_claims
(
    feedlot_id String,
    alert_id String,
    channel String,
    target String,
    -- The try claimed, 1-based.
    attempt UInt32,
    -- The claiming worker's random id (one per process).
    replica String,
    -- When, ms since the epoch UTC.
    claimed_at_ms UInt64
)
ENGINE = MergeTree
ORDER BY (feedlot_id, alert_id, channel, target, attempt);
