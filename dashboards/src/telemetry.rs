//! The dashboards' telemetry: typed events that write the log line and bump the Prometheus
//! metric together, served as text at the web's `GET /metrics`. The consumer's metrics (lag,
//! batches, inserts, dead letters) are `ingest`'s, on its own ops listener.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `dashboards_http_requests_total` | counter | `route` (the matched route pattern, or `unmatched`), `status`: requests answered |
//! | `dashboards_http_request_duration_seconds` | histogram | time to answer a request, any route |
//! | `dashboards_facts_recomputed_total` | counter | `outcome` (`made`, `failed`): yards whose daily facts the facts worker recomputed |
//! | `dashboards_facts_recompute_duration_seconds` | histogram | time to recompute one yard's facts (load, replay, write) |
//! | `dashboards_facts_lag_seconds` | gauge | how long the oldest change not yet in the facts has waited (0 when none) |
//! | `dashboards_alerts_raised_total` | counter | `rule`: alerts the alerts worker raised (stored new) |
//! | `dashboards_alert_deliveries_total` | counter | `channel` (`webhook`, `email`), `outcome` (`sent`; `retried`: the try failed and will be retried; `failed`: given up): delivery tries this worker made |
//! | `dashboards_alerts_last_round_timestamp_seconds` | gauge | when the alerts worker last completed a round, unix seconds (0 before the first) |
//! | `dashboards_alerts_round_duration_seconds` | histogram | time of one completed alerts round (every yard's rules, then the deliveries due) |
//! | `dashboards_cold_work_total` | counter | `what` (`report`, `herd`), `outcome` (`made`, `failed`, `refused_user`: the user's limit, 429; `refused_busy`: no capacity within the wait, 503): dashboards made in a request because they were not in the cache, and those refused (see `web.cold_reports`) |

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the cold work counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ColdLabels {
    /// `report` (lots, pens, feed) or `herd` (the animals summary).
    pub what: String,
    /// `made`, `failed`, `refused_user` or `refused_busy`.
    pub outcome: String,
}

/// Labels of the facts worker's counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FactsLabels {
    /// `made` or `failed`.
    pub outcome: String,
}

/// Labels of the alerts raised counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertRuleLabels {
    /// The rule, e.g. `pulled_twice`.
    pub rule: String,
}

/// Labels of the alert deliveries counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertDeliveryLabels {
    /// `webhook` or `email`.
    pub channel: String,
    /// `sent`, `retried` or `failed`.
    pub outcome: String,
}

/// Labels of the request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern, e.g. `/api/feedlots/{feedlot_id}/lots` (never the yard or animal
    /// itself, so the series stay few), or `unmatched`.
    pub route: String,
    /// The HTTP status code, e.g. `200`.
    pub status: u16,
}

/// The dashboards' metrics. Cheap to clone (shared handles); one per `dashboards` process.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histogram,
    cold: Family<ColdLabels, Counter>,
    facts_recomputed: Family<FactsLabels, Counter>,
    facts_seconds: Histogram,
    facts_lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    alerts_raised: Family<AlertRuleLabels, Counter>,
    alert_deliveries: Family<AlertDeliveryLabels, Counter>,
    alerts_last_round_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    alerts_round_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dashboards");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route pattern and status",
            requests.clone(),
        );
        let request_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            request_seconds.clone(),
        );
        let cold = Family::<ColdLabels, Counter>::default();
        registry.register(
            "cold_work",
            "Dashboards made in a request because they were not cached, and those refused",
            cold.clone(),
        );
        let facts_recomputed = Family::<FactsLabels, Counter>::default();
        registry.register(
            "facts_recomputed",
            "Yards whose daily facts were recomputed, by outcome",
            facts_recomputed.clone(),
        );
        let facts_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "facts_recompute_duration_seconds",
            "Time to recompute one yard's facts",
            facts_seconds.clone(),
        );
        let facts_lag_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "facts_lag_seconds",
            "How long the oldest change not yet in the facts has waited",
            facts_lag_seconds.clone(),
        );
        let alerts_raised = Family::<AlertRuleLabels, Counter>::default();
        registry.register(
            "alerts_raised",
            "Alerts the alerts worker raised, by rule",
            alerts_raised.clone(),
        );
        let alert_deliveries = Family::<AlertDeliveryLabels, Counter>::default();
        registry.register(
            "alert_deliveries",
            "Alert delivery tries, by channel and outcome (sent, retried, failed)",
            alert_deliveries.clone(),
        );
        let alerts_last_round_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "alerts_last_round_timestamp_seconds",
            "When the alerts worker last completed a round, unix seconds",
            alerts_last_round_seconds.clone(),
        );
        let alerts_round_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "alerts_round_duration_seconds",
            "Time of one completed alerts round",
            alerts_round_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            alerts_raised,
            alert_deliveries,
            alerts_last_round_seconds,
            alerts_round_seconds,
            requests,
            request_seconds,
            cold,
            facts_recomputed,
            facts_seconds,
            facts_lag_seconds,
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

