//! MQTT configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// Client ids starting with this are the gateway's own (its subscriber is `edge-<gateway_id>`);
/// no device may take one, and no account may be named so.
pub const RESERVED_CLIENT_ID_PREFIX: &str = "edge-";

/// Bytes a device packet may have beyond `max_payload_bytes` (topic, header).
pub const PACKET_OVERHEAD_BYTES: usize = 1024;

/// Feed trucks and sensors over MQTT.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// Run the embedded broker for on-site devices.
    pub embedded: bool,
    /// Where the embedded broker listens (MQTT 3.1.1), e.g. `0.0.0.0:1883` on the yard network.
    pub listen: String,
    /// Device accounts for the embedded broker: user name → password. An account may publish
    /// only as its own trucks (see `trucks`) and read only their `ack` topics; its client id
    /// must be the account name, start with `<account>-`, or be `truck-<truck id>` of one of
    /// its trucks. Names starting with `edge` are reserved for the gateway. Example:
    /// `T7 = "a long random password"`.
    pub users: BTreeMap<String, String>,
    /// The truck ids each account publishes as, when they are not just the account's own name
    /// (the default: account `T7` is truck `T7`). Example: `truck-7 = ["T7", "T8"]`. A truck
    /// belongs to one account only.
    pub trucks: BTreeMap<String, Vec<String>>,
    /// Let devices connect without a user name (off unless you really mean it). An anonymous
    /// device may publish as any truck of this feedlot and read any truck's acks.
    pub allow_anonymous: bool,
    /// Subscribe to an external broker instead of the embedded one: `host:port`.
    pub external_broker: Option<String>,
    /// User name for the external broker.
    pub external_user: Option<String>,
    /// Password for the external broker. Never printed.
    pub external_password: Option<String>,
    /// Largest payload accepted, bytes. A device packet larger than this plus 1 KiB (topic
    /// and header) closes its connection before it is read in full.
    pub max_payload_bytes: usize,
    /// Device connections served at once; more wait in the kernel's accept queue. Each takes
    /// at most about twice `max_payload_bytes` of buffers. Example: `256`.
    pub max_connections: usize,
    /// The device listener's certificate chain (PEM, leaf first), e.g.
    /// `/etc/edge/tls/mqtt-cert.pem`. With `tls_key_path`, `listen` speaks MQTT over TLS only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_path: Option<PathBuf>,
    /// The private key of `tls_cert_path` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key_path: Option<PathBuf>,
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("embedded", &self.embedded)
            .field("listen", &self.listen)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("trucks", &self.trucks)
            .field("allow_anonymous", &self.allow_anonymous)
            .field("external_broker", &self.external_broker)
            .field("external_user", &self.external_user)
            .field(
                "external_password",
                &self.external_password.as_ref().map(|_| "<redacted>"),
            )
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("max_connections", &self.max_connections)
            .field("tls_cert_path", &self.tls_cert_path)
            .field("tls_key_path", &self.tls_key_path)
            .finish()
    }
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            embedded: false,
            listen: "127.0.0.1:1883".into(),
            users: BTreeMap::new(),
            trucks: BTreeMap::new(),
            allow_anonymous: false,
            external_broker: None,
            external_user: None,
            external_password: None,
            max_payload_bytes: 64 * 1024,
            max_connections: 256,
            tls_cert_path: None,
            tls_key_path: None,
        }
    }
}

impl MqttConfig {
    /// Whether anything MQTT runs at all.
    pub fn enabled(&self) -> bool {
        self.embedded || self.external_broker.is_some()
    }

    /// The largest MQTT packet a device may send (remaining length), bytes.
    pub fn max_packet_bytes(&self) -> usize {
        self.max_payload_bytes.saturating_add(PACKET_OVERHEAD_BYTES)
    }

    /// The truck ids `account` publishes as: its `trucks` entry, or its own name.
    pub fn trucks_of<'a>(&'a self, account: &'a str) -> Vec<&'a str> {
        match self.trucks.get(account) {
            Some(trucks) => trucks.iter().map(String::as_str).collect(),
            None => vec![account],
        }
    }

