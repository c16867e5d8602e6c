//! Chaos on the replicated test cluster (`scripts/cluster.sh`): while a fleet of 100+ yards
//! sends its records and a probe reads a yard's dashboards through the two web replicas,
//! one ClickHouse replica, one broker, one consumer, one web replica and one ZooKeeper node are
//! each SIGKILLed and restarted in turn, and a ClickHouse replica is frozen (SIGSTOP). At the
//! end every acknowledged event is stored, each Kafka message exactly once in the raw tables
//! (through the `Distributed` tables), and both replicas of each shard hold the same rows. The
//! probe's success rate and longest outage are printed per fault.
//!
//! The verdicts are on end states, reached with generous deadlines, never on timings: the
//! printed figures are measurements, not assertions.
//!
//! Needs the `ingest` and `dashboards` binaries built beside this test (`cargo test
//! --workspace` builds them; alone: `cargo build -p ingest -p dashboards`).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use firmware_sim::loadgen::{LoadOptions, yard_events};
use ingest::config::ClickHouseConfig;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::Envelope;
use uuid::Uuid;

const TOPIC: &str = "feedlot.events.v1";
const PARTITIONS: u32 = 8;
const YARDS: usize = 100;
const PROBE_YARD: &str = "yard-00000";
/// The tables the consumer writes, each read raw and deduplicated.
const TABLES: &[&str] = &[
    "weighings",
    "tag_reads",
    "feed_loads",
    "feed_deliveries",
    "treatments",
    "arrivals",
    "pen_moves",
    "deaths",
    "shipments",
    "feed_purchases",
    "rations",
    "yardage_rates",
    "placements",
    "yard_profiles",
];

/// A binary of the workspace, built beside this test's executable.
fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build -p {name}",
        path.display()
    );
    path
}

/// What the fleet sent and the broker acknowledged.
#[derive(Default)]
struct Sent {
    acked: HashSet<Uuid>,
    failed: usize,
}

/// Sends the fleet's events (event id, Kafka key, signed payload) in chunks, paced so the load
/// lasts through the faults.
async fn send_fleet(brokers: String, events: Vec<(Uuid, String, Vec<u8>)>, sent: Arc<Mutex<Sent>>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .set("message.timeout.ms", "120000")
        .create()
        .unwrap();
    // Spread over about a minute, so records arrive through every fault.
    let chunks = events.len().div_ceil(400).max(1);
    let pause = Duration::from_secs(55) / u32::try_from(chunks).unwrap();
    for chunk in events.chunks(400) {
        let mut pending = Vec::with_capacity(chunk.len());
        for (event_id, key, payload) in chunk {
            let record = FutureRecord::to(TOPIC).key(key).payload(payload);
            match producer.send_result(record) {
                Ok(delivery) => pending.push((*event_id, delivery)),
                Err(_) => sent.lock().unwrap().failed += 1,
            }
        }
        for (id, delivery) in pending {
            let ok = matches!(delivery.await, Ok(Ok(_)));
            let mut s = sent.lock().unwrap();
            if ok {
                s.acked.insert(id);
            } else {
                s.failed += 1;
            }
        }
        tokio::time::sleep(pause).await;
    }
}

/// One probe request: when, and whether a dashboard answered 200.
type Sample = (Instant, bool);

