//! MQTT configuration.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Feed trucks and sensors over MQTT.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// Run the embedded broker for on-site devices.
    pub embedded: bool,
    /// Where the embedded broker listens (MQTT 3.1.1), e.g. `0.0.0.0:1883` on the yard network.
    pub listen: String,
    /// Device accounts for the embedded broker: user name → password.
    pub users: BTreeMap<String, String>,
    /// Let devices connect without a user name (off unless you really mean it).
    pub allow_anonymous: bool,
    /// Subscribe to an external broker instead of the embedded one: `host:port`.
    pub external_broker: Option<String>,
    /// User name for the external broker.
    pub external_user: Option<String>,
    /// Password for the external broker. Never printed.
    pub external_password: Option<String>,
    /// Largest payload accepted, bytes.
    pub max_payload_bytes: usize,
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("embedded", &self.embedded)
            .field("listen", &self.listen)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("allow_anonymous", &self.allow_anonymous)
            .field("external_broker", &self.external_broker)
            .field("external_user", &self.external_user)
            .field(
                "external_password",
                &self.external_password.as_ref().map(|_| "<redacted>"),
            )
            .field("max_payload_bytes", &self.max_payload_bytes)
            .finish()
    }
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            embedded: false,
            listen: "127.0.0.1:1883".into(),
            users: BTreeMap::new(),
            allow_anonymous: false,
            external_broker: None,
            external_user: None,
            external_password: None,
            max_payload_bytes: 64 * 1024,
        }
    }
}

impl MqttConfig {
    /// Whether anything MQTT runs at all.
    pub fn enabled(&self) -> bool {
        self.embedded || self.external_broker.is_some()
    }
}
