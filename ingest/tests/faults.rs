//! Fault tests: the pipeline under outages, crashes and replays, each asserting EXACT counts in
//! ClickHouse (through `FINAL`) against what Kafka acknowledged, and printing the numbers:
//! sent, acknowledged by Kafka, stored (deduplicated), duplicates removed (raw rows minus
//! deduplicated rows: the tests stop background merges on `weighings` with
//! `SYSTEM STOP MERGES`, so every duplicate delivery is still on disk to be counted).
//!
//! Run with `cargo test -p ingest --test faults -- --nocapture` to see the numbers.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ingest::Config;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::Envelope;
use tokio::process::{Child, Command};

mod support;

use support::{TOPIC, weighing};

/// `n` distinct weighings over `feedlots` yards (so over several partitions), tagged by `run`.
fn events(run: u32, n: usize, feedlots: usize) -> Vec<Envelope> {
    (0..n)
        .map(|i| {
            weighing(
                &format!("yard-{}", i % feedlots),
                &format!("982{:03}{:09}", run, i),
                300.0 + (i % 100) as f64,
                1 + (i % 28) as u32,
            )
        })
        .collect()
}

/// Sends `events` with a fresh idempotent producer (acks=all, LZ4, as the gateways do) and
/// returns how many the broker acknowledged. A fresh producer each call: tansu 0.6 can refuse
/// an idempotent producer whose epoch was bumped across a broker restart.
async fn produce(brokers: &str, events: &[Envelope]) -> usize {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "30000")
        .create()
        .unwrap();
    let mut pending = Vec::with_capacity(events.len());
    let key = gateway_key();
    for e in events {
        let payload = key.encode_signed(e);
        let record = FutureRecord::to(TOPIC).key(&e.feedlot_id).payload(&payload);
        pending.push(producer.send_result(record).map_err(|(e, _)| e).unwrap());
    }
    let mut acked = 0;
    for delivery in pending {
        if let Ok(Ok(_)) = delivery.await {
            acked += 1;
        }
    }
    acked
}

async fn counts(db: &testkit::ClickHouseDb) -> (u64, u64) {
    let q = |sql: &'static str| async move {
        db.client().query(sql).fetch_one::<u64>().await.unwrap_or(0)
    };
    (
        q("SELECT count() FROM weighings FINAL").await,
        q("SELECT count() FROM weighings").await,
    )
}

