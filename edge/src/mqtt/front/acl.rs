//! Who a device connection is (bound at CONNECT), and which topics it may use.

use rumqttc::{Connect, ConnectReturnCode, Protocol};

use crate::mqtt::MqttConfig;
use crate::mqtt::config::{RESERVED_CLIENT_ID_PREFIX, client_id_of};

/// Why the front refused a device, or closed its connection. [`Refusal::reason`] is the
/// `reason` label of `edge_mqtt_refusals_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Unknown account, wrong password, or no user name while anonymous access is off.
    #[error("unknown account or wrong password")]
    BadCredentials,
    /// The client id is reserved for the gateway (`edge-…`).
    #[error("the client id is reserved for the gateway")]
    ReservedClientId,
    /// The client id is not one the account may use (it may be another account's).
    #[error("the client id is not one of the account's")]
    ClientIdNotBound,
    /// Not MQTT 3.1.1.
    #[error("only MQTT 3.1.1 is served")]
    ProtocolVersion,
    /// The CONNECT's will message is for a topic the account may not publish to.
    #[error("the will topic is not one of the account's")]
    ForbiddenWill,
    /// A PUBLISH to a topic the account may not publish to (the connection is closed: MQTT
    /// 3.1.1 has no negative PUBACK).
    #[error("publish to a topic that is not the account's")]
    ForbiddenPublish,
    /// A SUBSCRIBE filter the account may not use (answered with SUBACK failure 0x80).
    #[error("subscription to a topic that is not the account's")]
    ForbiddenSubscribe,
    /// A packet larger than the limit (the connection is closed before it is read).
    #[error("packet larger than the limit")]
    PacketTooLarge,
    /// Bytes that are not MQTT 3.1.1, or a packet out of place (a second CONNECT).
    #[error("malformed or unexpected packet")]
    Malformed,
    /// No CONNECT in time after the connection (or TLS handshake) opened.
    #[error("no CONNECT in time")]
    ConnectTimeout,
    /// The TLS handshake failed (e.g. a plaintext client on the TLS port).
    #[error("TLS handshake failed")]
    TlsHandshake,
}

impl Refusal {
    /// Short machine-readable reason, the metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::BadCredentials => "bad_credentials",
            Self::ReservedClientId => "reserved_client_id",
            Self::ClientIdNotBound => "client_id_not_bound",
            Self::ProtocolVersion => "protocol_version",
            Self::ForbiddenWill => "forbidden_will",
            Self::ForbiddenPublish => "forbidden_publish",
            Self::ForbiddenSubscribe => "forbidden_subscribe",
            Self::PacketTooLarge => "packet_too_large",
            Self::Malformed => "malformed",
            Self::ConnectTimeout => "connect_timeout",
            Self::TlsHandshake => "tls_handshake",
        }
    }

    /// The CONNACK code a refusal at CONNECT is answered with.
    pub fn connack_code(self) -> ConnectReturnCode {
        match self {
            Self::BadCredentials => ConnectReturnCode::BadUserNamePassword,
            Self::ReservedClientId | Self::ClientIdNotBound => ConnectReturnCode::BadClientId,
            Self::ProtocolVersion => ConnectReturnCode::RefusedProtocolVersion,
            _ => ConnectReturnCode::NotAuthorized,
        }
    }
}

/// The device accounts, checked at each CONNECT.
#[derive(Debug, Clone)]
pub struct Accounts {
    feedlot_id: String,
    config: MqttConfig,
}

/// A connection bound to its account: what it may publish and read.
#[derive(Debug, Clone)]
pub struct Device {
    /// The account (`None`: anonymous, when allowed).
    pub account: Option<String>,
    /// The trucks it publishes as (`None`: any, for anonymous devices).
    trucks: Option<Vec<String>>,
    feedlot_id: String,
}

impl Accounts {
    /// The accounts of `config` (already validated), for the topics of `feedlot_id`.
    pub fn new(feedlot_id: &str, config: &MqttConfig) -> Self {
        Self {
            feedlot_id: feedlot_id.to_owned(),
            config: config.clone(),
        }
    }

    /// Whether `user` is a configured account (else it is counted as `unknown`, so a
    /// stranger cannot grow the metric's labels).
    pub fn has_account(&self, user: &str) -> bool {
        self.config.users.contains_key(user)
    }

    /// Binds a CONNECT to its account, or says why it is refused.
    pub fn bind(&self, connect: &Connect) -> Result<Device, Refusal> {
        if connect.protocol != Protocol::V4 {
            return Err(Refusal::ProtocolVersion);
        }
        let client_id = connect.client_id.as_str();
        if client_id.starts_with(RESERVED_CLIENT_ID_PREFIX) || client_id == "edge" {
            return Err(Refusal::ReservedClientId);
        }
        let device = match &connect.login {
            Some(login) => {
                let password = self
                    .config
                    .users
                    .get(&login.username)
                    .ok_or(Refusal::BadCredentials)?;
                if !same_secret(password.as_bytes(), login.password.as_bytes()) {
                    return Err(Refusal::BadCredentials);
                }
                if !client_id_of(&self.config, &login.username, client_id) {
                    return Err(Refusal::ClientIdNotBound);
                }
                Device {
                    account: Some(login.username.clone()),
                    trucks: Some(
                        self.config
                            .trucks_of(&login.username)
                            .into_iter()
                            .map(str::to_owned)
                            .collect(),
                    ),
                    feedlot_id: self.feedlot_id.clone(),
                }
            }
            None if self.config.allow_anonymous => {
                if self
                    .config
                    .users
                    .keys()
                    .any(|account| client_id_of(&self.config, account, client_id))
                {
                    return Err(Refusal::ClientIdNotBound);
                }
                Device {
                    account: None,
                    trucks: None,
                    feedlot_id: self.feedlot_id.clone(),
                }
            }
            None => return Err(Refusal::BadCredentials),
        };
        if let Some(will) = &connect.last_will
            && !device.may_publish(&will.topic)
        {
            return Err(Refusal::ForbiddenWill);
        }
        Ok(device)
    }
}

