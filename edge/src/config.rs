//! The gateway's configuration: one TOML file, documented field by field.
//!
//! [`Config::default`] is the embedded local setup, identical to `edge.example.toml` (a unit test
//! holds them together), which `edge print-config` prints. Environment variables override a few
//! deployment-specific fields (see [`Config::apply_env`]); [`Config::validate`] checks
//! everything that would otherwise fail later, naming the bad field.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::readers::combined::{CombinedConfig, CombinedShapeConfig, WeightUnitName};
pub use crate::readers::poll::{MAX_POLL_COMMAND_BYTES, POLL_INTERVAL_RANGE_MS, PollConfig};
pub use crate::readers::scale_shapes::{
    FixedFields, GrossNetName, ScaleConfig, ScaleSample, ScaleShapeConfig,
};
use crate::readers::serial::DEFAULT_IDLE_GAP_MS;

/// The commented example configuration, equal to [`Config::default`].
pub const EXAMPLE_TOML: &str = include_str!("../edge.example.toml");

/// Environment variables that override config fields, in the order they are applied.
pub const ENV_OVERRIDES: [(&str, &str); 5] = [
    ("EDGE_FEEDLOT_ID", "feedlot_id"),
    ("EDGE_GATEWAY_ID", "gateway_id"),
    ("EDGE_DATA_DIR", "data_dir"),
    ("EDGE_KAFKA_BROKERS", "kafka.brokers"),
    ("EDGE_KAFKA_SASL_PASSWORD", "kafka.sasl_password"),
];

