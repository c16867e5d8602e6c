//! `[alerts]`: the alerts worker, its rules' thresholds and where alerts are delivered (see
//! `docs/alerts.md`). `[alerts.rules]` holds every yard's defaults; `[alerts.yards.<feedlot>]`
//! overrides any of them for one yard.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The alerts worker, its delivery and each yard's rules.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Run the alerts worker in this process, e.g. `true`. Several replicas may all run it: an
    /// alert's id is derived from what it is about, and each delivery is claimed before it is
    /// sent.
    pub enabled: bool,
    /// Milliseconds between rounds (evaluate every yard, then deliver what is due), e.g.
    /// `60000`.
    pub interval_ms: u64,
    /// Tries of one delivery before it is given up as failed, e.g. `8`.
    pub max_attempts: u32,
    /// Milliseconds before the first retry; each later retry waits twice as long, e.g. `5000`.
    pub first_retry_ms: u64,
    /// Longest wait between retries, milliseconds, e.g. `3600000`.
    pub max_retry_ms: u64,
    /// Milliseconds one webhook call or SMTP session may take, e.g. `10000`.
    pub timeout_ms: u64,
    /// The SMTP server, e.g. `smtp://user:pass@mail.example:587?tls=required` (STARTTLS
    /// required), `smtps://user:pass@mail.example` (TLS) or `smtp://127.0.0.1:25` (no TLS: only
    /// for a relay on the same host); empty: no email.
    pub smtp_url: String,
    /// The `From` of alert emails, e.g. `Feedlot alerts <alerts@feedlot.example>`.
    pub email_from: String,
    /// The site's address for links in emails and webhooks, e.g. `https://feedlot.example`.
    pub public_url: String,
    /// Every yard's rules and recipients unless its own entry says otherwise.
    pub rules: RuleSettings,
    /// Per-yard overrides, by feedlot id.
    pub yards: BTreeMap<String, RuleOverrides>,
}

impl fmt::Debug for AlertsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The SMTP URL may carry a password.
        f.debug_struct("AlertsConfig")
            .field("enabled", &self.enabled)
            .field("interval_ms", &self.interval_ms)
            .field("smtp", &!self.smtp_url.is_empty())
            .field("rules", &self.rules)
            .field("yards", &self.yards.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 60_000,
            max_attempts: 8,
            first_retry_ms: 5_000,
            max_retry_ms: 3_600_000,
            timeout_ms: 10_000,
            smtp_url: String::new(),
            email_from: "Feedlot alerts <alerts@feedlot.invalid>".into(),
            public_url: String::new(),
            rules: RuleSettings::default(),
            yards: BTreeMap::new(),
        }
    }
}

/// One yard's rules: thresholds, which rules are off, and where its alerts go.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// Rules that raise nothing, by name (`booster_due`, `pulled_twice`, `ingredient_low`,
    /// `off_feed`, `near_target_weight`, `withdrawal_on_shipment`, `gateway_silent`,
    /// `outbox_backlog`), e.g.
    /// `["gateway_silent"]`.
    pub disabled: Vec<String>,
    /// A booster is announced this many days before it is due, e.g. `2`.
    pub booster_due_within_days: u32,
    /// An animal treated for sickness twice within this many days is an alert, e.g. `60`.
    pub pulled_twice_within_days: u32,
    /// An ingredient is low when what is on hand lasts fewer days than this at its average use
    /// over the last 7 days, e.g. `3.0`.
    pub ingredient_low_days: f64,
    /// A lot is off feed when its last full day's as-fed intake per head fell this many percent
    /// below its average of the 7 days before, e.g. `20.0`.
    pub off_feed_drop_pct: f64,
    /// A lot is near its target when its projected pay weight per head is within this many kg
    /// of the target sale weight (`analytics.target_sale_weight_kg`), e.g. `25.0`.
    pub near_target_within_kg: f64,
    /// `withdrawal_on_shipment` checks the planned shipments due from today up to this many
    /// days ahead, e.g. `14`.
    pub shipment_plan_within_days: u32,
    /// A gateway is silent after this many minutes without a record from it, e.g. `60`.
    pub gateway_silent_minutes: u32,
    /// A gateway's outbox is backing up when its latest status report says the oldest record
    /// still waiting for the cloud was stored this many minutes ago or more, e.g. `30`.
    pub outbox_backlog_minutes: u32,
    /// Email recipients, e.g. `["manager@feedlot.example"]`; empty: no email.
    pub emails: Vec<String>,
    /// The webhook's URL, e.g. `https://ops.example/hooks/feedlot`; empty: no webhook.
    pub webhook_url: String,
    /// The webhook's signing secret (HMAC-SHA256; see `docs/alerts.md`). Never printed.
    pub webhook_secret: String,
}

