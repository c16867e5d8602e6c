//! RFID reader lines to EIDs, by a table of line shapes.
//!
//! Each row of the table is a regex over the cleaned line (STX/ETX and surrounding whitespace
//! removed) with a named group `eid`, or a row whose lines are rejected with a reason (Allflex
//! `LR` industrial tags). The first matching row decides. Operators add rows in the config
//! (`[[rfid.shapes]]`), tried before the built-in ones, so a new reader family needs no build.
//!
//! Safe defaults:
//! - A built-in rejection (a non-animal tag) wins over an operator row that also matches the
//!   line, unless that row sets `override_builtin_rejections = true`.
//! - Test-range tags (code [`TEST_RANGE_CODE`], 999) are refused unless
//!   `rfid.accept_test_tags = true`.
//! - One tag has one form however it is spaced: the captured text loses its whitespace and
//!   dashes ([`canonical_eid`]) and is validated by [`schemas::Eid`] (length, digits, country
//!   code) into its 15 digits, `982000001088420`.

use regex::Regex;
use schemas::{Eid, EidError};

use crate::config::{ConfigError, RfidConfig};

/// The built-in rows: (name, pattern, rejection reason). Between the 3-digit code and the
/// 12-digit national id, any run of whitespace or dashes is accepted (or none).
const BUILTIN_SHAPES: [(&str, &str, Option<&str>); 5] = [
    (
        "allflex_industrial",
        r"^L?R\s+\d+\s+\d+$",
        Some("industrial (non-animal) tag"),
    ),
    ("allflex", r"^L?A\s+(?P<eid>\d{3}[\s-]*\d{12})$", None),
    ("plain", r"^(?P<eid>\d{3}[\s-]*\d{12})$", None),
    (
        "with_datetime",
        r"^(?P<eid>\d{3}[\s-]*\d{12})[ ,;\t]+\d{2,4}[-/.]\d{1,2}[-/.]\d{2,4}[ ,;\tT]+\d{1,2}:\d{2}(?::\d{2})?$",
        None,
    ),
    (
        "csv",
        r"^(?:[^,]*,)*\s*(?P<eid>\d{3}[\s-]*\d{12})\s*(?:,[^,]*)*$",
        None,
    ),
];

/// The ISO 11784 code of the test range: such tags are not animals in a yard.
pub const TEST_RANGE_CODE: u16 = 999;

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
    #[error("{shape} line rejected: {reason}{}", override_hint(.operator_row.as_deref()))]
    Rejected {
        /// The row that matched.
        shape: String,
        /// Why lines of that shape are refused.
        reason: String,
        /// An operator row that also matched the line and would have accepted it, had it set
        /// `override_builtin_rejections = true`.
        operator_row: Option<String>,
    },
    /// The tag is in the ISO 11784 test range (code 999) and the config does not accept those.
    #[error(
        "{shape} line has test-range tag {eid} (code {TEST_RANGE_CODE}); set rfid.accept_test_tags = true to capture test tags"
    )]
    TestTag {
        /// The row that matched.
        shape: String,
        /// The tag.
        eid: Eid,
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

fn override_hint(operator_row: Option<&str>) -> String {
    operator_row
        .map(|row| {
            format!(
                " (operator row {row:?} also matches; it would need override_builtin_rejections = true)"
            )
        })
        .unwrap_or_default()
}

/// Where a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Compiled in.
    Builtin,
    /// `[[rfid.shapes]]` in the config.
    Operator {
        /// The row wins over built-in rejections.
        overrides_builtin_rejections: bool,
    },
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct LineShape {
    name: String,
    regex: Regex,
    reject: Option<String>,
    origin: Origin,
}

impl LineShape {
    /// Compiles a built-in row; accepting rows must have a named group `eid`.
    pub fn new(name: &str, pattern: &str, reject: Option<&str>) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        if reject.is_none() && !regex.capture_names().any(|n| n == Some("eid")) {
            return Err("pattern has no named group `eid` (write (?P<eid>...))".into());
        }
        Ok(Self {
            name: name.into(),
            regex,
            reject: reject.map(Into::into),
            origin: Origin::Builtin,
        })
    }

    /// Compiles an operator row: like [`LineShape::new`], but a built-in rejection matching the
    /// same line wins unless `overrides_builtin_rejections`.
    pub fn operator(
        name: &str,
        pattern: &str,
        reject: Option<&str>,
        overrides_builtin_rejections: bool,
    ) -> Result<Self, String> {
        Ok(Self {
            origin: Origin::Operator {
                overrides_builtin_rejections,
            },
            ..Self::new(name, pattern, reject)?
        })
    }

    /// The row's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn is_builtin_rejection(&self) -> bool {
        self.origin == Origin::Builtin && self.reject.is_some()
    }

    fn yields_to_builtin_rejections(&self) -> bool {
        self.origin
            == Origin::Operator {
                overrides_builtin_rejections: false,
            }
    }

    fn rejected(&self, reason: &str, operator_row: Option<&str>) -> RfidError {
        RfidError::Rejected {
            shape: self.name.clone(),
            reason: reason.into(),
            operator_row: operator_row.map(Into::into),
        }
    }
}