/// Waits until `expected` distinct events are stored (or 90 s), then a moment more so a late
/// duplicate or an extra row would show, and returns (deduplicated, raw).
async fn settle(db: &testkit::ClickHouseDb, expected: u64) -> (u64, u64) {
    testkit::wait_until(Duration::from_secs(90), || async {
        counts(db).await.0 >= expected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    counts(db).await
}

fn report(test: &str, sent: usize, acked: usize, (stored, raw): (u64, u64), started: Instant) {
    println!(
        "[{test}] sent {sent}, acknowledged by Kafka {acked}, stored {stored} (FINAL), raw rows {raw}, duplicates removed {}, {:.1} s",
        raw - stored,
        started.elapsed().as_secs_f64()
    );
}

/// The sum of every series of metric `name` at `listen`'s `/metrics` (0 if unreachable).
async fn metric(listen: &str, name: &str) -> f64 {
    let Ok(response) = reqwest::get(format!("http://{listen}/metrics")).await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    testkit::metrics::sample_sum(&text, name).unwrap_or(0.0)
}

/// How many partitions the replica at `listen` has been assigned (series of its lag gauge).
async fn assigned_partitions(listen: &str) -> usize {
    let Ok(response) = reqwest::get(format!("http://{listen}/metrics")).await else {
        return 0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("ingest_consumer_lag_messages{"))
        .count()
}

/// Applies the migrations now and stops background merges on `weighings`, so raw rows minus
/// `FINAL` rows counts every duplicate delivery exactly. (Merges restart with the server.)
/// The key `gw-1` signs every event of these tests with (see [`enroll_gateway`]).
fn gateway_key() -> schemas::GatewayKey {
    schemas::GatewayKey::from_seed([42; 32])
}

/// Applies the migrations and enrols [`gateway_key`] as `gw-1`'s for yards 0 to 15 (every
/// feedlot [`events`] names), while ClickHouse is up.
async fn enroll_gateway(config: &Config) {
    let client = ingest::sink::client(&config.clickhouse);
    ingest::schema::migrate(&client, &config.clickhouse.database)
        .await
        .unwrap();
    let feedlots: Vec<String> = (0..16).map(|i| format!("yard-{i}")).collect();
    ingest::gateways::enroll(
        &client,
        &config.clickhouse.database,
        "gw-1",
        &feedlots,
        &gateway_key().public_key().to_base64(),
        "test",
    )
    .await
    .unwrap();
}

async fn hold_merges(config: &Config, db: &testkit::ClickHouseDb) {
    enroll_gateway(config).await;
    db.client()
        .query(&format!("SYSTEM STOP MERGES {}.weighings", db.database))
        .execute()
        .await
        .unwrap();
}

fn base_config(brokers: &str, db: &testkit::ClickHouseDb, group: &str) -> Config {
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_owned();
    config.kafka.group_id = group.to_owned();
    config.kafka.partitions = 4;
    config.kafka.session_timeout_ms = 6000;
    config.clickhouse.url = db.url.clone();
    config.clickhouse.database = db.database.clone();
    config.batch.max_rows = 100;
    config.batch.max_wait_ms = 50;
    config.batch.retry_initial_ms = 100;
    config.batch.retry_max_ms = 1000;
    config.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config
}

/// The real `ingest` binary running `config` (written to a file in `dir`); its log goes to
/// `dir/<name>.log`.
fn spawn_ingest(config: &Config, dir: &Path, name: &str) -> Child {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_ingest"))
        .arg("--config")
        .arg(&path)
        .arg("consume")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// SIGKILL, then reap.
async fn kill(child: &mut Child) {
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_stopped_mid_stream_pauses_commits_and_every_event_lands_once_after_restart() {
    let started = Instant::now();
    let broker = testkit::Tansu::start().await.unwrap();
    let mut server = testkit::ClickHouseServer::start().await.unwrap();
    let db = server.create_db("fault_clickhouse_down").await.unwrap();
    let config = base_config(&broker.bootstrap, &db, "fault-ch-group");
    hold_merges(&config, &db).await;
    let (shutdown, task) = support::start(&config);
    let listen = config.ops.listen.clone();
    testkit::wait_until(Duration::from_secs(20), || async {
        reqwest::get(format!("http://{listen}/healthz"))
            .await
            .is_ok()
    })
    .await;

    let first = events(1, 1000, 8);
    let second = events(2, 1000, 8);
    let mut acked = produce(&broker.bootstrap, &first).await;
    assert!(
        testkit::wait_until(Duration::from_secs(60), || async {
            counts(&db).await.0 >= 1
        })
        .await
    );
    server.stop().await;
    acked += produce(&broker.bootstrap, &second).await;
    // While ClickHouse is down the consumer retries the same batch and commits nothing.
    assert!(
        testkit::wait_until(Duration::from_secs(20), || async {
            metric(&listen, "ingest_insert_failures_total").await >= 3.0
        })
        .await,
        "inserts fail while ClickHouse is down"
    );
    let committed_during = metric(&listen, "ingest_committed_offset").await;
    let batches_during = metric(&listen, "ingest_batch_messages_count").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        metric(&listen, "ingest_batch_messages_count").await,
        batches_during,
        "consumption paused: no new batch taken while the stuck one is retried"
    );
    assert_eq!(
        metric(&listen, "ingest_committed_offset").await,
        committed_during,
        "no offset committed while ClickHouse is down"
    );
    assert!(
        metric(&listen, "ingest_consumer_lag_messages").await > 0.0,
        "the lag shows the backlog"
    );
    let failures = metric(&listen, "ingest_insert_failures_total").await;
    server.restart().await.unwrap();
    hold_merges(&config, &db).await;

    let stored = settle(&db, 2000).await;
    report(
        "clickhouse down",
        first.len() + second.len(),
        acked,
        stored,
        started,
    );
    println!("[clickhouse down] insert failures while down: {failures}");
    assert_eq!(acked, 2000);
    assert_eq!(
        stored.0, 2000,
        "every acknowledged event stored exactly once"
    );
    assert!(
        metric(&listen, "ingest_events_stored_total").await >= 2000.0,
        "/metrics counts every stored delivery"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_killed_and_restarted_mid_stream_loses_and_doubles_nothing() {
    let started = Instant::now();
    let mut broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("fault_broker_down")
        .await
        .unwrap();
    let config = base_config(&broker.bootstrap, &db, "fault-broker-group");
    hold_merges(&config, &db).await;
    let (shutdown, task) = support::start(&config);
    let listen = config.ops.listen.clone();
    testkit::wait_until(Duration::from_secs(20), || async {
        reqwest::get(format!("http://{listen}/healthz"))
            .await
            .is_ok()
    })
    .await;

    let first = events(1, 1000, 8);
    let second = events(2, 1000, 8);
    let mut acked = produce(&broker.bootstrap, &first).await;
    assert!(
        testkit::wait_until(Duration::from_secs(60), || async {
            counts(&db).await.0 >= 1
        })
        .await
    );
    broker.stop().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.restart().await.unwrap();
    // A fresh producer after the restart (see `produce`).
    acked += produce(&broker.bootstrap, &second).await;

    let stored = settle(&db, 2000).await;
    report(
        "broker restart",
        first.len() + second.len(),
        acked,
        stored,
        started,
    );
    assert_eq!(acked, 2000);
    assert_eq!(
        stored.0, 2000,
        "every acknowledged event stored exactly once"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_process_sigkilled_mid_batch_ten_times_stores_every_event_exactly_once() {
    let started = Instant::now();
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("fault_ingest_killed")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = base_config(&broker.bootstrap, &db, "fault-kill-group");
    config.batch.max_rows = 50;
    // A killed member's partitions are reassigned after its session times out.
    config.kafka.session_timeout_ms = 2000;
    hold_merges(&config, &db).await;
    let (mut sent, mut acked, mut kills) = (0, 0, 0);
    for round in 0..10u32 {
        // Each round: more events, a fresh process, SIGKILL as soon as it has stored
        // something new, i.e. with batches still to go.
        let batch = events(round + 1, 500, 8);
        sent += batch.len();
        let before = counts(&db).await.1;
        let mut child = spawn_ingest(&config, dir.path(), "ingest");
        acked += produce(&broker.bootstrap, &batch).await;
        let progressed = testkit::wait_until(Duration::from_secs(60), || async {
            counts(&db).await.1 > before
        })
        .await;
        assert!(progressed, "round {round}: the process stored nothing");
        kill(&mut child).await;
        kills += 1;
    }
    let at_last_kill = counts(&db).await;
    let mut child = spawn_ingest(&config, dir.path(), "ingest");
    let stored = settle(&db, sent as u64).await;
    kill(&mut child).await;
    report("ingest SIGKILLed", sent, acked, stored, started);
    println!(
        "[ingest SIGKILLed] {kills} kills; stored {} of {sent} (raw {}) when the last process was killed",
        at_last_kill.0, at_last_kill.1
    );
    assert!(
        at_last_kill.0 < sent as u64,
        "the kills happened mid-stream"
    );
    assert_eq!(acked, sent);
    assert_eq!(
        stored.0, sent as u64,
        "every acknowledged event stored exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_replaying_its_whole_outbox_changes_no_count() {
    let started = Instant::now();
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("fault_replay").await.unwrap();
    let config = base_config(&broker.bootstrap, &db, "fault-replay-group");
    hold_merges(&config, &db).await;
    let (shutdown, task) = support::start(&config);
    let listen = config.ops.listen.clone();
    testkit::wait_until(Duration::from_secs(20), || async {
        reqwest::get(format!("http://{listen}/healthz"))
            .await
            .is_ok()
    })
    .await;
    let outbox = events(1, 1500, 8);
    let mut acked = produce(&broker.bootstrap, &outbox).await;
    assert_eq!(settle(&db, 1500).await.0, 1500);
    // The same envelopes (same event ids) sent again, as a gateway replaying its outbox.
    acked += produce(&broker.bootstrap, &outbox).await;
    assert!(
        testkit::wait_until(Duration::from_secs(60), || async {
            metric(&listen, "ingest_events_stored_total").await >= 3000.0
        })
        .await,
        "the replay was consumed and inserted"
    );
    let stored = settle(&db, 1500).await;
    report("outbox replay", 3000, acked, stored, started);
    assert_eq!(acked, 3000);
    assert_eq!(stored.0, 1500, "a replayed event is counted once");
    assert_eq!(
        stored.1, 3000,
        "both copies were inserted; FINAL removed one"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_processes_share_partitions_and_the_survivor_takes_over_after_a_sigkill() {
    let started = Instant::now();
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create("fault_two_replicas")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = base_config(&broker.bootstrap, &db, "fault-replicas-group");
    a.kafka.partitions = 6;
    a.batch.max_rows = 50;
    a.kafka.session_timeout_ms = 6000;
    hold_merges(&a, &db).await;
    let mut b = a.clone();
    b.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    // Create the topic with its partitions before either replica joins.
    ingest::topics::ensure_topics(&a.kafka).await.unwrap();
    let mut child_a = spawn_ingest(&a, dir.path(), "a");
    let mut child_b = spawn_ingest(&b, dir.path(), "b");
    // Shared, and still so 3 s later: the group may take more than one rebalance to settle.
    let split = || async {
        let (pa, pb) = (
            assigned_partitions(&a.ops.listen).await,
            assigned_partitions(&b.ops.listen).await,
        );
        (pa > 0 && pb > 0 && pa + pb == 6).then_some((pa, pb))
    };
    let shared = testkit::wait_until(Duration::from_secs(60), || async {
        let Some(now) = split().await else {
            return false;
        };
        tokio::time::sleep(Duration::from_secs(3)).await;
        split().await == Some(now)
    })
    .await;
    assert!(shared, "the two replicas share the six partitions");
    let first = events(1, 1500, 12);
    let second = events(2, 1500, 12);
    let mut acked = produce(&broker.bootstrap, &first).await;
    assert_eq!(settle(&db, 1500).await.0, 1500);
    let (by_a, by_b) = (
        metric(&a.ops.listen, "ingest_events_stored_total").await,
        metric(&b.ops.listen, "ingest_events_stored_total").await,
    );
    println!("[two replicas] before the kill: a stored {by_a}, b stored {by_b}");
    let logs = || {
        let log = |name: &str| {
            std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default()
        };
        format!("a's log:\n{}\nb's log:\n{}", log("a"), log("b"))
    };
    assert!(
        by_a > 0.0 && by_b > 0.0,
        "both replicas had partitions (now a {}, b {}):\n{}",
        assigned_partitions(&a.ops.listen).await,
        assigned_partitions(&b.ops.listen).await,
        logs()
    );
    // Kill A while the second half is streaming in, so it dies with work in flight.
    let bootstrap = broker.bootstrap.clone();
    let producing = tokio::spawn(async move { produce(&bootstrap, &second).await });
    testkit::wait_until(Duration::from_secs(60), || async {
        counts(&db).await.1 > 1600
    })
    .await;
    kill(&mut child_a).await;
    acked += producing.await.unwrap();
    let took_over = testkit::wait_until(Duration::from_secs(30), || async {
        assigned_partitions(&b.ops.listen).await == 6
    })
    .await;
    let stored = settle(&db, 3000).await;
    let by_b_after = metric(&b.ops.listen, "ingest_events_stored_total").await;
    kill(&mut child_b).await;
    report("two replicas, one killed", 3000, acked, stored, started);
    println!("[two replicas] after the kill: b stored {by_b_after} in all");
    assert_eq!(acked, 3000);
    assert_eq!(
        stored.0, 3000,
        "every acknowledged event stored exactly once"
    );
    assert!(took_over, "the survivor was assigned all six partitions");
    assert!(
        by_b_after > by_b,
        "the survivor kept storing after the kill"
    );
}

#[tokio::test]
async fn ingest_started_while_clickhouse_is_down_waits_then_stores_every_event_once() {
    let started = Instant::now();
    let broker = testkit::Tansu::start().await.unwrap();
    let mut server = testkit::ClickHouseServer::start().await.unwrap();
    let db = server.create_db("fault_clickhouse_late").await.unwrap();
    let config = base_config(&broker.bootstrap, &db, "fault-ch-late-group");
    enroll_gateway(&config).await;
    server.stop().await;
    let (shutdown, task) = support::start(&config);
    let sent = events(1, 300, 4);
    let acked = produce(&broker.bootstrap, &sent).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !task.is_finished(),
        "ingest waits for ClickHouse instead of exiting"
    );
    server.restart().await.unwrap();
    let stored = settle(&db, 300).await;
    report("clickhouse late", sent.len(), acked, stored, started);
    assert_eq!((acked, stored.0), (300, 300));
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