impl Device {
    /// The account, or `anonymous`: the metric label.
    pub fn label(&self) -> &str {
        self.account.as_deref().unwrap_or("anonymous")
    }

    /// Whether it may publish to `topic`: `feedlot/<feedlot>/truck/<own truck>/load|delivery`.
    pub fn may_publish(&self, topic: &str) -> bool {
        self.own_truck_topic(topic, &["load", "delivery"])
    }

    /// Whether it may subscribe to `filter`: exactly `feedlot/<feedlot>/truck/<own truck>/ack`
    /// (no wildcards).
    pub fn may_subscribe(&self, filter: &str) -> bool {
        self.own_truck_topic(filter, &["ack"])
    }

    fn own_truck_topic(&self, topic: &str, leaves: &[&str]) -> bool {
        let parts: Vec<&str> = topic.split('/').collect();
        let [feedlot, feedlot_id, truck, truck_id, leaf] = parts.as_slice() else {
            return false;
        };
        let wildcard = |s: &str| s.is_empty() || s.contains(['+', '#']);
        *feedlot == "feedlot"
            && *feedlot_id == self.feedlot_id
            && *truck == "truck"
            && leaves.contains(leaf)
            && !wildcard(truck_id)
            && match &self.trucks {
                Some(trucks) => trucks.iter().any(|t| t == truck_id),
                None => true,
            }
    }
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::{LastWill, QoS};

    fn accounts() -> Accounts {
        let mut config = MqttConfig::default();
        config.users.insert("truck-7".into(), "pw7".into());
        config.users.insert("T9".into(), "pw9".into());
        config
            .trucks
            .insert("truck-7".into(), vec!["T7".into(), "T8".into()]);
        config.validate().unwrap();
        Accounts::new("yard", &config)
    }

    fn connect(id: &str, login: Option<(&str, &str)>) -> Connect {
        let mut connect = Connect::new(id);
        if let Some((user, password)) = login {
            connect.set_login(user, password);
        }
        connect
    }

    #[test]
    fn a_connect_is_bound_to_its_account_by_password_and_client_id() {
        let a = accounts();
        let d = a
            .bind(&connect("truck-7", Some(("truck-7", "pw7"))))
            .unwrap();
        assert_eq!(d.label(), "truck-7");
        assert!(
            a.bind(&connect("truck-7-cab", Some(("truck-7", "pw7"))))
                .is_ok()
        );
        assert!(
            a.bind(&connect("truck-T8", Some(("truck-7", "pw7"))))
                .is_ok()
        );
        assert!(a.bind(&connect("truck-T9", Some(("T9", "pw9")))).is_ok());
        let refused = |id, login| a.bind(&connect(id, login)).err();
        assert_eq!(
            refused("truck-7", Some(("truck-7", "pw"))),
            Some(Refusal::BadCredentials)
        );
        assert_eq!(refused("x", None), Some(Refusal::BadCredentials));
        assert_eq!(
            refused("edge-gw", Some(("truck-7", "pw7"))),
            Some(Refusal::ReservedClientId)
        );
        assert_eq!(
            refused("T9", Some(("truck-7", "pw7"))),
            Some(Refusal::ClientIdNotBound)
        );
        assert_eq!(
            refused("truck-T9", Some(("truck-7", "pw7"))),
            Some(Refusal::ClientIdNotBound)
        );
    }

    #[test]
    fn a_will_for_another_trucks_topic_is_refused() {
        let a = accounts();
        let mut c = connect("T9", Some(("T9", "pw9")));
        c.last_will = Some(LastWill::new(
            "feedlot/yard/truck/T7/delivery",
            "x",
            QoS::AtLeastOnce,
            false,
        ));
        assert_eq!(a.bind(&c).err(), Some(Refusal::ForbiddenWill));
    }

    #[test]
    fn a_device_publishes_and_reads_only_its_own_trucks_topics() {
        let d = accounts()
            .bind(&connect("truck-7", Some(("truck-7", "pw7"))))
            .unwrap();
        assert!(d.may_publish("feedlot/yard/truck/T7/delivery"));
        assert!(d.may_publish("feedlot/yard/truck/T8/load"));
        assert!(!d.may_publish("feedlot/yard/truck/T9/delivery"));
        assert!(!d.may_publish("feedlot/other/truck/T7/delivery"));
        assert!(!d.may_publish("feedlot/yard/truck/T7/ack"));
        assert!(!d.may_publish("feedlot/yard/truck/T7/delivery/x"));
        assert!(d.may_subscribe("feedlot/yard/truck/T7/ack"));
        assert!(!d.may_subscribe("feedlot/yard/truck/T9/ack"));
        assert!(!d.may_subscribe("feedlot/yard/truck/+/ack"));
        assert!(!d.may_subscribe("feedlot/#"));
        assert!(!d.may_subscribe("feedlot/yard/truck/T7/delivery"));
    }
}
