//! The dashboards' configuration: a TOML file (all fields optional) plus `DASHBOARDS_*`
//! environment overrides. The ClickHouse section is `ingest`'s own
//! ([`ingest::config::ClickHouseConfig`]), so both processes read one server the same way.

use std::path::{Path, PathBuf};

use ingest::config::ClickHouseConfig;
use serde::{Deserialize, Serialize};

mod analytics;
mod benchmarks;
mod web;

pub use analytics::AnalyticsConfig;
pub use benchmarks::BenchmarksConfig;
pub use web::{WebConfig, WebUserConfig};

/// The commented example configuration, printed by `dashboards print-config`.
pub const EXAMPLE_TOML: &str = include_str!("../dashboards.example.toml");

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration. (Not a `source`: the message already
    /// carries the parser's, and a chain would print it twice.)
    #[error("invalid config: {0}")]
    Parse(toml::de::Error),
    /// A field has a value that cannot work.
    #[error("invalid config field `{field}`: {reason}")]
    Invalid {
        /// The field's path, e.g. `web.session_hours`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl From<toml::de::Error> for ConfigError {
    fn from(e: toml::de::Error) -> Self {
        Self::Parse(e)
    }
}

/// Everything `dashboards` needs; every field has a local default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the records are read from (the server and database `ingest` writes).
    pub clickhouse: ClickHouseConfig,
    /// The web pages and API.
    pub web: WebConfig,
    /// Targets the measures depend on.
    pub analytics: AnalyticsConfig,
    /// The yard KPI rollup behind the benchmark bands.
    pub benchmarks: BenchmarksConfig,
}

impl Config {
    /// Parses TOML (missing fields take defaults; unknown fields are an error).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Loads `path` (or the defaults), applies the environment, adds the users of
    /// `web.users_file`, and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::from_toml(&text)?
            }
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        config.web.load_users_file()?;
        config.validate()?;
        Ok(config)
    }

    /// Overrides fields from `DASHBOARDS_*` variables looked up with `lookup`; empty values
    /// are ignored.
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        // The same variables as `ingest`'s INGEST_CLICKHOUSE_*, for this process.
        if let Some(v) = get("DASHBOARDS_CLICKHOUSE_URL") {
            self.clickhouse.url = v;
        }
        if let Some(v) = get("DASHBOARDS_CLICKHOUSE_DATABASE") {
            self.clickhouse.database = v;
        }
        if let Some(v) = get("DASHBOARDS_CLICKHOUSE_PASSWORD") {
            self.clickhouse.password = v;
        }
        if let Some(v) = get("DASHBOARDS_CLICKHOUSE_CLUSTER") {
            self.clickhouse.cluster = v;
        }
        if let Some(v) = get("DASHBOARDS_WEB_LISTEN") {
            self.web.listen = v;
        }
        if let Some(v) = get("DASHBOARDS_WEB_USERS_FILE") {
            self.web.users_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("DASHBOARDS_WEB_SESSION_SECRET") {
            self.web.session_secret = v;
        }
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.clickhouse.validate().map_err(|e| match e {
            ingest::config::ConfigError::Invalid { field, reason } => {
                ConfigError::Invalid { field, reason }
            }
            other => ConfigError::Invalid {
                field: "clickhouse",
                reason: other.to_string(),
            },
        })?;
        self.benchmarks.validate()?;
        self.analytics.validate()?;
        self.web.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_the_defaults() {
        let example = Config::from_toml(EXAMPLE_TOML).unwrap();
        example.validate().unwrap();
        let defaults = toml::to_string(&Config::default()).unwrap();
        assert_eq!(toml::to_string(&example).unwrap(), defaults);
    }

    #[test]
    fn unknown_fields_and_sections_are_refused() {
        assert!(Config::from_toml("[web]\nlisten_on = \"x\"").is_err());
        // The consumer's sections belong to `ingest`'s config, not here.
        assert!(Config::from_toml("[kafka]\nbrokers = \"b:1\"").is_err());
        let mut config = Config::default();
        config.clickhouse.database = "feedlot; DROP".into();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("clickhouse.database"), "{err}");
    }

    #[test]
    fn dashboards_environment_overrides_win_and_secrets_are_not_printed() {
        let mut config = Config::default();
        config.apply_env(|name| match name {
            "DASHBOARDS_CLICKHOUSE_URL" => Some("http://ch:8123".into()),
            "DASHBOARDS_CLICKHOUSE_DATABASE" => Some("yards".into()),
            "DASHBOARDS_CLICKHOUSE_PASSWORD" => Some("s3cret".into()),
            "DASHBOARDS_WEB_LISTEN" => Some("0.0.0.0:8080".into()),
            "DASHBOARDS_WEB_SESSION_SECRET" => Some("k".repeat(40)),
            // The consumer's variables do not reach the dashboards.
            "INGEST_CLICKHOUSE_URL" => Some("http://wrong:8123".into()),
            _ => None,
        });
        assert_eq!(config.clickhouse.url, "http://ch:8123");
        assert_eq!(config.clickhouse.database, "yards");
        assert_eq!(config.web.listen, "0.0.0.0:8080");
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("s3cret") && !printed.contains("kkkk"),
            "{printed}"
        );
    }
}
