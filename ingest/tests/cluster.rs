//! The pipeline on the replicated test cluster (`scripts/cluster.sh`: 3 ZooKeeper nodes,
//! ClickHouse 2 shards × 2 replicas, tansu brokers sharing PostgreSQL): the schema in its
//! cluster form, and exactly once in storage through consumer crashes.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ingest::config::{ClickHouseConfig, KafkaConfig};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Eid, Envelope, Event, Weighing, Weight};
use tokio::process::Command;

const CLUSTER: &str = "feedlot";

/// One cluster at a time: each is ~14 processes and ~650 MiB on a 2-core machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const TOPIC: &str = "feedlot.events.v1";

fn clickhouse(cluster: &testkit::Cluster, database: &str) -> ClickHouseConfig {
    ClickHouseConfig {
        url: cluster.clickhouse_urls().unwrap().to_owned(),
        database: database.to_owned(),
        cluster: CLUSTER.to_owned(),
        read_timeout_ms: 10_000,
        ..Default::default()
    }
}

/// A client for one server, no database.
fn server(cluster: &testkit::Cluster, name: &str) -> clickhouse::Client {
    ingest::sink::client(&ClickHouseConfig {
        url: cluster.clickhouse_url(name).unwrap().to_owned(),
        ..Default::default()
    })
}

async fn scalar(client: &clickhouse::Client, sql: &str) -> u64 {
    client.query(sql).fetch_one::<u64>().await.unwrap()
}

fn weighings(n: usize, yards: usize) -> Vec<Envelope> {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 14, 30, 0).unwrap();
    (0..n)
        .map(|i| {
            Envelope::new(
                format!("yard-{}", i % yards),
                "gw-1",
                "scale-1",
                at + chrono::Duration::seconds(i as i64),
                Event::Weighing(Weighing {
                    eid: Eid::parse(&format!("982000{i:09}")).unwrap(),
                    weight: Weight::from_kg(300.0 + (i % 100) as f64),
                    tag_read_event_id: None,
                    gross_net: None,
                }),
            )
        })
        .collect()
}

/// Sends `events` as a gateway does (idempotent, acks=all); all must be acknowledged.
/// Returns each event's id with the partition and offset the broker gave it.
async fn produce(
    brokers: &str,
    key: &schemas::GatewayKey,
    events: &[Envelope],
) -> Vec<(String, i32, i64)> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "30000")
        .create()
        .unwrap();
    let mut pending = Vec::new();
    for e in events {
        let payload = key.encode_signed(e);
        let record = FutureRecord::to(TOPIC).key(&e.feedlot_id).payload(&payload);
        pending.push(producer.send_result(record).map_err(|(e, _)| e).unwrap());
    }
    let mut placed = Vec::new();
    for (delivery, e) in pending.into_iter().zip(events) {
        let d = delivery.await.unwrap().unwrap();
        placed.push((e.event_id.to_string(), d.partition, d.offset));
    }
    placed
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_on_a_cluster_make_replicated_tables_under_distributed_ones_on_every_server() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cluster = testkit::Cluster::start().await.unwrap();
    let config = clickhouse(&cluster, "schema_test");
    let client = ingest::sink::ddl_client(&config);
    let first = ingest::schema::migrate_on(&client, &config.database, Some(CLUSTER))
        .await
        .unwrap();
    assert_eq!(first.len(), ingest::schema::MIGRATIONS.len());
    let second = ingest::schema::migrate_on(&client, &config.database, Some(CLUSTER))
        .await
        .unwrap();
    assert!(
        second.is_empty(),
        "a second run applies nothing: {second:?}"
    );
    for name in testkit::cluster::CLICKHOUSE_SERVERS {
        let server = server(&cluster, name);
        let engines: Vec<(String, String)> = server
            .query(
                "SELECT name, engine FROM system.tables WHERE database = 'schema_test' \
                 AND name IN ('weighings', 'weighings_local', 'yard_kpis_local', 'schema_migrations') \
                 ORDER BY name",
            )
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(
            engines,
            vec![
                (
                    "schema_migrations".into(),
                    "ReplicatedReplacingMergeTree".into()
                ),
                ("weighings".into(), "Distributed".into()),
                (
                    "weighings_local".into(),
                    "ReplicatedReplacingMergeTree".into()
                ),
                (
                    "yard_kpis_local".into(),
                    "ReplicatedReplacingMergeTree".into()
                ),
            ],
            "{name}"
        );
        let versions = ingest::schema::applied_versions(&server, "schema_test")
            .await
            .unwrap();
        assert_eq!(versions.len(), ingest::schema::MIGRATIONS.len(), "{name}");
        let views: Vec<String> = server
            .query(
                "SELECT name FROM system.tables WHERE database = 'schema_test' \
                 AND engine = 'View' ORDER BY name",
            )
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(
            views,
            ["closeouts", "lot_day_measures", "pen_day_measures"],
            "{name}: the fact views (docs/facts.md)"
        );
    }
    a_single_server_database_moves_to_the_cluster(&cluster, &client).await;
    the_fact_views_read_every_shard_from_every_server(&cluster, &client).await;
    the_sign_in_state_is_on_every_server(&cluster).await;
}

