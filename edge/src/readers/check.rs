//! What the gateway would capture from a device's lines, for `edge check-device` and the
//! device-format catalogue (`docs/device-formats.md`, held to the parsers by a test here).
//!
//! Bytes are framed as a serial port's are ([`LineFramer`]: CR/LF/STX/ETX end a line), each
//! line goes through the device's parser, and [`describe`] says what came out: the tag, the
//! weight (value, unit, gross/net, stable or not), nothing (a line without a weight), or the
//! refusal with its metric reason.

use std::path::PathBuf;
use std::time::Duration;

use schemas::WeightUnit;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_serial::SerialPortBuilderExt;
use tokio_util::sync::CancellationToken;

use super::framing::{Frame, LineFramer};
use super::poll::Poll;
use super::scale::{ScaleReading, ScaleStatus};
use super::serial::{DeviceReader, PortError, ReadEnd};
use super::{LineParser, ParseError, Reading, Tables};
use crate::config::{Config, ConfigError, DeviceConfig, DeviceRole};

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
    let tables = Tables::from_config(config)?;
    let build = |role: DeviceRole| tables.parser(role, Some(format));
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

/// The config's device `device_id` and the parser the gateway would give it.
pub fn configured_device<'a>(
    config: &'a Config,
    device_id: &str,
) -> Result<(&'a DeviceConfig, LineParser), ConfigError> {
    let device = config
        .devices
        .iter()
        .find(|d| d.device_id == device_id)
        .ok_or_else(|| {
            let known: Vec<&str> = config
                .devices
                .iter()
                .map(|d| d.device_id.as_str())
                .collect();
            ConfigError::invalid(
                "devices",
                format!("no device {device_id:?} (configured: {})", known.join(", ")),
            )
        })?;
    let parser = Tables::from_config(config)?
        .parser(device.role, device.format.as_deref())
        .map_err(|e| ConfigError::invalid("format", e))?;
    Ok((device, parser))
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

/// A line as read from a device and what it gave (`None`: the bytes were no line: bad UTF-8,
/// too long).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedLine {
    /// The line as received, framing removed.
    pub line: Option<String>,
    /// What the device's parser made of it.
    pub result: Result<Option<Reading>, ParseError>,
}

/// The `check-device` output line for one line: the line as received, escaped, and what it
/// gave.
pub fn describe_line(checked: &CheckedLine) -> String {
    match &checked.line {
        Some(line) => format!("{line:?} => {}", describe(&checked.result)),
        None => format!("(not a line) => {}", describe(&checked.result)),
    }
}

/// One line of `check-device` output per framed line: the line as received, escaped, and what
/// it gave.
pub fn check_lines(parser: &LineParser, bytes: &[u8]) -> Vec<String> {
    frames(bytes)
        .into_iter()
        .map(|frame| {
            let checked = match frame {
                Frame::Line(line) => CheckedLine {
                    result: parser.parse(&line),
                    line: Some(line),
                },
                Frame::Invalid(e) => CheckedLine {
                    line: None,
                    result: Err(e.into()),
                },
            };
            describe_line(&checked)
        })
        .collect()
}

/// A live port for `edge check-device --port` / `--device`: read as the gateway reads it.
#[derive(Debug, Clone)]
pub struct PortCheck {
    /// The serial port (or pseudo-terminal).
    pub path: PathBuf,
    /// Its line speed (8N1).
    pub baud_rate: u32,
    /// How long to read it.
    pub duration: Duration,
    /// A partial line is a line after this long without bytes (`devices[].idle_gap_ms`).
    pub idle_gap: Duration,
    /// The poll command written every interval while reading (`devices[].poll`), if any.
    pub poll: Option<Poll>,
}

/// Why a live check stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The port could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The port.
        path: PathBuf,
        /// Why.
        #[source]
        source: tokio_serial::Error,
    },
    /// Reading the port or writing the poll failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
}

/// Opens `check.path` and reads it for `check.duration` as the gateway would (same framing,
/// idle gap and poll), calling `out` with each line's [`describe_line`] text as soon as the
/// line is read. A port that closes ends the check early without error. A partial line still
/// waiting for its idle gap when the time is up is not shown.
pub async fn check_port(
    parser: LineParser,
    check: &PortCheck,
    out: impl FnMut(&str) -> std::io::Result<()>,
) -> Result<(), CheckError> {
    let port = tokio_serial::new(check.path.to_string_lossy(), check.baud_rate)
        .open_native_async()
        .map_err(|source| CheckError::Open {
            path: check.path.clone(),
            source,
        })?;
    let (source, sink) = tokio::io::split(port);
    check_stream(parser, check, source, sink, out).await
}

/// [`check_port`] over any source (and sink for the poll): the port's path and speed unused.
pub async fn check_stream<R, W>(
    parser: LineParser,
    check: &PortCheck,
    source: R,
    sink: W,
    mut out: impl FnMut(&str) -> std::io::Result<()>,
) -> Result<(), CheckError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tap, mut checked) = mpsc::channel(64);
    let (readings, mut drained) = mpsc::channel(64);
    let reader = DeviceReader::new("check-device", parser, readings)
        .with_tap(tap)
        .with_idle_gap(check.idle_gap)
        .with_poll(check.poll.clone());
    let stop = CancellationToken::new();
    let reading = async move {
        let end = tokio::select! {
            end = reader.read_polled(source, sink, &stop) => end,
            () = tokio::time::sleep(check.duration) => Ok(ReadEnd::Stopped),
        };
        // Dropping the reader closes both channels: the printing below ends.
        drop(reader);
        end
    };
    // Owning the receiver: a failed output drops it, which stops the reader.
    let printing = async move {
        while let Some(line) = checked.recv().await {
            out(&describe_line(&line)).map_err(CheckError::Output)?;
        }
        Ok::<(), CheckError>(())
    };
    let draining = async { while drained.recv().await.is_some() {} };
    let (end, printed, ()) = tokio::join!(reading, printing, draining);
    printed?;
    match end {
        Ok(ReadEnd::Eof | ReadEnd::Stopped) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::combined::CombinedParser;
    use crate::readers::rfid::RfidParser;
    use crate::readers::scale_shapes::ScaleParser;

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
