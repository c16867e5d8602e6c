//! The cloud's registry of benchmark peers (`yard_registry`, migration 0005): each yard's
//! region and position as an operator set them (`dashboards set-yard`). The bands place yards
//! by this table alone: a gateway's own profile (`yard_profiles`, from its config) never puts
//! a yard in an area, so a yard cannot move itself next to a neighbour to isolate it.

use serde::{Deserialize, Serialize};

/// The longest region name accepted, characters.
pub const MAX_REGION_CHARS: usize = 64;

/// One row of `yard_registry`, in column order.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct RegistryEntry {
    /// The yard.
    pub feedlot_id: String,
    /// The region it benchmarks in, e.g. `US-NE`.
    pub region: String,
    /// Latitude, WGS 84 degrees (north positive).
    pub latitude_deg: f64,
    /// Longitude, WGS 84 degrees (east positive).
    pub longitude_deg: f64,
    /// 1 = a benchmark peer; 0 = taken out of the benchmarks.
    pub peer: u8,
    /// Who set the row.
    pub set_by: String,
    /// When it was set, ms since the epoch UTC (the newest row wins).
    pub set_at_ms: u64,
}

/// Why a registry entry was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A field is out of range; the message names it.
    #[error("`{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// ClickHouse refused the write or the read.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> RegistryError {
    RegistryError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl RegistryEntry {
    /// Checks the fields: a feedlot id and region of letters, digits, `-`, `_` and `.`; a
    /// latitude within ±90° and a longitude within ±180°.
    pub fn validate(&self) -> Result<(), RegistryError> {
        let word = |s: &str| {
            !s.is_empty()
                && s.chars().count() <= MAX_REGION_CHARS
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !word(&self.feedlot_id) {
            return Err(invalid(
                "feedlot_id",
                "must be 1 to 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        if self.peer == 1 && !word(&self.region) {
            return Err(invalid(
                "region",
                "must be 1 to 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        if !(self.latitude_deg.is_finite() && self.latitude_deg.abs() <= 90.0) {
            return Err(invalid("latitude_deg", "must be between -90 and 90"));
        }
        if !(self.longitude_deg.is_finite() && self.longitude_deg.abs() <= 180.0) {
            return Err(invalid("longitude_deg", "must be between -180 and 180"));
        }
        if self.peer > 1 {
            return Err(invalid("peer", "must be 0 or 1"));
        }
        Ok(())
    }
}

/// Validates and stores `entries` (the newest `set_at_ms` per yard wins) in one insert.
pub async fn set(
    client: &clickhouse::Client,
    entries: &[RegistryEntry],
) -> Result<(), RegistryError> {
    for entry in entries {
        entry.validate()?;
    }
    if entries.is_empty() {
        return Ok(());
    }
    let mut insert = client.insert::<RegistryEntry>("yard_registry").await?;
    for entry in entries {
        insert.write(entry).await?;
    }
    insert.end().await?;
    for entry in entries {
        tracing::info!(
            feedlot_id = %entry.feedlot_id,
            region = %entry.region,
            peer = entry.peer,
            set_by = %entry.set_by,
            "benchmark registry entry set"
        );
    }
    Ok(())
}

/// The yard's current registry entry, if it has one.
pub async fn get(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<Option<RegistryEntry>, clickhouse::error::Error> {
    client
        .query("SELECT ?fields FROM yard_registry FINAL WHERE feedlot_id = ? LIMIT 1")
        .bind(feedlot_id)
        .fetch_optional::<RegistryEntry>()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> RegistryEntry {
        RegistryEntry {
            feedlot_id: "ne-1".into(),
            region: "US-NE".into(),
            latitude_deg: 42.0,
            longitude_deg: -100.0,
            peer: 1,
            set_by: "ops".into(),
            set_at_ms: 1,
        }
    }

    #[test]
    fn an_entry_out_of_range_is_refused_by_field() {
        assert!(entry().validate().is_ok());
        let field = |e: RegistryEntry| match e.validate() {
            Err(RegistryError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(RegistryEntry {
                latitude_deg: 91.0,
                ..entry()
            }),
            "latitude_deg"
        );
        assert_eq!(
            field(RegistryEntry {
                longitude_deg: f64::NAN,
                ..entry()
            }),
            "longitude_deg"
        );
        assert_eq!(
            field(RegistryEntry {
                region: "US NE; DROP".into(),
                ..entry()
            }),
            "region"
        );
        assert_eq!(
            field(RegistryEntry {
                feedlot_id: String::new(),
                ..entry()
            }),
            "feedlot_id"
        );
    }
}
