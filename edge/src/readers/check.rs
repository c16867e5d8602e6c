//! What the gateway would capture from a device's lines, for `edge check-device` and the
//! device-format catalogue (`docs/device-formats.md`, held to the parsers by a test here).
//!
//! Bytes are framed as a serial port's are ([`LineFramer`]: CR/LF/STX/ETX end a line), each
//! line goes through the device's parser, and [`describe`] says what came out: the tag, the
//! weight (value, unit, gross/net, stable or not), nothing (a line without a weight), or the
//! refusal with its metric reason.

use schemas::WeightUnit;

use super::framing::{Frame, LineFramer};
use super::rfid::RfidParser;
use super::scale::{ScaleReading, ScaleStatus};
use super::scale_shapes::ScaleParser;
use super::{LineParser, ParseError, Reading, combined::CombinedParser};
use crate::config::{Config, ConfigError, DeviceRole};

/// The role names, for messages.
fn role_name(role: DeviceRole) -> &'static str {
    match role {
        DeviceRole::Rfid => "rfid",
        DeviceRole::Scale => "scale",
        DeviceRole::Combined => "combined",
    }
}

/// The parser a device of `role` (or, when `None`, the one role whose table has a row named
/// `format`) with `format` would use under `config`.
pub fn device_parser(
    config: &Config,
    role: Option<DeviceRole>,
    format: &str,
) -> Result<(DeviceRole, LineParser), ConfigError> {
    let rfid = RfidParser::from_config(&config.rfid)?;
    let scale = ScaleParser::from_config(&config.scale)?;
    let combined = CombinedParser::from_config(&config.combined, &config.rfid)?;
    let build = |role: DeviceRole| -> Result<LineParser, String> {
        let format = Some(format);
        Ok(match role {
            DeviceRole::Rfid => {
                LineParser::Rfid(rfid.for_format(format).map_err(|e| e.to_string())?)
            }
            DeviceRole::Scale => LineParser::Scale(scale.for_format(format)?),
            DeviceRole::Combined => {
                LineParser::Combined(combined.for_format(format).map_err(|e| e.to_string())?)
            }
        })
    };
    let invalid = |reason: String| ConfigError::invalid("format", reason);
    if let Some(role) = role {
        return build(role).map(|p| (role, p)).map_err(invalid);
    }
    let found: Vec<(DeviceRole, LineParser)> =
        [DeviceRole::Rfid, DeviceRole::Scale, DeviceRole::Combined]
            .into_iter()
            .filter_map(|role| build(role).ok().map(|p| (role, p)))
            .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(invalid(format!(
            "{format:?} is no row of the rfid, scale or combined tables"
        ))),
        _ => {
            let roles: Vec<&str> = found.iter().map(|(r, _)| role_name(*r)).collect();
            Err(invalid(format!(
                "{format:?} is a row of the {} tables: say which with --role",
                roles.join(" and ")
            )))
        }
    }
}

/// Splits bytes into lines as a serial port's are, with an idle gap at the end.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut framer = LineFramer::new();
    let mut frames = framer.push(bytes);
    frames.extend(framer.flush());
    frames
}

/// What a line gave, in words: `tag 982000001088420`, `weight 1234 lb, gross, stable`,
/// `no reading`, or `refused (reason): message`.
pub fn describe(result: &Result<Option<Reading>, ParseError>) -> String {
    match result {
        Ok(Some(Reading::Tag(eid))) => format!("tag {eid}"),
        Ok(Some(Reading::Weight(w))) => describe_weight(w),
        Ok(Some(Reading::TagAndWeight(eid, w))) => format!("tag {eid}, {}", describe_weight(w)),
        Ok(None) => "no reading".into(),
        Err(e) => format!("refused ({}): {e}", e.reason()),
    }
}

