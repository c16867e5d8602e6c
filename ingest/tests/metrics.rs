//! The consumer's `/metrics` on its ops listener (real tansu and ClickHouse): what was stored,
//! by kind; what was dead-lettered, by reason class; the lag per assigned partition.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

mod support;

use support::*;

async fn scrape(listen: &str) -> (String, String) {
    let response = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (content_type, response.text().await.unwrap())
}

fn lags(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| l.starts_with("ingest_consumer_lag_messages{"))
}

#[tokio::test]
async fn metrics_count_stored_events_by_kind_dead_letters_by_reason_and_show_the_lag() {
    let p = pipeline("metrics_scrape").await;
    let (shutdown, task) = start(&p.config);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let weighings: Vec<_> = (1..=3)
        .map(|d| weighing("yard-m", "982000000000777", 300.0 + f64::from(d), d))
        .collect();
    let mut messages = signed(&p.config, &weighings).await;
    messages.push(("yard-m".into(), b"{not json".to_vec()));
    // Unsigned: refused before storing, counted as unauthenticated.
    let unsigned = weighing("yard-m", "982000000000778", 2.0, 10);
    messages.push(("yard-m".into(), schemas::encode(&unsigned)));
    let mut newer = serde_json::to_value(weighing("yard-m", "982000000000777", 1.0, 9)).unwrap();
    newer["schema_version"] = serde_json::json!(u16::MAX);
    messages.push(("yard-m".into(), serde_json::to_vec(&newer).unwrap()));
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 3).await, 3);

    let listen = p.config.ops.listen.clone();
    let ready = testkit::wait_until(Duration::from_secs(30), || async {
        let text = scrape(&listen).await.1;
        text.contains("ingest_dead_letters_total{reason=\"unsupported_version\"} 1")
            && lags(&text).count() > 0
            && lags(&text).all(|l| l.ends_with(" 0"))
    })
    .await;
    let (content_type, text) = scrape(&listen).await;
    assert!(ready, "{text}");
    assert!(content_type.starts_with("application/openmetrics-text"));
    assert!(
        text.contains("ingest_events_stored_total{kind=\"weighing\"} 3"),
        "{text}"
    );
    assert!(text.contains("ingest_dead_letters_total{reason=\"undecodable\"} 1"));
    assert!(
        text.contains("ingest_dead_letters_total{reason=\"unauthenticated\"} 1"),
        "{text}"
    );
    assert!(text.contains("ingest_insert_failures_total 0"));
    assert!(text.contains("ingest_insert_duration_seconds_count"));
    // Every message of the topic was consumed: each assigned partition shows lag 0.
    assert!(lags(&text).all(|l| l.ends_with(" 0")), "{text}");
    // The pages' metrics are the dashboards' own, on their own listener.
    assert!(!text.contains("dashboards_"), "{text}");
    let health = reqwest::get(format!("http://{listen}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
