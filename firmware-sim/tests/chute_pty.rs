//! The simulated chute over real pseudo-terminals (socat pairs opened with tokio-serial): what
//! a gateway would read at the host ends is exactly the devices' documented line formats, in
//! the order a chute produces them, and what `run_chute` reports is what was displayed.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use firmware_sim::chute::{ChuteSetup, Pacing, SentWeighing, run_chute};
use firmware_sim::devices::rfid::ReaderFormat;
use firmware_sim::herd::{Animal, arrivals};
use firmware_sim::port::open_port;
use schemas::{Eid, WeightUnit};
use tokio::io::AsyncReadExt;

/// Everything one chute run put on the wire, as read at the host ends.
struct Wire {
    sent: Vec<SentWeighing>,
    reader_lines: Vec<Vec<u8>>,
    scale_lines: Vec<Vec<u8>>,
}

/// Reads `port` until it has been quiet for `quiet`.
async fn read_until_quiet(mut port: tokio_serial::SerialStream, quiet: Duration) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(read) = tokio::time::timeout(quiet, port.read(&mut buf)).await {
        let n = read.unwrap();
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    bytes
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

async fn run_over_ptys(animals: &[Animal], setup: ChuteSetup) -> Wire {
    let reader_cable = testkit::PtyPair::new().await.unwrap();
    let scale_cable = testkit::PtyPair::new().await.unwrap();
    // The host ends are open before the devices speak, as a gateway's would be.
    let reader_host = open_port(&reader_cable.host_end, 9600).unwrap();
    let scale_host = open_port(&scale_cable.host_end, 9600).unwrap();
    let quiet = Duration::from_millis(1500);
    let reader_rx = tokio::spawn(read_until_quiet(reader_host, quiet));
    let scale_rx = tokio::spawn(read_until_quiet(scale_host, quiet));

    let mut reader = open_port(&reader_cable.device_end, 9600).unwrap();
    let mut scale = open_port(&scale_cable.device_end, 9600).unwrap();
    let sent = run_chute(&mut reader, &mut scale, animals, setup)
        .await
        .unwrap();
    Wire {
        sent,
        reader_lines: lines(&reader_rx.await.unwrap()),
        scale_lines: lines(&scale_rx.await.unwrap()),
    }
}

/// The status column (S) of a Rice Lake line, after checking the line's frame.
fn rice_lake_status(line: &[u8], unit: u8) -> u8 {
    assert_eq!(line.len(), 14, "{line:?}");
    assert_eq!(line[0], 0x02, "{line:?}");
    assert!(line[1] == b' ' || line[1] == b'-', "{line:?}");
    assert_eq!(&line[9..11], &[unit, b'G'], "{line:?}");
    assert_eq!(&line[12..], b"\r\n", "{line:?}");
    line[11]
}

/// The displayed value of a Rice Lake line.
fn rice_lake_value(line: &[u8]) -> f64 {
    std::str::from_utf8(&line[2..9])
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_gateway_reading_the_ptys_sees_repeated_allflex_tags_and_a_rice_lake_stream_per_animal() {
    let animals = arrivals(4, 21);
    let setup = ChuteSetup {
        pacing: Pacing::fast(),
        ..ChuteSetup::default()
    };
    let wire = run_over_ptys(&animals, setup).await;

    // The reader: each tag three times, byte for byte the Allflex line mode.
    let expected_tags: Vec<Vec<u8>> = animals
        .iter()
        .flat_map(|a| {
            let line = format!("LA 982 {}\r\n", a.eid.national_id()).into_bytes();
            [line.clone(), line.clone(), line]
        })
        .collect();
    assert_eq!(wire.reader_lines, expected_tags);

    // The scale: per animal, zero while the tag is read, motion, stable, motion, zero.
    let statuses: String = wire
        .scale_lines
        .iter()
        .map(|l| char::from(rice_lake_status(l, b'L')))
        .collect();
    assert_eq!(statuses, "ZZZZMMMMM    MZZZZ".repeat(4));

    // The stable lines carry exactly the weights run_chute reports, in animal order.
    let stable: Vec<f64> = wire
        .scale_lines
        .iter()
        .filter(|l| l[11] == b' ')
        .map(|l| rice_lake_value(l))
        .collect();
    let reported: Vec<f64> = wire.sent.iter().flat_map(|w| [w.weight.value; 4]).collect();
    assert_eq!(stable, reported);
    for (w, a) in wire.sent.iter().zip(&animals) {
        assert_eq!(w.eid, a.eid);
        assert_eq!(w.weight.unit, WeightUnit::Lb);
        assert!((w.weight.kg() - a.weight_kg).abs() <= 0.5, "{w:?} vs {a:?}");
        assert!(w.tag_sent_at <= w.stable_sent_at);
    }
    let zero = b"\x02       0LGZ\r\n".to_vec();
    assert_eq!(wire.scale_lines.last(), Some(&zero));
}

#[tokio::test]
async fn kilogram_indicators_and_plain_readers_come_through_the_ptys_unchanged() {
    let animals = arrivals(2, 22);
    let setup = ChuteSetup {
        reader_format: ReaderFormat::Plain,
        unit: WeightUnit::Kg,
        graduation: 0.5,
        pacing: Pacing::fast(),
        ..ChuteSetup::default()
    };
    let wire = run_over_ptys(&animals, setup).await;

    for line in &wire.reader_lines {
        let text = std::str::from_utf8(line).unwrap();
        let digits = text.strip_suffix("\r\n").unwrap();
        assert!(Eid::parse(digits).is_ok(), "{text:?}");
    }
    assert_eq!(wire.reader_lines.len(), 6);
    for (w, line) in wire.sent.iter().zip(
        wire.scale_lines
            .iter()
            .filter(|l| rice_lake_status(l, b'K') == b' ')
            .step_by(4),
    ) {
        assert_eq!(w.weight.unit, WeightUnit::Kg);
        assert_eq!((w.weight.value * 2.0).fract(), 0.0, "0.5 kg graduation");
        assert_eq!(rice_lake_value(line), w.weight.value);
    }
}
