//! The dashboards' `/metrics` on their own listener, with both roles running over real tansu
//! and ClickHouse: the facts worker's work, the requests and their cold work, and none of the
//! consumer's metrics (those are `ingest`'s, on its ops listener).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use crate::support::*;

/// The content type and text of `/metrics` on `listen`.
pub async fn scrape(listen: &str) -> (String, String) {
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

#[tokio::test]
async fn new_records_are_folded_into_the_facts_and_requests_and_their_cold_work_are_counted() {
    let mut p = pipeline("metrics_warm").await;
    allow(&mut p.config, &["yard-w"]);
    let (shutdown, task) = start(&p);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events: Vec<_> = (1..=2)
        .map(|d| weighing("yard-w", "982000000000778", 300.0 + f64::from(d), d))
        .collect();
    let messages = signed(&p, &events).await;
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 2).await, 2);
    let listen = p.config.web.listen.clone();
    let ops = p.config.web.ops_listen.clone();
    let (content_type, before) = scrape(&ops).await;
    assert!(content_type.starts_with("application/openmetrics-text"));
    assert!(
        !before.contains("ingest_"),
        "the consumer's metrics are not here: {before}"
    );
    assert!(
        !before.contains("dashboards_cold_work_total{"),
        "nobody looked yet: {before}"
    );
    // The facts worker took the yard's records in, unasked, and its lag is back to 0.
    let folded = testkit::wait_until(Duration::from_secs(30), || async {
        let text = scrape(&ops).await.1;
        text.contains("dashboards_facts_recomputed_total{outcome=\"made\"}")
            && text.contains("dashboards_facts_lag_seconds 0")
    })
    .await;
    assert!(folded, "{}", scrape(&ops).await.1);

    // One look at the lots and one at the animals (read from the facts: no warmer keeps them).
    for path in ["lots", "animals"] {
        let answer = authed()
            .get(format!("http://{listen}/api/feedlots/yard-w/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{path}");
    }
    let (_, text) = scrape(&ops).await;
    assert!(
        text.contains("dashboards_cold_work_total{what=\"herd\",outcome=\"made\"} 1"),
        "{text}"
    );
    assert!(!text.contains("outcome=\"failed\""), "{text}");
    assert!(
        !text.contains("dashboards_warmed_total"),
        "no warmer: {text}"
    );
    for route in ["lots", "animals"] {
        let line = format!(
            "dashboards_http_requests_total{{route=\"/api/feedlots/{{feedlot_id}}/{route}\",status=\"200\"}} 1"
        );
        assert!(text.contains(&line), "{line} in {text}");
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
