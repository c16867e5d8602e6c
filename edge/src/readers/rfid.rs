//! RFID reader lines to EIDs, by a table of line shapes.
//!
//! Each row of the table is a regex over the cleaned line (STX/ETX and surrounding whitespace
//! removed) with a named group `eid`, or a row whose lines are rejected with a reason (Allflex
//! `LR` industrial tags). The first matching row decides. Operators add rows in the config
//! (`[[rfid.shapes]]`), tried before the built-in ones, so a new reader family needs no build.
//! The captured digits are validated by [`schemas::Eid`] (length, digits, country code).

use regex::Regex;
use schemas::{Eid, EidError};

use crate::config::{ConfigError, RfidConfig};

/// The built-in rows: (name, pattern, rejection reason).
const BUILTIN_SHAPES: [(&str, &str, Option<&str>); 5] = [
    (
        "allflex_industrial",
        r"^L?R\s+\d+\s+\d+$",
        Some("industrial (non-animal) tag"),
    ),
    ("allflex", r"^L?A\s+(?P<eid>\d{3}\s*\d{12})$", None),
    ("plain", r"^(?P<eid>\d{3}[ -]?\d{12})$", None),
    (
        "with_datetime",
        r"^(?P<eid>\d{3}[ -]?\d{12})[ ,;\t]+\d{2,4}[-/.]\d{1,2}[-/.]\d{2,4}[ ,;\tT]+\d{1,2}:\d{2}(?::\d{2})?$",
        None,
    ),
    (
        "csv",
        r"^(?:[^,]*,)*\s*(?P<eid>\d{15})\s*(?:,[^,]*)*$",
        None,
    ),
];

/// The format name meaning "every row of the table".
pub const AUTO_FORMAT: &str = "auto";

/// Why an RFID line did not yield an EID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RfidError {
    /// No row of the table matches the line.
    #[error("no RFID line shape matches {line:?}")]
    NoShape {
        /// The cleaned line.
        line: String,
    },
    /// The line matched a rejecting row.
    #[error("{shape} line rejected: {reason}")]
    Rejected {
        /// The row that matched.
        shape: String,
        /// Why lines of that shape are refused.
        reason: String,
    },
    /// The line has a known shape but its number is not a valid EID.
    #[error("{shape} line has an invalid EID {text:?}: {source}")]
    InvalidEid {
        /// The row that matched.
        shape: String,
        /// The captured text.
        text: String,
        /// What is wrong with it.
        source: EidError,
    },
    /// A device asked for a format name that is not in the table.
    #[error("unknown RFID format {0:?} (use \"auto\" or a row name)")]
    UnknownFormat(String),
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct LineShape {
    name: String,
    regex: Regex,
    reject: Option<String>,
}

impl LineShape {
    /// Compiles a row; accepting rows must have a named group `eid`.
    pub fn new(name: &str, pattern: &str, reject: Option<&str>) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        if reject.is_none() && !regex.capture_names().any(|n| n == Some("eid")) {
            return Err("pattern has no named group `eid` (write (?P<eid>...))".into());
        }
        Ok(Self {
            name: name.into(),
            regex,
            reject: reject.map(Into::into),
        })
    }

    /// The row's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A table of line shapes turning reader lines into EIDs.
#[derive(Debug, Clone)]
pub struct RfidParser {
    shapes: Vec<LineShape>,
}

impl RfidParser {
    /// The built-in table only.
    pub fn builtin() -> Self {
        Self {
            shapes: builtin_shapes(),
        }
    }

    /// The configured rows followed by the built-in ones.
    pub fn from_config(config: &RfidConfig) -> Result<Self, ConfigError> {
        let mut shapes = Vec::with_capacity(config.shapes.len() + BUILTIN_SHAPES.len());
        for (i, row) in config.shapes.iter().enumerate() {
            let shape = LineShape::new(&row.name, &row.pattern, row.reject.as_deref())
                .map_err(|reason| ConfigError::invalid(format!("rfid.shapes[{i}]"), reason))?;
            shapes.push(shape);
        }
        shapes.extend(builtin_shapes());
        Ok(Self { shapes })
    }

    /// The table a device with `format` uses: everything for `auto`/unset, else the named row
    /// plus every rejecting row (so industrial tags are still refused with their reason).
    pub fn for_format(&self, format: Option<&str>) -> Result<Self, RfidError> {
        let name = match format {
            None => return Ok(self.clone()),
            Some(name) if name == AUTO_FORMAT => return Ok(self.clone()),
            Some(name) => name,
        };
        if !self.shapes.iter().any(|s| s.name == name) {
            return Err(RfidError::UnknownFormat(name.into()));
        }
        let shapes = self
            .shapes
            .iter()
            .filter(|s| s.name == name || s.reject.is_some())
            .cloned()
            .collect();
        Ok(Self { shapes })
    }

    /// The rows in the order they are tried.
    pub fn shapes(&self) -> &[LineShape] {
        &self.shapes
    }