    /// Checks accounts, truck ids and limits; the error names the field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_payload_bytes == 0 {
            return Err(ConfigError::invalid(
                "mqtt.max_payload_bytes",
                "must be positive",
            ));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::invalid(
                "mqtt.max_connections",
                "must be positive",
            ));
        }
        match (&self.tls_cert_path, &self.tls_key_path) {
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    "mqtt.tls_key_path",
                    "must be set with mqtt.tls_cert_path (TLS needs both, or neither)",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    "mqtt.tls_cert_path",
                    "must be set with mqtt.tls_key_path (TLS needs both, or neither)",
                ));
            }
            _ => {}
        }
        for account in self.trucks.keys() {
            if !self.users.contains_key(account) {
                return Err(ConfigError::invalid(
                    format!("mqtt.trucks.{account}"),
                    "names no account in mqtt.users",
                ));
            }
        }
        let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
        for (account, password) in &self.users {
            let field = format!("mqtt.users.{account}");
            if account.is_empty()
                || account == "edge"
                || account.starts_with(RESERVED_CLIENT_ID_PREFIX)
            {
                return Err(ConfigError::invalid(
                    field,
                    format!(
                        "must not be empty, `edge` or start with `{RESERVED_CLIENT_ID_PREFIX}` (reserved for the gateway)"
                    ),
                ));
            }
            if password.is_empty() {
                return Err(ConfigError::invalid(
                    field,
                    "the password must not be empty",
                ));
            }
            let trucks_field = if self.trucks.contains_key(account) {
                format!("mqtt.trucks.{account}")
            } else {
                field.clone()
            };
            let trucks = self.trucks_of(account);
            if trucks.is_empty() {
                return Err(ConfigError::invalid(trucks_field, "lists no truck"));
            }
            for truck in trucks {
                if truck.is_empty() || truck.contains(['/', '+', '#']) {
                    return Err(ConfigError::invalid(
                        trucks_field,
                        format!("{truck:?} is not a truck id (empty, or holds `/`, `+` or `#`)"),
                    ));
                }
                if let Some(other) = owner.insert(truck, account) {
                    return Err(ConfigError::invalid(
                        trucks_field,
                        format!("truck {truck:?} already belongs to account {other:?}"),
                    ));
                }
            }
        }
        // No account's client ids may be another's, or the other could take over its session.
        for account in self.users.keys() {
            for other in self.users.keys() {
                if other == account {
                    continue;
                }
                if let Some(id) = self
                    .exact_client_ids(other)
                    .into_iter()
                    .find(|id| client_id_of(self, account, id))
                {
                    return Err(ConfigError::invalid(
                        format!("mqtt.users.{other}"),
                        format!("its client id {id:?} is also one of account {account:?}'s"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The client ids `account` may use besides `<account>-…`: its name and `truck-<id>`.
    pub fn exact_client_ids(&self, account: &str) -> Vec<String> {
        std::iter::once(account.to_owned())
            .chain(
                self.trucks_of(account)
                    .into_iter()
                    .map(|t| format!("truck-{t}")),
            )
            .collect()
    }
}

/// Whether `client_id` is one `account` may connect with: the account name, `<account>-…`,
/// or `truck-<id>` of one of its trucks.
pub fn client_id_of(config: &MqttConfig, account: &str, client_id: &str) -> bool {
    client_id == account
        || client_id
            .strip_prefix(account)
            .is_some_and(|rest| rest.starts_with('-'))
        || client_id
            .strip_prefix("truck-")
            .is_some_and(|truck| config.trucks_of(account).contains(&truck))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(config: &MqttConfig) -> String {
        match config.validate() {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_names_a_bad_account_truck_or_client_id_clash() {
        let mut config = MqttConfig::default();
        config.users.insert("T7".into(), "pw".into());
        config.validate().unwrap();

        let mut c = config.clone();
        c.users.insert("edge-gw".into(), "pw".into());
        assert_eq!(named(&c), "mqtt.users.edge-gw");

        let mut c = config.clone();
        c.trucks.insert("nobody".into(), vec!["T1".into()]);
        assert_eq!(named(&c), "mqtt.trucks.nobody");

        let mut c = config.clone();
        c.users.insert("truck-8".into(), "pw".into());
        c.trucks.insert("truck-8".into(), vec!["T7".into()]);
        assert_eq!(named(&c), "mqtt.trucks.truck-8");

        let mut c = config.clone();
        c.users.insert("truck-8".into(), "pw".into());
        c.trucks.insert("truck-8".into(), vec!["T/8".into()]);
        assert_eq!(named(&c), "mqtt.trucks.truck-8");

        // Account `truck` would own every `truck-…` client id, T7's `truck-T7` among them.
        let mut c = config.clone();
        c.users.insert("truck".into(), "pw".into());
        c.trucks.insert("truck".into(), vec!["T1".into()]);
        assert_eq!(named(&c), "mqtt.users.T7");

        let mut c = config.clone();
        c.max_payload_bytes = 0;
        assert_eq!(named(&c), "mqtt.max_payload_bytes");

        let mut c = config.clone();
        c.tls_cert_path = Some("cert.pem".into());
        assert_eq!(named(&c), "mqtt.tls_key_path");
    }
}