/// The dashboards' sign-in state (no yard's: `cluster::EVERYWHERE`) is one replicated table
/// with a copy on every server: a "sign out everywhere" written on one server is read on each
/// of the others, the other shard's included, so no one server holds it alone.
async fn the_sign_in_state_is_on_every_server(cluster: &testkit::Cluster) {
    let servers = testkit::cluster::CLICKHOUSE_SERVERS;
    server(cluster, servers[0])
        .query(
            "INSERT INTO schema_test.web_session_revocations (user, valid_after_ms) \
             VALUES ('alice', 1762041600000)",
        )
        .execute()
        .await
        .unwrap();
    for name in servers {
        let server = server(cluster, name);
        let engine: String = server
            .query(
                "SELECT engine FROM system.tables WHERE database = 'schema_test' \
                 AND name = 'web_session_revocations'",
            )
            .fetch_one()
            .await
            .unwrap();
        assert_eq!(engine, "ReplicatedMergeTree", "{name}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let valid_after: u64 = server
                .query(
                    "SELECT max(valid_after_ms) FROM schema_test.web_session_revocations \
                     WHERE user = 'alice'",
                )
                .fetch_one()
                .await
                .unwrap();
            if valid_after == 1_762_041_600_000 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never got the revocation"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A lot-day stored through the `Distributed` table is in the fact views on every server, and
/// one closed lot is a closeout, whichever shard its yard is on.
async fn the_fact_views_read_every_shard_from_every_server(
    cluster: &testkit::Cluster,
    client: &clickhouse::Client,
) {
    let day_end: u64 = 1_762_041_600_000; // 2025-11-02 00:00 UTC, the end of 2025-11-01.
    // Synchronously to the shards (a Distributed insert is queued by default), so every
    // server reads both rows at once.
    let client = client.clone().with_setting("insert_distributed_sync", "1");
    for (yard, closed_ms) in [("view-a", 0), ("view-b", day_end - 3_600_000)] {
        client
            .query(
                "INSERT INTO schema_test.lot_day_facts (feedlot_id, lot_id, day, through_ms, \
                 closed_ms, head_in, head_ms, version) VALUES (?, 'L1', '2025-11-01', ?, ?, 10, \
                 864000000, 1)",
            )
            .bind(yard)
            .bind(day_end)
            .bind(closed_ms)
            .execute()
            .await
            .unwrap();
    }
    // A replica may read a row its shard's other replica took a moment ago: each server is
    // asked until it sees both (replication is asynchronous), for up to 20 s.
    for name in testkit::cluster::CLICKHOUSE_SERVERS {
        let server = server(cluster, name);
        let sql = "SELECT count(), sum(head_days) FROM schema_test.lot_day_measures \
                   WHERE feedlot_id LIKE 'view-%'";
        let closeouts = "SELECT count() FROM schema_test.closeouts WHERE feedlot_id = 'view-b'";
        let seen = testkit::wait_until(std::time::Duration::from_secs(20), || async {
            let measures: (u64, f64) = server.query(sql).fetch_one().await.unwrap();
            measures == (2, 20.0) && scalar(&server, closeouts).await == 1
        })
        .await;
        let measures: (u64, f64) = server.query(sql).fetch_one().await.unwrap();
        assert!(
            seen,
            "{name}: lot-days and head-days {measures:?}, closeouts {}",
            scalar(&server, closeouts).await
        );
    }
}

/// Every event kind once (the schema fixtures) and 600 weighings from 12 yards.
fn every_kind_and_many_yards() -> Vec<Envelope> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/tests/fixtures/v1");
    let mut events = weighings(600, 12);
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        events.push(schemas::decode(&bytes).unwrap());
    }
    events
}

/// `ingest copy-from` moves an old single-server database (the test ClickHouse) onto the
/// cluster's `schema_test`: every table's rows, each yard on one shard; a second run skips
/// what is there; a table holding other rows is named and nothing is copied into it.
async fn a_single_server_database_moves_to_the_cluster(
    cluster: &testkit::Cluster,
    cluster_client: &clickhouse::Client,
) {
    let old = testkit::ClickHouseDb::create("move_from_single")
        .await
        .unwrap();
    let old_client = ingest::sink::client(&ClickHouseConfig {
        url: old.url.clone(),
        database: old.database.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&old_client, &old.database)
        .await
        .unwrap();
    let mut rows = ingest::sink::Rows::default();
    for event in every_kind_and_many_yards() {
        rows.push(&event);
    }
    ingest::sink::insert_rows(&old_client, &old.database, &rows)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = consumer_config(cluster, "schema_test", dir.path());
    let copy = || async {
        Command::new(env!("CARGO_BIN_EXE_ingest"))
            .args(["--config", config.to_str().unwrap(), "copy-from"])
            .args(["--address", &testkit::ClickHouseDb::server_tcp_address()])
            .args(["--database", &old.database])
            .output()
            .await
            .unwrap()
    };
    let first = copy().await;
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "copy-from failed: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let tables: Vec<String> = old_client
        .query(
            "SELECT name FROM system.tables WHERE database = ? AND engine LIKE '%MergeTree' \
             AND name != 'schema_migrations'",
        )
        .bind(&old.database)
        .fetch_all()
        .await
        .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let cluster_db = cluster_client.clone().with_database("schema_test");
    let mut moved = 0;
    for table in &tables {
        let before = scalar(
            &old_client,
            &format!("SELECT count() FROM {}.{table}", old.database),
        )
        .await;
        let after = scalar(&cluster_db, &format!("SELECT count() FROM {table}")).await;
        assert_eq!(after, before, "{table}: rows on the cluster");
        if before > 0 {
            assert!(
                stdout.contains(&format!("{table}: {before} rows copied")),
                "{stdout}"
            );
        }
        // Events: every table but the change log the facts worker reads (one row per yard
        // per stored batch, copied like the rest).
        if table != "fact_changes" {
            moved += after;
        }
    }
    assert_eq!(moved, 600 + schemas::EventKind::ALL.len() as u64);
    // Each yard's weighings on one shard only.
    let mut per_shard = Vec::new();
    for name in ["ch-s1r1", "ch-s2r1"] {
        let yards: Vec<String> = server(cluster, name)
            .query("SELECT DISTINCT feedlot_id FROM schema_test.weighings_local WHERE feedlot_id LIKE 'yard-%'")
            .fetch_all()
            .await
            .unwrap();
        per_shard.push(yards);
    }
    assert!(
        !per_shard[0].is_empty() && !per_shard[1].is_empty(),
        "{per_shard:?}"
    );
    assert!(per_shard[0].iter().all(|y| !per_shard[1].contains(y)));
    assert_eq!(per_shard[0].len() + per_shard[1].len(), 12);

    // Run again: every table already there, nothing doubled.
    let again = copy().await;
    assert!(again.status.success());
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        stdout.contains("weighings: 601 rows already there"),
        "{stdout}"
    );
    assert_eq!(
        scalar(&cluster_db, "SELECT count() FROM weighings").await,
        601
    );

    // A table holding other rows is named, and nothing is copied into it. (601 weighings:
    // 600 from 12 yards and the fixtures' one.)
    let mut extra = ingest::sink::Rows::default();
    for event in weighings(601, 12).into_iter().skip(600) {
        extra.push(&event);
    }
    // Into `weighings` alone (`insert_rows` would also note the change in `fact_changes`).
    let mut insert = cluster_db
        .insert::<ingest::sink::WeighingRow>("weighings")
        .await
        .unwrap();
    for row in &extra.weighings {
        insert.write(row).await.unwrap();
    }
    insert.end().await.unwrap();
    let refused = copy().await;
    let stderr = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success());
    assert!(
        stderr.contains("table weighings on the cluster holds 602 rows, the old one 601"),
        "{stderr}"
    );
}

