//! The consumer's configuration: a TOML file (all fields optional) plus `INGEST_*` environment
//! overrides. (The pages have their own, in the `dashboards` crate; it reuses
//! [`ClickHouseConfig`].)

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The commented example configuration, printed by `ingest print-config`.
pub const EXAMPLE_TOML: &str = include_str!("../ingest.example.toml");

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
    /// An environment variable overriding a field has a value the field cannot take.
    #[error("invalid config field `{field}` (from {var}): invalid value {value:?}: {reason}")]
    Env {
        /// The variable, e.g. `INGEST_KAFKA_PARTITIONS`.
        var: &'static str,
        /// The field it overrides, e.g. `kafka.partitions`.
        field: &'static str,
        /// The variable's value.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A field has a value that cannot work.
    #[error("invalid config field `{field}`: {reason}")]
    Invalid {
        /// The field's path, e.g. `batch.max_rows`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

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

/// A TOML document that does not fit a configuration, with the dotted path of the field at
/// fault (`kafka.partitions`, `web.users[0].name`) when there is one: toml's own message shows
/// only the line, which does not say which section the key is in.
#[derive(Debug)]
pub struct TomlError {
    /// The field's path; `None` for a syntax error or a field at the top level.
    pub field: Option<String>,
    /// The parser's error (message, line and column).
    pub error: toml::de::Error,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // toml's message ends in a newline.
        let error = self.error.to_string();
        match &self.field {
            Some(field) => write!(f, " field `{field}`: {}", error.trim_end()),
            None => write!(f, ": {}", error.trim_end()),
        }
    }
}

/// Parses `text` as a `T`, naming the field of a type error or an unknown field by its path
/// (see [`TomlError`]). `dashboards` parses its config with this too.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, TomlError> {
    let de = toml::Deserializer::parse(text).map_err(|error| TomlError { field: None, error })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        TomlError {
            // The root's path prints as ".".
            field: (field != ".").then_some(field),
            error: e.into_inner(),
        }
    })
}

/// Environment variables that override config fields: (variable, field).
pub const ENV_OVERRIDES: [(&str, &str); 12] = [
    ("INGEST_KAFKA_BROKERS", "kafka.brokers"),
    ("INGEST_KAFKA_SASL_PASSWORD", "kafka.sasl_password"),
    ("INGEST_CLICKHOUSE_URL", "clickhouse.url"),
    ("INGEST_CLICKHOUSE_DATABASE", "clickhouse.database"),
    ("INGEST_CLICKHOUSE_PASSWORD", "clickhouse.password"),
    ("INGEST_CLICKHOUSE_CLUSTER", "clickhouse.cluster"),
    ("INGEST_KAFKA_PARTITIONS", "kafka.partitions"),
    (
        "INGEST_KAFKA_REPLICATION_FACTOR",
        "kafka.replication_factor",
    ),
    (
        "INGEST_KAFKA_MIN_INSYNC_REPLICAS",
        "kafka.min_insync_replicas",
    ),
    (
        "INGEST_KAFKA_SESSION_TIMEOUT_MS",
        "kafka.session_timeout_ms",
    ),
    (
        "INGEST_KAFKA_HEARTBEAT_INTERVAL_MS",
        "kafka.heartbeat_interval_ms",
    ),
    ("INGEST_OPS_LISTEN", "ops.listen"),
];

/// Everything `ingest` needs; every field has a local default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the events come from.
    pub kafka: KafkaConfig,
    /// Where they are stored.
    pub clickhouse: ClickHouseConfig,
    /// How many events go into one ClickHouse insert.
    pub batch: BatchConfig,
    /// Where the consumer's `/metrics` and `/healthz` are served.
    pub ops: OpsConfig,
    /// Which events are accepted: gateway signatures against the registry.
    pub security: SecurityConfig,
}

/// Gateway identity: what the consumer demands of an event before storing it (see
/// `docs/security.md`, "Gateway identity").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Refuse (dead-letter as `unsigned`) events without a gateway signature. `false` only for
    /// a migration window while old gateways' unsigned backlog drains; signed events are
    /// verified either way.
    pub require_signatures: bool,
    /// How often the consumer reads the gateway registry again, ms (also read at once, at
    /// most every second, when an event names a key it does not know). At least 1000.
    pub registry_refresh_ms: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            require_signatures: true,
            registry_refresh_ms: 30_000,
        }
    }
}

/// The consumer's ops listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpsConfig {
    /// Listen address of `/metrics` and `/healthz`, e.g. `0.0.0.0:9464` in a pod. Env:
    /// `INGEST_OPS_LISTEN`.
    pub listen: String,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

