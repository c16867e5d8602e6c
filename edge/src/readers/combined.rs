//! Combined lines: one line carries both the tag and the weight (an indicator that relays the
//! RFID reader, e.g. Tru-Test `[ID982000123456789,WS412.5]`).
//!
//! Like the RFID table ([`super::rfid`]), a table of rows, each a regex over the cleaned line
//! (STX/ETX and surrounding whitespace removed), the operator's rows (`[[combined.shapes]]`)
//! before the built-in ones; the first matching row decides. Named groups:
//! - `eid` (required): the tag, checked as every tag is (one form however spaced; test-range
//!   tags refused unless `rfid.accept_test_tags`);
//! - `weight` (required): the number, with an optional sign and decimal point;
//! - `unit` (optional): `kg`/`k` or `lb`/`l` (any case); without it the row's `unit` applies;
//! - `gross_net` (optional): `G` gross or `N` net;
//! - `motion` (optional): any text there means the scale is moving (not stable).
//!
//! A matched line with both a tag and a weight is a [`Reading::TagAndWeight`], which capture
//! turns into the tag read and the paired weighing a reader and a scale would give; with a
//! weight only it is a [`Reading::Weight`] (the platform's state still re-arms the scale); with
//! neither (Tru-Test's empty answer `[]`) it is no reading; with a tag but no weight it is a
//! [`CombinedError::MissingWeight`].

use regex::{Captures, Regex};
use schemas::WeightUnit;

use super::Reading;
use super::rfid::{RfidError, checked_eid, clean_line};
use super::scale::ScaleReading;
use super::scale_shapes::{Marks, WeightText};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, RfidConfig};

/// Devices with `role = "combined"`: indicators that relay the reader, one line carrying the
/// tag and the weight (see this module).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CombinedConfig {
    /// Extra combined line shapes, tried before the built-in ones (`tru_test`), in order.
    /// See [`CombinedShapeConfig`].
    pub shapes: Vec<CombinedShapeConfig>,
}

/// One row of the combined line table: a regex over the line (STX/ETX and surrounding
/// whitespace removed) with named groups `eid` and `weight`, and optionally `unit`,
/// `gross_net` (`G`/`N`) and `motion` (any text: not stable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinedShapeConfig {
    /// A name for logs and for `devices[].format`. Example: `"relay_csv"`.
    pub name: String,
    /// The regex. Example: `'^(?P<eid>\d{15}),(?P<weight>\d+(?:\.\d+)?),(?P<motion>M?)$'`.
    pub pattern: String,
    /// The unit of `weight` when the pattern has no `unit` group: `"kg"` or `"lb"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<WeightUnitName>,
}

/// A weight unit as the config writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightUnitName {
    /// Kilograms.
    Kg,
    /// Pounds.
    Lb,
}

impl From<WeightUnitName> for schemas::WeightUnit {
    fn from(unit: WeightUnitName) -> Self {
        match unit {
            WeightUnitName::Kg => Self::Kg,
            WeightUnitName::Lb => Self::Lb,
        }
    }
}

/// The built-in rows: (name, pattern, unit when the line has none).
const BUILTIN_SHAPES: [(&str, &str, Option<WeightUnit>); 1] = [(
    // Tru-Test poll answers: `ID` the EID, `WS` stable, `WR` recorded (stable), `WL` live (kg).
    "tru_test",
    r"^\[(?:ID(?P<eid>\d{3}[\s-]*\d{12}))?,?(?:W(?:[SR]|(?P<motion>L))(?P<weight>[-+]?\d+(?:\.\d+)?))?\]$",
    Some(WeightUnit::Kg),
)];

/// The format name meaning "every row of the table".
pub const AUTO_FORMAT: &str = "auto";