/// Why a configuration could not be loaded or is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown field or a value of the wrong type.
    #[error("invalid config{}: {}", field_label(.field), .error.to_string().trim_end())]
    Parse {
        /// The dotted path of the field at fault, e.g. `kafka.batch_size` or
        /// `devices[1].baud_rate`; `None` for a syntax error or a field at the top level.
        /// (toml's own message shows only the line, which does not say the section.)
        field: Option<String>,
        /// The parser's error (message, line and column).
        error: toml::de::Error,
    },
    /// A field has a value the gateway cannot work with.
    #[error("invalid config field `{field}`: {reason}")]
    Invalid {
        /// The dotted path of the field, e.g. `devices[1].format`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// `" field `path`"` for [`ConfigError::Parse`]'s message, or nothing.
fn field_label(field: &Option<String>) -> String {
    field
        .as_deref()
        .map(|field| format!(" field `{field}`"))
        .unwrap_or_default()
}

impl From<toml::de::Error> for ConfigError {
    fn from(error: toml::de::Error) -> Self {
        Self::Parse { field: None, error }
    }
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The whole gateway configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The feedlot (yard) this gateway belongs to; the Kafka message key. Example: `"yard-7"`.
    /// Env: `EDGE_FEEDLOT_ID`.
    pub feedlot_id: String,
    /// This gateway's id, stamped on every event. Example: `"gw-chute-north"`. Env: `EDGE_GATEWAY_ID`.
    pub gateway_id: String,
    /// Directory for durable state; the outbox is `<data_dir>/outbox.redb`. Created if missing.
    /// Env: `EDGE_DATA_DIR`.
    pub data_dir: PathBuf,
    /// Where and how captured events are forwarded.
    pub kafka: KafkaConfig,
    /// RFID line shapes and the tag dedup window.
    pub rfid: RfidConfig,
    /// How tag reads are paired with stable weights.
    pub pairing: PairingConfig,
    /// Scale line shapes beyond the built-in families (`rice_lake`, `tru_test`, `sma`).
    pub scale: ScaleConfig,
    /// Line shapes of devices whose one line carries both the tag and the weight.
    pub combined: CombinedConfig,
    /// The serial devices (RFID readers and scale indicators) to read: only those the file
    /// lists. A file without `[[devices]]` reads none (an office gateway: the records API and
    /// the entry forms, `/healthz` up without any device); `Config::default()` (what
    /// `print-config` shows) has the two of a typical chute.
    #[serde(default)]
    pub devices: Vec<DeviceConfig>,
    /// Feed trucks and sensors over MQTT (embedded broker and/or an external one).
    pub mqtt: crate::mqtt::MqttConfig,
    /// How much the outbox may hold before new events are refused (disk bound).
    pub outbox: crate::outbox::OutboxConfig,
    /// The local HTTP server (records API).
    pub http: crate::http::HttpConfig,
    /// Who may use the records API.
    pub api: crate::api::ApiConfig,
    /// The yard's profile (name, region, location), sent to the cloud at each start (the
    /// benchmarks place yards by the cloud's registry instead). Optional; see
    /// [`crate::profile::FeedlotProfileConfig`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedlot: Option<crate::profile::FeedlotProfileConfig>,
}

/// Kafka forwarding settings.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated. Example: `"kafka-1:9092,kafka-2:9092"`.
    /// Env: `EDGE_KAFKA_BROKERS`.
    pub brokers: String,
    /// The topic events are written to.
    pub topic: String,
    /// How long librdkafka keeps retrying one send before reporting it failed (`message.timeout.ms`).
    /// A failed send stays in the outbox and is sent again after a back-off, so a down broker only
    /// means retries. Example: `30000`.
    pub message_timeout_ms: u64,
    /// How many outbox entries are sent per round before waiting for their acknowledgements.
    pub batch_size: usize,
    /// First back-off after a failed round; doubles per consecutive failure.
    pub retry_backoff_initial_ms: u64,
    /// Upper bound of the back-off between failed rounds.
    pub retry_backoff_max_ms: u64,
    /// Seconds between the gateway's status reports (its outbox's backlog, sent past the
    /// outbox: the cloud's `outbox_backlog` alert, docs/alerts.md); 0: none. Example: `60`.
    pub status_interval_secs: u32,
    /// Extra librdkafka client properties. The delivery guarantees (`enable.idempotence`,
    /// `acks`) cannot be overridden here, and the transport fields below win over them.
    pub properties: BTreeMap<String, String>,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka's `security.protocol`);
    /// empty: plaintext (or what `properties` says). TLS and SASL where the brokers offer them
    /// (docs/security.md, "Kafka transport").
    pub security_protocol: String,
    /// `SCRAM-SHA-256`, `SCRAM-SHA-512` or `PLAIN`, with a `sasl_*` protocol.
    pub sasl_mechanism: String,
    /// The SASL user, with a `sasl_*` protocol.
    pub sasl_username: String,
    /// The SASL password, with a `sasl_*` protocol. Env: `EDGE_KAFKA_SASL_PASSWORD`. Never
    /// printed.
    pub sasl_password: String,
    /// PEM file of the CA that signed the brokers' certificates, with `ssl` or `sasl_ssl`;
    /// empty: the system's CA store.
    pub ssl_ca_location: String,
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("message_timeout_ms", &self.message_timeout_ms)
            .field("batch_size", &self.batch_size)
            .field("retry_backoff_initial_ms", &self.retry_backoff_initial_ms)
            .field("retry_backoff_max_ms", &self.retry_backoff_max_ms)
            .field("status_interval_secs", &self.status_interval_secs)
            .field("properties", &self.properties.keys().collect::<Vec<_>>())
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
}

/// RFID reader settings shared by all readers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RfidConfig {
    /// Reads of one tag by one reader closer together than this are one read (the window slides:
    /// a tag held in range keeps being one read). Example: `5000`.
    pub dedup_window_ms: u64,
    /// Extra line shapes, tried before the built-in ones, in order. See [`LineShapeConfig`].
    pub shapes: Vec<LineShapeConfig>,
    /// Capture ISO 11784 test-range tags (code 999, e.g. `999000000000001`). Off: such reads
    /// are refused, logged and counted (`edge_parse_errors_total{reason="test_tag"}`), so a
    /// test tag left in a reader's range never becomes an animal. Example: `false`.
    pub accept_test_tags: bool,
}

