//! A yard's alert settings as its users save them on the settings page
//! (`/feedlots/{id}/alerts/settings`), kept in `alert_settings` (migration 15): one row per
//! save, the latest wins, the others are the history of who changed what. The worker lays
//! them over the config file's settings for the yard ([`YardSettings::over`]).

use serde::{Deserialize, Serialize};

use super::AlertError;
use crate::config::{RuleOverrides, RuleSettings};

type Result<T> = std::result::Result<T, AlertError>;

/// The settings a yard's users may change: thresholds, the rules that are off and who gets
/// emails. A field left out (`None`) keeps the config file's value. Webhooks stay in the config
/// file: a webhook's address is where the cloud sends requests, which only its operator sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct YardSettings {
    /// Rules that raise nothing for this yard; `None`: the config's list.
    pub disabled: Option<Vec<String>>,
    /// See [`RuleSettings::booster_due_within_days`].
    pub booster_due_within_days: Option<u32>,
    /// See [`RuleSettings::pulled_twice_within_days`].
    pub pulled_twice_within_days: Option<u32>,
    /// See [`RuleSettings::ingredient_low_days`].
    pub ingredient_low_days: Option<f64>,
    /// See [`RuleSettings::off_feed_drop_pct`].
    pub off_feed_drop_pct: Option<f64>,
    /// See [`RuleSettings::near_target_within_kg`].
    pub near_target_within_kg: Option<f64>,
    /// See [`RuleSettings::gateway_silent_minutes`].
    pub gateway_silent_minutes: Option<u32>,
    /// See [`RuleSettings::outbox_backlog_minutes`].
    pub outbox_backlog_minutes: Option<u32>,
    /// Email recipients; `None`: the config's.
    pub emails: Option<Vec<String>>,
}

impl YardSettings {
    /// These settings as overrides of the config's (never a webhook).
    pub fn overrides(&self) -> RuleOverrides {
        RuleOverrides {
            disabled: self.disabled.clone(),
            booster_due_within_days: self.booster_due_within_days,
            pulled_twice_within_days: self.pulled_twice_within_days,
            ingredient_low_days: self.ingredient_low_days,
            off_feed_drop_pct: self.off_feed_drop_pct,
            near_target_within_kg: self.near_target_within_kg,
            gateway_silent_minutes: self.gateway_silent_minutes,
            outbox_backlog_minutes: self.outbox_backlog_minutes,
            emails: self.emails.clone(),
            ..RuleOverrides::default()
        }
    }

    /// `base` (the config's settings for the yard) with these in place of its fields.
    pub fn over(&self, base: &RuleSettings) -> RuleSettings {
        base.with(&self.overrides())
    }

    /// The fields set, as `name = value` lines (the history's "what").
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("{name} = {v}"));
            }
        };
        put(
            "disabled",
            self.disabled.as_ref().map(|d| {
                if d.is_empty() {
                    "none".to_owned()
                } else {
                    d.join(", ")
                }
            }),
        );
        put(
            "booster_due_within_days",
            self.booster_due_within_days.map(|v| v.to_string()),
        );
        put(
            "pulled_twice_within_days",
            self.pulled_twice_within_days.map(|v| v.to_string()),
        );
        put(
            "ingredient_low_days",
            self.ingredient_low_days.map(|v| v.to_string()),
        );
        put(
            "off_feed_drop_pct",
            self.off_feed_drop_pct.map(|v| v.to_string()),
        );
        put(
            "near_target_within_kg",
            self.near_target_within_kg.map(|v| v.to_string()),
        );
        put(
            "gateway_silent_minutes",
            self.gateway_silent_minutes.map(|v| v.to_string()),
        );
        put(
            "outbox_backlog_minutes",
            self.outbox_backlog_minutes.map(|v| v.to_string()),
        );
        put("emails", self.emails.as_ref().map(|e| e.join(", ")));
        out
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
            ..YardSettings::default()
        };
        let merged = yard.over(&base);
        assert_eq!(merged.off_feed_drop_pct, 35.0);
        assert!(!merged.enabled("gateway_silent"));
        assert_eq!(merged.booster_due_within_days, base.booster_due_within_days);
        assert_eq!(merged.emails, base.emails);
        assert_eq!(merged.webhook_url, base.webhook_url);
        assert_eq!(
            yard.summary(),
            ["disabled = gateway_silent", "off_feed_drop_pct = 35"]
        );
    }

    #[test]
    fn a_saved_row_from_a_later_version_with_more_fields_still_parses() {
        let row = SettingsRow {
            feedlot_id: "y".into(),
            settings_json: r#"{"off_feed_drop_pct":30.0,"a_new_threshold":5}"#.into(),
            set_by: "alice".into(),
            set_at_ms: 1,
        };
        let saved = row.saved().unwrap();
        assert_eq!(saved.settings.off_feed_drop_pct, Some(30.0));
    }
}
