//! How the Kafka client's own logs reach `tracing`.
//!
//! librdkafka reports every failed connection attempt, which while the uplink is down means an
//! error line every second or two. The forwarder already warns once per failed round with the
//! delivery error, so connection noise goes to `debug` here; anything else librdkafka calls an
//! error stays a warning.

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

/// Log facilities of broker connection failures (broker down, refused, timed out).
const CONNECTION_FACILITIES: [&str; 3] = ["FAIL", "ERROR", "BROKERFAIL"];

/// The forwarder's librdkafka client context.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwarderContext;

impl ClientContext for ForwarderContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        use RDKafkaLogLevel::{Alert, Critical, Emerg, Error, Warning};
        match level {
            Emerg | Alert | Critical => {
                tracing::error!(target: "edge::kafka", fac, "{log_message}")
            }
            Error | Warning if !CONNECTION_FACILITIES.contains(&fac) => {
                tracing::warn!(target: "edge::kafka", fac, "{log_message}");
            }
            _ => tracing::debug!(target: "edge::kafka", fac, "{log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(target: "edge::kafka", %error, reason, "Kafka client error");
    }
}