/// One row of the RFID line table: a regex over the line (STX/ETX and surrounding whitespace
/// removed) with a named group `eid`, or a rejection reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineShapeConfig {
    /// A name for logs and for `devices[].format`. Example: `"gallagher_csv"`.
    pub name: String,
    /// The regex; must have a named group `eid` unless `reject` is set.
    /// Example: `'^(?P<eid>\d{15}),\d{8},\d{6}$'`.
    pub pattern: String,
    /// When set, lines of this shape are rejected with this reason (e.g. non-animal tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject: Option<String>,
    /// A line a built-in rejecting row also matches (an `LR` industrial tag) is rejected even
    /// though this row matched first, unless this is `true`. Example: `true` for a reader that
    /// marks animal tags `R`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub override_builtin_rejections: bool,
}

/// Pairing of tag reads with stable weights (see [`crate::pairing`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PairingConfig {
    /// A tag read not followed by a stable weight within this time is dropped (the animal left
    /// unweighed). Example: `60000`.
    pub tag_max_age_ms: u64,
    /// Stable weights below this are an empty platform, never a weighing, and re-arm the scale.
    pub min_weight_kg: f64,
}

/// What a serial device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceRole {
    /// An RFID ear-tag reader.
    Rfid,
    /// A scale indicator.
    Scale,
    /// An indicator that relays the reader: each line carries the tag and the weight, and
    /// gives the tag read and the paired weighing by itself (never paired with other devices).
    Combined,
}

/// One serial device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Unique id, stamped on the events it produces. Example: `"rfid-1"`.
    pub device_id: String,
    /// The serial port. Example: `"/dev/ttyUSB0"`.
    pub path: PathBuf,
    /// Line speed (8N1 is assumed).
    #[serde(default = "default_baud_rate")]
    pub baud_rate: u32,
    /// `rfid`, `scale` or `combined`.
    pub role: DeviceRole,
    /// The line format. RFID: `"auto"` (every row of the table) or one row name such as
    /// `"allflex"`. Scale: `"rice_lake"`, `"tru_test"`, `"sma"` or a `[[scale.shapes]]` row
    /// name. Combined: `"auto"` or one
    /// row name such as `"tru_test"`. Default: `auto` / `rice_lake` / `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Devices with the same chute are paired: tags from its readers with weights from its scales.
    #[serde(default = "default_chute")]
    pub chute: String,
    /// A line ends at its terminator (CR, LF, CRLF, STX/ETX) or after this many milliseconds
    /// without a byte, whichever comes first: a reader that leaves a line unterminated has it
    /// read on its own, never glued to the next read. 10 to 60000. Example: `200`.
    #[serde(default = "default_idle_gap_ms")]
    pub idle_gap_ms: u64,
    /// For an indicator that answers only when asked: the gateway writes `poll.command` to the
    /// port every `poll.interval_ms` while it reads the answers. Absent: the device streams.
    /// Example: `poll = { command = "{RP}\r", interval_ms = 200 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollConfig>,
}

fn default_baud_rate() -> u32 {
    9600
}

fn default_chute() -> String {
    "main".into()
}

fn default_idle_gap_ms() -> u64 {
    DEFAULT_IDLE_GAP_MS
}

/// The accepted range of `devices[].idle_gap_ms`: shorter would cut lines a slow or buffered
/// link delivers in pieces; longer would hold a read back for a minute.
const IDLE_GAP_RANGE_MS: std::ops::RangeInclusive<u64> = 10..=60_000;