fn describe_weight(reading: &ScaleReading) -> String {
    let mut text = match reading.weight {
        Some(w) => format!(
            "weight {} {}",
            w.value,
            match w.unit {
                WeightUnit::Kg => "kg",
                WeightUnit::Lb => "lb",
            }
        ),
        None => "no weight shown".into(),
    };
    match reading.gross_net {
        Some(schemas::GrossNet::Gross) => text += ", gross",
        Some(schemas::GrossNet::Net) => text += ", net",
        None => {}
    }
    text += match reading.status {
        ScaleStatus::Stable => ", stable",
        ScaleStatus::Motion => ", motion",
        ScaleStatus::OutOfRange => ", out of range",
        ScaleStatus::Invalid => ", invalid",
        ScaleStatus::CenterOfZero => ", centre of zero",
    };
    text
}

/// One line of `check-device` output per framed line: the line as received, escaped, and what
/// it gave.
pub fn check_lines(parser: &LineParser, bytes: &[u8]) -> Vec<String> {
    frames(bytes)
        .into_iter()
        .map(|frame| match frame {
            Frame::Line(line) => format!("{line:?} => {}", describe(&parser.parse(&line))),
            Frame::Invalid(e) => format!("(not a line) => {}", describe(&Err(e.into()))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: &str = include_str!("../../../docs/device-formats.md");

    /// `<STX>`, `<ETX>`, `<CR>`, `<LF>` as the bytes they name.
    fn bytes_of(sample: &str) -> Vec<u8> {
        sample
            .replace("<STX>", "\u{2}")
            .replace("<ETX>", "\u{3}")
            .replace("<CR>", "\r")
            .replace("<LF>", "\n")
            .into_bytes()
    }

    #[test]
    fn every_sample_in_the_device_format_catalogue_gives_its_documented_reading() {
        let config = Config::default();
        let mut rows = 0;
        let mut documented = std::collections::HashSet::new();
        for line in CATALOGUE.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, role, format, sample, reading, _] = cells[..] else {
                continue;
            };
            let role = match role {
                "rfid" => DeviceRole::Rfid,
                "scale" => DeviceRole::Scale,
                "combined" => DeviceRole::Combined,
                _ => continue,
            };
            let (format, sample, reading) = (
                format.trim_matches('`'),
                sample.trim_matches('`'),
                reading.trim_matches('`'),
            );
            let (_, parser) = device_parser(&config, Some(role), format).unwrap();
            let got = check_lines(&parser, &bytes_of(sample));
            assert_eq!(
                got.len(),
                1,
                "{format}: {sample:?} is not one line: {got:?}"
            );
            let got = got[0]
                .split_once(" => ")
                .map(|(_, r)| r)
                .unwrap_or_default();
            assert_eq!(
                got,
                reading,
                "{role_name:?} {format}: {sample:?}",
                role_name = role_name(role)
            );
            documented.insert((role_name(role), format.to_string()));
            rows += 1;
        }
        assert!(rows >= 10, "only {rows} catalogue rows found");
        let mut missing = Vec::new();
        for shape in RfidParser::builtin().shapes() {
            missing.push(("rfid", shape.name().to_string()));
        }
        for shape in ScaleParser::builtin().shapes() {
            missing.push(("scale", shape.name().to_string()));
        }
        for shape in CombinedParser::builtin().shapes() {
            missing.push(("combined", shape.name().to_string()));
        }
        missing.retain(|row| !documented.contains(row));
        assert!(
            missing.is_empty(),
            "built-in rows without a catalogue sample: {missing:?}"
        );
    }

    #[test]
    fn a_format_in_two_tables_needs_a_role_and_an_unknown_one_is_named() {
        let config = Config::default();
        let err = device_parser(&config, None, "tru_test")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scale and combined") && err.contains("--role"),
            "{err}"
        );
        let (role, _) = device_parser(&config, None, "sma").unwrap();
        assert_eq!(role, DeviceRole::Scale);
        let err = device_parser(&config, None, "digi_star")
            .unwrap_err()
            .to_string();
        assert!(err.contains("digi_star"), "{err}");
    }
}
