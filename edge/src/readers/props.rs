//! Property tests of the line framer and the RFID and scale line parsers: no input makes them
//! panic, and valid lines generated from a value parse back to that value.

use proptest::prelude::*;
use schemas::{Eid, GrossNet, Weight, WeightUnit};

use super::framing::{Frame, LineFramer, MAX_LINE_BYTES};
use super::rfid::{RfidParser, canonical_eid};
use super::scale::{ScaleFormat, ScaleStatus};

/// Every frame the framer yields for `chunks` fed one after the other, then end of stream.
fn frames(chunks: &[Vec<u8>]) -> Vec<Frame> {
    let mut framer = LineFramer::new();
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(framer.push(chunk));
    }
    out.extend(framer.flush());
    out
}

/// How a device ends (and maybe starts) a line: the framings the framer must undo.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Cr,
    Lf,
    CrLf,
    /// `STX line ETX`.
    StxEtx,
    /// `STX line CR LF` (Rice Lake).
    StxCrLf,
    /// `STX line ETX CR LF`.
    StxEtxCrLf,
}

const FRAMINGS: [Framing; 6] = [
    Framing::Cr,
    Framing::Lf,
    Framing::CrLf,
    Framing::StxEtx,
    Framing::StxCrLf,
    Framing::StxEtxCrLf,
];

impl Framing {
    fn encode(self, line: &str, stream: &mut Vec<u8>) {
        let (start, end): (&[u8], &[u8]) = match self {
            Self::Cr => (b"", b"\r"),
            Self::Lf => (b"", b"\n"),
            Self::CrLf => (b"", b"\r\n"),
            Self::StxEtx => (b"\x02", b"\x03"),
            Self::StxCrLf => (b"\x02", b"\r\n"),
            Self::StxEtxCrLf => (b"\x02", b"\x03\r\n"),
        };
        stream.extend_from_slice(start);
        stream.extend_from_slice(line.as_bytes());
        stream.extend_from_slice(end);
    }
}

/// `stream` cut at `cuts` (positions taken modulo its length), as reads deliver it.
fn chunked(stream: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
    at.push(0);
    at.push(stream.len());
    at.sort_unstable();
    at.windows(2).map(|w| stream[w[0]..w[1]].to_vec()).collect()
}

/// Lines as devices send them: printable text (spaces included, even leading and trailing) and
/// a few non-ASCII characters, never a break byte.
const LINE_TEXT: &str = "[ -~°µé]{1,80}";

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
    fn lines_in_every_framing_chunked_at_random_come_back_exactly(
        lines in prop::collection::vec(LINE_TEXT, 1..12),
        framing in prop::sample::select(FRAMINGS.to_vec()),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let mut stream = Vec::new();
        for line in &lines {
            framing.encode(line, &mut stream);
        }
        let got = frames(&chunked(&stream, &cuts));
        let want: Vec<Frame> = lines.iter().map(|l| Frame::Line(l.clone())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn lines_in_mixed_framings_chunked_at_random_come_back_exactly(
        lines in prop::collection::vec((LINE_TEXT, prop::sample::select(FRAMINGS.to_vec())), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let mut stream = Vec::new();
        for (line, framing) in &lines {
            framing.encode(line, &mut stream);
        }
        let got = frames(&chunked(&stream, &cuts));
        let want: Vec<Frame> = lines.iter().map(|(l, _)| Frame::Line(l.clone())).collect();
        prop_assert_eq!(got, want);
    }

    /// Some lines arrive without their terminator and end by the idle gap (a flush): every
    /// line still comes back on its own, none glued to the next.
    #[test]
    fn lines_ended_by_an_idle_gap_are_never_glued_to_the_next(
        lines in prop::collection::vec(
            (LINE_TEXT, prop::option::of(prop::sample::select(FRAMINGS.to_vec())), prop::collection::vec(any::<prop::sample::Index>(), 0..4)),
            1..12,
        ),
    ) {
        let mut framer = LineFramer::new();
        let mut got = Vec::new();
        for (line, framing, cuts) in &lines {
            let mut bytes = Vec::new();
            match framing {
                Some(framing) => framing.encode(line, &mut bytes),
                None => bytes.extend_from_slice(line.as_bytes()),
            }
            for chunk in chunked(&bytes, cuts) {
                got.extend(framer.push(&chunk));
            }
            if framing.is_none() {
                // The device goes quiet for the idle gap.
                got.extend(framer.flush());
            }
        }
        got.extend(framer.flush());
        let want: Vec<Frame> = lines.iter().map(|(l, _, _)| Frame::Line(l.clone())).collect();
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
    fn a_tag_in_every_builtin_shape_has_one_form_however_it_is_spaced(
        code in prop::sample::select(CODES.to_vec()),
        national in 0u64..1_000_000_000_000,
        sep in "[ \t-]{0,4}",
        shape in 0usize..5,
    ) {
        let eid = format!("{code:03}{national:012}");
        let (c, n) = (&eid[..3], &eid[3..]);
        let line = match shape {
            0 => format!("LA {c}{sep}{n}"),
            1 => format!("{c}{sep}{n}"),
            2 => format!("{c}{sep}{n} 2024-03-05 10:15:22"),
            3 => format!("R1,{c}{sep}{n},HDX"),
            _ => format!("\u{2}{c}{sep}{n}\u{3}"),
        };
        let got = RfidParser::builtin().parse(&line);
        prop_assert_eq!(got.as_ref().map(|e| e.as_str()), Ok(eid.as_str()), "{:?}", line);
    }

    #[test]
    fn whitespace_and_dashes_anywhere_in_a_captured_tag_give_its_fifteen_digits(
        code in prop::sample::select(CODES.to_vec()),
        national in 0u64..1_000_000_000_000,
        seps in prop::collection::vec("[ \t\u{a0}-]{0,2}", 16),
    ) {
        let eid = format!("{code:03}{national:012}");
        let mut spaced = seps[15].clone();
        for (digit, sep) in eid.chars().zip(&seps) {
            spaced.push(digit);
            spaced.push_str(sep);
        }
        prop_assert_eq!(canonical_eid(&spaced), Eid::parse(&eid));
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
