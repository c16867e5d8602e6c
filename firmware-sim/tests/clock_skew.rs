//! Devices whose own clock is wrong, end to end through the real gateway to Kafka.
//!
//! - Serial: an RFID reader that dates its lines with a skewed clock (days ahead, a year
//!   behind, reset to 1970) over a pseudo-terminal. The gateway stamps `captured_at` with its
//!   own UTC clock when a line arrives, so tag reads and weighings carry the true time.
//! - MQTT: feed trucks whose `recorded_at` comes from their own clock. A small drift is kept
//!   as the device's time (re-sends must carry the same time to deduplicate); a clock too far
//!   ahead or reset to 1970 is refused with the reason, and nothing of it reaches Kafka.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use edge::config::{DeviceConfig, DeviceRole};
use firmware_sim::devices::faults::DeviceClock;
use firmware_sim::devices::rfid::{ReaderFormat, TagRepeats, send_tag_read_on};
use firmware_sim::devices::scale::{WeighingPhases, stream_readings, weighing_readings};
use firmware_sim::devices::truck::{TruckSetup, finishing_day, records_on, run_truck};
use firmware_sim::port::open_port;
use rand::SeedableRng;
use schemas::{Eid, Event, Weight};
use support::{envelopes_on_kafka, gateway};
use tokio_util::sync::CancellationToken;

/// One animal through the chute: when its tag went out and when its stable weight had been sent.
struct Presented {
    eid: Eid,
    sent_from: DateTime<Utc>,
    sent_until: DateTime<Utc>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_dating_its_lines_with_a_wrong_clock_does_not_move_the_capture_times() {
    let broker = testkit::Tansu::start().await.unwrap();
    let (reader_cable, scale_cable) = (
        testkit::PtyPair::new().await.unwrap(),
        testkit::PtyPair::new().await.unwrap(),
    );
    let (data, shutdown) = (tempfile::tempdir().unwrap(), CancellationToken::new());
    let devices = vec![
        DeviceConfig::new("rfid-1", &reader_cable.host_end, DeviceRole::Rfid),
        DeviceConfig::new("scale-1", &scale_cable.host_end, DeviceRole::Scale),
    ];
    let gateway = gateway("yard-skew-serial", &broker, devices, None, &data, &shutdown).await;
    let mut reader = open_port(&reader_cable.device_end, 9600).unwrap();
    let mut scale = open_port(&scale_cable.device_end, 9600).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let clocks = [
        DeviceClock::skewed(TimeDelta::days(3)),
        DeviceClock::skewed(TimeDelta::days(-400) + TimeDelta::minutes(17)),
        DeviceClock::reset_to(DateTime::<Utc>::UNIX_EPOCH),
    ];
    let tags = ["982000001088420", "840003123456789", "124000000000777"];
    let repeats = TagRepeats {
        count: 3,
        interval: Duration::from_millis(40),
    };
    let phases = WeighingPhases {
        motion_lines: 4,
        stable_lines: 4,
        empty_lines: 4,
    };
    let mut presented = Vec::new();
    for (i, (clock, tag)) in clocks.into_iter().zip(tags).enumerate() {
        let eid = Eid::parse(tag).unwrap();
        let sent_from = Utc::now();
        send_tag_read_on(&mut reader, ReaderFormat::StxDateTime, &eid, repeats, clock)
            .await
            .unwrap();
        let weight = Weight::from_lb(1000.0 + 100.0 * i as f64);
        let readings = weighing_readings(weight, 1.0, phases);
        stream_readings(&mut scale, &readings, Duration::from_millis(20))
            .await
            .unwrap();
        presented.push(Presented {
            eid,
            sent_from,
            sent_until: Utc::now(),
        });
    }

    // A tag read and a weighing per animal, each captured while that animal was in the chute.
    let envelopes = envelopes_on_kafka(&broker.bootstrap, 2 * presented.len()).await;
    let mut per_tag: BTreeMap<String, Vec<(&str, DateTime<Utc>)>> = BTreeMap::new();
    for e in &envelopes {
        let (kind, eid) = match &e.event {
            Event::TagRead(t) => ("tag_read", t.eid.to_string()),
            Event::Weighing(w) => ("weighing", w.eid.to_string()),
            other => panic!("unexpected event {other:?}"),
        };
        per_tag.entry(eid).or_default().push((kind, e.captured_at));
    }
    for p in &presented {
        let events = &per_tag[p.eid.as_str()];
        let mut kinds: Vec<&str> = events.iter().map(|(k, _)| *k).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["tag_read", "weighing"], "{}", p.eid);
        for (kind, at) in events {
            assert!(
                p.sent_from <= *at && *at <= p.sent_until + TimeDelta::seconds(1),
                "{} {kind} captured at {at}, but presented between {} and {}",
                p.eid,
                p.sent_from,
                p.sent_until
            );
        }
    }
    shutdown.cancel();
    gateway.wait().await.unwrap();
}