/// Kafka consumer settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap brokers, comma-separated `host:port`. Env: `INGEST_KAFKA_BROKERS`.
    pub brokers: String,
    /// The events topic, e.g. `feedlot.events.v1`.
    pub topic: String,
    /// Where undecodable messages go, with the reason in a header.
    pub dead_letter_topic: String,
    /// Consumer group; every `ingest` replica uses the same one to share partitions.
    pub group_id: String,
    /// Partitions of the events topic when `ingest` creates it (existing topics are left as
    /// they are). Env: `INGEST_KAFKA_PARTITIONS`.
    pub partitions: i32,
    /// Copies of each partition the brokers keep when `ingest` creates a topic (3 in
    /// production: any one broker may be lost). Env: `INGEST_KAFKA_REPLICATION_FACTOR`.
    pub replication_factor: i32,
    /// Copies that must have a record before the broker acknowledges it (`acks=all`); the
    /// topics' `min.insync.replicas`, at most `replication_factor`. Env:
    /// `INGEST_KAFKA_MIN_INSYNC_REPLICAS`.
    pub min_insync_replicas: i32,
    /// Most KiB the Kafka client prefetches ahead of the batch being stored (librdkafka's
    /// `queued.max.messages.kbytes`); bounds memory while ClickHouse is slow or down.
    pub prefetch_max_kb: u32,
    /// How long the group waits for a silent replica before giving its partitions to the
    /// others, ms (librdkafka's `session.timeout.ms`). At least 1000. Env:
    /// `INGEST_KAFKA_SESSION_TIMEOUT_MS`.
    pub session_timeout_ms: u32,
    /// How often the replica tells the group it is alive, ms (librdkafka's
    /// `heartbeat.interval.ms`); unset, librdkafka's 3000. Set it below the session timeout,
    /// ideally a third of it, when the session is short. Env:
    /// `INGEST_KAFKA_HEARTBEAT_INTERVAL_MS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_ms: Option<u32>,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka's `security.protocol`);
    /// empty: plaintext. TLS and SASL where the brokers offer them (docs/security.md,
    /// "Kafka transport").
    pub security_protocol: String,
    /// `SCRAM-SHA-256`, `SCRAM-SHA-512` or `PLAIN`, with a `sasl_*` protocol.
    pub sasl_mechanism: String,
    /// The SASL user, with a `sasl_*` protocol.
    pub sasl_username: String,
    /// The SASL password, with a `sasl_*` protocol. Env: `INGEST_KAFKA_SASL_PASSWORD`. Never
    /// printed.
    pub sasl_password: String,
    /// PEM file of the CA that signed the brokers' certificates, with `ssl` or `sasl_ssl`;
    /// empty: the system's CA store.
    pub ssl_ca_location: String,
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .field("group_id", &self.group_id)
            .field("partitions", &self.partitions)
            .field("replication_factor", &self.replication_factor)
            .field("min_insync_replicas", &self.min_insync_replicas)
            .field("prefetch_max_kb", &self.prefetch_max_kb)
            .field("session_timeout_ms", &self.session_timeout_ms)
            .field("heartbeat_interval_ms", &self.heartbeat_interval_ms)
            .field("security", &self.security())
            .finish()
    }
}

impl KafkaConfig {
    /// The transport security settings.
    pub fn security(&self) -> schemas::transport::KafkaSecurity<'_> {
        schemas::transport::KafkaSecurity {
            security_protocol: &self.security_protocol,
            sasl_mechanism: &self.sasl_mechanism,
            sasl_username: &self.sasl_username,
            sasl_password: &self.sasl_password,
            ssl_ca_location: &self.ssl_ca_location,
        }
    }

    /// A librdkafka client configuration with the brokers and the transport security: every
    /// Kafka client of the consumer (group, batch ends, dead letters, topic admin) starts from
    /// it. Settings [`Config::validate`] refuses are left out (it runs before any client).
    pub fn client_config(&self) -> rdkafka::ClientConfig {
        let mut config = rdkafka::ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (key, value) in self.security().properties().unwrap_or_default() {
            config.set(key, value);
        }
        config
    }
}