/// The web answered a request.
#[derive(Debug)]
pub struct RequestServed<'a> {
    /// The matched route pattern, or `unmatched`.
    pub route: &'a str,
    /// The status sent.
    pub status: u16,
    /// How long answering took.
    pub took: Duration,
}

impl RequestServed<'_> {
    /// Logs it (at debug; a server error at warn) and counts it.
    pub fn emit(&self, metrics: &Metrics) {
        let took_ms = self.took.as_millis() as u64;
        if self.status >= 500 {
            tracing::warn!(
                route = self.route,
                status = self.status,
                took_ms,
                "request failed"
            );
        } else {
            tracing::debug!(route = self.route, status = self.status, took_ms, "request");
        }
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: self.route.to_owned(),
                status: self.status,
            })
            .inc();
        metrics.request_seconds.observe(self.took.as_secs_f64());
    }
}

/// What became of a request's cold work (a dashboard not in the cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdOutcome {
    /// Made (and cached).
    Made,
    /// Tried and failed (ClickHouse).
    Failed,
    /// Refused: the user already had as many cold reports running as one may (429).
    RefusedUser,
    /// Refused: no capacity came free within the bounded wait (503).
    RefusedBusy,
}

impl ColdOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Made => "made",
            Self::Failed => "failed",
            Self::RefusedUser => "refused_user",
            Self::RefusedBusy => "refused_busy",
        }
    }
}

/// A request needed a dashboard that was not in the cache.
#[derive(Debug)]
pub struct ColdWork<'a> {
    /// `report` or `herd`.
    pub what: &'static str,
    /// The yard.
    pub feedlot_id: &'a str,
    /// The user who asked.
    pub user: &'a str,
    /// What became of it.
    pub outcome: ColdOutcome,
    /// How long it took (the wait included).
    pub took: Duration,
}

