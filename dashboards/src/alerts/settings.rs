//! A yard's alert settings as its users save them on the settings page
//! (`/feedlots/{id}/alerts/settings`), kept in `alert_settings` (migration 15): one row per
//! save, the latest wins, the others are the history of who changed what. The worker lays
//! them over the config file's settings for the yard ([`over`]).

use serde::{Deserialize, Serialize};

use super::AlertError;
use crate::config::{RuleOverrides, RuleSettings};

type Result<T> = std::result::Result<T, AlertError>;

/// The settings a yard's users may change: any [`RuleOverrides`] field but the webhook's. A
/// field left out (`None`) keeps the config file's value. Webhooks stay in the config file: a
/// webhook's address is where the cloud sends requests, which only its operator sets.
pub type YardSettings = RuleOverrides;

/// The fields a yard may not set itself.
pub const OPERATOR_ONLY: [&str; 2] = ["webhook_url", "webhook_secret"];

/// `saved` (what the yard set) laid over `base` (the config's settings for the yard), the
/// webhook always the config's.
pub fn over(saved: &YardSettings, base: &RuleSettings) -> RuleSettings {
    base.with(&RuleOverrides {
        webhook_url: None,
        webhook_secret: None,
        ..saved.clone()
    })
}

/// The fields `saved` sets, as `name = value` (the history's "what"), by name.
pub fn summary(saved: &YardSettings) -> Vec<String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(saved) else {
        return Vec::new();
    };
    let mut out: Vec<String> = fields
        .iter()
        .filter(|(name, value)| !value.is_null() && !OPERATOR_ONLY.contains(&name.as_str()))
        .map(|(name, value)| format!("{name} = {}", shown(value)))
        .collect();
    out.sort();
    out
}

/// A setting's value as a person reads it: `30` for 30.0, lists joined (`none` when empty).
pub fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "none".to_owned(),
        serde_json::Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One save of a yard's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    /// What was saved.
    pub settings: YardSettings,
    /// The user who saved it.
    pub set_by: String,
    /// When, ms since the epoch UTC.
    pub set_at_ms: u64,
}

#[derive(Debug, clickhouse::Row, Deserialize, Serialize)]
struct SettingsRow {
    feedlot_id: String,
    settings_json: String,
    set_by: String,
    set_at_ms: u64,
}

impl SettingsRow {
    /// The row as saved; a row that no longer parses (written by a later version) is skipped
    /// with a warning rather than stopping the yard's alerts.
    fn saved(self) -> Option<Saved> {
        match serde_json::from_str(&self.settings_json) {
            Ok(settings) => Some(Saved {
                settings,
                set_by: self.set_by,
                set_at_ms: self.set_at_ms,
            }),
            Err(error) => {
                tracing::warn!(feedlot_id = %self.feedlot_id, set_at_ms = self.set_at_ms, %error,
                    "alert settings row does not parse; skipped");
                None
            }
        }
    }
}

/// The yard's saves, newest first, at most `limit`.
pub async fn history(
    client: &clickhouse::Client,
    feedlot_id: &str,
    limit: u64,
) -> Result<Vec<Saved>> {
    let rows: Vec<SettingsRow> = client
        .query(
            "SELECT ?fields FROM alert_settings WHERE feedlot_id = ? \
             ORDER BY set_at_ms DESC LIMIT ?",
        )
        .bind(feedlot_id)
        .bind(limit)
        .fetch_all()
        .await?;
    Ok(rows.into_iter().filter_map(SettingsRow::saved).collect())
}

/// The yard's settings now (its latest save); the default (nothing set) if it never saved.
pub async fn current(client: &clickhouse::Client, feedlot_id: &str) -> Result<YardSettings> {
    Ok(history(client, feedlot_id, 1)
        .await?
        .into_iter()
        .next()
        .map(|s| s.settings)
        .unwrap_or_default())
}

/// Saves `settings` as the yard's, by `user` at `now_ms`.
pub async fn save(
    client: &clickhouse::Client,
    feedlot_id: &str,
    settings: &YardSettings,
    user: &str,
    now_ms: u64,
) -> Result<()> {
    let settings_json = serde_json::to_string(settings)
        .map_err(|e| AlertError::Delivery(format!("settings as JSON: {e}")))?;
    let row = SettingsRow {
        feedlot_id: feedlot_id.to_owned(),
        settings_json,
        set_by: user.to_owned(),
        set_at_ms: now_ms,
    };
    ingest::sink::insert_table(client, "alert_settings", &[row]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yards_settings_replace_only_the_fields_it_set_and_never_the_webhook() {
        let base = RuleSettings {
            webhook_url: "https://ops.example/hook".into(),
            webhook_secret: "0123456789abcdef".into(),
            emails: vec!["ops@example.com".into()],
            ..RuleSettings::default()
        };
        let yard = YardSettings {
            off_feed_drop_pct: Some(35.0),
            disabled: Some(vec!["gateway_silent".into()]),
            webhook_url: Some("http://127.0.0.1:8123/".into()),
            ..YardSettings::default()
        };
        let merged = over(&yard, &base);
        assert_eq!(merged.off_feed_drop_pct, 35.0);
        assert!(!merged.enabled("gateway_silent"));
        assert_eq!(merged.booster_due_within_days, base.booster_due_within_days);
        assert_eq!(merged.emails, base.emails);
        assert_eq!(merged.webhook_url, base.webhook_url);
        assert_eq!(
            summary(&yard),
            ["disabled = gateway_silent", "off_feed_drop_pct = 35"]
        );
    }

    #[test]
    fn a_saved_row_parses_back_to_what_was_saved() {
        let saved = YardSettings {
            off_feed_drop_pct: Some(30.5),
            emails: Some(Vec::new()),
            ..YardSettings::default()
        };
        let row = SettingsRow {
            feedlot_id: "y".into(),
            settings_json: serde_json::to_string(&saved).unwrap(),
            set_by: "alice".into(),
            set_at_ms: 1,
        };
        assert_eq!(row.saved().unwrap().settings, saved);
        assert_eq!(
            summary(&saved),
            ["emails = none", "off_feed_drop_pct = 30.5"]
        );
    }
}