/// ClickHouse connection settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// HTTP URL, e.g. `http://127.0.0.1:8123`, or several comma-separated: every server of a
    /// cluster the client may use, tried in turn when one cannot be reached. Env:
    /// `INGEST_CLICKHOUSE_URL`.
    pub url: String,
    /// Database (created if missing). Env: `INGEST_CLICKHOUSE_DATABASE`.
    pub database: String,
    /// User name.
    pub user: String,
    /// Password. Env: `INGEST_CLICKHOUSE_PASSWORD`. Never printed.
    pub password: String,
    /// The ClickHouse cluster (a `<remote_servers>` name) the schema lives on: tables are
    /// created `ON CLUSTER` as `Replicated…MergeTree` with a `Distributed` table over them,
    /// sharded by feedlot. Empty: one server, plain tables. Env: `INGEST_CLICKHOUSE_CLUSTER`.
    pub cluster: String,
    /// Longest wait for a byte of ClickHouse's answer, ms; past it the request fails and the
    /// next connection goes to another server (a frozen server must not hang the caller).
    pub read_timeout_ms: u64,
}

impl fmt::Debug for ClickHouseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("cluster", &self.cluster)
            .field("read_timeout_ms", &self.read_timeout_ms)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// Batch bounds: an insert happens when either is reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Most events in one insert.
    pub max_rows: usize,
    /// Longest an event waits for its batch to fill, ms.
    pub max_wait_ms: u64,
    /// First retry delay when ClickHouse refuses or is down, ms (doubles up to `retry_max_ms`).
    pub retry_initial_ms: u64,
    /// Longest retry delay, ms.
    pub retry_max_ms: u64,
    /// Partitions' batches stored at once (each partition's batch is its own insert, see
    /// `docs/clickhouse.md`, "Exactly once in storage").
    pub parallel_inserts: usize,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topic: "feedlot.events.v1".into(),
            dead_letter_topic: "feedlot.events.dlq.v1".into(),
            group_id: "feedlot-ingest".into(),
            partitions: 48,
            replication_factor: 3,
            min_insync_replicas: 2,
            prefetch_max_kb: 16_384,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: None,
            security_protocol: String::new(),
            sasl_mechanism: String::new(),
            sasl_username: String::new(),
            sasl_password: String::new(),
            ssl_ca_location: String::new(),
        }
    }
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "feedlot".into(),
            user: "default".into(),
            password: String::new(),
            cluster: String::new(),
            read_timeout_ms: 30_000,
        }
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_rows: 10_000,
            max_wait_ms: 500,
            retry_initial_ms: 200,
            retry_max_ms: 10_000,
            parallel_inserts: 4,
        }
    }
}

/// Letters, digits and `_`: safe to put into SQL as a name.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ClickHouseConfig {
    /// The server URLs, in the order given.
    pub fn urls(&self) -> Vec<&str> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect()
    }

    /// The cluster name, when the schema lives on a cluster.
    pub fn cluster(&self) -> Option<&str> {
        Some(self.cluster.trim()).filter(|c| !c.is_empty())
    }

    /// Checks the database and cluster names and the URLs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: &str| {
            Err(ConfigError::Invalid {
                field,
                reason: reason.into(),
            })
        };
        if !is_plain_name(&self.database) {
            return invalid("clickhouse.database", "letters, digits and _ only");
        }
        if self.cluster().is_some_and(|c| !is_plain_name(c)) {
            return invalid("clickhouse.cluster", "letters, digits and _ only");
        }
        let urls = self.urls();
        if urls.is_empty() {
            return invalid("clickhouse.url", "needs at least one http:// URL");
        }
        if let Some(bad) = urls
            .iter()
            .find(|u| crate::sink::failover::Server::parse(u).is_err())
        {
            return invalid(
                "clickhouse.url",
                &format!("`{bad}` is not an http://host:port URL"),
            );
        }
        if self.read_timeout_ms < 100 {
            return invalid("clickhouse.read_timeout_ms", "must be at least 100");
        }
        Ok(())
    }
}

