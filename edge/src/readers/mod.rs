//! Serial device readers: framing bytes into lines, parsing lines into readings.
//!
//! - [`framing`]: bytes to lines (CR/LF/CRLF/STX/ETX and an idle gap end a line; bad UTF-8 and
//!   over-long lines reported, never fatal).
//! - [`rfid`]: the table of RFID line shapes; [`dedup`]: repeated reads of one tag as one.
//! - [`scale`]: the built-in scale indicator families; [`scale_shapes`]: the scale table
//!   (operator rows from the config and the built-in families).
//! - [`combined`]: lines carrying both the tag and the weight (indicators relaying the reader).
//! - [`poll`]: writing a poll command to devices that answer only when asked.
//! - [`check`]: what a device's lines would give (`edge check-device`, the format catalogue).
//! - [`serial`]: opening a port (and reopening it with back-off), reading any `AsyncRead`.

pub mod check;
pub mod combined;
pub mod dedup;
pub mod framing;
pub mod poll;
pub mod rfid;
pub mod scale;
pub mod scale_shapes;
pub mod serial;

#[cfg(test)]
mod props;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use schemas::Eid;

use self::combined::{CombinedError, CombinedParser};
use self::framing::LineError;
use self::rfid::{RfidError, RfidParser};
use self::scale::{ScaleError, ScaleReading};
use self::scale_shapes::{ScaleParser, ScaleShape};
use crate::config::{Config, ConfigError, DeviceRole};

/// How a device's lines are read.
#[derive(Debug, Clone)]
pub enum LineParser {
    /// An RFID reader, with its table of line shapes.
    Rfid(RfidParser),
    /// A scale indicator, with its row of the scale table.
    Scale(ScaleShape),
    /// An indicator relaying the reader (tag and weight on one line), with its table of shapes.
    Combined(CombinedParser),
}

/// What one line said.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// A tag was read (before dedup).
    Tag(Eid),
    /// The indicator showed a weight.
    Weight(ScaleReading),
    /// One line carried a tag (before dedup) and the weight shown with it.
    TagAndWeight(Eid, ScaleReading),
}

/// A reading and where and when the gateway received it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceReading {
    /// The device that sent the line.
    pub device_id: Arc<str>,
    /// When the gateway received the line (UTC): the event's capture time.
    pub received_at: DateTime<Utc>,
    /// The same moment on the monotonic clock, for windows and ages.
    pub received_instant: Instant,
    /// What the line said.
    pub reading: Reading,
}

/// Why a line was not a reading. Logged with the device id; the reader carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes were not a line.
    #[error(transparent)]
    Line(#[from] LineError),
    /// An RFID line without a valid EID.
    #[error(transparent)]
    Rfid(#[from] RfidError),
    /// A scale line that could not be read.
    #[error(transparent)]
    Scale(#[from] ScaleError),
    /// A combined (tag and weight) line that could not be read.
    #[error(transparent)]
    Combined(#[from] CombinedError),
}

impl ParseError {
    /// A short label for metrics: `not_utf8`, `too_long`, `no_shape`, `rejected`,
    /// `test_tag`, `invalid_eid`, `unknown_format`, `scale_shape`, `scale_field`,
    /// `missing_weight`; a combined line's tag is refused with the RFID labels.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Line(LineError::NotUtf8 { .. }) => "not_utf8",
            Self::Line(LineError::TooLong) => "too_long",
            Self::Rfid(e) | Self::Combined(CombinedError::Tag(e)) => match e {
                RfidError::NoShape { .. } => "no_shape",
                RfidError::Rejected { .. } => "rejected",
                RfidError::TestTag { .. } => "test_tag",
                RfidError::InvalidEid { .. } => "invalid_eid",
                RfidError::UnknownFormat(_) => "unknown_format",
            },
            Self::Scale(ScaleError::Shape { .. }) => "scale_shape",
            Self::Scale(ScaleError::Field { .. }) => "scale_field",
            Self::Combined(CombinedError::NoShape { .. }) => "no_shape",
            Self::Combined(CombinedError::MissingWeight { .. }) => "missing_weight",
            Self::Combined(CombinedError::Field { .. }) => "scale_field",
            Self::Combined(CombinedError::UnknownFormat(_)) => "unknown_format",
        }
    }
}

impl LineParser {
    /// Parses a line; `Ok(None)` is a well-formed line without a reading.
    pub fn parse(&self, line: &str) -> Result<Option<Reading>, ParseError> {
        match self {
            Self::Rfid(table) => Ok(Some(Reading::Tag(table.parse(line)?))),
            Self::Scale(format) => Ok(format.parse(line)?.map(Reading::Weight)),
            Self::Combined(table) => Ok(table.parse(line)?),
        }
    }
}

/// The three line tables of a config (RFID, scale, combined: operator rows and built-in ones),
/// from which each device's parser is chosen. The gateway, config validation and
/// `edge check-device` all choose a device's parser here.
#[derive(Debug, Clone)]
pub struct Tables {
    rfid: RfidParser,
    scale: ScaleParser,
    combined: CombinedParser,
}

impl Tables {
    /// Compiles the config's rows (checking their samples) beside the built-in ones.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            rfid: RfidParser::from_config(&config.rfid)?,
            scale: ScaleParser::from_config(&config.scale)?,
            combined: CombinedParser::from_config(&config.combined, &config.rfid)?,
        })
    }

    /// The parser of a device with `role` naming `format` (`None`: the role's default); the
    /// error says the name is unknown and lists the known ones.
    pub fn parser(&self, role: DeviceRole, format: Option<&str>) -> Result<LineParser, String> {
        Ok(match role {
            DeviceRole::Rfid => {
                LineParser::Rfid(self.rfid.for_format(format).map_err(|e| e.to_string())?)
            }
            DeviceRole::Scale => LineParser::Scale(self.scale.for_format(format)?),
            DeviceRole::Combined => LineParser::Combined(
                self.combined
                    .for_format(format)
                    .map_err(|e| e.to_string())?,
            ),
        })
    }
}
