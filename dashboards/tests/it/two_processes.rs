//! The two roles as two real processes, `ingest consume` and `dashboards serve`, over real tansu
//! and ClickHouse: events produced to Kafka appear on the dashboards' JSON API; SIGKILLing the
//! dashboards does not stop ingestion, and SIGKILLing the consumer does not stop the pages.
//! The facts and alerts workers also run as processes of their own (`dashboards facts-worker`,
//! `dashboards alerts-worker`), each with its `/metrics` and `/healthz` on `web.ops_listen`.
//!
//! The `ingest` binary is another package's, so Cargo builds it for this test only under
//! `cargo test --workspace` (as CI runs it): it is `INGEST_BIN` when set, else the one beside
//! the `dashboards` binary. Building it here with `cargo build -p ingest` would resolve other
//! features and compile a second copy of its dependencies (CI once ran out of disk doing so).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use testkit::metrics::sample_sum;

use crate::metrics::scrape;
use crate::support::*;

const YARD: &str = "yard-2p";
const EID: &str = "982000000000246";

/// The `ingest` binary (see the module docs).
fn ingest_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("INGEST_BIN") {
        return bin.into();
    }
    let dashboards = Path::new(env!("CARGO_BIN_EXE_dashboards"));
    let path = dashboards.with_file_name(format!("ingest{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it; alone: cargo build -p ingest",
        path.display()
    );
    path
}

