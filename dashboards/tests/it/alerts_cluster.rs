//! Alerts on the replicated test cluster (`scripts/cluster.sh`: 3 ZooKeeper nodes, ClickHouse
//! 2 shards × 2 replicas; docs/alerts.md "State", docs/cluster.md): the alerts' tables made by
//! `ingest migrate` in cluster form; alerts raised by a worker on one server, listed and
//! acknowledged through another; two workers on different servers delivering each alert to a
//! real HTTP receiver once; then one server of the yard's shard killed, and the alerts still
//! listed and a new one still delivered once. On the same cluster, before the kill: the facts
//! worker's retention drops an old month of `fact_changes` from every server.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use chrono::Utc;
use dashboards::alerts::Worker;
use dashboards::config::AlertsConfig;
use ingest::config::ClickHouseConfig;

use crate::alerts::{ALERTS, TOKEN, YARD, by_rule, now_ms, records, silent_gateway, web_config};
use crate::alerts_delivery::{SECRET, Shared, fast, receiver};
use crate::two_yards::send;

const CLUSTER: &str = "feedlot";
const DATABASE: &str = "alerts_cluster";

/// A client for one server, bound to the test's database.
fn on(cluster: &testkit::Cluster, server: &str) -> clickhouse::Client {
    ingest::sink::client(&ClickHouseConfig {
        url: cluster.clickhouse_url(server).unwrap().to_owned(),
        read_timeout_ms: 10_000,
        ..Default::default()
    })
    .with_database(DATABASE)
}

/// Rounds of both workers at once until the receiver has accepted `n` alerts (at most ~60 s).
async fn deliver(workers: &mut [Worker; 2], seen: &Shared, n: usize) {
    for _ in 0..300 {
        let [a, b] = workers;
        let (a, b) = tokio::join!(a.round(now_ms()), b.round(now_ms()));
        a.unwrap();
        b.unwrap();
        if seen.lock().unwrap().accepted.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("not delivered: {:?}", seen.lock().unwrap());
}

fn accepted_once(seen: &Shared, n: usize) {
    let seen = seen.lock().unwrap();
    assert_eq!(seen.bad, 0);
    assert_eq!(seen.accepted.len(), n, "{seen:?}");
    for (id, times) in &seen.accepted {
        assert_eq!(*times, 1, "alert {id} accepted {times} times: {seen:?}");
    }
}

/// The facts worker's retention of `fact_changes` on the cluster (docs/facts.md): an old month
/// whose changes are all in the facts is dropped from every server's `fact_changes_local`.
async fn old_fact_changes_are_dropped_on_every_server(
    cluster: &testkit::Cluster,
    s1: &clickhouse::Client,
) {
    let synced = s1.clone().with_setting("insert_distributed_sync", "1");
    let yards = [
        "yard-r1", "yard-r2", "yard-r3", "yard-r4", "yard-r5", "yard-r6",
    ];
    for yard in yards {
        let made = Some("2026-04-30 00:00:00");
        crate::facts::change_at(&synced, yard, "2026-04-10 10:00:00", made).await;
    }
    let servers = ["ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"].map(|s| on(cluster, s));
    let april = |client: &clickhouse::Client| {
        let client = client.clone();
        async move {
            client
                .query(
                    "SELECT count() FROM fact_changes_local WHERE toYYYYMM(recorded_at) = 202604",
                )
                .fetch_one::<u64>()
                .await
                .unwrap()
        }
    };
    // Each shard's replicas hold its yards' changes.
    let replicated = testkit::wait_until(Duration::from_secs(20), || async {
        let mut held = 0;
        for server in &servers {
            held += april(server).await;
        }
        held == 2 * yards.len() as u64
    })
    .await;
    assert!(
        replicated,
        "April's changes on both replicas of their shards"
    );
    assert!(
        april(&servers[0]).await > 0 && april(&servers[2]).await > 0,
        "on both shards"
    );

    let table = dashboards::facts::retention::ChangesTable {
        cluster: CLUSTER.to_owned(),
        database: DATABASE.to_owned(),
    };
    let now_ms = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 8, 15, 12, 0, 0)
        .unwrap()
        .timestamp_millis() as u64;
    let dropped = dashboards::facts::retention::drop_old_changes(s1, &table, now_ms, 62)
        .await
        .unwrap();
    assert_eq!(dropped, [202604]);
    let gone = testkit::wait_until(Duration::from_secs(20), || async {
        let mut held = 0;
        for server in &servers {
            held += april(server).await;
        }
        held == 0
    })
    .await;
    assert!(gone, "April dropped from every server");
}