impl ColdWork<'_> {
    /// Logs it (refusals and failures at warn) and counts it by what and outcome.
    pub fn emit(&self, metrics: &Metrics) {
        let took_ms = self.took.as_millis() as u64;
        let outcome = self.outcome.label();
        match self.outcome {
            ColdOutcome::Made => tracing::debug!(
                what = self.what,
                feedlot = self.feedlot_id,
                user = self.user,
                took_ms,
                "cold dashboard made"
            ),
            _ => tracing::warn!(
                what = self.what,
                feedlot = self.feedlot_id,
                user = self.user,
                took_ms,
                outcome,
                "cold dashboard not made"
            ),
        }
        metrics
            .cold
            .get_or_create(&ColdLabels {
                what: self.what.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// The facts worker recomputed (or failed to recompute) one yard's facts.
#[derive(Debug)]
pub struct FactsRecomputed<'a> {
    /// The yard.
    pub feedlot_id: &'a str,
    /// The first day rewritten (days since the epoch).
    pub from_day: u16,
    /// Rows written.
    pub rows: usize,
    /// How long it took.
    pub took: Duration,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl FactsRecomputed<'_> {
    /// Logs it and counts it.
    pub fn emit(&self, metrics: &Metrics) {
        let took_ms = self.took.as_millis() as u64;
        let outcome = match &self.error {
            None => {
                tracing::debug!(
                    feedlot = self.feedlot_id,
                    from_day = self.from_day,
                    rows = self.rows,
                    took_ms,
                    "facts recomputed"
                );
                "made"
            }
            Some(error) => {
                tracing::warn!(feedlot = self.feedlot_id, took_ms, %error, "recomputing facts failed");
                "failed"
            }
        };
        metrics
            .facts_recomputed
            .get_or_create(&FactsLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
        metrics.facts_seconds.observe(self.took.as_secs_f64());
    }
}

/// How long the oldest change not yet in the facts has waited, seconds (0 when none).
pub fn facts_lag(metrics: &Metrics, seconds: f64) {
    metrics.facts_lag_seconds.set(seconds);
}

/// The alerts worker raised an alert of `rule`.
pub fn alert_raised(metrics: &Metrics, rule: &str) {
    metrics
        .alerts_raised
        .get_or_create(&AlertRuleLabels {
            rule: rule.to_owned(),
        })
        .inc();
}

/// A delivery try on `channel` ended in `outcome` (`sent`, `retried` or `failed`).
pub fn alert_delivery(metrics: &Metrics, channel: &str, outcome: &str) {
    metrics
        .alert_deliveries
        .get_or_create(&AlertDeliveryLabels {
            channel: channel.to_owned(),
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// The alerts worker completed a round at `at_ms` (ms since the epoch UTC) that took `took`.
pub fn alerts_round(metrics: &Metrics, at_ms: u64, took: Duration) {
    metrics.alerts_last_round_seconds.set(at_ms as f64 / 1000.0);
    metrics.alerts_round_seconds.observe(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_appear_in_the_text_format_under_the_dashboards_prefix() {
        let metrics = Metrics::new();
        RequestServed {
            route: "/api/feedlots/{feedlot_id}/lots",
            status: 200,
            took: Duration::from_millis(3),
        }
        .emit(&metrics);
        let text = metrics.encode();
        assert!(
            text.contains(
                "dashboards_http_requests_total{route=\"/api/feedlots/{feedlot_id}/lots\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("dashboards_http_request_duration_seconds_count 1"));
        assert!(!text.contains("ingest_"), "{text}");
    }

    /// The checked-in list the chart's dashboards and alerting rules are checked against
    /// (scripts/check-monitoring.sh): it must name exactly what the dashboards export.
    #[test]
    fn the_chart_list_of_exported_metrics_is_what_the_registry_exports() {
        use testkit::metrics::{listed_names, sample_names};

        let listed = listed_names(include_str!(
            "../../helm/feedlot/files/prometheus/exported/dashboards.txt"
        ));
        let metrics = Metrics::new();
        // A family shows in the exposition once it has a series: give each one.
        RequestServed {
            route: "/",
            status: 200,
            took: Duration::ZERO,
        }
        .emit(&metrics);
        ColdWork {
            what: "report",
            feedlot_id: "y",
            user: "u",
            outcome: ColdOutcome::RefusedUser,
            took: Duration::ZERO,
        }
        .emit(&metrics);
        FactsRecomputed {
            feedlot_id: "y",
            from_day: 0,
            rows: 0,
            took: Duration::ZERO,
            error: None,
        }
        .emit(&metrics);
        alert_raised(&metrics, "off_feed");
        alert_delivery(&metrics, "webhook", "sent");
        alerts_round(&metrics, 1_000, Duration::ZERO);
        let exported = sample_names(&metrics.encode());
        assert_eq!(
            listed,
            exported,
            "update helm/feedlot/files/prometheus/exported/dashboards.txt to:\n{}",
            exported.join("\n")
        );
    }
}