/// Why a combined line did not give a reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CombinedError {
    /// No row matches the line.
    #[error("no combined line shape matches {line:?}")]
    NoShape {
        /// The cleaned line.
        line: String,
    },
    /// The line has a tag but no weight: nothing to pair it with.
    #[error("{shape} line has a tag but no weight: {line:?}")]
    MissingWeight {
        /// The row that matched.
        shape: String,
        /// The cleaned line.
        line: String,
    },
    /// A weight, unit or gross/net group holds text the gateway cannot read.
    #[error("{shape} line has an unreadable {field} {value:?}")]
    Field {
        /// The row that matched.
        shape: String,
        /// Which group.
        field: &'static str,
        /// Its text.
        value: String,
    },
    /// The tag is refused as on any RFID line (test range, invalid EID).
    #[error(transparent)]
    Tag(#[from] RfidError),
    /// A device asked for a format name that is not in the table.
    #[error("unknown combined format {0:?} (use \"auto\" or a row name)")]
    UnknownFormat(String),
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct CombinedShape {
    name: String,
    regex: Regex,
    unit: Option<WeightUnit>,
}

impl CombinedShape {
    /// Compiles a row: the pattern needs the groups `eid` and `weight`, and a `unit` group
    /// unless `unit` is given.
    pub fn new(name: &str, pattern: &str, unit: Option<WeightUnit>) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        let has = |group: &str| regex.capture_names().any(|n| n == Some(group));
        for group in ["eid", "weight"] {
            if !has(group) {
                return Err(format!(
                    "pattern has no named group `{group}` (write (?P<{group}>...))"
                ));
            }
        }
        if unit.is_none() && !has("unit") {
            return Err(
                "pattern has no named group `unit`: set the row's `unit` (kg or lb)".into(),
            );
        }
        Ok(Self {
            name: name.into(),
            regex,
            unit,
        })
    }

    /// The row's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The weight the matched line shows (read as scale rows read theirs).
    fn scale_reading(
        &self,
        caps: &Captures<'_>,
        text: &str,
    ) -> Result<ScaleReading, CombinedError> {
        let pieces = WeightText {
            weight: Some(text),
            sign: None,
            unit: group(caps, "unit"),
            gross_net: group(caps, "gross_net"),
            motion: group(caps, "motion"),
            status: None,
            range: None,
        };
        let field_err = |(field, value): (&'static str, String)| CombinedError::Field {
            shape: self.name.clone(),
            field,
            value,
        };
        Marks::with_unit(self.unit)
            .reading(&pieces)
            .map_err(field_err)?
            // Combined rows name no tare marks, so every gross/net mark is gross or net.
            .ok_or_else(|| {
                field_err((
                    "gross/net mark",
                    pieces.gross_net.unwrap_or_default().into(),
                ))
            })
    }
}

/// The non-empty, trimmed text of group `name`.
fn group<'a>(caps: &Captures<'a>, name: &str) -> Option<&'a str> {
    caps.name(name)
        .map(|m| m.as_str().trim())
        .filter(|text| !text.is_empty())
}

/// A table of combined line shapes turning relay-indicator lines into tag-and-weight readings.
#[derive(Debug, Clone)]
pub struct CombinedParser {
    shapes: Vec<CombinedShape>,
    accept_test_tags: bool,
}

impl CombinedParser {
    /// The built-in table only (test-range tags refused).
    pub fn builtin() -> Self {
        Self {
            shapes: builtin_shapes(),
            accept_test_tags: false,
        }
    }

    /// The configured rows followed by the built-in ones; test-range tags as `rfid` says.
    pub fn from_config(combined: &CombinedConfig, rfid: &RfidConfig) -> Result<Self, ConfigError> {
        let mut shapes = Vec::with_capacity(combined.shapes.len() + BUILTIN_SHAPES.len());
        for (i, row) in combined.shapes.iter().enumerate() {
            let shape = CombinedShape::new(&row.name, &row.pattern, row.unit.map(Into::into))
                .map_err(|reason| ConfigError::invalid(format!("combined.shapes[{i}]"), reason))?;
            shapes.push(shape);
        }
        shapes.extend(builtin_shapes());
        Ok(Self {
            shapes,
            accept_test_tags: rfid.accept_test_tags,
        })
    }

    /// The table a device with `format` uses: every row for `auto`/unset, else the named row.
    pub fn for_format(&self, format: Option<&str>) -> Result<Self, CombinedError> {
        let name = match format {
            None => return Ok(self.clone()),
            Some(name) if name == AUTO_FORMAT => return Ok(self.clone()),
            Some(name) => name,
        };
        let shapes: Vec<_> = self
            .shapes
            .iter()
            .filter(|s| s.name == name)
            .cloned()
            .collect();
        if shapes.is_empty() {
            return Err(CombinedError::UnknownFormat(name.into()));
        }
        Ok(Self {
            shapes,
            accept_test_tags: self.accept_test_tags,
        })
    }