/// The consumer's TOML: the cluster's brokers and servers, small batches.
fn consumer_config(cluster: &testkit::Cluster, database: &str, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("ingest.toml");
    let text = format!(
        "[kafka]\nbrokers = \"{}\"\npartitions = 4\nreplication_factor = 1\n\
         min_insync_replicas = 1\nsession_timeout_ms = 2000\n\n[clickhouse]\nurl = \"{}\"\ndatabase = \"{database}\"\n\
         cluster = \"{CLUSTER}\"\nread_timeout_ms = 10000\n\n[batch]\nmax_rows = 150\n\
         max_wait_ms = 200\n\n[ops]\nlisten = \"127.0.0.1:{}\"\n",
        cluster.kafka_brokers().unwrap(),
        cluster.clickhouse_urls().unwrap(),
        testkit::free_port().unwrap(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_crashing_between_insert_and_commit_leaves_one_raw_row_per_message() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cluster = testkit::Cluster::start().await.unwrap();
    let database = "exactly_once";
    let ch = clickhouse(&cluster, database);
    let client = ingest::sink::client(&ch);
    ingest::schema::migrate_on(&ingest::sink::ddl_client(&ch), database, Some(CLUSTER))
        .await
        .unwrap();
    let kafka = KafkaConfig {
        brokers: cluster.kafka_brokers().unwrap().to_owned(),
        partitions: 4,
        replication_factor: 1,
        min_insync_replicas: 1,
        ..Default::default()
    };
    ingest::topics::ensure_topics(&kafka).await.unwrap();
    let events = weighings(3_000, 12);
    // gw-1's key, enrolled for every yard (the registry is a Distributed table too).
    let yards: Vec<String> = (0..12).map(|i| format!("yard-{i}")).collect();
    let key = ingest::gateways::enroll_new_key(&client, database, "gw-1", &yards)
        .await
        .unwrap();
    let placed = produce(&kafka.brokers, &key, &events).await;

    let dir = tempfile::tempdir().unwrap();
    let config = consumer_config(&cluster, database, dir.path());
    let db = client.clone().with_database(database);
    // Each run stores a round (the previous run's unfinished one, cut again from its intent,
    // then a new one) and exits before committing the new one.
    let log_path = dir.path().join("consumer.log");
    let log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap()
    };
    let consumer = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ingest"));
        command
            .args(["--config", config.to_str().unwrap(), "consume"])
            .env("RUST_LOG", "info,ingest::consumer=debug")
            .stdout(log())
            .stderr(log())
            .kill_on_drop(true);
        command
    };
    let mut crashes = 0;
    for _ in 0..6 {
        let run = consumer()
            .env("INGEST_FAULT_EXIT_BEFORE_COMMIT", "2")
            .status();
        let Ok(status) = tokio::time::timeout(Duration::from_secs(60), run).await else {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("a run did not reach its crash in 60 s; consumer log:\n{tail}");
        };
        if status.unwrap().code() == Some(86) {
            crashes += 1;
        }
    }
    assert!(
        crashes >= 4,
        "the consumer crashed before its commit {crashes} times"
    );
    let mut last = consumer().spawn().unwrap();
    let all_in = testkit::wait_until(Duration::from_secs(90), || async {
        db.query("SELECT count() FROM weighings FINAL")
            .fetch_one::<u64>()
            .await
            .unwrap_or(0)
            >= 3_000
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    last.kill().await.unwrap();
    assert!(
        all_in,
        "every event reached ClickHouse; consumer log:\n{}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );

    let raw = scalar(&db, "SELECT count() FROM weighings").await;
    let distinct = scalar(&db, "SELECT uniqExact(event_id) FROM weighings").await;
    let mut dropped = 0;
    for name in testkit::cluster::CLICKHOUSE_SERVERS {
        dropped += server(&cluster, name)
            .query("SELECT sum(value) FROM system.events WHERE event = 'DuplicatedInsertedBlocks'")
            .fetch_one::<u64>()
            .await
            .unwrap_or(0);
    }
    println!("raw rows {raw}, distinct events {distinct}, repeated blocks dropped {dropped}");
    if raw != distinct {
        // Where the stored copies came from: compare with the consumer log's batches.
        let repeated: Vec<String> = db
            .query("SELECT toString(event_id) FROM weighings GROUP BY event_id HAVING count() > 1")
            .fetch_all()
            .await
            .unwrap();
        let mut at: Vec<(i32, i64)> = placed
            .iter()
            .filter(|(id, _, _)| repeated.contains(id))
            .map(|&(_, p, o)| (p, o))
            .collect();
        at.sort_unstable();
        println!("stored twice (partition, offset): {at:?}");
    }
    assert_eq!(distinct, 3_000);
    assert_eq!(
        raw,
        3_000,
        "no copy of a re-consumed batch in the raw table; consumer log:\n{}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
    assert!(
        dropped > 0,
        "the re-read batches were deduplicated by ClickHouse"
    );
    // The batches left in flight by the crashes were found again from their recorded ends
    // (not re-cut by luck): the broker answered each partition's batch-ends offset.
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        log.contains("batch_end: Some("),
        "a crashed consumer's batch in flight is cut again from its recorded end; consumer log:\n{log}"
    );

    // Both replicas of each shard hold the same rows.
    for (a, b) in [("ch-s1r1", "ch-s1r2"), ("ch-s2r1", "ch-s2r2")] {
        let mut seen = Vec::new();
        for name in [a, b] {
            let s = server(&cluster, name).with_database(database);
            s.query("SYSTEM SYNC REPLICA weighings_local")
                .execute()
                .await
                .unwrap();
            let (rows, hash): (u64, u64) = s
                .query("SELECT count(), sum(cityHash64(toString(event_id))) FROM weighings_local")
                .fetch_one()
                .await
                .unwrap();
            seen.push((rows, hash));
        }
        assert_eq!(seen[0], seen[1], "replicas {a} and {b} differ");
        assert!(seen[0].0 > 0, "shard of {a} holds rows");
    }
}