impl Default for Config {
    fn default() -> Self {
        Self {
            feedlot_id: "feedlot-local".into(),
            gateway_id: "gateway-local".into(),
            data_dir: PathBuf::from(".data/edge"),
            kafka: KafkaConfig::default(),
            rfid: RfidConfig::default(),
            pairing: PairingConfig::default(),
            scale: ScaleConfig::default(),
            combined: CombinedConfig::default(),
            mqtt: crate::mqtt::MqttConfig::default(),
            outbox: crate::outbox::OutboxConfig::default(),
            http: crate::http::HttpConfig::default(),
            api: crate::api::ApiConfig::default(),
            feedlot: None,
            devices: vec![
                DeviceConfig::new("rfid-1", "/dev/ttyUSB0", DeviceRole::Rfid),
                DeviceConfig::new("scale-1", "/dev/ttyUSB1", DeviceRole::Scale),
            ],
        }
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topic: "feedlot.events.v1".into(),
            message_timeout_ms: 30_000,
            batch_size: 500,
            retry_backoff_initial_ms: 250,
            retry_backoff_max_ms: 10_000,
            status_interval_secs: 60,
            properties: BTreeMap::new(),
            security_protocol: String::new(),
            sasl_mechanism: String::new(),
            sasl_username: String::new(),
            sasl_password: String::new(),
            ssl_ca_location: String::new(),
        }
    }
}

impl Default for RfidConfig {
    fn default() -> Self {
        Self {
            dedup_window_ms: 5_000,
            shapes: Vec::new(),
            accept_test_tags: false,
        }
    }
}

impl Default for PairingConfig {
    fn default() -> Self {
        Self {
            tag_max_age_ms: 60_000,
            min_weight_kg: 20.0,
        }
    }
}

impl DeviceConfig {
    /// A device with the default baud rate, format, chute and idle gap.
    pub fn new(device_id: &str, path: impl Into<PathBuf>, role: DeviceRole) -> Self {
        Self {
            device_id: device_id.into(),
            path: path.into(),
            baud_rate: default_baud_rate(),
            role,
            format: None,
            chute: default_chute(),
            idle_gap_ms: default_idle_gap_ms(),
            poll: None,
        }
    }
}

