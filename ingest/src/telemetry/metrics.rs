//! The Prometheus registry and the metric handles the events update.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a per-partition gauge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// The topic.
    pub topic: String,
    /// The partition number.
    pub partition: i32,
}

/// Labels of a per-kind counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The event kind, e.g. `weighing`.
    pub kind: String,
}

/// Labels of a per-reason counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// The reason class, e.g. `undecodable`.
    pub reason: String,
}

/// The consumer's metrics. Cheap to clone (shared handles); one per `ingest` process.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub(crate) lag: Family<PartitionLabels, Gauge>,
    pub(crate) committed: Family<PartitionLabels, Gauge>,
    pub(crate) batch_messages: Histogram,
    pub(crate) insert_seconds: Histogram,
    pub(crate) stored: Family<KindLabels, Counter>,
    pub(crate) dead_letters: Family<ReasonLabels, Counter>,
    pub(crate) insert_failures: Counter,
    pub(crate) insert_retries: Counter,
    pub(crate) dead_letter_failures: Counter,
    pub(crate) commit_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ingest");
        let lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "consumer_lag_messages",
            "Messages behind the partition's high watermark (position of this consumer)",
            lag.clone(),
        );
        let committed = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "committed_offset",
            "Next offset committed after a stored batch",
            committed.clone(),
        );
        let batch_messages = Histogram::new(exponential_buckets(1.0, 4.0, 9));
        registry.register(
            "batch_messages",
            "Messages per consumed batch",
            batch_messages.clone(),
        );
        let insert_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "insert_duration_seconds",
            "Duration of a batch's successful ClickHouse insert",
            insert_seconds.clone(),
        );
        let stored = Family::<KindLabels, Counter>::default();
        registry.register(
            "events_stored",
            "Events in batches ClickHouse accepted, by kind (deliveries, before dedup)",
            stored.clone(),
        );
        let dead_letters = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "dead_letters",
            "Messages sent to the dead-letter topic, by reason class",
            dead_letters.clone(),
        );
        let insert_failures = Counter::default();
        registry.register(
            "insert_failures",
            "Failed ClickHouse insert attempts",
            insert_failures.clone(),
        );
        let insert_retries = Counter::default();
        registry.register(
            "insert_retries",
            "ClickHouse insert attempts after a failure",
            insert_retries.clone(),
        );
        let dead_letter_failures = Counter::default();
        registry.register(
            "dead_letter_failures",
            "Failed dead-letter sends (retried)",
            dead_letter_failures.clone(),
        );
        let commit_failures = Counter::default();
        registry.register(
            "offset_commit_failures",
            "Offset commits the broker refused (the batch may be delivered again)",
            commit_failures.clone(),
        );
        Self {
            registry: Arc::new(registry),
            lag,
            committed,
            batch_messages,
            insert_seconds,
            stored,
            dead_letters,
            insert_failures,
            insert_retries,
            dead_letter_failures,
            commit_failures,
        }
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use testkit::metrics::{listed_names, sample_names};

    /// The checked-in list the chart's dashboards and alerting rules are checked against
    /// (scripts/check-monitoring.sh): it must name exactly what the consumer exports.
    #[test]
    fn the_chart_list_of_exported_metrics_is_what_the_registry_exports() {
        let listed = listed_names(include_str!(
            "../../../helm/feedlot/files/prometheus/exported/ingest.txt"
        ));
        let metrics = Metrics::new();
        // A family shows in the exposition once it has a series: give each one.
        let partition = PartitionLabels {
            topic: "t".into(),
            partition: 0,
        };
        metrics.lag.get_or_create(&partition).set(0);
        metrics.committed.get_or_create(&partition).set(0);
        metrics
            .stored
            .get_or_create(&KindLabels { kind: "k".into() })
            .inc_by(0);
        metrics
            .dead_letters
            .get_or_create(&ReasonLabels { reason: "r".into() })
            .inc_by(0);
        let exported = sample_names(&metrics.encode());
        assert_eq!(
            listed,
            exported,
            "update helm/feedlot/files/prometheus/exported/ingest.txt to:\n{}",
            exported.join("\n")
        );
    }
}
