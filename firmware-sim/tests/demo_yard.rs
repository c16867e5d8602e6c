//! `firmware-sim demo` end to end: the yard's history, a few accelerated days through the
//! gateway's records API, MQTT truck and outbox, and today's chute over virtual serial ports,
//! all through a real gateway, a tansu broker and ingest into ClickHouse.

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
    let out = tokio::time::timeout(Duration::from_secs(240), run())
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
