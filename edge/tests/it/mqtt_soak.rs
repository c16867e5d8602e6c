//! Issue 15: MQTT capture survives any client behaviour. The real `edge` binary with its
//! embedded broker takes records from many simulated trucks at once (see `trucks`): rumqttc
//! clients with clean and persistent sessions, clients that drop the TCP connection
//! mid-publish or write half a PUBLISH, and `mosquitto_pub` processes connecting for every
//! record, as in the field report where the gateway stopped capturing after 248 records.
//!
//! Verdict, independent of timing: every record is confirmed to its truck, logged as captured
//! (after its outbox commit) exactly once, and on Kafka exactly once; no answer is a refusal;
//! `/healthz` still reports the MQTT link up; SIGTERM then stops the gateway within seconds.
//! Waits are generous deadlines for things a working gateway does in milliseconds, and each
//! failure names what is missing. `EDGE_SOAK_SEED` replays a run's choices.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rdkafka::Message;
use tokio::time::Instant;
use uuid::Uuid;

use crate::process::{GatewayProcess, GatewaySetup};
use crate::trucks::{Kind, Truck};

const TOPIC: &str = "feedlot.events.v1";
/// Records per truck.
const RECORDS: usize = 50;
/// The trucks: kind and how many.
const FLEET: [(Kind, usize); 5] = [
    (Kind::Clean, 3),
    (Kind::Dropper, 3),
    (Kind::Persistent, 3),
    (Kind::MosquittoPub, 3),
    (Kind::MosquittoPubPersistent, 2),
];

/// The event id of a `device record captured … event_id=…` log line.
fn captured_id(line: &str) -> Option<Uuid> {
    if !line.contains("device record captured ") {
        return None;
    }
    let (_, rest) = line.split_once(" event_id=")?;
    Uuid::parse_str(rest.get(..36)?).ok()
}

/// Reads the topic from the start until every id in `want` arrived (or `timeout`), then one
/// quiet second more; how many times each id was seen.
async fn on_kafka(
    bootstrap: &str,
    want: &HashSet<Uuid>,
    timeout: Duration,
) -> HashMap<Uuid, usize> {
    let consumer = crate::support::reader_from_start(bootstrap, TOPIC);
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    let deadline = Instant::now() + timeout;
    loop {
        let all = want.iter().all(|id| seen.contains_key(id));
        let until = if all {
            Instant::now() + Duration::from_secs(1)
        } else {
            deadline
        };
        match tokio::time::timeout_at(until, consumer.recv()).await {
            Err(_) => return seen,
            Ok(Err(error)) => {
                eprintln!("consumer error (retrying): {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Ok(message)) => {
                let envelope = schemas::decode(message.payload().unwrap_or_default()).unwrap();
                *seen.entry(envelope.event_id).or_default() += 1;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_from_a_fleet_of_misbehaving_trucks_is_captured_once_confirmed_and_forwarded()
{
    let seed = std::env::var("EDGE_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(1));
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let setup = GatewaySetup::new(dir.path(), "yard-soak", &broker.bootstrap, TOPIC);
    let mut gateway = GatewayProcess::start(&setup).await;

    let mut trucks = Vec::new();
    for (kind, count) in FLEET {
        for _ in 0..count {
            let index = trucks.len();
            trucks.push(Truck::new(
                index,
                kind,
                setup.feedlot_id,
                setup.mqtt_port,
                RECORDS,
                seed,
            ));
        }
    }
    let started = Instant::now();
    let reports = crate::trucks::run_all(trucks, started + Duration::from_secs(40)).await;
    let trucks_took = started.elapsed();

    let mut all = HashSet::new();
    let mut problems = Vec::new();
    for report in reports.values() {
        all.extend(report.records.iter().copied());
        let unconfirmed = report.records.len() - report.confirmed.len();
        if unconfirmed > 0 {
            problems.push(format!(
                "{}: {unconfirmed} records never confirmed",
                report.name
            ));
        }
        if !report.refusals.is_empty() {
            problems.push(format!("{}: refused {:?}", report.name, report.refusals));
        }
    }
    let seen = on_kafka(&broker.bootstrap, &all, Duration::from_secs(30)).await;
    let missing: Vec<_> = all.iter().filter(|id| !seen.contains_key(id)).collect();
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let mut logged: HashMap<Uuid, usize> = HashMap::new();
    for line in gateway.lines_with("device record captured ") {
        if let Some(id) = captured_id(&line) {
            *logged.entry(id).or_default() += 1;
        }
    }
    let captured_twice: Vec<_> = logged.iter().filter(|(_, n)| **n > 1).collect();
    let health = setup.health().await;

    let totals = |f: fn(&crate::trucks::TruckReport) -> u64| reports.values().map(f).sum::<u64>();
    println!(
        "MQTT soak (seed {seed}): {} trucks, {} records in {trucks_took:?}; {} connections, {} failed/timed out, {} dropped on purpose, {} re-sends; {} distinct on Kafka; gateway logged {} re-sends answered from memory, {} 'already gone' lines from rumqttd",
        reports.len(),
        all.len(),
        totals(|r| r.connections),
        totals(|r| r.failures),
        totals(|r| r.drops),
        totals(|r| r.resends),
        seen.len(),
        gateway.lines_with("captured before").len(),
        gateway.lines_with("is already gone").len(),
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        missing.is_empty(),
        "{} of {} records never reached Kafka, e.g. {:?}",
        missing.len(),
        all.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert!(twice.is_empty(), "on Kafka more than once: {twice:?}");
    assert_eq!(logged.len(), all.len(), "records logged as captured");
    assert!(
        captured_twice.is_empty(),
        "captured more than once: {captured_twice:?}"
    );
    let (status, health) = health.expect("/healthz answers");
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["inputs"]["mqtt:embedded"]["state"], "up", "{health}");

    gateway.sigterm().await;
    let status = gateway.exit_within(Duration::from_secs(10)).await;
    assert!(
        matches!(status, Some(s) if s.success()),
        "SIGTERM did not stop the gateway cleanly within 10 s ({status:?}):\n{}",
        gateway.log_text()
    );
}
