-- Each yard's alert settings as its users saved them on the alerts settings page
-- (`/feedlots/{id}/alerts/settings`, docs/alerts.md "Settings"). One row per save, kept: the
-- latest row (by set_at_ms) is the yard's settings, the others are who changed what and when.
-- The alerts worker lays the latest over the config file's `[alerts.rules]` and
-- `[alerts.yards.<feedlot>]`.
CREATE TABLE IF NOT EXISTS alert_settings
(
    feedlot_id String,
    -- The yard's own values, JSON: each threshold given (days, kg, percent, minutes as their
    -- names say), the rules turned off, the email recipients; a field left out uses the
    -- config's value.
    settings_json String,
    -- The dashboards user who saved them.
    set_by String,
    -- When, ms since the epoch UTC.
    set_at_ms UInt64
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY (feedlot_id, set_at_ms);
