//! `firmware-sim demo` end to end: the yard's history, a few accelerated days through the
//! gateway's records API, MQTT truck and outbox, and today's chute over virtual serial ports,
//! all through a real gateway, a tansu broker and ingest into ClickHouse; with the default
//! peer yards every benchmark band of the demo yard is published.
//!
//! Starting the services itself (`scripts/services.sh`, when nothing answers) is not run
//! here: it would need the machine's shared ClickHouse stopped. The decision is unit-tested
//! (`demo::services`); the fresh-machine path is exercised by hand.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

async fn count(client: &clickhouse::Client, sql: &str) -> u64 {
    client.query(sql).fetch_one::<u64>().await.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_yard_fills_every_table_through_the_gateway_and_ends_when_done() {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("demo_yard").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = || testkit::free_port().unwrap().to_string();
    let (web, records, mqtt) = (port(), port(), port());
    let run = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
            .current_dir(dir.path())
            .env("INGEST_CLICKHOUSE_DATABASE", &db.database)
            .env("RUST_LOG", "warn")
            .args(["demo", "--fast", "--exit-when-done", "--days-back", "6"])
            .args(["--animals", "4", "--pens", "3", "--head-per-lot", "12"])
            .args(["--kafka-brokers", &broker.bootstrap])
            .args(["--clickhouse-url", &db.url])
            .args(["--web-listen", &format!("127.0.0.1:{web}")])
            .args(["--records-listen", &format!("127.0.0.1:{records}")])
            .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt}")])
            .kill_on_drop(true)
            .output()
    };
    // The default 30 peer yards are generated and sent before it ends.
    let out = tokio::time::timeout(Duration::from_secs(420), run())
        .await
        .expect("the demo ends by itself with --exit-when-done")
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("History: "), "{said}");
    assert!(said.contains("Today's chute: 4 weighings"), "{said}");
    assert!(!said.contains("not accepted"), "{said}");
    assert!(said.contains("30 peer yards (region US-NE) sent"), "{said}");
    // One summary line per accelerated day (six days back: six full days).
    let days = said.lines().filter(|l| l.contains(" head, mean ")).count();
    assert!(days >= 6, "{said}");

    let client = db.client();
    let yard = "feedlot_id = 'demo-yard'";
    let mut tables: Vec<(&str, u64)> = Vec::new();
    for table in [
        "arrivals",
        "placements",
        "weighings",
        "tag_reads",
        "treatments",
        "pen_moves",
        "shipments",
        "rations",
        "feed_purchases",
        "feed_loads",
        "feed_deliveries",
        "yardage_rates",
    ] {
        let sql = format!("SELECT count() FROM {table} FINAL WHERE {yard}");
        testkit::wait_until(Duration::from_secs(30), || async {
            count(&client, &sql).await > 0
        })
        .await;
        tables.push((table, count(&client, &sql).await));
    }
    assert!(tables.iter().all(|t| t.1 > 0), "{tables:?}");
    // The demo registers its yard for the benchmarks, as an operator would (`set-yard`).
    let registered = "SELECT count() FROM yard_registry FINAL WHERE feedlot_id = 'demo-yard' \
                      AND peer = 1 AND region = 'US-NE'";
    assert_eq!(count(&client, registered).await, 1);
    let peers =
        "SELECT count() FROM yard_registry FINAL WHERE feedlot_id LIKE 'yard-%' AND peer = 1";
    assert_eq!(count(&client, peers).await, 30);
    // The accelerated days (after the clock's start, six days ago) came through the records
    // API and the truck: nothing else sends those kinds for that window.
    let since = "toDate(captured_at) >= today() - 6 AND toDate(captured_at) < today()";
    let fed = count(
        &client,
        &format!("SELECT count() FROM feed_deliveries FINAL WHERE {yard} AND device_id = 'truck-T1' AND {since}"),
    )
    .await;
    let debug: Vec<(String, String, String, u64)> = client
        .query("SELECT device_id, toString(min(captured_at)), toString(max(captured_at)), count() FROM feed_deliveries FINAL GROUP BY device_id")
        .fetch_all()
        .await
        .unwrap();
    assert!(
        fed >= 12,
        "two feedings a day for six days: {fed} {debug:?} {said}"
    );
    let mut office = 0;
    for table in [
        "feed_purchases",
        "treatments",
        "pen_moves",
        "shipments",
        "arrivals",
        "placements",
        "deaths",
    ] {
        office += count(
            &client,
            &format!("SELECT count() FROM {table} FINAL WHERE {yard} AND device_id = 'api:office' AND {since}"),
        )
        .await;
    }
    let purchases: Vec<(String, String, u64)> = client
        .query("SELECT device_id, toString(toDate(captured_at)), count() FROM feed_purchases FINAL GROUP BY device_id, toDate(captured_at) ORDER BY 2 DESC LIMIT 5")
        .fetch_all()
        .await
        .unwrap();
    assert!(
        office > 0,
        "no manual record in the accelerated days: {purchases:?}"
    );
    // Today's chute pass: four weighings captured by the gateway's serial readers today.
    let live = format!(
        "SELECT count() FROM weighings FINAL WHERE {yard} AND device_id = 'scale-1' AND toDate(captured_at) >= today()"
    );
    testkit::wait_until(Duration::from_secs(30), || async {
        count(&client, &live).await >= 4
    })
    .await;
    assert!(count(&client, &live).await >= 4);

    // A second run resumes the same yard: no day is sent twice under new ids.
    let arrivals = count(
        &client,
        &format!("SELECT count() FROM arrivals FINAL WHERE {yard}"),
    )
    .await;
    let out = tokio::time::timeout(Duration::from_secs(240), run())
        .await
        .unwrap()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Resuming the yard"), "{said}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(
            &client,
            &format!("SELECT count() FROM arrivals FINAL WHERE {yard}")
        )
        .await,
        arrivals
    );

    // Living on (no --exit-when-done): the demo's sign-in token reads the benchmarks API, and
    // with the default peers every band is published — the region, the world and each radius
    // tier (10, 20 and 30 other yards: sets ten apart).
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
        .current_dir(dir.path())
        .env("INGEST_CLICKHOUSE_DATABASE", &db.database)
        .env("RUST_LOG", "warn")
        .args(["demo", "--fast", "--days-back", "6"])
        .args(["--animals", "4", "--pens", "3", "--head-per-lot", "12"])
        .args(["--kafka-brokers", &broker.bootstrap])
        .args(["--clickhouse-url", &db.url])
        .args(["--web-listen", &format!("127.0.0.1:{web}")])
        .args(["--records-listen", &format!("127.0.0.1:{records}")])
        .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt}")])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let token = {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let token = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some((_, rest)) = line.split_once("Authorization: Bearer ") {
                    return rest.split('\'').next().unwrap().to_owned();
                }
            }
            panic!("no sign-in token printed");
        })
        .await
        .expect("the pages' token within a minute");
        // Keep reading so the demo never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        token
    };
    let http = reqwest::Client::new();
    let bands = |query: &'static str| {
        let (http, token) = (http.clone(), token.clone());
        let url = format!("http://127.0.0.1:{web}/api/feedlots/demo-yard/benchmarks{query}");
        async move {
            let response = http.get(url).bearer_auth(&token).send().await.ok()?;
            response.json::<serde_json::Value>().await.ok()
        }
    };
    // (query, set, other yards with an ADG)
    let expected = [
        ("", "area", 30),
        ("", "world", 30),
        ("?radius_km=100", "area", 10),
        ("?radius_km=250", "area", 20),
        ("?radius_km=500", "area", 30),
    ];
    let published = |json: &serde_json::Value, set: &str| {
        json["measures"]
            .as_array()
            .is_some_and(|m| !m.is_empty() && m.iter().all(|m| m[set]["hidden"] == false))
    };
    // Generous: on two busy cores the 31 yards' facts and their rollup take minutes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(480);
    let mut last = Vec::new();
    let all_published = loop {
        last.clear();
        for (query, set, yards) in expected {
            let json = bands(query).await.unwrap_or_default();
            // Published, and over every neighbour: the neighbours' facts are made in the
            // background, so the bands may first be published over the ones made so far.
            let ok = published(&json, set) && json["measures"][0][set]["yards"] == yards;
            last.push((query, set, json));
            if !ok {
                break;
            }
        }
        if last.len() == expected.len()
            && published(&last[expected.len() - 1].2, "area")
            && last[expected.len() - 1].2["measures"][0]["area"]["yards"]
                == expected[expected.len() - 1].2
        {
            break true;
        }
        if tokio::time::Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert!(all_published, "{last:#?}");
    for ((query, set, yards), (_, _, json)) in expected.iter().zip(&last) {
        let adg = &json["measures"][0];
        assert_eq!(adg["key"], "adg_kg", "{json}");
        assert_eq!(adg[*set]["yards"], *yards, "{query} {set}: {json}");
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_yard_lives_on_after_catching_up_until_ctrl_c_stops_it_cleanly() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let port = || testkit::free_port().unwrap().to_string();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .args(["demo", "--fast", "--days-back", "1", "--animals", "2"])
        .args(["--pens", "2", "--head-per-lot", "8"])
        // Not the services script: this test must not start a broker.
        .arg("--no-services")
        // Nothing listens there: the gateway keeps everything in its outbox.
        .args(["--kafka-brokers", &format!("127.0.0.1:{}", port())])
        .args(["--records-listen", &format!("127.0.0.1:{}", port())])
        .args(["--mqtt-listen", &format!("127.0.0.1:{}", port())])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let living = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            said.push(line.clone());
            if line.contains("lives on in real time") {
                return;
            }
        }
    })
    .await;
    assert!(living.is_ok(), "{said:#?}");
    assert!(said.iter().any(|l| l.contains("No Kafka-protocol broker")));
    assert!(
        said.iter()
            .any(|l| l.contains("--no-services: not starting tansu")),
        "{said:#?}"
    );
    assert!(said.iter().any(|l| l.contains(" head, mean ")), "{said:#?}");
    assert!(
        said.iter()
            .any(|l| l.contains("Today's chute: 2 weighings"))
    );
    // Still running a moment later: the yard lives on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(child.try_wait().unwrap().is_none(), "it kept running");

    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s of Ctrl-C")
        .unwrap();
    while let Some(line) = lines.next_line().await.unwrap() {
        said.push(line);
    }
    assert!(status.success(), "{status:?} {said:#?}");
    assert!(
        said.iter().any(|l| l.contains("Ctrl-C: stopping")),
        "{said:#?}"
    );
    assert!(
        said.iter().any(|l| l.contains("waiting for a broker")),
        "{said:#?}"
    );
    let state = std::fs::read_to_string(dir.path().join(".data/demo-gateway/demo-state.json"));
    assert!(state.unwrap().contains("sent_until"));
}