    /// The rows in the order they are tried.
    pub fn shapes(&self) -> &[CombinedShape] {
        &self.shapes
    }

    /// Parses one line; `Ok(None)` is a well-formed line with neither tag nor weight.
    pub fn parse(&self, line: &str) -> Result<Option<Reading>, CombinedError> {
        let clean = clean_line(line);
        for shape in &self.shapes {
            let Some(caps) = shape.regex.captures(clean) else {
                continue;
            };
            let weight = match group(&caps, "weight") {
                Some(text) => Some(shape.scale_reading(&caps, text)?),
                None => None,
            };
            return match (group(&caps, "eid"), weight) {
                (None, None) => Ok(None),
                (None, Some(weight)) => Ok(Some(Reading::Weight(weight))),
                (Some(_), None) => Err(CombinedError::MissingWeight {
                    shape: shape.name.clone(),
                    line: clean.into(),
                }),
                (Some(text), Some(weight)) => {
                    let eid = checked_eid(&shape.name, text, self.accept_test_tags)?;
                    Ok(Some(Reading::TagAndWeight(eid, weight)))
                }
            };
        }
        Err(CombinedError::NoShape { line: clean.into() })
    }
}

fn builtin_shapes() -> Vec<CombinedShape> {
    BUILTIN_SHAPES
        .iter()
        .filter_map(|(name, pattern, unit)| CombinedShape::new(name, pattern, *unit).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, DeviceRole};
    use crate::readers::scale::ScaleStatus;
    use schemas::{Eid, GrossNet, Weight};

    fn eid(s: &str) -> Eid {
        Eid::parse(s).unwrap()
    }

    fn stable(weight: Weight, gross_net: Option<GrossNet>) -> ScaleReading {
        ScaleReading {
            weight: Some(weight),
            gross_net,
            status: ScaleStatus::Stable,
        }
    }

    #[test]
    fn every_builtin_row_compiles() {
        assert_eq!(
            CombinedParser::builtin().shapes().len(),
            BUILTIN_SHAPES.len()
        );
    }

    #[test]
    fn a_tru_test_answer_with_tag_and_stable_weight_is_one_tag_and_weight_reading() {
        let p = CombinedParser::builtin();
        assert_eq!(
            p.parse("[ID982000123456789,WS412.5]\r\n").unwrap(),
            Some(Reading::TagAndWeight(
                eid("982000123456789"),
                stable(Weight::from_kg(412.5), None)
            ))
        );
        let Some(Reading::TagAndWeight(_, live)) = p.parse("[ID982000123456789,WL410]").unwrap()
        else {
            panic!("not a tag and weight");
        };
        assert_eq!(live.status, ScaleStatus::Motion);
        assert_eq!(live.stable_weight(), None);
    }

    #[test]
    fn a_weight_without_a_tag_is_a_weight_and_an_empty_answer_is_nothing() {
        let p = CombinedParser::builtin();
        assert_eq!(
            p.parse("[WS412.5]").unwrap(),
            Some(Reading::Weight(stable(Weight::from_kg(412.5), None)))
        );
        assert_eq!(p.parse("[]").unwrap(), None);
    }

    #[test]
    fn a_line_with_a_tag_but_no_weight_is_a_named_error() {
        let err = CombinedParser::builtin()
            .parse("[ID982000123456789]")
            .unwrap_err();
        assert!(
            matches!(err, CombinedError::MissingWeight { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("no weight"), "{err}");
        let err = CombinedParser::builtin()
            .parse("LA 982 000001088420")
            .unwrap_err();
        assert!(matches!(err, CombinedError::NoShape { .. }), "{err:?}");
    }

    #[test]
    fn a_test_range_tag_is_refused_as_on_an_rfid_line_unless_accepted() {
        let line = "[ID999000000000001,WS412.5]";
        let err = CombinedParser::builtin().parse(line).unwrap_err();
        assert!(
            matches!(err, CombinedError::Tag(RfidError::TestTag { .. })),
            "{err:?}"
        );
        let rfid = RfidConfig {
            accept_test_tags: true,
            ..RfidConfig::default()
        };
        let accepting = CombinedParser::from_config(&CombinedConfig::default(), &rfid).unwrap();
        assert!(matches!(
            accepting.parse(line).unwrap(),
            Some(Reading::TagAndWeight(..))
        ));
        let err = CombinedParser::builtin()
            .parse("[ID000000000000001,WS412.5]")
            .unwrap_err();
        assert!(
            matches!(err, CombinedError::Tag(RfidError::InvalidEid { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn an_operator_row_reads_unit_gross_net_and_motion_groups() {
        let combined = CombinedConfig {
            shapes: vec![CombinedShapeConfig {
                name: "relay_csv".into(),
                pattern: r"^(?P<eid>\d{3} ?\d{12}),(?P<weight>-?[\d.]+)(?P<unit>kg|lb),(?P<gross_net>[GN]),(?P<motion>M?)$".into(),
                unit: None,
            }],
        };
        let p = CombinedParser::from_config(&combined, &RfidConfig::default())
            .unwrap()
            .for_format(Some("relay_csv"))
            .unwrap();
        assert_eq!(
            p.parse("982 000001088420,1234lb,G,").unwrap(),
            Some(Reading::TagAndWeight(
                eid("982000001088420"),
                stable(Weight::from_lb(1234.0), Some(GrossNet::Gross))
            ))
        );
        let Some(Reading::TagAndWeight(_, moving)) =
            p.parse("982000001088420,560.5kg,N,M").unwrap()
        else {
            panic!("not a tag and weight");
        };
        assert_eq!(moving.status, ScaleStatus::Motion);
        assert_eq!(moving.weight, Some(Weight::from_kg(560.5)));
        let err = p.parse("982000001088420,1.2.3kg,G,").unwrap_err();
        assert!(
            matches!(
                err,
                CombinedError::Field {
                    field: "weight",
                    ..
                }
            ),
            "{err:?}"
        );
        // The named row only: a Tru-Test answer is not this device's shape.
        assert!(p.parse("[ID982000123456789,WS412.5]").is_err());
    }

    #[test]
    fn a_row_without_eid_weight_or_unit_is_refused_naming_the_row() {
        for (pattern, unit, missing) in [
            (r"^(?P<weight>\d+)$", Some(WeightUnitName::Kg), "`eid`"),
            (r"^(?P<eid>\d{15})$", Some(WeightUnitName::Kg), "`weight`"),
            (r"^(?P<eid>\d{15}),(?P<weight>\d+)$", None, "`unit`"),
        ] {
            let combined = CombinedConfig {
                shapes: vec![CombinedShapeConfig {
                    name: "x".into(),
                    pattern: pattern.into(),
                    unit,
                }],
            };
            let err = CombinedParser::from_config(&combined, &RfidConfig::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("combined.shapes[0]"), "{err}");
            assert!(err.contains(missing), "{err}");
        }
    }

    #[test]
    fn a_combined_device_and_its_shapes_are_read_from_the_file_and_checked() {
        let toml = "[[combined.shapes]]\nname = \"relay\"\npattern = '^(?P<eid>\\d{15}),(?P<weight>\\d+)$'\nunit = \"lb\"\n\n\
                    [[devices]]\ndevice_id = \"c\"\npath = \"/dev/ttyS2\"\nrole = \"combined\"\nformat = \"relay\"\n";
        let config = Config::from_toml(toml).unwrap();
        assert_eq!(config.devices[0].role, DeviceRole::Combined);
        assert_eq!(config.combined.shapes[0].unit, Some(WeightUnitName::Lb));
        config.validate().unwrap();
        let builtin = Config::from_toml(&toml.replace("\"relay\"\n", "\"tru_test\"\n")).unwrap();
        builtin.validate().unwrap();
        let unknown = Config::from_toml(&toml.replace("format = \"relay\"", "format = \"x\""));
        let err = unknown.unwrap().validate().unwrap_err().to_string();
        assert!(err.contains("`devices[0].format`"), "{err}");
        let no_unit = Config::from_toml(&toml.replace("unit = \"lb\"\n", "")).unwrap();
        let err = no_unit.validate().unwrap_err().to_string();
        assert!(err.contains("`combined.shapes[0]`"), "{err}");
    }
}
