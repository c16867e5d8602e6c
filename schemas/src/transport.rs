//! Kafka transport security settings shared by the gateway (`edge`) and the consumer
//! (`ingest`): TLS and SASL (SCRAM) for the Kafka clients, as librdkafka properties. Not a wire
//! type; it lives here because both sides validate and apply the same five fields.

/// The `security_protocol` values (librdkafka's `security.protocol`).
pub const PROTOCOLS: [&str; 4] = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
/// The `sasl_mechanism` values (librdkafka's `sasl.mechanisms`).
pub const MECHANISMS: [&str; 3] = ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"];

/// The five settings of a Kafka client's transport security, as a config section holds them.
/// Empty means unset. Its `Debug` shows whether a password is set, never the password.
#[derive(Clone, Copy)]
pub struct KafkaSecurity<'a> {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`; empty: librdkafka's default
    /// (plaintext) or whatever other client properties say.
    pub security_protocol: &'a str,
    /// `SCRAM-SHA-256`, `SCRAM-SHA-512` or `PLAIN`; needed with a `sasl_*` protocol.
    pub sasl_mechanism: &'a str,
    /// The SASL user; needed with a `sasl_*` protocol.
    pub sasl_username: &'a str,
    /// The SASL password; needed with a `sasl_*` protocol.
    pub sasl_password: &'a str,
    /// PEM file of the CA that signed the brokers' certificates (with `ssl` or `sasl_ssl`);
    /// empty: the system's CA store.
    pub ssl_ca_location: &'a str,
}

/// A transport setting that cannot work: the field (without its section) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct KafkaSecurityError {
    /// The field, e.g. `sasl_mechanism`.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

impl std::fmt::Debug for KafkaSecurity<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.sasl_password.is_empty() {
            ""
        } else {
            "<redacted>"
        };
        f.debug_struct("KafkaSecurity")
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &password)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .finish()
    }
}

impl KafkaSecurity<'_> {
    /// The librdkafka properties these settings mean, or the first field that cannot work (an
    /// unknown protocol or mechanism, SASL without its mechanism, user or password, SASL or TLS
    /// settings with a protocol that does not use them, a CA file that does not exist).
    pub fn properties(&self) -> Result<Vec<(&'static str, String)>, KafkaSecurityError> {
        let bad = |field, reason: String| Err(KafkaSecurityError { field, reason });
        let protocol = self.security_protocol.trim().to_ascii_lowercase();
        if !protocol.is_empty() && !PROTOCOLS.contains(&protocol.as_str()) {
            return bad(
                "security_protocol",
                format!(
                    "unknown protocol {:?} (one of {})",
                    self.security_protocol,
                    PROTOCOLS.join(", ")
                ),
            );
        }
        let sasl = protocol.starts_with("sasl_");
        let tls = protocol == "ssl" || protocol == "sasl_ssl";
        let mut properties = Vec::new();
        if !protocol.is_empty() {
            properties.push(("security.protocol", protocol.clone()));
        }
        let sasl_fields = [
            ("sasl_mechanism", self.sasl_mechanism),
            ("sasl_username", self.sasl_username),
            ("sasl_password", self.sasl_password),
        ];
        if sasl {
            for (field, value) in sasl_fields {
                if value.trim().is_empty() {
                    return bad(field, format!("needed with security_protocol {protocol}"));
                }
            }
            let mechanism = self.sasl_mechanism.trim().to_ascii_uppercase();
            if !MECHANISMS.contains(&mechanism.as_str()) {
                return bad(
                    "sasl_mechanism",
                    format!(
                        "unknown mechanism {:?} (one of {})",
                        self.sasl_mechanism,
                        MECHANISMS.join(", ")
                    ),
                );
            }
            properties.push(("sasl.mechanisms", mechanism));
            properties.push(("sasl.username", self.sasl_username.to_owned()));
            properties.push(("sasl.password", self.sasl_password.to_owned()));
        } else if let Some((field, _)) = sasl_fields.iter().find(|(_, v)| !v.trim().is_empty()) {
            return bad(
                field,
                "only used with security_protocol sasl_plaintext or sasl_ssl".into(),
            );
        }
        let ca = self.ssl_ca_location.trim();
        if !ca.is_empty() {
            if !tls {
                return bad(
                    "ssl_ca_location",
                    "only used with security_protocol ssl or sasl_ssl".into(),
                );
            }
            if !std::path::Path::new(ca).is_file() {
                return bad("ssl_ca_location", format!("no such file {ca:?}"));
            }
            properties.push(("ssl.ca.location", ca.to_owned()));
        }
        Ok(properties)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const NONE: KafkaSecurity<'static> = KafkaSecurity {
        security_protocol: "",
        sasl_mechanism: "",
        sasl_username: "",
        sasl_password: "",
        ssl_ca_location: "",
    };

    #[test]
    fn unset_means_no_properties_and_scram_over_tls_gives_all_of_them() {
        assert!(NONE.properties().unwrap().is_empty());
        let ca = tempfile_path();
        let scram = KafkaSecurity {
            security_protocol: "SASL_SSL",
            sasl_mechanism: "scram-sha-512",
            sasl_username: "gw-1",
            sasl_password: "secret",
            ssl_ca_location: &ca,
        };
        assert_eq!(
            scram.properties().unwrap(),
            [
                ("security.protocol", "sasl_ssl".to_owned()),
                ("sasl.mechanisms", "SCRAM-SHA-512".to_owned()),
                ("sasl.username", "gw-1".to_owned()),
                ("sasl.password", "secret".to_owned()),
                ("ssl.ca.location", ca.clone()),
            ]
        );
        let _ = std::fs::remove_file(ca);
    }

    fn tempfile_path() -> String {
        let path = std::env::temp_dir().join(format!("ca-{}.pem", uuid::Uuid::now_v7()));
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n").unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[test]
    fn each_bad_setting_is_named() {
        let field = |s: KafkaSecurity<'_>| s.properties().unwrap_err().field;
        let with = |p| KafkaSecurity {
            security_protocol: p,
            ..NONE
        };
        assert_eq!(field(with("tls")), "security_protocol");
        assert_eq!(field(with("sasl_ssl")), "sasl_mechanism");
        let sasl = KafkaSecurity {
            sasl_mechanism: "GSSAPI",
            sasl_username: "u",
            sasl_password: "p",
            ..with("sasl_plaintext")
        };
        assert_eq!(field(sasl), "sasl_mechanism");
        let no_password = KafkaSecurity {
            sasl_mechanism: "SCRAM-SHA-256",
            sasl_username: "u",
            ..with("sasl_plaintext")
        };
        assert_eq!(field(no_password), "sasl_password");
        let stray_user = KafkaSecurity {
            sasl_username: "u",
            ..with("ssl")
        };
        assert_eq!(field(stray_user), "sasl_username");
        let ca_without_tls = KafkaSecurity {
            ssl_ca_location: "/etc/ssl/ca.pem",
            ..with("plaintext")
        };
        assert_eq!(field(ca_without_tls), "ssl_ca_location");
        let missing_ca = KafkaSecurity {
            ssl_ca_location: "/nonexistent/ca.pem",
            ..with("ssl")
        };
        assert_eq!(field(missing_ca), "ssl_ca_location");
    }
}
