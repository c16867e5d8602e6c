//! No user can starve the others (issue 11 item 5), against a real ClickHouse and the real
//! router, served over loopback: `as_of` is bounded; a flood of cold reports from one user is
//! refused with 429 and `Retry-After` past their limit while another yard's user is served
//! from the cache; one yard's many moments evict only that yard's cached reports. Bounded:
//! a fixed number of requests, and no timing is asserted (speed is measured in the benchmarks).

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;

use dashboards::config::{WebConfig, WebUserConfig};
use dashboards::telemetry::Metrics;
use dashboards::web::auth::hash_token;
use dashboards::web::{AppState, Auth, app};
use tokio_util::sync::CancellationToken;

use crate::two_yards::{DAY1_MS, bearer, get, yards};

/// The token of `alice`, who reads yard-a.
const ALICE: &str = "alice-token-0123456789-starve";
/// The token of `bob`, who reads yard-b.
const BOB: &str = "bob-token-0123456789-starve";

/// `alice` (yard-a) and `bob` (yard-b), with small limits so that the test stays small: 2 cold
/// reports per user, 4 at once, a cache of 6 reports of which 3 per yard.
fn web() -> WebConfig {
    let user = |name: &str, token: &str, feedlot: &str| WebUserConfig {
        name: name.into(),
        token_sha256: hash_token(token),
        feedlots: vec![feedlot.into()],
    };
    WebConfig {
        users: vec![user("alice", ALICE, "yard-a"), user("bob", BOB, "yard-b")],
        cold_reports: 4,
        cold_reports_per_user: 2,
        report_cache_slots: 6,
        report_cache_slots_per_yard: 3,
        ..WebConfig::default()
    }
}

/// The dashboards' router over `client` with `web`'s users and limits, served on a loopback
/// port until the token is cancelled; its address and metrics.
async fn serve(
    client: &clickhouse::Client,
    web: &WebConfig,
) -> (SocketAddr, Metrics, CancellationToken) {
    let metrics = Metrics::new();
    let state = AppState::new(client.clone())
        .with_limits(web)
        .with_metrics(metrics.clone())
        .with_auth(Auth::from_config(web).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
    });
    (addr, metrics, stop)
}

/// The value of `dashboards_cold_work_total{what="report",outcome=…}`.
fn cold_reports(metrics: &Metrics, outcome: &str) -> u64 {
    let series = format!("dashboards_cold_work_total{{what=\"report\",outcome=\"{outcome}\"}} ");
    metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(&series).map(|v| v.parse().unwrap()))
        .unwrap_or(0)
}

/// An RFC 3339 time `minutes` after day 1 of the seeded weighings.
fn moment(minutes: u64) -> String {
    let ms = i64::try_from(DAY1_MS + minutes * 60_000).unwrap();
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Status, `Retry-After` and body of `GET url` with `token`.
async fn fetch(http: &reqwest::Client, url: String, token: &str) -> (u16, String, String) {
    let response = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, retry_after, response.text().await.unwrap())
}

#[tokio::test]
async fn an_as_of_out_of_bounds_is_refused_naming_it() {
    let (_db, client) = yards("starve_as_of").await;
    let site = app(AppState::new(client).with_auth(Auth::from_config(&web()).unwrap()));
    let auth = bearer(ALICE);
    let headers = [("authorization", auth.as_str())];
    let far = (chrono::Utc::now() + chrono::TimeDelta::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for as_of in ["1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", far.as_str()] {
        for path in ["/api/feedlots/yard-a/lots", "/feedlots/yard-a/pens"] {
            let reply = get(&site, &format!("{path}?as_of={as_of}"), &headers).await;
            assert_eq!(reply.status.as_u16(), 400, "{path} {as_of}: {}", reply.body);
            assert!(
                reply.body.starts_with("as_of:") && reply.body.contains("out of range"),
                "{path} {as_of}: {}",
                reply.body
            );
        }
    }
    let ok = get(
        &site,
        &format!("/api/feedlots/yard-a/lots?as_of={}", moment(60)),
        &headers,
    )
    .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_user_is_refused_past_their_limit_and_another_yard_stays_served_from_cache()
 {
    let (_db, client) = yards("starve_flood").await;
    let (addr, metrics, stop) = serve(&client, &web()).await;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    // Bob looks at yard B: a report of a past moment, the default view and the animals.
    let b_as_of = moment(30 * 24 * 60);
    let b_lots = format!("{base}/api/feedlots/yard-b/lots?as_of={b_as_of}");
    let b_urls = [
        b_lots.clone(),
        format!("{base}/api/feedlots/yard-b/pens?as_of={b_as_of}"),
        format!("{base}/feedlots/yard-b/feed?as_of={b_as_of}"),
        format!("{base}/api/feedlots/yard-b/lots"),
        format!("{base}/api/feedlots/yard-b/animals"),
    ];
    let mut b_before = Vec::new();
    for url in &b_urls {
        let (status, _, body) = fetch(&http, url.clone(), BOB).await;
        assert_eq!(status, 200, "{url}: {body}");
        b_before.push(body);
    }

    // Alice floods yard A with 40 moments at once, while Bob keeps using yard B.
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..40u64 {
        let url = format!("{base}/api/feedlots/yard-a/lots?as_of={}", moment(i));
        let http = http.clone();
        flood.spawn(async move { (ALICE, url.clone(), fetch(&http, url, ALICE).await) });
    }
    for i in 0..12usize {
        let url = b_urls[i % b_urls.len()].clone();
        let http = http.clone();
        flood.spawn(async move { (BOB, url.clone(), fetch(&http, url, BOB).await) });
    }
    let (mut alice, mut bob) = (Vec::new(), Vec::new());
    while let Some(answer) = flood.join_next().await {
        let (who, url, reply) = answer.unwrap();
        if who == ALICE {
            alice.push(reply);
        } else {
            bob.push((url, reply));
        }
    }

    let refused: Vec<_> = alice.iter().filter(|(s, _, _)| *s == 429).collect();
    assert!(
        !refused.is_empty(),
        "40 cold reports at once, 2 allowed per user: {:?}",
        alice.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    for (status, retry_after, body) in &alice {
        assert!(*status == 200 || *status == 429, "{status}: {body}");
        if *status == 429 {
            assert_eq!(retry_after, "1");
            assert!(body.contains("Try again"), "{body}");
        }
    }
    for (url, (status, _, body)) in &bob {
        assert_eq!(*status, 200, "bob's {url} during alice's flood: {body}");
    }
    assert_eq!(
        cold_reports(&metrics, "refused_user") as usize,
        refused.len(),
        "each refusal counted"
    );

    // Then Alice asks, one at a time (within her limit), for more moments of yard A than the
    // whole cache holds: each is made, and evicts only yard A's older moments.
    for i in 100..112u64 {
        let url = format!("{base}/api/feedlots/yard-a/lots?as_of={}", moment(i));
        let (status, _, body) = fetch(&http, url, ALICE).await;
        assert_eq!(status, 200, "{body}");
    }

    // Bob's past moment is still in the cache: asking again makes no report.
    let made = cold_reports(&metrics, "made");
    let (status, _, body) = fetch(&http, b_lots.clone(), BOB).await;
    assert_eq!(status, 200);
    assert_eq!(body, b_before[0], "the same report");
    assert_eq!(
        cold_reports(&metrics, "made"),
        made,
        "yard B's report was served from the cache, not made again"
    );
    stop.cancel();
}
