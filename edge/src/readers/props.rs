//! Property tests of the line framer and the RFID and scale line parsers: no input makes them
//! panic, and valid lines generated from a value parse back to that value.

use bytes::BytesMut;
use proptest::prelude::*;
use schemas::{Eid, GrossNet, Weight, WeightUnit};
use tokio_util::codec::Decoder;

use super::line::{Frame, LineCodec, MAX_LINE_BYTES};
use super::rfid::RfidParser;
use super::scale::{ScaleFormat, ScaleStatus};

/// Every frame the codec yields for `chunks` fed one after the other, then end of stream.
fn frames(chunks: &[Vec<u8>]) -> Vec<Frame> {
    let mut codec = LineCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            out.push(frame);
        }
    }
    while let Some(frame) = codec.decode_eof(&mut buf).unwrap() {
        out.push(frame);
    }
    out
}

/// Codes the reader families print: countries and manufacturers.
const CODES: [u16; 8] = [840, 124, 554, 32, 982, 985, 981, 276];

/// A decimal weight with one decimal at most, as an indicator prints it.
fn weight_text(tenths: u32, decimal: bool) -> (String, f64) {
    if decimal {
        (
            format!("{}.{}", tenths / 10, tenths % 10),
            f64::from(tenths) / 10.0,
        )
    } else {
        (tenths.to_string(), f64::from(tenths))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_framer_never_panics_and_never_yields_a_line_with_a_break_or_past_the_limit(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..1500), 0..6)
    ) {
        for frame in frames(&chunks) {
            if let Frame::Line(line) = frame {
                prop_assert!(!line.is_empty());
                prop_assert!(line.len() <= MAX_LINE_BYTES);
                prop_assert!(!line.bytes().any(|b| matches!(b, 0x02 | 0x03 | b'\r' | b'\n')));
            }
        }
    }

    #[test]
    fn lines_with_any_framing_split_anywhere_come_back_exactly(
        lines in prop::collection::vec("[ -~]{1,60}", 1..8),
        ends in prop::collection::vec(prop::sample::select(vec!["\r\n", "\r", "\n", "\u{3}\r\n"]), 8),
        stx in any::<bool>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut stream = Vec::new();
        for (line, end) in lines.iter().zip(ends.iter().cycle()) {
            if stx {
                stream.push(0x02);
            }
            stream.extend_from_slice(line.as_bytes());
            stream.extend_from_slice(end.as_bytes());
        }
        let at = cut.index(stream.len() + 1);
        let got = frames(&[stream[..at].to_vec(), stream[at..].to_vec()]);
        let want: Vec<Frame> = lines.iter().map(|l| Frame::Line(l.clone())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn the_rfid_table_never_panics(line in any::<String>()) {
        let _ = RfidParser::builtin().parse(&line);
    }

    #[test]
    fn a_valid_tag_in_every_builtin_shape_parses_to_that_tag(
        code in prop::sample::select(CODES.to_vec()),
        national in 0u64..1_000_000_000_000,
        shape in 0usize..6,
        stx in any::<bool>(),
    ) {
        let eid = format!("{code:03}{national:012}");
        let (c, n) = (&eid[..3], &eid[3..]);
        let line = match shape {
            0 => format!("LA {c} {n}"),
            1 => format!("A {eid}"),
            2 => eid.clone(),
            3 => format!("{c}-{n}"),
            4 => format!("{c} {n} 2024-03-05 10:15:22"),
            _ => format!("R1,{eid},HDX"),
        };
        let line = if stx { format!("\u{2}{line}\u{3}") } else { line };
        prop_assert_eq!(RfidParser::builtin().parse(&line).unwrap(), Eid::parse(&eid).unwrap());
    }

    #[test]
    fn no_scale_format_panics(line in any::<String>()) {
        for (_, format) in ScaleFormat::ALL {
            let _ = format.parse(&line);
        }
    }

    #[test]
    fn a_rice_lake_frame_parses_to_its_weight_and_status(
        tenths in 0u32..1_000_000,
        decimal in any::<bool>(),
        negative in any::<bool>(),
        kg in any::<bool>(),
        net in any::<bool>(),
        status in prop::sample::select(vec![' ', 'M', 'Z', 'I']),
    ) {
        let (text, value) = weight_text(tenths, decimal);
        let line = format!(
            "\u{2}{}{text:>7}{}{}{status}",
            if negative { '-' } else { ' ' },
            if kg { 'K' } else { 'L' },
            if net { 'N' } else { 'G' },
        );
        let r = ScaleFormat::RiceLake.parse(&line).unwrap().unwrap();
        let unit = if kg { WeightUnit::Kg } else { WeightUnit::Lb };
        let value = if negative { -value } else { value };
        prop_assert_eq!(r.weight, Some(Weight { value, unit }));
        prop_assert_eq!(r.gross_net, Some(if net { GrossNet::Net } else { GrossNet::Gross }));
        prop_assert_eq!(r.stable_weight().is_some(), status == ' ');
    }

    #[test]
    fn an_sma_response_parses_to_its_weight_and_status(
        tenths in 0u32..100_000_000,
        decimal in any::<bool>(),
        negative in any::<bool>(),
        kg in any::<bool>(),
        motion in any::<bool>(),
        range in 1u8..=8,
    ) {
        let (text, value) = weight_text(tenths, decimal);
        let text = if negative { format!("-{text}") } else { text };
        // <LF> status, range, gross/net, motion, reserved, weight (10), unit (3) <CR>
        let line = format!(
            "\n {range}{}{} {text:>10}{}\r",
            if kg { 'N' } else { 'G' },
            if motion { 'M' } else { ' ' },
            if kg { "kg " } else { "lb " },
        );
        let r = ScaleFormat::Sma.parse(&line).unwrap().unwrap();
        let unit = if kg { WeightUnit::Kg } else { WeightUnit::Lb };
        let value = if negative { -value } else { value };
        prop_assert_eq!(r.weight, Some(Weight { value, unit }));
        let status = if motion { ScaleStatus::Motion } else { ScaleStatus::Stable };
        prop_assert_eq!(r.status, status);
    }

    #[test]
    fn a_tru_test_answer_parses_to_its_weight(
        tenths in 0u32..10_000_000,
        decimal in any::<bool>(),
        code in prop::sample::select(vec!["WS", "WL", "WR"]),
        with_id in any::<bool>(),
    ) {
        let (text, value) = weight_text(tenths, decimal);
        let id = if with_id { "ID982000123456789," } else { "" };
        let r = ScaleFormat::TruTest.parse(&format!("[{id}{code}{text}]")).unwrap().unwrap();
        prop_assert_eq!(r.weight, Some(Weight::from_kg(value)));
        prop_assert_eq!(r.stable_weight().is_some(), code != "WL");
    }
}