impl fmt::Debug for RuleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSettings")
            .field("disabled", &self.disabled)
            .field("booster_due_within_days", &self.booster_due_within_days)
            .field("pulled_twice_within_days", &self.pulled_twice_within_days)
            .field("ingredient_low_days", &self.ingredient_low_days)
            .field("off_feed_drop_pct", &self.off_feed_drop_pct)
            .field("near_target_within_kg", &self.near_target_within_kg)
            .field("shipment_plan_within_days", &self.shipment_plan_within_days)
            .field("gateway_silent_minutes", &self.gateway_silent_minutes)
            .field("outbox_backlog_minutes", &self.outbox_backlog_minutes)
            .field("emails", &self.emails)
            .field("webhook_url", &self.webhook_url)
            .finish_non_exhaustive()
    }
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self {
            disabled: Vec::new(),
            booster_due_within_days: 2,
            pulled_twice_within_days: 60,
            ingredient_low_days: 3.0,
            off_feed_drop_pct: 20.0,
            near_target_within_kg: 25.0,
            shipment_plan_within_days: 14,
            gateway_silent_minutes: 60,
            outbox_backlog_minutes: 30,
            emails: Vec::new(),
            webhook_url: String::new(),
            webhook_secret: String::new(),
        }
    }
}

/// A yard's overrides of [`RuleSettings`]: each field given replaces the default's.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleOverrides {
    /// See [`RuleSettings::disabled`].
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
    /// See [`RuleSettings::shipment_plan_within_days`].
    pub shipment_plan_within_days: Option<u32>,
    /// See [`RuleSettings::gateway_silent_minutes`].
    pub gateway_silent_minutes: Option<u32>,
    /// See [`RuleSettings::outbox_backlog_minutes`].
    pub outbox_backlog_minutes: Option<u32>,
    /// See [`RuleSettings::emails`].
    pub emails: Option<Vec<String>>,
    /// See [`RuleSettings::webhook_url`].
    pub webhook_url: Option<String>,
    /// See [`RuleSettings::webhook_secret`].
    pub webhook_secret: Option<String>,
}

impl fmt::Debug for RuleOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleOverrides")
            .field("disabled", &self.disabled)
            .field("emails", &self.emails)
            .field("webhook_url", &self.webhook_url)
            .finish_non_exhaustive()
    }
}

/// Every rule's name.
pub const RULES: [&str; 8] = [
    "booster_due",
    "pulled_twice",
    "ingredient_low",
    "off_feed",
    "near_target_weight",
    "withdrawal_on_shipment",
    "gateway_silent",
    "outbox_backlog",
];

impl RuleSettings {
    /// These settings with `o`'s fields in place of theirs.
    pub fn with(&self, o: &RuleOverrides) -> Self {
        let s = self.clone();
        Self {
            disabled: o.disabled.clone().unwrap_or(s.disabled),
            booster_due_within_days: o
                .booster_due_within_days
                .unwrap_or(s.booster_due_within_days),
            pulled_twice_within_days: o
                .pulled_twice_within_days
                .unwrap_or(s.pulled_twice_within_days),
            ingredient_low_days: o.ingredient_low_days.unwrap_or(s.ingredient_low_days),
            off_feed_drop_pct: o.off_feed_drop_pct.unwrap_or(s.off_feed_drop_pct),
            near_target_within_kg: o.near_target_within_kg.unwrap_or(s.near_target_within_kg),
            shipment_plan_within_days: o
                .shipment_plan_within_days
                .unwrap_or(s.shipment_plan_within_days),
            gateway_silent_minutes: o.gateway_silent_minutes.unwrap_or(s.gateway_silent_minutes),
            outbox_backlog_minutes: o.outbox_backlog_minutes.unwrap_or(s.outbox_backlog_minutes),
            emails: o.emails.clone().unwrap_or(s.emails),
            webhook_url: o.webhook_url.clone().unwrap_or(s.webhook_url),
            webhook_secret: o.webhook_secret.clone().unwrap_or(s.webhook_secret),
        }
    }

