//! The dashboards' configuration: a TOML file (all fields optional) plus `DASHBOARDS_*`
//! environment overrides. The ClickHouse section is `ingest`'s own
//! ([`ingest::config::ClickHouseConfig`]), so both processes read one server the same way.

use std::path::{Path, PathBuf};

use ingest::config::{ClickHouseConfig, TomlError};
use serde::{Deserialize, Serialize};

mod alerts;
mod analytics;
mod benchmarks;
mod facts;
mod web;

pub use alerts::{AlertsConfig, RULES, RuleOverrides, RuleSettings};
pub use analytics::AnalyticsConfig;
pub use benchmarks::BenchmarksConfig;
pub use facts::FactsConfig;
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
    /// The file is not valid TOML for this configuration: a syntax error, a value of the wrong
    /// type or an unknown field, named by its path. (Not a `source`: the message already
    /// carries the parser's, and a chain would print it twice.)
    #[error("invalid config{0}")]
    Parse(TomlError),
    /// A field has a value that cannot work.
    #[error("invalid config field `{field}`: {reason}")]
    Invalid {
        /// The field's path, e.g. `web.session_hours`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Environment variables that override config fields: (variable, field).
pub const ENV_OVERRIDES: [(&str, &str); 8] = [
    ("DASHBOARDS_CLICKHOUSE_URL", "clickhouse.url"),
    ("DASHBOARDS_CLICKHOUSE_DATABASE", "clickhouse.database"),
    ("DASHBOARDS_CLICKHOUSE_PASSWORD", "clickhouse.password"),
    ("DASHBOARDS_CLICKHOUSE_CLUSTER", "clickhouse.cluster"),
    ("DASHBOARDS_WEB_LISTEN", "web.listen"),
    ("DASHBOARDS_WEB_USERS_FILE", "web.users_file"),
    ("DASHBOARDS_WEB_SESSION_SECRET", "web.session_secret"),
    ("DASHBOARDS_WEB_OPS_LISTEN", "web.ops_listen"),
];

impl ConfigError {
    /// Adds the variable that set the bad field, when one of [`ENV_OVERRIDES`] did (looked up
    /// with `lookup`), so the error says where the value came from.
    fn naming_variable(self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let Self::Invalid { field, reason } = self else {
            return self;
        };
        let var = ENV_OVERRIDES.iter().find(|(var, overridden)| {
            *overridden == field && lookup(var).is_some_and(|v| !v.trim().is_empty())
        });
        match var {
            Some((var, _)) => Self::Invalid {
                field,
                reason: format!("{reason} (set by {var})"),
            },
            None => Self::Invalid { field, reason },
        }
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
    /// The worker that keeps each yard's daily facts.
    pub facts: FactsConfig,
    /// The alerts: rules, per-yard settings and delivery.
    pub alerts: AlertsConfig,
}

impl Config {
    /// Parses TOML (missing fields take defaults; unknown fields are an error).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        ingest::config::parse_toml(text).map_err(ConfigError::Parse)
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
        let lookup = |name: &str| std::env::var(name).ok();
        config.apply_env(lookup);
        config.web.load_users_file()?;
        config.validate().map_err(|e| e.naming_variable(lookup))?;
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
        if let Some(v) = get("DASHBOARDS_WEB_OPS_LISTEN") {
            self.web.ops_listen = v;
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
        self.facts.validate()?;
        self.alerts.validate()?;
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

    #[test]
    fn a_value_of_the_wrong_type_names_its_section_and_field() {
        let err = Config::from_toml("[web]\nsession_hours = \"twelve\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`web.session_hours`"), "{err}");
    }

    #[test]
    fn a_bad_value_from_a_variable_names_the_field_and_the_variable() {
        let lookup = |name: &str| (name == "DASHBOARDS_CLICKHOUSE_URL").then(|| "ftp://x".into());
        let mut config = Config::default();
        config.apply_env(lookup);
        let err = config.validate().unwrap_err().naming_variable(lookup);
        let err = err.to_string();
        assert!(
            err.contains("`clickhouse.url`") && err.contains("DASHBOARDS_CLICKHOUSE_URL"),
            "{err}"
        );
    }

    #[test]
    fn every_listed_variable_overrides_a_field() {
        let defaults = toml::to_string(&Config::default()).unwrap();
        for (var, field) in ENV_OVERRIDES {
            let mut config = Config::default();
            config.apply_env(|name| (name == var).then(|| "7".into()));
            assert_ne!(
                toml::to_string(&config).unwrap(),
                defaults,
                "{var} ({field})"
            );
        }
    }
}
