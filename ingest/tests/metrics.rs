//! `/metrics` on a running pipeline (real tansu and ClickHouse): what was stored, by kind; what
//! was dead-lettered, by reason class; the lag per assigned partition.

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
    let mut messages: Vec<(String, Vec<u8>)> = (1..=3)
        .map(|d| weighing("yard-m", "982000000000777", 300.0 + f64::from(d), d))
        .map(|e| (e.feedlot_id.clone(), schemas::encode(&e)))
        .collect();
    messages.push(("yard-m".into(), b"{not json".to_vec()));
    let mut newer = serde_json::to_value(weighing("yard-m", "982000000000777", 1.0, 9)).unwrap();
    newer["schema_version"] = serde_json::json!(u16::MAX);
    messages.push(("yard-m".into(), serde_json::to_vec(&newer).unwrap()));
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 3).await, 3);

    let listen = p.config.web.listen.clone();
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
    assert!(text.contains("ingest_insert_failures_total 0"));
    assert!(text.contains("ingest_insert_duration_seconds_count"));
    // Every message of the topic was consumed: each assigned partition shows lag 0.
    assert!(lags(&text).all(|l| l.ends_with(" 0")), "{text}");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_yard_looked_at_once_has_its_dashboards_remade_in_the_background() {
    let mut p = pipeline("metrics_warm").await;
    allow(&mut p.config, &["yard-w"]);
    let (shutdown, task) = start(&p.config);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let messages: Vec<(String, Vec<u8>)> = (1..=2)
        .map(|d| weighing("yard-w", "982000000000778", 300.0 + f64::from(d), d))
        .map(|e| (e.feedlot_id.clone(), schemas::encode(&e)))
        .collect();
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 2).await, 2);
    let listen = p.config.web.listen.clone();
    let (_, before) = scrape(&listen).await;
    assert!(
        !before.contains("ingest_dashboards_warmed_total{"),
        "nobody looked yet: {before}"
    );

    // One look at the lots, and nothing after it.
    let lots = authed()
        .get(format!("http://{listen}/api/feedlots/yard-w/lots"))
        .send()
        .await
        .unwrap();
    assert_eq!(lots.status().as_u16(), 200);
    // The next report window (30 s) is made for it, and its herd summary reloaded, unasked.
    let warmed = testkit::wait_until(Duration::from_secs(45), || async {
        let text = scrape(&listen).await.1;
        text.contains("ingest_dashboards_warmed_total{what=\"report\",outcome=\"made\"}")
            && text.contains("ingest_dashboards_warmed_total{what=\"herd\",outcome=\"made\"}")
    })
    .await;
    let (_, text) = scrape(&listen).await;
    assert!(warmed, "{text}");
    assert!(!text.contains("outcome=\"failed\""), "{text}");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
