//! SIGTERM stops the real `edge` binary within seconds while trucks are publishing, and the
//! outbox it leaves holds every record it had confirmed or logged as captured, once.
//!
//! Kafka is unreachable on purpose, so nothing leaves the outbox: what the gateway captured is
//! exactly what the file must hold after it stopped.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use crate::process::{GatewayProcess, GatewaySetup};
use crate::trucks::{Kind, Truck};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_gateway_within_seconds_mid_traffic_and_leaves_every_capture_in_the_outbox()
 {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: every captured record stays in the outbox.
    let kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let setup = GatewaySetup::new(dir.path(), "yard-term", &kafka, "feedlot.events.v1");
    let mut gateway = GatewayProcess::start(&setup).await;

    let seed = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(1);
    let kinds = [Kind::Clean, Kind::Clean, Kind::Persistent, Kind::Dropper];
    let trucks: Vec<Truck> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| Truck::new(i, *kind, setup.feedlot_id, setup.mqtt_port, 1000, seed))
        .collect();
    let started = Instant::now();
    let fleet = tokio::spawn(crate::trucks::run_all(
        trucks,
        started + Duration::from_secs(4),
    ));
    // Traffic is flowing: wait for some captures, then stop the gateway in the middle of it.
    let flowing = testkit::wait_until(Duration::from_secs(20), || async {
        gateway.lines_with("device record captured ").len() >= 50
    })
    .await;
    assert!(flowing, "no traffic captured:\n{}", gateway.log_text());
    gateway.sigterm().await;
    let asked = Instant::now();
    let status = gateway.exit_within(Duration::from_secs(8)).await;
    let took = asked.elapsed();
    assert!(
        matches!(status, Some(s) if s.success()),
        "SIGTERM did not stop the gateway cleanly within 8 s ({status:?}):\n{}",
        gateway.log_text()
    );
    let reports = fleet.await.unwrap();

    let outbox = edge::outbox::Outbox::open(&setup.data_dir.join("outbox.redb")).unwrap();
    let mut stored: HashMap<Uuid, usize> = HashMap::new();
    for entry in outbox.peek(usize::MAX).unwrap() {
        let envelope = schemas::decode(&entry.record.payload).unwrap();
        *stored.entry(envelope.event_id).or_default() += 1;
    }
    let logged: HashSet<Uuid> = gateway
        .lines_with("device record captured ")
        .iter()
        .filter_map(|line| {
            let (_, rest) = line.split_once(" event_id=")?;
            Uuid::parse_str(rest.get(..36)?).ok()
        })
        .collect();
    let confirmed: HashSet<Uuid> = reports
        .values()
        .flat_map(|r| r.confirmed.iter().copied())
        .collect();
    println!(
        "SIGTERM took {took:?}; {} records confirmed to trucks, {} logged captured, {} in the outbox",
        confirmed.len(),
        logged.len(),
        stored.len()
    );
    let lost: Vec<_> = confirmed
        .union(&logged)
        .filter(|id| !stored.contains_key(id))
        .collect();
    assert!(
        lost.is_empty(),
        "confirmed or logged as captured, not in the outbox: {lost:?}"
    );
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    assert!(
        gateway.lines_with("gateway stopped").len() == 1,
        "no clean stop in the log:\n{}",
        gateway.log_text()
    );
}
