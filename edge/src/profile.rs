//! The yard's profile (name, region, location, capacity) from the `[feedlot]` config section,
//! sent once each time the gateway starts: an `Event::YardProfile` envelope committed to the
//! outbox like any record, so it reaches Kafka and the cloud's `yard_profiles` table (latest
//! capture wins). A changed profile therefore reaches the cloud with the restart that loads it.
//! The cloud stores it as the yard's own description; the anonymous benchmarks do **not** use
//! it to place the yard (a gateway could claim any region or position): they use the cloud's
//! registry, set by an operator (`dashboards set-yard`, docs/benchmarks-bands.md).

use chrono::Utc;
use schemas::{Envelope, Event, YardProfile};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::outbox::{OutboxError, OutboxWriter};

/// The device id stamped on profile envelopes (they come from the config, not a device).
pub const PROFILE_DEVICE_ID: &str = "config";

/// The `[feedlot]` section: who and where the yard is, as the yard describes itself. Optional
/// as a whole; without it no profile is sent. The benchmark areas come from the cloud's
/// registry, not from this.
///
/// ```toml
/// [feedlot]
/// name = "Sandhills Feeders"
/// region = "US-NE"
/// country = "US"
/// latitude = 42.87
/// longitude = -100.55
/// capacity_head = 12000
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedlotProfileConfig {
    /// The yard's display name (seen only by the yard itself). Example: `"Sandhills Feeders"`.
    pub name: String,
    /// The region the yard is benchmarked against; yards with the same region form its area.
    /// Example: `"US-NE"`, `"AU-QLD"`.
    pub region: String,
    /// ISO 3166-1 alpha-2 country code. Example: `"US"`.
    pub country: String,
    /// Latitude, degrees north (-90 to 90). Example: `42.87`.
    pub latitude: f64,
    /// Longitude, degrees east (-180 to 180). Example: `-100.55`.
    pub longitude: f64,
    /// One-time capacity, head, when known. Example: `12000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_head: Option<u32>,
}

impl FeedlotProfileConfig {
    /// The wire event.
    pub fn to_event(&self) -> YardProfile {
        YardProfile {
            name: self.name.clone(),
            region: self.region.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            capacity_head: self.capacity_head,
        }
    }

    /// Checks the profile as the cloud will (`feedlot.<field>` names the bad field).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.to_event()
            .validate()
            .map_err(|e| ConfigError::invalid(format!("feedlot.{}", e.field), e.to_string()))
    }
}

/// Commits the profile (when configured) to the outbox; returns whether one was written.
pub async fn send(
    profile: Option<&FeedlotProfileConfig>,
    feedlot_id: &str,
    gateway_id: &str,
    writer: &OutboxWriter,
) -> Result<bool, OutboxError> {
    let Some(profile) = profile else {
        return Ok(false);
    };
    let envelope = Envelope::new(
        feedlot_id,
        gateway_id,
        PROFILE_DEVICE_ID,
        Utc::now(),
        Event::YardProfile(profile.to_event()),
    );
    writer
        .append_envelopes(std::slice::from_ref(&envelope))
        .await?;
    tracing::info!(region = %profile.region, event_id = %envelope.event_id, "yard profile captured");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_country_is_named_as_a_feedlot_field() {
        let profile = FeedlotProfileConfig {
            name: "Sandhills Feeders".into(),
            region: "US-NE".into(),
            country: "usa".into(),
            latitude: 42.87,
            longitude: -100.55,
            capacity_head: None,
        };
        let err = profile.validate().unwrap_err().to_string();
        assert!(err.contains("feedlot.country"), "{err}");
    }
}
