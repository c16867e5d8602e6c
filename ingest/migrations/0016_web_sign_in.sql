-- The dashboards' sign-in state and user settings (docs/dashboards.md, "Sign-in"), shared by
-- every web replica. Users are not a yard's, so these tables have no feedlot_id: on a cluster
-- each is one replicated table with a full copy on every server (like schema_migrations), so
-- any server answers and losing one loses nothing (docs/cluster.md).
--
-- A login code's nonce once exchanged: a replica inserts it, then counts it; only a count of
-- one signs in. Rows older than a login code's longest life (60 minutes) are no longer needed.
CREATE TABLE IF NOT EXISTS web_login_codes_used
(
    nonce String,
    -- The web replica that used it (a random id per process).
    replica String,
    used_at DateTime DEFAULT now()
)
ENGINE = MergeTree
ORDER BY nonce;

-- "Sign out everywhere": sessions of the user issued at or before valid_after_ms (ms since
-- the epoch UTC) are dead; the latest row counts.
CREATE TABLE IF NOT EXISTS web_session_revocations
(
    user String,
    valid_after_ms UInt64,
    at DateTime DEFAULT now()
)
ENGINE = MergeTree
ORDER BY user;

-- Each user's units (`metric` or `us`), the latest by set_at_ms (ms since the epoch UTC).
CREATE TABLE IF NOT EXISTS web_user_settings
(
    user String,
    units String,
    set_at_ms UInt64
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY user;