/// Reads the probe yard's lots every 100 ms through the web replicas, as a client behind a
/// load balancer would: round robin, and the other replica when one cannot be reached.
async fn probe(webs: Vec<String>, token: String, samples: Arc<Mutex<Vec<Sample>>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0.. {
        let mut ok = false;
        for attempt in 0..webs.len() {
            let base = &webs[(i + attempt) % webs.len()];
            let url = format!("{base}/api/feedlots/{PROBE_YARD}/lots");
            match client.get(&url).bearer_auth(&token).send().await {
                Ok(r) => {
                    ok = r.status().is_success();
                    break;
                }
                Err(e) if e.is_connect() => continue,
                Err(_) => break,
            }
        }
        samples.lock().unwrap().push((Instant::now(), ok));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Success rate and longest run of failures among the samples in `[from, to]`.
fn probe_report(samples: &[Sample], from: Instant, to: Instant) -> (usize, f64, Duration) {
    let window: Vec<&Sample> = samples
        .iter()
        .filter(|(at, _)| *at >= from && *at <= to)
        .collect();
    let ok = window.iter().filter(|(_, ok)| *ok).count();
    let mut longest = Duration::ZERO;
    let mut down_since: Option<Instant> = None;
    for (at, good) in &window {
        match (good, down_since) {
            (false, None) => down_since = Some(*at),
            (true, Some(since)) => {
                longest = longest.max(*at - since);
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(since) = down_since {
        longest = longest.max(to - since);
    }
    let rate = if window.is_empty() {
        0.0
    } else {
        ok as f64 / window.len() as f64
    };
    (window.len(), rate, longest)
}

fn all_servers(cluster: &testkit::Cluster, read_timeout_ms: u64) -> clickhouse::Client {
    ingest::sink::client(&ClickHouseConfig {
        url: cluster.clickhouse_urls().unwrap().to_owned(),
        database: "feedlot".into(),
        cluster: "feedlot".into(),
        read_timeout_ms,
        ..Default::default()
    })
    .with_database("feedlot")
}

fn one_server(cluster: &testkit::Cluster, name: &str) -> clickhouse::Client {
    ingest::sink::client(&ClickHouseConfig {
        url: cluster.clickhouse_url(name).unwrap().to_owned(),
        ..Default::default()
    })
    .with_database("feedlot")
}

/// Messages in the topic: the sum of its partitions' high watermarks.
fn messages_in_topic(brokers: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "chaos-watermarks")
        // tansu 0.6 on PostgreSQL 15 fails its read_committed "latest offset" query.
        .set("isolation.level", "read_uncommitted")
        .create()
        .unwrap();
    (0..PARTITIONS as i32)
        .map(|p| {
            consumer
                .fetch_watermarks(TOPIC, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum()
}

/// Event ids stored in `table` (deduplicated), through the Distributed table.
async fn stored_ids(client: &clickhouse::Client, table: &str) -> Vec<Uuid> {
    #[derive(clickhouse::Row, serde::Deserialize)]
    struct Id {
        #[serde(with = "clickhouse::serde::uuid")]
        id: Uuid,
    }
    client
        .query(&format!("SELECT DISTINCT event_id AS id FROM {table}"))
        .fetch_all::<Id>()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Event ids stored in every table of [`TABLES`].
async fn all_stored_ids(client: &clickhouse::Client) -> HashSet<Uuid> {
    let mut stored = HashSet::new();
    for table in TABLES {
        stored.extend(stored_ids(client, table).await);
    }
    stored
}

/// What a failed wait for the acknowledged events knows: how many are stored through the
/// `Distributed` tables and on each server, the messages in the topic, and what each consumer
/// logged last.
async fn explain_missing(
    cluster: &testkit::Cluster,
    client: &clickhouse::Client,
    acked: &HashSet<Uuid>,
    brokers: &str,
) {
    for server in testkit::cluster::CLICKHOUSE_SERVERS {
        let local = one_server(cluster, server);
        let mut rows = Vec::new();
        for table in TABLES {
            let n = local
                .query(&format!("SELECT count() FROM {table}_local"))
                .fetch_one::<u64>()
                .await;
            rows.push(format!("{table} {n:?}"));
        }
        println!("{server}: {}", rows.join(", "));
    }
    for part in ["consumer1", "consumer2"] {
        println!("--- last lines of {part}:\n{}", cluster.log_tail(part, 40));
    }
    let stored = all_stored_ids(client).await;
    let missing: Vec<&Uuid> = acked.difference(&stored).collect();
    println!(
        "acknowledged {}, stored {}, missing {} (first: {:?}), Kafka messages {}",
        acked.len(),
        stored.len(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        messages_in_topic(brokers)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_part_killed_in_turn_under_a_fleet_load_loses_and_doubles_nothing() {
    let cluster = testkit::Cluster::start_with_apps(
        &workspace_bin("ingest"),
        &workspace_bin("dashboards"),
        PARTITIONS,
        PROBE_YARD,
    )
    .await
    .unwrap();
    let brokers = cluster.kafka_brokers().unwrap().to_owned();
    let webs: Vec<String> = cluster
        .get("WEB_URLS")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let token = cluster.get("WEB_TOKEN").unwrap().to_owned();

    let options = LoadOptions {
        yards: YARDS,
        head_per_yard: 20,
        days: 40,
        seed: 7,
        ..Default::default()
    };
    let now = Utc::now();
    let events: Vec<Envelope> = (0..YARDS)
        .flat_map(|yard| yard_events(&options, yard, now))
        .collect();
    let all_ids: HashSet<Uuid> = events.iter().map(|e| e.event_id).collect();
    println!("fleet: {YARDS} yards, {} events", events.len());

    let sent = Arc::new(Mutex::new(Sent::default()));
    let samples = Arc::new(Mutex::new(Vec::new()));
    // Each yard's gateway signs with its own key, enrolled in the cluster's registry.
    let registry = ClickHouseConfig {
        url: cluster.clickhouse_urls().unwrap().to_owned(),
        database: "feedlot".into(),
        cluster: "feedlot".into(),
        ..Default::default()
    };
    let signed = ingest::gateways::sign_as_enrolled(&registry, &events)
        .await
        .unwrap();
    let messages: Vec<(Uuid, String, Vec<u8>)> = events
        .iter()
        .zip(signed)
        .map(|(e, (key, payload))| (e.event_id, key, payload))
        .collect();
    let fleet = tokio::spawn(send_fleet(brokers.clone(), messages, sent.clone()));
    let prober = tokio::spawn(probe(webs.clone(), token, samples.clone()));
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut report = Vec::new();
    for part in ["ch-s1r2", "broker1", "consumer1", "web1", "zk1"] {
        let from = Instant::now();
        cluster.part("kill", part).await.unwrap();
        tokio::time::sleep(Duration::from_secs(4)).await;
        cluster.part("start-one", part).await.unwrap();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let stats = probe_report(&samples.lock().unwrap(), from, Instant::now());
        report.push((format!("kill -9 {part}"), stats));
    }

    // A frozen replica: queries through the others still answer within a few seconds.
    let from = Instant::now();
    cluster.part("freeze", "ch-s2r1").await.unwrap();
    let client = all_servers(&cluster, 3_000);
    let asked = Instant::now();
    let mut answered = None;
    for _ in 0..5 {
        if client
            .query("SELECT count() FROM weighings")
            .fetch_one::<u64>()
            .await
            .is_ok()
        {
            answered = Some(asked.elapsed());
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.part("thaw", "ch-s2r1").await.unwrap();
    let stats = probe_report(&samples.lock().unwrap(), from, Instant::now());
    report.push(("SIGSTOP ch-s2r1".into(), stats));
    let answered = answered.expect("a query answered while a replica was frozen");

    fleet.await.unwrap();
    let (acked, failed) = {
        let s = sent.lock().unwrap();
        (s.acked.clone(), s.failed)
    };
    let client = all_servers(&cluster, 30_000);
    let all_in = testkit::wait_until(Duration::from_secs(240), || async {
        let mut n = 0;
        for table in TABLES {
            n += client
                .query(&format!("SELECT uniqExact(event_id) FROM {table}"))
                .fetch_one::<u64>()
                .await
                .unwrap_or(0);
        }
        n as usize >= acked.len()
    })
    .await;
    prober.abort();

    println!("| fault | probe requests | success | longest outage |");
    println!("|---|---|---|---|");
    for (fault, (n, rate, longest)) in &report {
        println!(
            "| {fault} | {n} | {:.1} % | {:.1} s |",
            rate * 100.0,
            longest.as_secs_f64()
        );
    }
    println!(
        "frozen replica: a query answered in {:.1} s",
        answered.as_secs_f64()
    );
    if !all_in {
        explain_missing(&cluster, &client, &acked, &brokers).await;
    }
    assert!(all_in, "every acknowledged event reached ClickHouse");

    // Every acknowledged event stored; nothing stored that was never sent.
    let stored = all_stored_ids(&client).await;
    let missing = acked.difference(&stored).count();
    let unknown = stored.difference(&all_ids).count();
    println!(
        "acknowledged {}, failed sends {failed}, stored {}, missing {missing}",
        acked.len(),
        stored.len()
    );
    assert_eq!(missing, 0, "acknowledged events missing from ClickHouse");
    assert_eq!(unknown, 0, "events stored that the fleet never sent");

    // Exactly once in storage: one raw row per Kafka message (re-sent events are separate
    // messages; a consumer's repeats are not).
    let mut raw = 0u64;
    for table in TABLES {
        raw += client
            .query(&format!("SELECT count() FROM {table}"))
            .fetch_one::<u64>()
            .await
            .unwrap();
    }
    let messages = u64::try_from(messages_in_topic(&brokers)).unwrap();
    println!("Kafka messages {messages}, raw rows {raw}");
    assert_eq!(raw, messages, "each Kafka message stored exactly once");

    // Both replicas of each shard come to hold the same rows. A replica thawed or restarted a
    // moment ago may still be fetching parts (or running a merge its peer has run), so each is
    // synced and compared until they agree, within a deadline.
    for (a, b) in [("ch-s1r1", "ch-s1r2"), ("ch-s2r1", "ch-s2r2")] {
        for table in TABLES {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(120);
            let (agreed, seen) = loop {
                let seen = [
                    replica_rows(&cluster, a, table).await,
                    replica_rows(&cluster, b, table).await,
                ];
                let agreed = seen[0].is_some() && seen[0] == seen[1];
                if agreed || Instant::now() >= deadline {
                    break (agreed, seen);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            };
            if started.elapsed() > Duration::from_secs(1) {
                println!(
                    "{table}: {a} and {b} agreed: {agreed}, after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            if !agreed {
                for name in [a, b] {
                    explain_replica(&cluster, name, table).await;
                }
            }
            assert!(agreed, "{table}: replicas {a} and {b} differ: {seen:?}");
        }
    }
}

/// One replica's rows of a table after it has synced: the count and a sum of their ids' hashes,
/// or `None` while it cannot answer.
async fn replica_rows(cluster: &testkit::Cluster, name: &str, table: &str) -> Option<(u64, u64)> {
    let s = one_server(cluster, name);
    s.query(&format!("SYSTEM SYNC REPLICA {table}_local"))
        .execute()
        .await
        .ok()?;
    s.query(&format!(
        "SELECT count(), sum(cityHash64(toString(event_id))) FROM {table}_local"
    ))
    .fetch_one()
    .await
    .ok()
}

/// Prints what a replica that never caught up was doing: its state and its replication queue.
async fn explain_replica(cluster: &testkit::Cluster, name: &str, table: &str) {
    let s = one_server(cluster, name);
    let state = s
        .query(&format!(
            "SELECT is_readonly, is_session_expired, queue_size, inserts_in_queue, \
             merges_in_queue, log_pointer, log_max_index, absolute_delay \
             FROM system.replicas WHERE table = '{table}_local'"
        ))
        .fetch_all::<(u8, u8, u32, u32, u32, u64, u64, u64)>()
        .await;
    println!(
        "{name} {table}_local: readonly, expired, queue, inserts, merges, log pointer, log max, delay = {state:?}"
    );
    let queue = s
        .query(&format!(
            "SELECT type, new_part_name, num_tries, last_exception \
             FROM system.replication_queue WHERE table = '{table}_local' LIMIT 10"
        ))
        .fetch_all::<(String, String, u32, String)>()
        .await;
    println!("{name} {table}_local queue: {queue:?}");
    let parts = s
        .query(&format!(
            "SELECT name, rows FROM system.parts WHERE table = '{table}_local' AND active \
             ORDER BY name"
        ))
        .fetch_all::<(String, u64)>()
        .await;
    println!("{name} {table}_local parts: {parts:?}");
}