    /// Whether `rule` raises alerts.
    pub fn enabled(&self, rule: &str) -> bool {
        !self.disabled.iter().any(|d| d == rule)
    }

    /// Checks these settings; an error names `field` and the setting at fault.
    pub fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        let bad = |reason: String| Err(ConfigError::Invalid { field, reason });
        if let Some(unknown) = self.disabled.iter().find(|d| !RULES.contains(&d.as_str())) {
            return bad(format!(
                "unknown rule {unknown:?} in disabled; rules: {RULES:?}"
            ));
        }
        if !(self.ingredient_low_days.is_finite() && self.ingredient_low_days >= 0.0) {
            return bad("ingredient_low_days must be 0 or more".into());
        }
        if !(0.0..=100.0).contains(&self.off_feed_drop_pct) {
            return bad("off_feed_drop_pct must be 0 to 100".into());
        }
        if !(self.near_target_within_kg.is_finite() && self.near_target_within_kg >= 0.0) {
            return bad("near_target_within_kg must be 0 or more".into());
        }
        if let Some(e) = self.emails.iter().find(|e| !e.contains('@')) {
            return bad(format!("{e:?} in emails is not an address"));
        }
        let url = &self.webhook_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return bad("webhook_url must be http:// or https://".into());
        }
        if !url.is_empty() && self.webhook_secret.len() < 16 {
            return bad("a webhook_url needs a webhook_secret of 16+ characters".into());
        }
        Ok(())
    }
}

impl AlertsConfig {
    /// `feedlot_id`'s rules: the defaults with its overrides.
    pub fn for_yard(&self, feedlot_id: &str) -> RuleSettings {
        match self.yards.get(feedlot_id) {
            Some(o) => self.rules.with(o),
            None => self.rules.clone(),
        }
    }

    /// Checks the schedule and every yard's rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(100..=86_400_000).contains(&self.interval_ms) {
            return Err(ConfigError::Invalid {
                field: "alerts.interval_ms",
                reason: format!("{} is not 100 to 86400000", self.interval_ms),
            });
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(ConfigError::Invalid {
                field: "alerts.max_attempts",
                reason: format!("{} is not 1 to 100", self.max_attempts),
            });
        }
        if self.first_retry_ms == 0 || self.max_retry_ms < self.first_retry_ms {
            return Err(ConfigError::Invalid {
                field: "alerts.first_retry_ms",
                reason: "must be above 0 and at most alerts.max_retry_ms".into(),
            });
        }
        if self.timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                field: "alerts.timeout_ms",
                reason: "must be above 0".into(),
            });
        }
        let url = &self.smtp_url;
        if !(url.is_empty() || url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(ConfigError::Invalid {
                field: "alerts.smtp_url",
                reason: "must be smtp:// or smtps://".into(),
            });
        }
        self.rules.validate("alerts.rules")?;
        for yard in self.yards.keys() {
            self.for_yard(yard).validate("alerts.yards")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yards_entry_overrides_only_the_fields_it_gives() {
        let mut config = AlertsConfig::default();
        config.rules.emails = vec!["all@x.example".into()];
        config.yards.insert(
            "sandhills".into(),
            RuleOverrides {
                off_feed_drop_pct: Some(35.0),
                disabled: Some(vec!["gateway_silent".into()]),
                ..Default::default()
            },
        );
        let s = config.for_yard("sandhills");
        assert_eq!(s.off_feed_drop_pct, 35.0);
        assert!(!s.enabled("gateway_silent") && s.enabled("booster_due"));
        assert_eq!(s.emails, vec!["all@x.example".to_owned()]);
        assert_eq!(config.for_yard("other").off_feed_drop_pct, 20.0);
        config.validate().unwrap();
    }

    #[test]
    fn unknown_rules_and_unsigned_webhooks_are_refused() {
        let mut config = AlertsConfig::default();
        config.rules.disabled = vec!["nope".into()];
        assert!(config.validate().unwrap_err().to_string().contains("nope"));
        let mut config = AlertsConfig::default();
        config.rules.webhook_url = "https://x.example/hook".into();
        assert!(config.validate().is_err());
        config.rules.webhook_secret = "0123456789abcdef".into();
        config.validate().unwrap();
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
    }
}