/// The dashboards' app over `client`, on the test cluster: acknowledgements are inserted with
/// a quorum of a shard's replicas, as `dashboards serve` does with `clickhouse.cluster` set.
fn site(client: &clickhouse::Client) -> axum::Router {
    dashboards::web::app(
        dashboards::web::AppState::new(client.clone())
            .with_auth(dashboards::web::Auth::from_config(&web_config()).unwrap())
            .on_cluster(CLUSTER),
    )
}

/// The last part of `table` on each shard whose insert met a quorum (ZooKeeper's
/// `quorum/last_part`, which ClickHouse writes once a quorum insert is on every replica it
/// asked for), read through `client`; shards with none left out.
async fn quorum_parts(client: &clickhouse::Client, table: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for shard in 1..=2 {
        let path = format!("/clickhouse/tables/{shard:02}/{DATABASE}/{table}/quorum");
        let last: Vec<String> = client
            .query("SELECT value FROM system.zookeeper WHERE path = ? AND name = 'last_part'")
            .bind(&path)
            .fetch_all()
            .await
            .unwrap_or_default();
        parts.extend(last.into_iter().filter(|v| !v.is_empty()));
    }
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_alerts_are_shared_by_servers_delivered_once_and_outlive_a_dead_server() {
    let cluster = testkit::Cluster::start().await.unwrap();
    let config = ClickHouseConfig {
        url: cluster.clickhouse_urls().unwrap().to_owned(),
        database: DATABASE.to_owned(),
        cluster: CLUSTER.to_owned(),
        read_timeout_ms: 10_000,
        ..Default::default()
    };
    ingest::schema::migrate_on(&ingest::sink::ddl_client(&config), DATABASE, Some(CLUSTER))
        .await
        .unwrap();
    let (s1, s2) = (on(&cluster, "ch-s1r1"), on(&cluster, "ch-s2r1"));
    let engines: Vec<(String, String)> = s2
        .query(
            "SELECT name, engine FROM system.tables WHERE database = currentDatabase() \
             AND name LIKE 'alert%' ORDER BY name",
        )
        .fetch_all()
        .await
        .unwrap();
    let replicated = |t: &str, e: &str| (format!("{t}_local"), format!("Replicated{e}"));
    let distributed = |t: &str| (t.to_owned(), "Distributed".to_owned());
    assert_eq!(
        engines,
        vec![
            distributed("alert_acks"),
            replicated("alert_acks", "MergeTree"),
            distributed("alert_deliveries"),
            replicated("alert_deliveries", "ReplacingMergeTree"),
            distributed("alert_delivery_claims"),
            replicated("alert_delivery_claims", "MergeTree"),
            distributed("alert_settings"),
            replicated("alert_settings", "ReplacingMergeTree"),
            distributed("alerts"),
            replicated("alerts", "ReplacingMergeTree"),
        ]
    );
    // The yard's records, written through ch-s1r1 (the Distributed tables place them).
    let db = testkit::ClickHouseDb {
        url: cluster.clickhouse_url("ch-s1r1").unwrap().to_owned(),
        database: DATABASE.to_owned(),
    };
    crate::bench_yards::store(&db, &records(Utc::now())).await;
    silent_gateway(&s1, "gw-old", "0190a000-0000-7000-8000-00000000beef").await;

    // A worker on each shard's first server, both delivering to one receiver.
    let (url, seen) = receiver().await;
    let mut alerts = AlertsConfig::default();
    fast(&mut alerts);
    alerts.rules.webhook_url = url;
    alerts.rules.webhook_secret = SECRET.into();
    let worker = |client: &clickhouse::Client| {
        Worker::new(client.clone(), alerts.clone(), Default::default())
            .unwrap()
            .on_cluster(CLUSTER)
    };
    let mut workers = [worker(&s1), worker(&s2)];
    assert_eq!(workers[0].round(now_ms()).await.unwrap().raised, ALERTS);

    // Listed and acknowledged through the other server; seen acknowledged through the first.
    // Replication between a shard's replicas is asynchronous: a read through the other server
    // may go to the replica that has not fetched the alerts yet, for a moment.
    let (web1, web2) = (site(&s1), site(&s2));
    let count = |web: &axum::Router| {
        let web = web.clone();
        async move { by_rule(&web).await.values().map(Vec::len).sum::<usize>() }
    };
    assert!(
        testkit::wait_until(Duration::from_secs(10), || async {
            count(&web2).await == ALERTS
        })
        .await
    );
    let rules = by_rule(&web2).await;
    let pulled = rules["pulled_twice"][0]["alert_id"].as_str().unwrap();
    let auth = format!("Bearer {TOKEN}");
    let form = [
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let ack = |web: axum::Router, id: String| async move {
        let path = format!("/api/feedlots/{YARD}/alerts/ack");
        send(&web, "POST", &path, &form, &format!("alert_id={id}")).await
    };
    assert_eq!(ack(web2.clone(), pulled.to_owned()).await.status, 200);
    let acked_through = |web: &axum::Router, rule: &'static str| {
        let web = web.clone();
        async move { by_rule(&web).await[rule][0]["acked_by"] == "alice" }
    };
    // Inserted with a quorum of the shard's replicas, the acknowledgement is on both when the
    // request returns (ZooKeeper records its part as the table's last quorum part): every read
    // through the other server shows it at once, whichever replica it reaches.
    assert_eq!(
        quorum_parts(&s1, "alert_acks_local").await.len(),
        1,
        "the acknowledgement's insert met its quorum"
    );
    for read in 0..5 {
        assert!(
            acked_through(&web1, "pulled_twice").await,
            "read {read} through ch-s1r1 right after the acknowledgement"
        );
    }

    // The claim's quorum reaches the shard's replicas through the Distributed table: a quorum
    // of 3 on 2 replicas is refused.
    let refused = s1
        .query(
            "INSERT INTO alert_delivery_claims (feedlot_id, alert_id, channel, target, attempt, \
             replica, claimed_at_ms) VALUES (?, 'x', 'probe', '', 1, 'probe', 0)",
        )
        .bind(YARD)
        .with_setting("insert_distributed_sync", "1")
        .with_setting("insert_quorum", "3")
        .execute()
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("quorum"), "{refused}");

    // Both workers deliver: each alert accepted once (its first call answered 500, then 200).
    deliver(&mut workers, &seen, ALERTS).await;
    accepted_once(&seen, ALERTS);
    for (id, calls) in &seen.lock().unwrap().calls {
        assert_eq!(*calls, 2, "alert {id}: a 500, then a 200");
    }

    old_fact_changes_are_dropped_on_every_server(&cluster, &s1).await;

    // Kill the second server of the yard's shard: no client talks to it, but the Distributed
    // tables wrote to it and the claims' quorum needs it.
    let mut yard_shard = None;
    for (shard, client) in [(1, &s1), (2, &s2)] {
        let n: u64 = client
            .query("SELECT count() FROM alerts_local WHERE feedlot_id = ?")
            .bind(YARD)
            .fetch_one()
            .await
            .unwrap();
        if n > 0 {
            yard_shard = Some(shard);
        }
    }
    let down = format!("ch-s{}r2", yard_shard.unwrap());
    cluster.part("kill", &down).await.unwrap();

    // Still listed (with the acknowledgement) and acknowledged through either server.
    let rules = by_rule(&web1).await;
    assert_eq!(rules.values().map(Vec::len).sum::<usize>(), ALERTS);
    assert_eq!(rules["pulled_twice"][0]["acked_by"], "alice");
    let off_feed = rules["off_feed"][0]["alert_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ack(web2.clone(), off_feed).await.status, 200);
    assert!(acked_through(&web1, "off_feed").await);

    // A new alert (another silent gateway) is raised and delivered once, by either worker.
    silent_gateway(&s2, "gw-older", "0190a000-0000-7000-8000-00000000bee2").await;
    deliver(&mut workers, &seen, ALERTS + 1).await;
    accepted_once(&seen, ALERTS + 1);
    let rules = by_rule(&web2).await;
    assert_eq!(rules["gateway_silent"].len(), 2, "{rules:?}");
}