impl Config {
    /// Parses TOML (missing fields take defaults; unknown fields are an error).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        parse_toml(text).map_err(ConfigError::Parse)
    }

    /// Loads `path` (or the defaults), applies the environment, and validates.
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
        config.apply_env(lookup)?;
        config.validate().map_err(|e| e.naming_variable(lookup))?;
        Ok(config)
    }

    /// Overrides fields from `INGEST_*` variables looked up with `lookup`; empty values are
    /// ignored, a number that does not parse is an error naming the variable and the field.
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("INGEST_KAFKA_BROKERS") {
            self.kafka.brokers = v;
        }
        if let Some(v) = get("INGEST_KAFKA_SASL_PASSWORD") {
            self.kafka.sasl_password = v;
        }
        if let Some(v) = get("INGEST_CLICKHOUSE_URL") {
            self.clickhouse.url = v;
        }
        if let Some(v) = get("INGEST_CLICKHOUSE_DATABASE") {
            self.clickhouse.database = v;
        }
        if let Some(v) = get("INGEST_CLICKHOUSE_PASSWORD") {
            self.clickhouse.password = v;
        }
        if let Some(v) = get("INGEST_CLICKHOUSE_CLUSTER") {
            self.clickhouse.cluster = v;
        }
        fn number<N: std::str::FromStr<Err: fmt::Display>>(
            var: &'static str,
            field: &'static str,
            value: Option<String>,
        ) -> Result<Option<N>, ConfigError> {
            value
                .map(|value| {
                    value.trim().parse().map_err(|e: N::Err| ConfigError::Env {
                        var,
                        field,
                        reason: e.to_string(),
                        value,
                    })
                })
                .transpose()
        }
        let var = "INGEST_KAFKA_PARTITIONS";
        if let Some(v) = number(var, "kafka.partitions", get(var))? {
            self.kafka.partitions = v;
        }
        let var = "INGEST_KAFKA_REPLICATION_FACTOR";
        if let Some(v) = number(var, "kafka.replication_factor", get(var))? {
            self.kafka.replication_factor = v;
        }
        let var = "INGEST_KAFKA_MIN_INSYNC_REPLICAS";
        if let Some(v) = number(var, "kafka.min_insync_replicas", get(var))? {
            self.kafka.min_insync_replicas = v;
        }
        let var = "INGEST_KAFKA_SESSION_TIMEOUT_MS";
        if let Some(v) = number(var, "kafka.session_timeout_ms", get(var))? {
            self.kafka.session_timeout_ms = v;
        }
        let var = "INGEST_KAFKA_HEARTBEAT_INTERVAL_MS";
        if let Some(v) = number(var, "kafka.heartbeat_interval_ms", get(var))? {
            self.kafka.heartbeat_interval_ms = Some(v);
        }
        if let Some(v) = get("INGEST_OPS_LISTEN") {
            self.ops.listen = v;
        }
        Ok(())
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: &str| {
            Err(ConfigError::Invalid {
                field,
                reason: reason.into(),
            })
        };
        if self.batch.max_rows == 0 {
            return invalid("batch.max_rows", "must be at least 1");
        }
        if self.batch.parallel_inserts == 0 {
            return invalid("batch.parallel_inserts", "must be at least 1");
        }
        if self.kafka.session_timeout_ms < 1000 {
            return invalid("kafka.session_timeout_ms", "must be at least 1000");
        }
        if self
            .kafka
            .heartbeat_interval_ms
            .is_some_and(|ms| ms < 1 || ms >= self.kafka.session_timeout_ms)
        {
            return invalid(
                "kafka.heartbeat_interval_ms",
                "must be at least 1 and below kafka.session_timeout_ms",
            );
        }
        if self.security.registry_refresh_ms < 1000 {
            return invalid("security.registry_refresh_ms", "must be at least 1000");
        }
        if let Err(e) = self.kafka.security().properties() {
            let field = match e.field {
                "security_protocol" => "kafka.security_protocol",
                "sasl_mechanism" => "kafka.sasl_mechanism",
                "sasl_username" => "kafka.sasl_username",
                "sasl_password" => "kafka.sasl_password",
                _ => "kafka.ssl_ca_location",
            };
            return Err(ConfigError::Invalid {
                field,
                reason: e.reason,
            });
        }
        if self.kafka.prefetch_max_kb < 1 {
            return invalid("kafka.prefetch_max_kb", "must be at least 1");
        }
        if self.kafka.partitions < 1 {
            return invalid("kafka.partitions", "must be at least 1");
        }
        if self.kafka.replication_factor < 1 {
            return invalid("kafka.replication_factor", "must be at least 1");
        }
        if self.kafka.min_insync_replicas < 1
            || self.kafka.min_insync_replicas > self.kafka.replication_factor
        {
            return invalid(
                "kafka.min_insync_replicas",
                "must be at least 1 and at most kafka.replication_factor",
            );
        }
        self.clickhouse.validate()?;
        if self.kafka.topic == self.kafka.dead_letter_topic {
            return invalid("kafka.dead_letter_topic", "must differ from kafka.topic");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_validates() {
        let config = Config::from_toml(EXAMPLE_TOML).unwrap();
        config.validate().unwrap();
        assert_eq!(config.kafka.topic, "feedlot.events.v1");
        assert_eq!(config.ops.listen, "127.0.0.1:9464");
        let defaults = toml::to_string(&Config::default()).unwrap();
        assert_eq!(toml::to_string(&config).unwrap(), defaults);
    }

    #[test]
    fn the_pages_sections_belong_to_the_dashboards_config() {
        for section in ["[web]", "[analytics]", "[benchmarks]"] {
            assert!(Config::from_toml(section).is_err(), "{section}");
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_with_the_field_named() {
        assert!(Config::from_toml("[kafka]\nbrokerz = \"x\"").is_err());
        let mut config = Config::default();
        config.clickhouse.database = "feedlot; DROP".into();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("clickhouse.database"), "{err}");
    }

    #[test]
    fn environment_overrides_win_and_passwords_are_not_printed() {
        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "INGEST_KAFKA_BROKERS" => Some("b:1".into()),
                "INGEST_CLICKHOUSE_PASSWORD" => Some("s3cret".into()),
                "INGEST_CLICKHOUSE_URL" => Some("http://ch:8123".into()),
                "INGEST_OPS_LISTEN" => Some("0.0.0.0:9464".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.kafka.brokers, "b:1");
        assert_eq!(config.clickhouse.url, "http://ch:8123");
        assert_eq!(config.ops.listen, "0.0.0.0:9464");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn a_heartbeat_not_below_the_session_timeout_is_refused() {
        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "INGEST_KAFKA_SESSION_TIMEOUT_MS" => Some("3000".into()),
                "INGEST_KAFKA_HEARTBEAT_INTERVAL_MS" => Some("1000".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.kafka.heartbeat_interval_ms, Some(1000));
        config.validate().unwrap();
        config.kafka.heartbeat_interval_ms = Some(3000);
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("kafka.heartbeat_interval_ms"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_section_and_field() {
        let err = Config::from_toml("[kafka]\npartitions = \"abc\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`kafka.partitions`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        let err = Config::from_toml("[batch]\nmax_rowz = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch") && err.contains("max_rowz"), "{err}");
    }

    #[test]
    fn a_number_variable_that_does_not_parse_or_cannot_work_names_the_variable_and_the_field() {
        let mut config = Config::default();
        let err = config
            .apply_env(|name| (name == "INGEST_KAFKA_PARTITIONS").then(|| "abc".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`kafka.partitions`") && err.contains("INGEST_KAFKA_PARTITIONS"),
            "{err}"
        );
        assert!(err.contains("\"abc\""), "{err}");

        let lookup = |name: &str| (name == "INGEST_KAFKA_PARTITIONS").then(|| "0".into());
        config.apply_env(lookup).unwrap();
        let err = config.validate().unwrap_err().naming_variable(lookup);
        let err = err.to_string();
        assert!(
            err.contains("`kafka.partitions`") && err.contains("INGEST_KAFKA_PARTITIONS"),
            "{err}"
        );
    }

    #[test]
    fn the_kafka_transport_settings_reach_every_client_and_the_password_is_never_printed() {
        let mut config = Config::default();
        config.kafka.security_protocol = "sasl_plaintext".into();
        config.kafka.sasl_mechanism = "SCRAM-SHA-512".into();
        config.kafka.sasl_username = "ingest".into();
        config
            .apply_env(|name| (name == "INGEST_KAFKA_SASL_PASSWORD").then(|| "s3cret".into()))
            .unwrap();
        config.validate().unwrap();
        let client = config.kafka.client_config();
        assert_eq!(client.get("security.protocol"), Some("sasl_plaintext"));
        assert_eq!(client.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(client.get("sasl.username"), Some("ingest"));
        assert_eq!(client.get("sasl.password"), Some("s3cret"));
        assert!(!format!("{config:?}").contains("s3cret"));
        // librdkafka accepts them (it refuses unknown or malformed properties at creation).
        let consumer: Result<rdkafka::consumer::BaseConsumer, _> = client.create();
        if let Err(e) = consumer {
            panic!("{e}");
        }
        config.kafka.sasl_password.clear();
        assert!(matches!(
            config.validate(),
            Err(ConfigError::Invalid {
                field: "kafka.sasl_password",
                ..
            })
        ));
    }

    #[test]
    fn every_listed_variable_overrides_a_field() {
        let defaults = toml::to_string(&Config::default()).unwrap();
        for (var, field) in ENV_OVERRIDES {
            let mut config = Config::default();
            config
                .apply_env(|name| (name == var).then(|| "7".into()))
                .unwrap();
            assert_ne!(
                toml::to_string(&config).unwrap(),
                defaults,
                "{var} ({field})"
            );
        }
    }
}