    /// Parses one reader line.
    pub fn parse(&self, line: &str) -> Result<Eid, RfidError> {
        let clean = clean_line(line);
        for shape in &self.shapes {
            let Some(caps) = shape.regex.captures(clean) else {
                continue;
            };
            if let Some(reason) = &shape.reject {
                return Err(RfidError::Rejected {
                    shape: shape.name.clone(),
                    reason: reason.clone(),
                });
            }
            let text = caps.name("eid").map(|m| m.as_str()).unwrap_or_default();
            return Eid::parse(text).map_err(|source| RfidError::InvalidEid {
                shape: shape.name.clone(),
                text: text.into(),
                source,
            });
        }
        Err(RfidError::NoShape { line: clean.into() })
    }
}

fn builtin_shapes() -> Vec<LineShape> {
    BUILTIN_SHAPES
        .iter()
        .filter_map(|(name, pattern, reject)| LineShape::new(name, pattern, *reject).ok())
        .collect()
}

/// The line without STX/ETX framing and surrounding whitespace.
fn clean_line(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\u{2}' || c == '\u{3}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LineShapeConfig;

    fn eid(s: &str) -> Eid {
        Eid::parse(s).unwrap()
    }

    #[test]
    fn every_builtin_row_compiles() {
        assert_eq!(RfidParser::builtin().shapes().len(), BUILTIN_SHAPES.len());
    }

    #[test]
    fn allflex_line_mode_gives_the_eid() {
        let p = RfidParser::builtin();
        assert_eq!(
            p.parse("LA 982 000001088420\r\n").unwrap(),
            eid("982000001088420")
        );
        assert_eq!(
            p.parse("A 982000001088420").unwrap(),
            eid("982000001088420")
        );
    }

    #[test]
    fn allflex_industrial_tags_are_rejected_with_a_reason() {
        let err = RfidParser::builtin()
            .parse("LR 0006 0000000018514243")
            .unwrap_err();
        assert!(matches!(&err, RfidError::Rejected { shape, .. } if shape == "allflex_industrial"));
        assert!(err.to_string().contains("non-animal"));
    }

    #[test]
    fn plain_digits_with_or_without_a_separator_are_one_tag() {
        let p = RfidParser::builtin();
        for line in ["982000001088420", "982 000001088420", "982-000001088420"] {
            assert_eq!(p.parse(line).unwrap(), eid("982000001088420"), "{line}");
        }
    }

    #[test]
    fn stx_framed_lines_with_date_and_time_give_the_eid() {
        let p = RfidParser::builtin();
        let got = p
            .parse("\u{2}840003123456789 2024-03-05 10:15:22\u{3}")
            .unwrap();
        assert_eq!(got, eid("840003123456789"));
        let got = p.parse("982 000001088420,05/03/2024,10:15").unwrap();
        assert_eq!(got, eid("982000001088420"));
    }

    #[test]
    fn comma_separated_records_give_the_fifteen_digit_field() {
        let got = RfidParser::builtin()
            .parse("R1,982000001088420,HDX")
            .unwrap();
        assert_eq!(got, eid("982000001088420"));
    }

    #[test]
    fn garbled_and_invalid_lines_are_errors_not_panics() {
        let p = RfidParser::builtin();
        for line in [
            "",
            "LA",
            "LA 982 00000108842",
            "\u{2}\u{3}",
            "ÿÿ982",
            "LA 98X 000001088420",
        ] {
            assert!(
                matches!(p.parse(line), Err(RfidError::NoShape { .. })),
                "{line:?}"
            );
        }
        assert!(matches!(
            p.parse("LA 000 000001088420"),
            Err(RfidError::InvalidEid {
                source: EidError::ZeroCode,
                ..
            })
        ));
        assert!(matches!(
            p.parse("001000001088420"),
            Err(RfidError::InvalidEid {
                source: EidError::UnknownCountry(1),
                ..
            })
        ));
    }

    #[test]
    fn a_configured_row_adds_a_shape_and_wins_over_builtins() {
        let config = RfidConfig {
            shapes: vec![
                LineShapeConfig {
                    name: "eid_prefix".into(),
                    pattern: r"^EID:(?P<eid>\d{15})$".into(),
                    reject: None,
                },
                LineShapeConfig {
                    name: "test_range".into(),
                    pattern: r"^999\d{12}$".into(),
                    reject: Some("test-range tag".into()),
                },
            ],
            ..RfidConfig::default()
        };
        let p = RfidParser::from_config(&config).unwrap();
        assert_eq!(
            p.parse("EID:982000001088420").unwrap(),
            eid("982000001088420")
        );
        assert!(matches!(
            p.parse("999000000000001"),
            Err(RfidError::Rejected { .. })
        ));
    }

    #[test]
    fn a_device_format_restricts_the_table_but_keeps_rejections() {
        let p = RfidParser::builtin().for_format(Some("allflex")).unwrap();
        assert!(p.parse("LA 982 000001088420").is_ok());
        assert!(matches!(
            p.parse("982000001088420"),
            Err(RfidError::NoShape { .. })
        ));
        assert!(matches!(
            p.parse("LR 0006 0000000018514243"),
            Err(RfidError::Rejected { .. })
        ));
        assert!(matches!(
            RfidParser::builtin().for_format(Some("nope")),
            Err(RfidError::UnknownFormat(_))
        ));
    }
}
