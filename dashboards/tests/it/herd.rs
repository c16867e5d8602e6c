//! The yard's animal table: ADG, rank and percentile computed from stored weighings (each event
//! once), sortable, exported as CSV and JSON, scoped to the yard.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::support;

use support::*;

/// `GET url` as the test user, who reads the test's yard.
async fn fetch(url: String) -> reqwest::Result<reqwest::Response> {
    authed().get(url).send().await
}

#[tokio::test]
async fn the_herd_table_ranks_animals_by_adg_and_exports_the_same_numbers() {
    let mut p = pipeline("herd_table").await;
    allow(&mut p.config, &["yard-h"]);
    let (shutdown, task) = start(&p);
    // a: 300 -> 330 kg in 20 days (1.5/day); b: 300 -> 340 (2.0); d: 300 -> 320 (1.0);
    // c weighed once (no ADG); another yard's animal must not appear.
    let (a, b, c, d) = (
        "982000000000001",
        "982000000000002",
        "982000000000003",
        "982000000000004",
    );
    let events = [
        weighing("yard-h", a, 300.0, 1),
        weighing("yard-h", a, 330.0, 21),
        weighing("yard-h", b, 300.0, 1),
        weighing("yard-h", b, 340.0, 21),
        weighing("yard-h", c, 310.0, 5),
        weighing("yard-h", d, 300.0, 1),
        weighing("yard-h", d, 320.0, 21),
        weighing("yard-x", "982000000000009", 500.0, 1),
    ];
    let mut messages = signed(&p, &events).await;
    messages.push(messages[1].clone()); // a redelivered weighing must not change a's numbers
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 8).await, 8);
    // The table is read from the animals' facts, made by the facts worker of `serve`.
    wait_for_facts(&p.db, "yard-h").await;

    let base = format!("http://{}", p.config.web.listen);
    let herd: serde_json::Value = fetch(format!("{base}/api/feedlots/yard-h/animals"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = herd.as_array().unwrap();
    let order: Vec<&str> = rows.iter().map(|r| r["eid"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [b, a, d, c],
        "best ADG first, no ADG last, other yard absent"
    );
    assert_eq!(rows[0]["adg_kg_per_day"].as_f64().unwrap(), 2.0);
    assert_eq!(rows[1]["adg_kg_per_day"].as_f64().unwrap(), 1.5);
    assert_eq!(rows[1]["weighings"].as_u64().unwrap(), 2);
    assert_eq!(
        (
            rows[0]["adg_rank"].as_u64(),
            rows[0]["adg_percentile"].as_f64()
        ),
        (Some(1), Some(100.0))
    );
    assert_eq!(
        (
            rows[2]["adg_rank"].as_u64(),
            rows[2]["adg_percentile"].as_f64().map(|p| p.round())
        ),
        (Some(3), Some(33.0))
    );
    assert!(rows[3]["adg_kg_per_day"].is_null());

    let csv = fetch(format!(
        "{base}/feedlots/yard-h/animals.csv?sort=eid&order=asc"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    // In the user's units (US by default): 300 kg = 661.4 lb, 1.5 kg/d = 3.307 lb/d.
    assert!(
        lines[0].starts_with("eid,weighings,first_lb,last_lb,gain_lb,days,adg_lb_per_day,"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&format!("{a},2,661.4,727.5,66.1,20.00,3.307,2,")),
        "{csv}"
    );

    let page = fetch(format!("{base}/feedlots/yard-h/animals"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<span id=\"head-count\">4</span>"), "{page}");
    assert!(page.contains("id=\"adg-histogram\""), "{page}");
    assert!(!page.contains("982000000000009"));
    assert!(
        !page.contains("id=\"pages\""),
        "4 head fit on one page: {page}"
    );
    let past = fetch(format!("{base}/feedlots/yard-h/animals?page=2"))
        .await
        .unwrap();
    assert_eq!(past.status(), 400);
    assert!(past.text().await.unwrap().contains("page: 2"));
    let bad = fetch(format!("{base}/api/feedlots/yard-h/animals?sort=nope"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The other yard is not the user's; its animal is not in the answer.
    let other = fetch(format!("{base}/api/feedlots/yard-x/animals"))
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    assert!(!other.text().await.unwrap().contains("982000000000009"));
    // /metrics is not on the public listener; on the ops one it needs no login and names no
    // yard: requests are counted by route pattern.
    let public = fetch(format!("{base}/metrics")).await.unwrap();
    assert_eq!(
        public.status(),
        404,
        "signed in, still not on the public listener"
    );
    let metrics = reqwest::get(format!("http://{}/metrics", p.config.web.ops_listen))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "dashboards_http_requests_total{route=\"/api/feedlots/{feedlot_id}/animals\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("yard-"), "{metrics}");

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn in_a_browser_the_herd_page_shows_the_api_numbers_and_draws_the_chart() {
    let mut p = pipeline("herd_browser").await;
    allow(&mut p.config, &["yard-b"]);
    let (shutdown, task) = start(&p);
    let events: Vec<_> = (0..6u32)
        .flat_map(|i| {
            let eid = format!("84000300000000{i}");
            [
                weighing("yard-b", &eid, 300.0, 1),
                weighing("yard-b", &eid, 310.0 + 5.0 * f64::from(i), 11),
            ]
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    produce(&p.broker.bootstrap, &signed(&p, &events).await).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 12).await, 12);
    wait_for_facts(&p.db, "yard-b").await;

    let base = format!("http://{}", p.config.web.listen);
    let api: serde_json::Value = fetch(format!("{base}/api/feedlots/yard-b/animals"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dom = testkit::browser::dump_dom(&magic_link(&base, "/feedlots/yard-b/animals"))
        .await
        .unwrap();
    for row in api.as_array().unwrap() {
        // In the user's units (US by default).
        let adg = format!(
            "{:.2}",
            row["adg_kg_per_day"].as_f64().unwrap() / schemas::weight::KG_PER_LB
        );
        let eid = row["eid"].as_str().unwrap();
        let cell = format!("<td class=\"adg\">{adg}</td>");
        let at = dom
            .find(eid)
            .unwrap_or_else(|| panic!("{eid} not on the page"));
        assert!(
            dom[at..].contains(&cell),
            "{eid}'s ADG {adg} shown as in the API"
        );
    }
    assert!(
        dom.matches("class=\"bar\"").count() >= 2,
        "the ADG histogram has bars"
    );
    let png =
        testkit::browser::screenshot(&magic_link(&base, "/feedlots/yard-b/animals"), 900, 700)
            .await
            .unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a rendered page, not a blank one"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