impl Config {
    /// Parses TOML (missing fields take their defaults; unknown fields are an error). The
    /// error names the field at fault by its dotted path.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::parse(text)?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ConfigError::Parse {
                // The root's path prints as ".".
                field: (field != ".").then_some(field),
                error: e.into_inner(),
            }
        })
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Loads `path` (or the defaults), applies the process environment and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        config.validate()?;
        Ok(config)
    }

    /// Overrides fields from the variables in [`ENV_OVERRIDES`], looked up with `lookup`
    /// (a parameter so tests need not touch the process environment). Empty values are ignored.
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("EDGE_FEEDLOT_ID") {
            self.feedlot_id = v;
        }
        if let Some(v) = get("EDGE_GATEWAY_ID") {
            self.gateway_id = v;
        }
        if let Some(v) = get("EDGE_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("EDGE_KAFKA_BROKERS") {
            self.kafka.brokers = v;
        }
        if let Some(v) = get("EDGE_KAFKA_SASL_PASSWORD") {
            self.kafka.sasl_password = v;
        }
    }

    /// The outbox file inside `data_dir`.
    pub fn outbox_path(&self) -> PathBuf {
        self.data_dir.join("outbox.redb")
    }

    /// Checks every field the gateway depends on; the error names the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("feedlot_id", &self.feedlot_id),
            ("gateway_id", &self.gateway_id),
            ("kafka.brokers", &self.kafka.brokers),
            ("kafka.topic", &self.kafka.topic),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::invalid(field, "must not be empty"));
            }
        }
        self.http.validate()?;
        self.mqtt.validate()?;
        let k = &self.kafka;
        if k.message_timeout_ms == 0 || k.batch_size == 0 || k.retry_backoff_initial_ms == 0 {
            return Err(ConfigError::invalid(
                "kafka",
                "message_timeout_ms, batch_size and retry_backoff_initial_ms must be positive",
            ));
        }
        if let Err(e) = k.security().properties() {
            return Err(ConfigError::invalid(format!("kafka.{}", e.field), e.reason));
        }
        if k.retry_backoff_max_ms < k.retry_backoff_initial_ms {
            return Err(ConfigError::invalid(
                "kafka.retry_backoff_max_ms",
                "must be at least retry_backoff_initial_ms",
            ));
        }
        if !self.pairing.min_weight_kg.is_finite() || self.pairing.min_weight_kg < 0.0 {
            return Err(ConfigError::invalid(
                "pairing.min_weight_kg",
                "must be a non-negative number",
            ));
        }
        if let Some(profile) = &self.feedlot {
            profile.validate()?;
        }
        let tables = crate::readers::Tables::from_config(self)?;
        let mut seen = HashSet::new();
        for (i, device) in self.devices.iter().enumerate() {
            let field = |name: &str| format!("devices[{i}].{name}");
            if device.device_id.trim().is_empty() {
                return Err(ConfigError::invalid(
                    field("device_id"),
                    "must not be empty",
                ));
            }
            if !seen.insert(device.device_id.as_str()) {
                return Err(ConfigError::invalid(
                    field("device_id"),
                    format!("duplicate device id {:?}", device.device_id),
                ));
            }
            if device.baud_rate == 0 {
                return Err(ConfigError::invalid(field("baud_rate"), "must be positive"));
            }
            if !IDLE_GAP_RANGE_MS.contains(&device.idle_gap_ms) {
                return Err(ConfigError::invalid(
                    field("idle_gap_ms"),
                    format!(
                        "must be {} to {} (milliseconds)",
                        IDLE_GAP_RANGE_MS.start(),
                        IDLE_GAP_RANGE_MS.end()
                    ),
                ));
            }
            if let Some(poll) = &device.poll {
                poll.validate().map_err(|(name, reason)| {
                    ConfigError::invalid(field(&format!("poll.{name}")), reason)
                })?;
            }
            tables
                .parser(device.role, device.format.as_deref())
                .map_err(|e| ConfigError::invalid(field("format"), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::rfid::RfidParser;

    #[test]
    fn the_example_file_is_exactly_the_defaults() {
        let parsed = Config::from_toml(EXAMPLE_TOML).unwrap();
        assert_eq!(parsed, Config::default());
        parsed.validate().unwrap();
    }

    #[test]
    fn an_empty_file_gives_the_defaults_without_devices() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.devices, Vec::new(), "no phantom serial devices");
        assert_eq!(
            config,
            Config {
                devices: Vec::new(),
                ..Config::default()
            }
        );
        config.validate().unwrap();
    }

    #[test]
    fn an_unknown_field_is_an_error_that_names_it() {
        let err = Config::from_toml("[kafka]\nbroker = \"x:9092\"\n").unwrap_err();
        assert!(err.to_string().contains("`kafka.broker`"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_path() {
        let toml = "[[devices]]\ndevice_id = \"r\"\npath = \"/dev/ttyS0\"\nrole = \"rfid\"\n\
                    baud_rate = \"fast\"\n";
        let err = Config::from_toml(toml).unwrap_err().to_string();
        assert!(err.contains("`devices[0].baud_rate`"), "{err}");
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn environment_overrides_brokers_and_data_dir() {
        let mut config = Config::default();
        config.apply_env(|name| match name {
            "EDGE_KAFKA_BROKERS" => Some("k1:9092,k2:9092".into()),
            "EDGE_DATA_DIR" => Some("/var/lib/edge".into()),
            "EDGE_GATEWAY_ID" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(config.kafka.brokers, "k1:9092,k2:9092");
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/edge"));
        assert_eq!(config.gateway_id, "gateway-local");
    }

    #[test]
    fn devices_take_default_baud_rate_and_chute() {
        let config = Config::from_toml(
            "[[devices]]\ndevice_id = \"r\"\npath = \"/dev/ttyS0\"\nrole = \"rfid\"\n",
        )
        .unwrap();
        assert_eq!(config.devices.len(), 1);
        assert_eq!(config.devices[0].baud_rate, 9600);
        assert_eq!(config.devices[0].chute, "main");
        assert_eq!(config.devices[0].format, None);
        assert_eq!(config.devices[0].idle_gap_ms, 200);
    }

    #[test]
    fn a_device_idle_gap_is_read_from_the_file_and_an_unusable_one_is_named() {
        let toml = "[[devices]]\ndevice_id = \"r\"\npath = \"/dev/ttyS0\"\nrole = \"rfid\"\nidle_gap_ms = 350\n";
        let config = Config::from_toml(toml).unwrap();
        assert_eq!(config.devices[0].idle_gap_ms, 350);
        config.validate().unwrap();
        for bad in ["0", "5", "60001"] {
            let config = Config::from_toml(&toml.replace("350", bad)).unwrap();
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("devices[0].idle_gap_ms"), "{bad}: {err}");
        }
    }

    #[test]
    fn validation_names_a_duplicate_device_and_an_unknown_format() {
        let mut config = Config::default();
        config.devices[1].device_id = "rfid-1".into();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("devices[1].device_id"), "{err}");

        let mut config = Config::default();
        config.devices[1].format = Some("digi_star".into());
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("devices[1].format"), "{err}");
    }

    #[test]
    fn a_feedlot_profile_section_parses_and_a_bad_latitude_is_named() {
        let toml = "[feedlot]\nname = \"Sandhills Feeders\"\nregion = \"US-NE\"\ncountry = \"US\"\nlatitude = 42.87\nlongitude = -100.55\n";
        let config = Config::from_toml(toml).unwrap();
        let profile = config.feedlot.clone().unwrap();
        assert_eq!(
            (profile.region.as_str(), profile.capacity_head),
            ("US-NE", None)
        );
        config.validate().unwrap();
        let bad = Config::from_toml(&toml.replace("42.87", "142.0")).unwrap();
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("feedlot.latitude"), "{err}");
        assert!(Config::from_toml(&format!("{toml}regoin = \"x\"\n")).is_err());
    }

    #[test]
    fn test_tags_are_refused_by_default_and_rfid_safety_fields_are_read_from_the_file() {
        assert!(!Config::default().rfid.accept_test_tags);
        let toml = "[rfid]\naccept_test_tags = true\n\n[[rfid.shapes]]\nname = \"a_or_r\"\npattern = '^[AR] (?P<eid>\\d{15})$'\noverride_builtin_rejections = true\n";
        let config = Config::from_toml(toml).unwrap();
        assert!(config.rfid.accept_test_tags);
        assert!(config.rfid.shapes[0].override_builtin_rejections);
        config.validate().unwrap();
        let table = RfidParser::from_config(&config.rfid).unwrap();
        assert_eq!(
            table.parse("R 999000000000001").unwrap().as_str(),
            "999000000000001"
        );
        let strict = Config::from_toml(&toml.replace("true", "false")).unwrap();
        assert!(!strict.rfid.shapes[0].override_builtin_rejections);
        assert!(
            RfidParser::from_config(&strict.rfid)
                .unwrap()
                .parse("A 982000001088420")
                .is_ok()
        );
        assert!(
            RfidParser::from_config(&strict.rfid)
                .unwrap()
                .parse("A 999000000000001")
                .is_err()
        );
    }

    #[test]
    fn a_custom_rfid_shape_without_an_eid_group_is_rejected() {
        let mut config = Config::default();
        config.rfid.shapes.push(LineShapeConfig {
            name: "broken".into(),
            pattern: r"^\d{15}$".into(),
            reject: None,
            override_builtin_rejections: false,
        });
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("rfid.shapes[0]"), "{err}");
    }
}
