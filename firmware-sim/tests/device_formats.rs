//! Every reader line shape and indicator protocol the simulator speaks, over pseudo-terminals
//! into a real gateway configured for that device, then to Kafka: each animal's tag read and
//! its stable weight arrive once, with the weight the indicator displayed.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

mod support;

use std::collections::BTreeMap;

use edge::config::{DeviceConfig, DeviceRole};
use firmware_sim::chute::{ChuteSetup, Pacing, run_chute};
use firmware_sim::devices::rfid::ReaderFormat;
use firmware_sim::devices::scale::IndicatorFormat;
use firmware_sim::herd::arrivals;
use firmware_sim::port::open_port;
use schemas::{Event, WeightUnit};
use support::{envelopes_on_kafka, gateway};
use tokio_util::sync::CancellationToken;

/// Passes 3 animals through a chute of `reader` and `indicator` (showing `unit`) into a
/// gateway whose devices are configured with `rfid_row` and the indicator's format name.
async fn weighs_through_the_gateway(
    test: &str,
    reader: ReaderFormat,
    rfid_row: &str,
    indicator: IndicatorFormat,
    unit: WeightUnit,
) {
    let broker = testkit::Tansu::start().await.unwrap();
    let (reader_cable, scale_cable) = (
        testkit::PtyPair::new().await.unwrap(),
        testkit::PtyPair::new().await.unwrap(),
    );
    let (data, shutdown) = (tempfile::tempdir().unwrap(), CancellationToken::new());
    let mut rfid = DeviceConfig::new("rfid-1", &reader_cable.host_end, DeviceRole::Rfid);
    rfid.format = Some(rfid_row.into());
    let mut scale = DeviceConfig::new("scale-1", &scale_cable.host_end, DeviceRole::Scale);
    scale.format = Some(indicator.gateway_name().into());
    let gw = gateway(test, &broker, vec![rfid, scale], None, &data, &shutdown).await;
    let mut reader_port = open_port(&reader_cable.device_end, 9600).unwrap();
    let mut scale_port = open_port(&scale_cable.device_end, 9600).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let herd = arrivals(3, 31);
    let setup = ChuteSetup {
        reader_format: reader,
        indicator,
        unit,
        graduation: 0.5,
        pacing: Pacing::fast(),
        ..ChuteSetup::default()
    };
    let sent = run_chute(&mut reader_port, &mut scale_port, &herd, setup)
        .await
        .unwrap();
    assert_eq!(sent.len(), 3);

    let envelopes = envelopes_on_kafka(&broker.bootstrap, 2 * sent.len()).await;
    let mut tags = BTreeMap::new();
    let mut weighings = BTreeMap::new();
    for e in &envelopes {
        match &e.event {
            Event::TagRead(t) => *tags.entry(t.eid.to_string()).or_insert(0) += 1,
            Event::Weighing(w) => {
                assert!(
                    weighings.insert(w.eid.to_string(), w.weight).is_none(),
                    "{} weighed twice",
                    w.eid
                );
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(weighings.len(), sent.len(), "{envelopes:?}");
    for s in &sent {
        assert_eq!(tags.get(s.eid.as_str()), Some(&1), "one read per animal");
        let got = weighings[s.eid.as_str()];
        assert!(
            (got.kg() - s.weight.kg()).abs() < 1e-6,
            "{}: {got:?} on Kafka, {:?} displayed",
            s.eid,
            s.weight
        );
        assert_eq!(s.weight.unit, indicator.unit(unit));
    }
    shutdown.cancel();
    gw.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_csv_reader_and_an_sma_indicator_in_lb_weigh_each_animal_once() {
    weighs_through_the_gateway(
        "yard-fmt-sma",
        ReaderFormat::Csv,
        "csv",
        IndicatorFormat::Sma,
        WeightUnit::Lb,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dated_reader_and_a_tru_test_indicator_weigh_each_animal_once_in_kg() {
    weighs_through_the_gateway(
        "yard-fmt-trutest",
        ReaderFormat::StxDateTime,
        "with_datetime",
        IndicatorFormat::TruTest,
        WeightUnit::Lb,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plain_reader_and_a_rice_lake_in_kg_weigh_each_animal_once() {
    weighs_through_the_gateway(
        "yard-fmt-ricelake",
        ReaderFormat::Plain,
        "plain",
        IndicatorFormat::RiceLake,
        WeightUnit::Kg,
    )
    .await;
}
