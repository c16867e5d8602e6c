//! `[analytics]`: the choices the yard's measures depend on (see `docs/analytics.md`).

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::analytics::Settings;

/// Targets used by breakevens and projected out dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// The pay weight an open lot is expected to sell at, kg per head, e.g. `635.0`
    /// (1,400 lb). Breakeven = total cost per live head / this.
    pub target_sale_weight_kg: f64,
    /// The scale (full) weight an animal is finished at, kg, e.g. `661.5`. Each animal's page
    /// projects the date it gets there.
    pub target_live_weight_kg: f64,
    /// How much of its placement ADG a lot loses per day on feed, e.g. `0.0015` (about 25 %
    /// slower by 170 days); the lot forecasts project with it (docs/forecasts.md).
    pub adg_decline_per_day: f64,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        let s = Settings::default();
        Self {
            target_sale_weight_kg: s.target_sale_weight_kg,
            target_live_weight_kg: s.target_live_weight_kg,
            adg_decline_per_day: s.adg_decline_per_day,
        }
    }
}

impl AnalyticsConfig {
    /// Checks both targets are plausible cattle weights (50-1,500 kg) and the ADG decline is
    /// 0-0.004 a day.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, kg) in [
            (
                "analytics.target_sale_weight_kg",
                self.target_sale_weight_kg,
            ),
            (
                "analytics.target_live_weight_kg",
                self.target_live_weight_kg,
            ),
        ] {
            if !(50.0..=1_500.0).contains(&kg) {
                return Err(ConfigError::Invalid {
                    field,
                    reason: format!("{kg} kg is not a finished animal's weight (50-1500)"),
                });
            }
        }
        if !(0.0..=0.004).contains(&self.adg_decline_per_day) {
            return Err(ConfigError::Invalid {
                field: "analytics.adg_decline_per_day",
                reason: format!(
                    "{} is not a share of ADG lost per day on feed (0-0.004)",
                    self.adg_decline_per_day
                ),
            });
        }
        Ok(())
    }

    /// The analytics settings these give.
    pub fn settings(&self) -> Settings {
        Settings {
            target_sale_weight_kg: self.target_sale_weight_kg,
            target_live_weight_kg: self.target_live_weight_kg,
            adg_decline_per_day: self.adg_decline_per_day,
        }
    }
}
