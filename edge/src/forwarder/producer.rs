//! The Kafka producer's client settings.

use rdkafka::ClientConfig;

use crate::config::KafkaConfig;

/// Properties the gateway's delivery guarantee depends on; always set last, so
/// `kafka.properties` cannot weaken them.
pub const GUARANTEES: [(&str, &str); 3] = [
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("compression.type", "lz4"),
];

/// The librdkafka configuration for the forwarder: tuned defaults, then the operator's
/// `kafka.properties`, then the transport security fields (TLS, SASL; validated by
/// `Config::validate`, which runs first), then the brokers, timeout and [`GUARANTEES`].
pub fn client_config(kafka: &KafkaConfig, gateway_id: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("client.id", format!("edge-{gateway_id}"))
        // Notice a broker that comes back quickly; the default backs off to 10 s.
        .set("reconnect.backoff.ms", "100")
        .set("reconnect.backoff.max.ms", "2000")
        .set("linger.ms", "5");
    for (key, value) in &kafka.properties {
        config.set(key, value);
    }
    for (key, value) in kafka.security().properties().unwrap_or_default() {
        config.set(key, value);
    }
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("message.timeout.ms", kafka.message_timeout_ms.to_string());
    for (key, value) in GUARANTEES {
        config.set(key, value);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_properties_cannot_weaken_the_delivery_guarantees() {
        let mut kafka = KafkaConfig::default();
        kafka.properties.insert("acks".into(), "1".into());
        kafka
            .properties
            .insert("enable.idempotence".into(), "false".into());
        kafka
            .properties
            .insert("security.protocol".into(), "ssl".into());
        let config = client_config(&kafka, "gw");
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("compression.type"), Some("lz4"));
        assert_eq!(config.get("security.protocol"), Some("ssl"));
        assert_eq!(config.get("message.timeout.ms"), Some("30000"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
    }

    #[test]
    fn the_transport_fields_reach_the_client_and_win_over_properties() {
        let mut kafka = KafkaConfig::default();
        kafka
            .properties
            .insert("security.protocol".into(), "plaintext".into());
        kafka.security_protocol = "sasl_plaintext".into();
        kafka.sasl_mechanism = "SCRAM-SHA-256".into();
        kafka.sasl_username = "gw-1".into();
        kafka.sasl_password = "secret".into();
        let config = client_config(&kafka, "gw-1");
        assert_eq!(config.get("security.protocol"), Some("sasl_plaintext"));
        assert_eq!(config.get("sasl.mechanisms"), Some("SCRAM-SHA-256"));
        assert_eq!(config.get("sasl.username"), Some("gw-1"));
        assert_eq!(config.get("sasl.password"), Some("secret"));
        assert!(!format!("{kafka:?}").contains("secret"));
        // librdkafka takes them (it refuses unknown or malformed properties at creation).
        let producer: Result<rdkafka::producer::FutureProducer, _> = config.create();
        if let Err(e) = producer {
            panic!("{e}");
        }
    }
}