/// Runs `bin --config <dir>/<name>.toml <command>` with `config` in that file; its log goes
/// to `dir/<name>.log`.
fn spawn(bin: &Path, command: &str, config: &str, dir: &Path, name: &str) -> Child {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    Command::new(bin)
        .arg("--config")
        .arg(&path)
        .arg(command)
        .env("RUST_LOG", "info")
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

async fn healthy(listen: &str) -> bool {
    reqwest::get(format!("http://{listen}/healthz"))
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn wait_healthy(listen: &str, what: &str, dir: &Path) {
    let up = testkit::wait_until(Duration::from_secs(90), || healthy(listen)).await;
    let log = std::fs::read_to_string(dir.join(format!("{what}.log"))).unwrap_or_default();
    assert!(up, "{what} did not answer on {listen}:\n{log}");
}

/// The animal's weighings as the dashboards' JSON API shows them (0 when it does not answer).
async fn weighings_shown(web: &str) -> usize {
    let Ok(response) = authed()
        .get(format!("http://{web}/api/feedlots/{YARD}/animals/{EID}"))
        .send()
        .await
    else {
        return 0;
    };
    if !response.status().is_success() {
        return 0;
    }
    let report: serde_json::Value = response.json().await.unwrap_or_default();
    report["weighings"].as_array().map_or(0, Vec::len)
}

async fn send_weighings(p: &Pipeline, days: &[u32]) {
    let events: Vec<_> = days
        .iter()
        .map(|&d| weighing(YARD, EID, 350.0 + f64::from(d), d))
        .collect();
    let messages = signed(p, &events).await;
    produce(&p.broker.bootstrap, &messages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_and_the_pages_are_two_processes_and_each_survives_the_others_death() {
    let ingest_bin = ingest_binary();
    let dashboards_bin = Path::new(env!("CARGO_BIN_EXE_dashboards"));
    let mut p = pipeline("two_processes").await;
    allow(&mut p.config, &[YARD]);
    // One consumer at a time: a restarted one gets the partitions once the killed one's
    // session is over (as in ingest/tests/faults.rs).
    p.consumer.kafka.session_timeout_ms = 2000;
    let dir = tempfile::tempdir().unwrap();
    let consumer_toml = toml::to_string(&p.consumer).unwrap();
    let pages_toml = toml::to_string(&p.config).unwrap();
    let (ops, web) = (p.consumer.ops.listen.clone(), p.config.web.listen.clone());

    // The pages start first: they never migrate, they wait for the schema and say so.
    let mut pages = spawn(
        dashboards_bin,
        "serve",
        &pages_toml,
        dir.path(),
        "dashboards",
    );
    let log_path = dir.path().join("dashboards.log");
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains("waiting for"))
        })
        .await,
        "dashboards log why they wait"
    );
    assert!(!healthy(&web).await, "no pages before the schema");
    let mut consumer = spawn(&ingest_bin, "consume", &consumer_toml, dir.path(), "ingest");
    wait_healthy(&ops, "ingest", dir.path()).await;
    wait_healthy(&web, "dashboards", dir.path()).await;

    // Produced to Kafka, shown by the other process.
    send_weighings(&p, &[1, 11]).await;
    assert!(
        testkit::wait_until(Duration::from_secs(60), || async {
            weighings_shown(&web).await == 2
        })
        .await,
        "the events reach the dashboards' API"
    );
    let report: serde_json::Value = authed()
        .get(format!("http://{web}/api/feedlots/{YARD}/animals/{EID}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["gain_kg"].as_f64().unwrap(), 10.0);

    // SIGKILL the dashboards: ingestion goes on.
    kill(&mut pages).await;
    send_weighings(&p, &[21]).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 3).await, 3);
    assert!(healthy(&ops).await, "the consumer is untouched");

    // The pages back, the consumer SIGKILLed: the pages keep answering what is stored.
    let mut pages = spawn(
        dashboards_bin,
        "serve",
        &pages_toml,
        dir.path(),
        "dashboards",
    );
    wait_healthy(&web, "dashboards", dir.path()).await;
    kill(&mut consumer).await;
    send_weighings(&p, &[25]).await;
    for _ in 0..3 {
        assert_eq!(
            weighings_shown(&web).await,
            3,
            "the web answers without a consumer"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(count(&p.db, "SELECT count() FROM weighings FINAL").await, 3);

    // The consumer back: what was produced meanwhile lands, and the pages show it.
    let _consumer = spawn(&ingest_bin, "consume", &consumer_toml, dir.path(), "ingest");
    let landed = testkit::wait_until(Duration::from_secs(90), || async {
        weighings_shown(&web).await == 4
    })
    .await;
    let stored = count(&p.db, "SELECT count() FROM weighings FINAL").await;
    let log = std::fs::read_to_string(dir.path().join("ingest.log")).unwrap_or_default();
    assert!(
        landed,
        "events produced while the consumer was down land once it is back \
         (stored {stored}, shown {}):\n{log}",
        weighings_shown(&web).await
    );
    assert_eq!(stored, 4);
    kill(&mut pages).await;
}

/// SIGTERM (what Kubernetes sends), then the exit status within 20 s.
async fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -TERM {pid}");
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the worker stops within 20 s of SIGTERM")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_facts_and_alerts_workers_run_alone_and_serve_their_own_metrics() {
    let dashboards_bin = Path::new(env!("CARGO_BIN_EXE_dashboards"));
    let mut p = pipeline("workers_alone").await;
    p.config.alerts.interval_ms = 200;
    let dir = tempfile::tempdir().unwrap();
    let facts_ops = p.config.web.ops_listen.clone();
    let mut alerts_config = p.config.clone();
    alerts_config.web.ops_listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let alerts_ops = alerts_config.web.ops_listen.clone();
    let mut facts = spawn(
        dashboards_bin,
        "facts-worker",
        &toml::to_string(&p.config).unwrap(),
        dir.path(),
        "facts",
    );
    let mut alerts = spawn(
        dashboards_bin,
        "alerts-worker",
        &toml::to_string(&alerts_config).unwrap(),
        dir.path(),
        "alerts",
    );
    // The workers wait for the schema, which the consumer applies as it starts.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let consumer = tokio::spawn(ingest::run_consumer(p.consumer.clone(), shutdown.clone()));
    wait_healthy(&facts_ops, "facts", dir.path()).await;
    wait_healthy(&alerts_ops, "alerts", dir.path()).await;

    send_weighings(&p, &[1, 11]).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 2).await, 2);
    // The facts worker alone folds the yard's records into its facts, and its own /metrics
    // says so: a recompute made and nothing left waiting.
    let folded = testkit::wait_until(Duration::from_secs(60), || async {
        let text = scrape(&facts_ops).await.1;
        text.contains("dashboards_facts_recomputed_total{outcome=\"made\"}")
            && sample_sum(&text, "dashboards_facts_lag_seconds") == Some(0.0)
    })
    .await;
    let log = std::fs::read_to_string(dir.path().join("facts.log")).unwrap_or_default();
    assert!(folded, "{}\n{log}", scrape(&facts_ops).await.1);
    let sql = format!("SELECT count() FROM animal_facts FINAL WHERE feedlot_id = '{YARD}'");
    assert_eq!(count(&p.db, &sql).await, 1, "the animal's facts");

    // The alerts worker completes rounds and says when on its /metrics; the facts worker
    // runs none.
    let rounds = testkit::wait_until(Duration::from_secs(30), || async {
        let text = scrape(&alerts_ops).await.1;
        sample_sum(&text, "dashboards_alerts_last_round_timestamp_seconds")
            .is_some_and(|at| at > 0.0)
    })
    .await;
    let log = std::fs::read_to_string(dir.path().join("alerts.log")).unwrap_or_default();
    assert!(rounds, "{}\n{log}", scrape(&alerts_ops).await.1);
    let text = scrape(&facts_ops).await.1;
    assert_eq!(
        sample_sum(&text, "dashboards_alerts_last_round_timestamp_seconds"),
        Some(0.0),
        "{text}"
    );
    assert!(
        !scrape(&alerts_ops)
            .await
            .1
            .contains("dashboards_facts_recomputed_total{outcome=\"made\"}"),
        "the alerts worker recomputes no facts"
    );

    // SIGTERM: each stops cleanly.
    assert!(terminate(&mut facts).await.success(), "facts-worker's exit");
    assert!(
        terminate(&mut alerts).await.success(),
        "alerts-worker's exit"
    );
    assert!(!healthy(&facts_ops).await && !healthy(&alerts_ops).await);
    shutdown.cancel();
    consumer.await.unwrap().unwrap();
}