/// A table of line shapes turning reader lines into EIDs.
#[derive(Debug, Clone)]
pub struct RfidParser {
    shapes: Vec<LineShape>,
    accept_test_tags: bool,
}

impl RfidParser {
    /// The built-in table only (test-range tags refused).
    pub fn builtin() -> Self {
        Self {
            shapes: builtin_shapes(),
            accept_test_tags: false,
        }
    }

    /// The configured rows followed by the built-in ones, and the test-tag setting.
    pub fn from_config(config: &RfidConfig) -> Result<Self, ConfigError> {
        let mut shapes = Vec::with_capacity(config.shapes.len() + BUILTIN_SHAPES.len());
        for (i, row) in config.shapes.iter().enumerate() {
            let shape = LineShape::operator(
                &row.name,
                &row.pattern,
                row.reject.as_deref(),
                row.override_builtin_rejections,
            )
            .map_err(|reason| ConfigError::invalid(format!("rfid.shapes[{i}]"), reason))?;
            shapes.push(shape);
        }
        shapes.extend(builtin_shapes());
        Ok(Self {
            shapes,
            accept_test_tags: config.accept_test_tags,
        })
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
        Ok(Self {
            shapes,
            accept_test_tags: self.accept_test_tags,
        })
    }

    /// The rows in the order they are tried.
    pub fn shapes(&self) -> &[LineShape] {
        &self.shapes
    }

    /// Parses one reader line: the first matching row decides, except that a built-in
    /// rejection wins over an operator row without `override_builtin_rejections`, and a
    /// test-range tag is refused unless accepted by the config.
    pub fn parse(&self, line: &str) -> Result<Eid, RfidError> {
        let clean = clean_line(line);
        for shape in &self.shapes {
            let Some(caps) = shape.regex.captures(clean) else {
                continue;
            };
            if shape.yields_to_builtin_rejections()
                && let Some(builtin) = self
                    .shapes
                    .iter()
                    .find(|s| s.is_builtin_rejection() && s.regex.is_match(clean))
            {
                let reason = builtin.reject.as_deref().unwrap_or_default();
                let operator_row = shape.reject.is_none().then_some(shape.name.as_str());
                return Err(builtin.rejected(reason, operator_row));
            }
            if let Some(reason) = &shape.reject {
                return Err(shape.rejected(reason, None));
            }
            let text = caps.name("eid").map(|m| m.as_str()).unwrap_or_default();
            return checked_eid(&shape.name, text, self.accept_test_tags);
        }
        Err(RfidError::NoShape { line: clean.into() })
    }
}

/// The one form of a tag however it was spaced: whitespace and dashes anywhere in `text` are
/// dropped, then [`Eid::parse`] checks the 15 digits. `982 000001088420`, `982000001088420`,
/// `982-000001088420` and `982\t000 001 088 420` are all `982000001088420`.
pub fn canonical_eid(text: &str) -> Result<Eid, EidError> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    Eid::parse(&compact)
}

/// The EID a row named `shape` captured as `text`, checked as every tag is: its one form
/// ([`canonical_eid`]), and refused when in the test range unless `accept_test_tags`. Used by
/// the RFID table and by combined tag-and-weight lines alike.
pub(crate) fn checked_eid(
    shape: &str,
    text: &str,
    accept_test_tags: bool,
) -> Result<Eid, RfidError> {
    let eid = canonical_eid(text).map_err(|source| RfidError::InvalidEid {
        shape: shape.into(),
        text: text.into(),
        source,
    })?;
    if eid.country_code() == TEST_RANGE_CODE && !accept_test_tags {
        return Err(RfidError::TestTag {
            shape: shape.into(),
            eid,
        });
    }
    Ok(eid)
}

fn builtin_shapes() -> Vec<LineShape> {
    BUILTIN_SHAPES
        .iter()
        .filter_map(|(name, pattern, reject)| LineShape::new(name, pattern, *reject).ok())
        .collect()
}