fn truck(id: &str, port: u16) -> TruckSetup {
    TruckSetup {
        feedlot_id: "yard-skew-mqtt".into(),
        truck_id: id.into(),
        host: "127.0.0.1".into(),
        port,
        credentials: Some((id.into(), format!("pw-{id}"))),
        operator: "sam".into(),
        resend_after: Duration::from_secs(3),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn truck_records_from_a_clock_too_far_off_are_refused_with_the_reason_and_small_drift_is_kept()
 {
    let broker = testkit::Tansu::start().await.unwrap();
    let (data, shutdown) = (tempfile::tempdir().unwrap(), CancellationToken::new());
    let port = testkit::free_port().unwrap();
    let gateway = gateway(
        "yard-skew-mqtt",
        &broker,
        Vec::new(),
        Some(port),
        &data,
        &shutdown,
    )
    .await;

    // (truck, its clock, refusal expected: a phrase of the reason)
    let fleet = [
        ("T1", DeviceClock::exact(), None),
        ("T2", DeviceClock::skewed(TimeDelta::seconds(120)), None),
        (
            "T3",
            DeviceClock::skewed(TimeDelta::hours(2)),
            Some("ahead of the gateway's clock"),
        ),
        (
            "T4",
            DeviceClock::reset_to(DateTime::<Utc>::UNIX_EPOCH),
            Some("behind the gateway's clock"),
        ),
    ];
    let mut accepted: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for (i, (id, clock, refusal)) in fleet.into_iter().enumerate() {
        let setup = truck(id, port);
        let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
        let day = records_on(&finishing_day(2, 20), &setup, &mut rng, clock);
        assert_eq!(day.len(), 3, "a load and two deliveries");
        let report = run_truck(&setup, day.clone(), Duration::from_secs(30))
            .await
            .unwrap();
        match refusal {
            None => {
                assert_eq!(report.captured.len(), 3, "{id}: {report:?}");
                assert!(report.rejected.is_empty(), "{id}: {report:?}");
                for (_, body) in &day {
                    let at = body["recorded_at"].as_str().unwrap().parse().unwrap();
                    accepted.insert(body["event_id"].as_str().unwrap().to_owned(), at);
                }
            }
            Some(phrase) => {
                assert!(report.captured.is_empty(), "{id}: {report:?}");
                assert_eq!(report.rejected.len(), 3, "{id}: {report:?}");
                for (_, reason) in &report.rejected {
                    assert!(
                        reason.contains(phrase) && reason.contains("check the device's clock"),
                        "{id}: {reason}"
                    );
                }
            }
        }
    }

    // Exactly the accepted records reach Kafka, each with the truck's own time, unchanged.
    let envelopes = envelopes_on_kafka(&broker.bootstrap, accepted.len()).await;
    let on_kafka: BTreeMap<String, DateTime<Utc>> = envelopes
        .iter()
        .map(|e| (e.event_id.to_string(), e.captured_at))
        .collect();
    assert_eq!(envelopes.len(), 6, "T1's and T2's records, once each");
    assert_eq!(on_kafka, accepted);
    let drifted = envelopes
        .iter()
        .filter(|e| e.device_id == "truck-T2")
        .count();
    assert_eq!(drifted, 3, "the two-minutes-ahead truck's records are kept");
    shutdown.cancel();
    gateway.wait().await.unwrap();
}