/// The line without STX/ETX framing and surrounding whitespace.
pub(crate) fn clean_line(line: &str) -> &str {
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
                    override_builtin_rejections: false,
                },
                LineShapeConfig {
                    name: "yard_test_batch".into(),
                    pattern: r"^982000000000\d{3}$".into(),
                    reject: Some("yard's own test tags".into()),
                    override_builtin_rejections: false,
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
            p.parse("982000000000123"),
            Err(RfidError::Rejected { shape, .. }) if shape == "yard_test_batch"
        ));
    }

    fn row(name: &str, pattern: &str, overrides: bool) -> LineShapeConfig {
        LineShapeConfig {
            name: name.into(),
            pattern: pattern.into(),
            reject: None,
            override_builtin_rejections: overrides,
        }
    }

    fn table(rows: Vec<LineShapeConfig>, accept_test_tags: bool) -> RfidParser {
        RfidParser::from_config(&RfidConfig {
            shapes: rows,
            accept_test_tags,
            ..RfidConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn test_range_tags_are_refused_unless_the_config_accepts_them() {
        for line in [
            "LA 999 000000000001",
            "999000000000001",
            "R1,999000000000001,HDX",
        ] {
            let err = RfidParser::builtin().parse(line).unwrap_err();
            assert!(
                matches!(&err, RfidError::TestTag { eid, .. } if eid.as_str() == "999000000000001"),
                "{line}: {err:?}"
            );
            assert!(err.to_string().contains("accept_test_tags"), "{err}");
            assert_eq!(crate::readers::ParseError::from(err).reason(), "test_tag");
        }
        // An operator row does not let them through either: only the config flag does.
        let operator = table(vec![row("eid", r"^EID:(?P<eid>\d{15})$", true)], false);
        assert!(matches!(
            operator.parse("EID:999000000000001"),
            Err(RfidError::TestTag { shape, .. }) if shape == "eid"
        ));
        let accepting = table(Vec::new(), true);
        assert_eq!(
            accepting.parse("LA 999 000000000001").unwrap(),
            eid("999000000000001")
        );
        let narrowed = accepting.for_format(Some("allflex")).unwrap();
        assert!(narrowed.parse("LA 999 000000000001").is_ok());
        assert!(matches!(
            RfidParser::builtin()
                .for_format(Some("allflex"))
                .unwrap()
                .parse("LA 999 000000000001"),
            Err(RfidError::TestTag { .. })
        ));
    }

    #[test]
    fn a_builtin_rejection_wins_over_an_operator_row_unless_the_row_says_so() {
        // A reader family printing `A` or `R` before the tag: the operator's row matches the
        // industrial line `LR 982 000001088420` first.
        let pattern = r"^L?[AR]\s+(?P<eid>\d{3}\s*\d{12})$";
        let line = "LR 982 000001088420";
        let err = table(vec![row("a_or_r", pattern, false)], false)
            .parse(line)
            .unwrap_err();
        assert!(
            matches!(&err, RfidError::Rejected { shape, operator_row: Some(row), .. }
                if shape == "allflex_industrial" && row == "a_or_r"),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("override_builtin_rejections"),
            "{err}"
        );
        let overriding = table(vec![row("a_or_r", pattern, true)], false);
        assert_eq!(overriding.parse(line).unwrap(), eid("982000001088420"));
        // Restricted to the operator's row, the built-in rejection still applies.
        let narrowed = table(vec![row("a_or_r", pattern, false)], false)
            .for_format(Some("a_or_r"))
            .unwrap();
        assert!(matches!(
            narrowed.parse(line),
            Err(RfidError::Rejected { .. })
        ));
        // Lines no built-in row rejects are the operator row's as before.
        assert_eq!(
            table(vec![row("a_or_r", pattern, false)], false)
                .parse("A 982 000001088420")
                .unwrap(),
            eid("982000001088420")
        );
    }

    #[test]
    fn one_tag_has_one_form_however_it_is_spaced() {
        let p = RfidParser::builtin();
        for line in [
            "982000001088420",
            "982 000001088420",
            "982-000001088420",
            "982  000001088420",
            "982\t000001088420",
            "982 - 000001088420",
            " 982 000001088420 ",
            "LA 982\t000001088420",
            "LA 982-000001088420",
            "R1,982 000001088420,HDX",
            "982  000001088420 2024-03-05 10:15",
        ] {
            let got = p.parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            assert_eq!(got.as_str(), "982000001088420", "{line:?}");
        }
        let grouped = table(vec![row("grouped", r"^TAG (?P<eid>[\d ]+)$", false)], false);
        assert_eq!(
            grouped.parse("TAG 982 000 001 088 420").unwrap().as_str(),
            "982000001088420"
        );
        assert_eq!(
            canonical_eid("982\u{a0}000001088420").unwrap().as_str(),
            "982000001088420"
        );
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
