//! The scale line table: operator rows from the config (`[[scale.shapes]]`) and the built-in
//! families (`rice_lake`, `tru_test`, `sma`) as rows of one table, each row named for
//! `devices[].format`.
//!
//! The built-in rows are written as operator rows are, in an embedded TOML file
//! (`scale_builtin.toml`, next to this one), and go through the same code: compiled, samples
//! checked, parsed. An operator row is tried by name only, so it never changes how a built-in
//! row reads.
//!
//! A row finds the pieces of a weight either by a regex over the cleaned line (STX/ETX and
//! surrounding whitespace removed, as RFID and combined rows) with named groups, or by fixed
//! character positions in the line with only its framing (STX, ETX, CR, LF) removed, so the
//! spaces that are columns stay in place. The pieces, by group or position:
//! - `weight` (required): the number, optionally with its own sign and a decimal point;
//! - `sign`: `-` negative, `+` or blank positive;
//! - `unit`: mapped by the row's `units` (e.g. `{ L = "lb", K = "kg" }`), else `kg`/`k`,
//!   `lb`/`l`/`lbs` in any case; absent or blank: the row's fixed `unit`;
//! - `gross_net`: the row's `gross`/`net` marks (default `G`/`g`, `N`/`n`); a `tare` mark means
//!   the indicator shows the tare, no animal's weight: no reading;
//! - `motion` and `status`: status marks. Blank is stable; a mark is looked up in the row's
//!   `stable`, `motion`, `zero` (centre of zero), `out_of_range` and `invalid` lists, and one in
//!   none of them is an unknown field (`motion mark` or `status`). A row without any of these
//!   lists reads any text as motion. With both pieces the graver status wins (out of range or
//!   invalid, then motion, then centre of zero). An out-of-range or invalid line may show no
//!   number (dashes, blanks): its weight is then absent instead of an error;
//! - `range`: a multi-range indicator's range digit, which must be one of the row's `ranges`
//!   (when given); it does not change the reading.
//!
//! The same reading of these pieces serves combined lines ([`super::combined`]), so one mark
//! means one thing everywhere. `ignore` regexes (over the cleaned line, tried first) name lines
//! without a weight (Tru-Test's empty answer `[]`): no reading, no error. A line the row does
//! not fit is [`ScaleError::Shape`] (metric reason `scale_shape`), a piece it cannot read is
//! [`ScaleError::Field`] naming it (`scale_field`).
//!
//! Each row may carry `samples`: lines and the reading they must give. They are checked when
//! the config is validated (at start-up and by `edge check-config`); a failing sample names the
//! row, the sample and the part of the reading that differs (weight `kg`/`lb`, `stable`,
//! `status` — `stable`, `motion`, `zero`, `out_of_range`, `invalid` — `gross_net`, or
//! `ignored`). The built-in rows carry the samples
//! of `docs/device-formats.md`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use schemas::{GrossNet, Weight, WeightUnit};
use serde::{Deserialize, Serialize};

use super::combined::WeightUnitName;
use super::rfid::clean_line;
use super::scale::{ScaleError, ScaleReading, ScaleStatus};
use crate::config::ConfigError;

/// The built-in rows, as TOML (`[[shapes]]` rows of a [`ScaleConfig`]).
pub const BUILTIN_TOML: &str = include_str!("scale_builtin.toml");

/// The built-in rows, compiled once (or the field at fault and why).
static BUILTIN: LazyLock<Result<Vec<ScaleShape>, (String, String)>> = LazyLock::new(builtin_rows);

/// Compiles the embedded built-in rows with the code operator rows go through.
fn builtin_rows() -> Result<Vec<ScaleShape>, (String, String)> {
    let table: ScaleConfig = toml::from_str(BUILTIN_TOML)
        .map_err(|e| ("built-in scale.shapes".to_string(), e.to_string()))?;
    table
        .shapes
        .iter()
        .enumerate()
        .map(|(i, row)| {
            ScaleShape::compile(row).map_err(|(field, reason)| {
                (
                    format!("built-in scale.shapes[{i}].{field}"),
                    format!("row {:?}: {reason}", row.name),
                )
            })
        })
        .collect()
}

/// The built-in rows; an error only if the embedded table is broken (a unit test proves it
/// is not).
pub fn builtin_shapes() -> Result<&'static [ScaleShape], ConfigError> {
    match &*BUILTIN {
        Ok(rows) => Ok(rows),
        Err((field, reason)) => Err(ConfigError::invalid(field.clone(), reason.clone())),
    }
}

/// The name of the row a scale device without `format` uses.
pub const DEFAULT_FORMAT: &str = "rice_lake";

/// `[scale]`: scale line shapes beyond the built-in families.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScaleConfig {
    /// Extra scale line shapes, named by `devices[].format`. See [`ScaleShapeConfig`].
    pub shapes: Vec<ScaleShapeConfig>,
}

/// One row of the scale table: `pattern` or `fields` says where the pieces are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScaleShapeConfig {
    /// A name for logs and for `devices[].format`; not a built-in name. Example: `"digi_csv"`.
    pub name: String,
    /// A regex over the cleaned line with named groups `weight` and optionally `sign`, `unit`,
    /// `gross_net`, `motion`, `status`, `range`. Example:
    /// `'^(?P<gross_net>[GN]),(?P<motion>[SM]),(?P<weight>-?[\d.]+)(?P<unit>kg|lb)$'`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Fixed positions instead of a pattern, each `[start, length]` in characters from 0 after
    /// STX. Example: `{ sign = [0, 1], weight = [1, 7], unit = [8, 1], gross_net = [9, 1],
    /// status = [10, 1] }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FixedFields>,
    /// With `fields`: the exact number of characters of a line (framing removed). Example: `11`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// The unit when the line carries none: `"kg"` or `"lb"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<WeightUnitName>,
    /// Unit marks the line uses. Example: `{ L = "lb", K = "kg" }`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub units: BTreeMap<String, WeightUnitName>,
    /// Status marks meaning stable (blank always is). Example: `["S"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stable: Vec<String>,
    /// Status marks meaning motion. Example: `["M"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub motion: Vec<String>,
    /// Status marks meaning centre of zero (the platform is empty). Example: `["Z"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zero: Vec<String>,
    /// Status marks meaning over or under the indicator's range. Example: `["O", "U"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub out_of_range: Vec<String>,
    /// Status marks meaning the indicator reports the reading invalid. Example: `["I", "E"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// Marks meaning gross. Default `["G", "g"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gross: Vec<String>,
    /// Marks meaning net. Default `["N", "n"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub net: Vec<String>,
    /// Gross/net marks meaning the tare is shown: the line gives no reading. Example: `["T"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tare: Vec<String>,
    /// The marks the `range` piece may hold. Example: `["1", "2"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<String>,
    /// Regexes over the cleaned line for lines without a weight. Example: `['^\[\]$']`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Lines and the reading each must give, checked at start-up. Example:
    /// `[{ line = "G,S,412.5kg", kg = 412.5, stable = true, gross_net = "gross" }]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<ScaleSample>,
}

/// Fixed positions of a line's pieces: `[start, length]` in characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedFields {
    /// The number.
    pub weight: [usize; 2],
    /// The sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<[usize; 2]>,
    /// The unit mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<[usize; 2]>,
    /// The gross/net mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_net: Option<[usize; 2]>,
    /// The motion (stability) mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motion: Option<[usize; 2]>,
    /// The status mark (stable, motion, centre of zero, out of range, invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<[usize; 2]>,
    /// The range digit of a multi-range indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[usize; 2]>,
}

impl FixedFields {
    /// Every position with its name, `weight` first.
    fn named(&self) -> [(&'static str, Option<[usize; 2]>); 7] {
        [
            ("weight", Some(self.weight)),
            ("sign", self.sign),
            ("unit", self.unit),
            ("gross_net", self.gross_net),
            ("motion", self.motion),
            ("status", self.status),
            ("range", self.range),
        ]
    }
}

/// Gross or net as the config writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrossNetName {
    /// Gross.
    Gross,
    /// Net.
    Net,
}

/// A status as a sample names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleStatus {
    /// Settled (no mark, or one of the row's `stable` marks).
    Stable,
    /// One of the row's `motion` marks.
    Motion,
    /// Centre of zero: one of the row's `zero` marks.
    Zero,
    /// Over or under range: one of the row's `out_of_range` marks.
    OutOfRange,
    /// One of the row's `invalid` marks.
    Invalid,
}

impl SampleStatus {
    /// The name a sample uses for a reading's status.
    pub fn of(status: ScaleStatus) -> Self {
        match status {
            ScaleStatus::Stable => Self::Stable,
            ScaleStatus::Motion => Self::Motion,
            ScaleStatus::CenterOfZero => Self::Zero,
            ScaleStatus::OutOfRange => Self::OutOfRange,
            ScaleStatus::Invalid => Self::Invalid,
        }
    }

    /// The name as the config writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Motion => "motion",
            Self::Zero => "zero",
            Self::OutOfRange => "out_of_range",
            Self::Invalid => "invalid",
        }
    }
}

/// A sample line and the reading it must give; fields left out are not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScaleSample {
    /// The line as the device sends it (TOML escapes for control bytes: `"\u0002"`).
    pub line: String,
    /// The weight in kilograms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kg: Option<f64>,
    /// The weight in pounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lb: Option<f64>,
    /// Whether the weight is stable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable: Option<bool>,
    /// The status the line must give: `"stable"`, `"motion"`, `"zero"` (centre of zero),
    /// `"out_of_range"` or `"invalid"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SampleStatus>,
    /// `"gross"` or `"net"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_net: Option<GrossNetName>,
    /// The line carries no weight (an `ignore` line, or the tare).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
}

/// The pieces of a weight as found in a line, trimmed; `None` for absent or blank.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WeightText<'a> {
    pub(crate) weight: Option<&'a str>,
    pub(crate) sign: Option<&'a str>,
    pub(crate) unit: Option<&'a str>,
    pub(crate) gross_net: Option<&'a str>,
    pub(crate) motion: Option<&'a str>,
    pub(crate) status: Option<&'a str>,
    pub(crate) range: Option<&'a str>,
}

/// What a row's marks mean (shared by scale and combined rows).
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    unit: Option<WeightUnit>,
    units: Vec<(String, WeightUnit)>,
    stable: Vec<String>,
    motion: Vec<String>,
    zero: Vec<String>,
    out_of_range: Vec<String>,
    invalid: Vec<String>,
    gross: Vec<String>,
    net: Vec<String>,
    tare: Vec<String>,
    ranges: Vec<String>,
}

/// How grave a status is: with a status and a motion mark, the graver one is the reading's.
fn gravity(status: ScaleStatus) -> u8 {
    match status {
        ScaleStatus::Stable => 0,
        ScaleStatus::CenterOfZero => 1,
        ScaleStatus::Motion => 2,
        ScaleStatus::OutOfRange | ScaleStatus::Invalid => 3,
    }
}

/// A weight's number: an optional sign, then digits with at most one decimal point.
fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Marks {
    /// The default marks, with `unit` for lines that carry none.
    pub(crate) fn with_unit(unit: Option<WeightUnit>) -> Self {
        Self {
            unit,
            ..Self::default()
        }
    }

    /// What one status piece means; `field` names the piece in the error.
    fn status(
        &self,
        mark: Option<&str>,
        field: &'static str,
    ) -> Result<ScaleStatus, (&'static str, String)> {
        let Some(mark) = mark else {
            return Ok(ScaleStatus::Stable);
        };
        let lists = [
            (&self.stable, ScaleStatus::Stable),
            (&self.motion, ScaleStatus::Motion),
            (&self.zero, ScaleStatus::CenterOfZero),
            (&self.out_of_range, ScaleStatus::OutOfRange),
            (&self.invalid, ScaleStatus::Invalid),
        ];
        if lists.iter().all(|(list, _)| list.is_empty()) {
            return Ok(ScaleStatus::Motion);
        }
        lists
            .iter()
            .find(|(list, _)| list.iter().any(|m| m == mark))
            .map(|(_, status)| *status)
            .ok_or_else(|| (field, mark.to_string()))
    }

    /// The reading the pieces give (`None`: the line shows the tare), or the piece that cannot
    /// be read and its text.
    pub(crate) fn reading(
        &self,
        text: &WeightText<'_>,
    ) -> Result<Option<ScaleReading>, (&'static str, String)> {
        let status = self.status(text.status, "status")?;
        let motion = self.status(text.motion, "motion mark")?;
        let status = if gravity(motion) > gravity(status) {
            motion
        } else {
            status
        };
        if !self.ranges.is_empty() {
            let range = text.range.unwrap_or_default();
            if !self.ranges.iter().any(|r| r == range) {
                return Err(("range", range.into()));
            }
        }
        let is = |marks: &[String], default: &[&str], mark: &str| {
            if marks.is_empty() {
                default.contains(&mark)
            } else {
                marks.iter().any(|m| m == mark)
            }
        };
        let gross_net = match text.gross_net {
            None => None,
            Some(mark) if self.tare.iter().any(|m| m == mark) => return Ok(None),
            Some(mark) if is(&self.gross, &["G", "g"], mark) => Some(GrossNet::Gross),
            Some(mark) if is(&self.net, &["N", "n"], mark) => Some(GrossNet::Net),
            Some(other) => return Err(("gross/net mark", other.into())),
        };
        let unit = match text.unit {
            Some(mark) => match self.units.iter().find(|(m, _)| m == mark) {
                Some((_, unit)) => *unit,
                None => match mark.to_ascii_lowercase().as_str() {
                    "kg" | "k" => WeightUnit::Kg,
                    "lb" | "l" | "lbs" => WeightUnit::Lb,
                    _ => return Err(("unit", mark.into())),
                },
            },
            None => self.unit.ok_or_else(|| ("unit", String::new()))?,
        };
        let negative = match text.sign {
            None | Some("+") => false,
            Some("-") => true,
            Some(other) => return Err(("sign", other.into())),
        };
        let number = text.weight.unwrap_or_default();
        let weight = match parse_number(number) {
            Some(value) => Some(Weight {
                value: if negative { -value } else { value },
                unit,
            }),
            // Out of range or invalid: the indicator may show dashes or blanks.
            None if matches!(status, ScaleStatus::OutOfRange | ScaleStatus::Invalid) => None,
            None => return Err(("weight", number.into())),
        };
        Ok(Some(ScaleReading {
            weight,
            gross_net,
            status,
        }))
    }
}

/// Where a row finds the pieces.
#[derive(Debug, Clone)]
enum Layout {
    /// A regex with named groups.
    Pattern(Regex),
    /// Fixed character positions.
    Fixed {
        fields: FixedFields,
        length: Option<usize>,
    },
}

/// One row of the scale table.
#[derive(Debug, Clone)]
pub struct ScaleShape {
    name: String,
    // Boxed: a device's parser is one variant of `LineParser`, kept small.
    layout: Box<Layout>,
    marks: Box<Marks>,
    ignore: Vec<Regex>,
    samples: Vec<ScaleSample>,
}

impl ScaleShape {
    /// Compiles an operator row; the error names the row's field at fault (`pattern`,
    /// `fields.weight`, `ignore[0]`, ...) and what is wrong. A built-in row's name is refused.
    pub fn new(row: &ScaleShapeConfig) -> Result<Self, (String, String)> {
        let builtin = builtin_shapes().map_err(|e| ("name".to_string(), e.to_string()))?;
        if builtin.iter().any(|s| s.name == row.name) {
            return Err((
                "name".into(),
                format!("{:?} is a built-in row; choose another name", row.name),
            ));
        }
        Self::compile(row)
    }

    /// Compiles a row (operator or built-in) and checks its samples.
    fn compile(row: &ScaleShapeConfig) -> Result<Self, (String, String)> {
        let err = |field: &str, reason: String| (field.to_string(), reason);
        if row.name.trim().is_empty() {
            return Err(err("name", "must not be empty".into()));
        }
        let layout = match (&row.pattern, &row.fields) {
            (Some(pattern), None) => {
                let regex = Regex::new(pattern).map_err(|e| err("pattern", e.to_string()))?;
                if !regex.capture_names().any(|n| n == Some("weight")) {
                    return Err(err(
                        "pattern",
                        "has no named group `weight` (write (?P<weight>...))".into(),
                    ));
                }
                if row.unit.is_none() && !regex.capture_names().any(|n| n == Some("unit")) {
                    return Err(err(
                        "unit",
                        "the pattern has no `unit` group: set the row's unit (kg or lb)".into(),
                    ));
                }
                Layout::Pattern(regex)
            }
            (None, Some(fields)) => {
                for (name, span) in fields.named() {
                    if let Some([start, len]) = span {
                        if len == 0 {
                            return Err(err(&format!("fields.{name}"), "length 0".into()));
                        }
                        if let Some(length) = row.length
                            && start.saturating_add(len) > length
                        {
                            return Err(err(
                                &format!("fields.{name}"),
                                format!("[{start}, {len}] ends past `length` {length}"),
                            ));
                        }
                    }
                }
                if row.unit.is_none() && fields.unit.is_none() {
                    return Err(err(
                        "unit",
                        "no `fields.unit` position: set the row's unit (kg or lb)".into(),
                    ));
                }
                Layout::Fixed {
                    fields: fields.clone(),
                    length: row.length,
                }
            }
            _ => {
                return Err(err(
                    "pattern",
                    "give either `pattern` or `fields` (fixed positions), not both".into(),
                ));
            }
        };
        let has_range = match &layout {
            Layout::Pattern(regex) => regex.capture_names().any(|n| n == Some("range")),
            Layout::Fixed { fields, .. } => fields.range.is_some(),
        };
        if !row.ranges.is_empty() && !has_range {
            return Err(err(
                "ranges",
                "the row has no `range` group or position for these marks".into(),
            ));
        }
        let ignore = row
            .ignore
            .iter()
            .enumerate()
            .map(|(i, p)| Regex::new(p).map_err(|e| err(&format!("ignore[{i}]"), e.to_string())))
            .collect::<Result<_, _>>()?;
        let marks = |list: &[String]| list.iter().map(|m| m.trim().to_string()).collect();
        let shape = Self {
            name: row.name.clone(),
            layout: Box::new(layout),
            marks: Box::new(Marks {
                unit: row.unit.map(Into::into),
                units: row
                    .units
                    .iter()
                    .map(|(m, u)| (m.trim().to_string(), (*u).into()))
                    .collect(),
                stable: marks(&row.stable),
                motion: marks(&row.motion),
                zero: marks(&row.zero),
                out_of_range: marks(&row.out_of_range),
                invalid: marks(&row.invalid),
                gross: marks(&row.gross),
                net: marks(&row.net),
                tare: marks(&row.tare),
                ranges: marks(&row.ranges),
            }),
            ignore,
            samples: row.samples.clone(),
        };
        shape.check_samples()?;
        Ok(shape)
    }

    /// The row's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The row's sample lines.
    pub fn samples(&self) -> &[ScaleSample] {
        &self.samples
    }

    /// Parses one line; `Ok(None)` is a well-formed line without a weight.
    pub fn parse(&self, line: &str) -> Result<Option<ScaleReading>, ScaleError> {
        let clean = clean_line(line);
        if self.ignore.iter().any(|r| r.is_match(clean)) {
            return Ok(None);
        }
        let shape_err = || ScaleError::Shape {
            format: self.name.clone(),
            line: line.into(),
        };
        let field_err = |(field, value): (&'static str, String)| ScaleError::Field {
            format: self.name.clone(),
            field,
            value,
        };
        let (fields, length) = match self.layout.as_ref() {
            Layout::Pattern(regex) => {
                let caps = regex.captures(clean).ok_or_else(shape_err)?;
                let group = |name: &str| {
                    caps.name(name)
                        .map(|m| m.as_str().trim())
                        .filter(|t| !t.is_empty())
                };
                let text = WeightText {
                    weight: group("weight"),
                    sign: group("sign"),
                    unit: group("unit"),
                    gross_net: group("gross_net"),
                    motion: group("motion"),
                    status: group("status"),
                    range: group("range"),
                };
                return self.marks.reading(&text).map_err(field_err);
            }
            Layout::Fixed { fields, length } => (fields, *length),
        };
        let body = line.trim_matches(['\u{2}', '\u{3}', '\r', '\n']);
        let chars: Vec<char> = body.chars().collect();
        if length.is_some_and(|n| n != chars.len()) {
            return Err(shape_err());
        }
        // Each piece as it stands in its columns (errors quote it so) and trimmed.
        let mut columns: [Option<String>; 7] = Default::default();
        let mut pieces: [Option<String>; 7] = Default::default();
        for ((column, piece), (_, span)) in columns.iter_mut().zip(&mut pieces).zip(fields.named())
        {
            if let Some([start, len]) = span {
                let text: String = chars
                    .get(start..start.saturating_add(len))
                    .ok_or_else(shape_err)?
                    .iter()
                    .collect();
                *piece = Some(text.trim().to_string()).filter(|t| !t.is_empty());
                *column = Some(text);
            }
        }
        let field_err = |(field, value): (&'static str, String)| {
            let at = [
                "weight",
                "sign",
                "unit",
                "gross/net mark",
                "motion mark",
                "status",
                "range",
            ]
            .iter()
            .position(|f| *f == field);
            let value = at.and_then(|i| columns[i].clone()).unwrap_or(value);
            field_err((field, value))
        };
        let [weight, sign, unit, gross_net, motion, status, range] = &pieces;
        let text = WeightText {
            weight: weight.as_deref(),
            sign: sign.as_deref(),
            unit: unit.as_deref(),
            gross_net: gross_net.as_deref(),
            motion: motion.as_deref(),
            status: status.as_deref(),
            range: range.as_deref(),
        };
        self.marks.reading(&text).map_err(field_err)
    }

    /// Runs every sample through the row; the error names the sample (`samples[1]`) and what
    /// differs.
    pub fn check_samples(&self) -> Result<(), (String, String)> {
        for (i, sample) in self.samples.iter().enumerate() {
            check_sample(self, sample).map_err(|reason| (format!("samples[{i}]"), reason))?;
        }
        Ok(())
    }
}

fn check_sample(shape: &ScaleShape, sample: &ScaleSample) -> Result<(), String> {
    let line = &sample.line;
    let reading = match shape.parse(line) {
        Err(e) => return Err(format!("{line:?} is refused: {e}")),
        Ok(None) if sample.ignored => return Ok(()),
        Ok(None) => return Err(format!("{line:?} gives no weight (an ignored line)")),
        Ok(Some(_)) if sample.ignored => {
            return Err(format!("{line:?} gives a weight, the sample says ignored"));
        }
        Ok(Some(reading)) => reading,
    };
    let weight = reading.weight;
    for (want, got, unit) in [
        (sample.kg, weight.map(|w| w.kg()), "kg"),
        (sample.lb, weight.map(|w| w.lb()), "lb"),
    ] {
        if let Some(want) = want
            && !got.is_some_and(|got| (got - want).abs() < 0.001)
        {
            let got = got.map_or_else(|| "none".to_string(), |g| format!("{g} {unit}"));
            return Err(format!(
                "{line:?}: weight is {got}, the sample says {want} {unit}"
            ));
        }
    }
    if let Some(stable) = sample.stable {
        let got = reading.status == ScaleStatus::Stable;
        if got != stable {
            return Err(format!(
                "{line:?}: stable is {got} ({:?}), the sample says {stable}",
                reading.status
            ));
        }
    }
    if let Some(want) = sample.status {
        let got = SampleStatus::of(reading.status);
        if got != want {
            return Err(format!(
                "{line:?}: status is {:?}, the sample says {:?}",
                got.name(),
                want.name()
            ));
        }
    }
    if let Some(want) = sample.gross_net {
        let want = match want {
            GrossNetName::Gross => GrossNet::Gross,
            GrossNetName::Net => GrossNet::Net,
        };
        if reading.gross_net != Some(want) {
            return Err(format!(
                "{line:?}: gross_net is {:?}, the sample says {want:?}",
                reading.gross_net
            ));
        }
    }
    Ok(())
}

/// The scale table: operator rows, then the built-in families.
#[derive(Debug, Clone)]
pub struct ScaleParser {
    shapes: Vec<ScaleShape>,
}

impl ScaleParser {
    /// The built-in rows only (none if the embedded table were broken: [`Self::from_config`],
    /// the start-up path, says why instead).
    pub fn builtin() -> Self {
        Self {
            shapes: builtin_shapes().map(<[_]>::to_vec).unwrap_or_default(),
        }
    }

    /// The configured rows (compiled, samples checked) followed by the built-in ones.
    pub fn from_config(config: &ScaleConfig) -> Result<Self, ConfigError> {
        let builtin = builtin_shapes()?;
        let mut shapes = Vec::with_capacity(config.shapes.len() + builtin.len());
        for (i, row) in config.shapes.iter().enumerate() {
            let shape = ScaleShape::new(row).map_err(|(field, reason)| {
                ConfigError::invalid(
                    format!("scale.shapes[{i}].{field}"),
                    format!("row {:?}: {reason}", row.name),
                )
            })?;
            if shapes.iter().any(|s: &ScaleShape| s.name == row.name) {
                return Err(ConfigError::invalid(
                    format!("scale.shapes[{i}].name"),
                    format!("duplicate row name {:?}", row.name),
                ));
            }
            shapes.push(shape);
        }
        shapes.extend_from_slice(builtin);
        Ok(Self { shapes })
    }

    /// The row a device with `format` uses (unset: `rice_lake`).
    pub fn for_format(&self, format: Option<&str>) -> Result<ScaleShape, String> {
        let name = format.unwrap_or(DEFAULT_FORMAT);
        self.shapes
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self.shapes.iter().map(|s| s.name.as_str()).collect();
                format!(
                    "unknown scale format {name:?} (known: {})",
                    known.join(", ")
                )
            })
    }

    /// The rows in table order.
    pub fn shapes(&self) -> &[ScaleShape] {
        &self.shapes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rows(toml: &str) -> Result<Config, ConfigError> {
        let config = Config::from_toml(toml)?;
        config.validate()?;
        Ok(config)
    }

    fn row(toml: &str, name: &str) -> ScaleShape {
        let config = rows(toml).unwrap();
        ScaleParser::from_config(&config.scale)
            .unwrap()
            .for_format(Some(name))
            .unwrap()
    }

    const FIXED: &str = "[[scale.shapes]]\nname = \"fixed\"\n\
        fields = { sign = [0, 1], weight = [1, 7], unit = [8, 1], gross_net = [9, 1], motion = [10, 1] }\n\
        length = 11\nunits = { L = \"lb\", K = \"kg\" }\nstable = [\" \"]\nmotion = [\"M\"]\n\
        samples = [{ line = \"\\u0002    1234LG \\r\\n\", lb = 1234.0, stable = true, gross_net = \"gross\" }]\n";

    const CSV: &str = "[[scale.shapes]]\nname = \"csv_kg\"\n\
        pattern = '^(?P<gross_net>[GN]),(?P<motion>[SM]),(?P<weight>-?[\\d.]+)$'\n\
        unit = \"kg\"\nstable = [\"S\"]\nmotion = [\"M\"]\nignore = ['^-+$']\n\
        samples = [{ line = \"G,S,412.5\", kg = 412.5, stable = true }, { line = \"---\", ignored = true }]\n";

    #[test]
    fn every_builtin_row_is_in_the_table_and_reads_its_documented_samples() {
        let table = ScaleParser::builtin();
        let names: Vec<&str> = table.shapes().iter().map(ScaleShape::name).collect();
        assert_eq!(names, ["rice_lake", "tru_test", "sma"]);
        for shape in table.shapes() {
            assert!(!shape.samples().is_empty(), "{}", shape.name());
            shape.check_samples().unwrap();
        }
    }

    #[test]
    fn a_fixed_position_row_reads_as_the_built_in_rice_lake_parser_does() {
        let fixed = row(FIXED, "fixed");
        let builtin = row("", "rice_lake");
        for line in [
            "\u{2}    1234LG \r\n",
            "\u{2}    1230LGM",
            "\u{2}-   12.5KN ",
            "     560KG ",
        ] {
            assert_eq!(fixed.parse(line), builtin.parse(line), "{line:?}");
        }
        let r = fixed.parse("\u{2}-   12.5KN ").unwrap().unwrap();
        assert_eq!(r.stable_weight(), Some(Weight::from_kg(-12.5)));
        assert_eq!(r.gross_net, Some(GrossNet::Net));
        let moving = fixed.parse("\u{2}    1230LGM").unwrap().unwrap();
        assert_eq!(moving.status, ScaleStatus::Motion);
    }

    #[test]
    fn a_fixed_row_names_an_unknown_mark_and_refuses_a_line_of_another_length() {
        let fixed = row(FIXED, "fixed");
        for (line, field) in [
            ("    1234XG ", "unit"),
            ("    1234LQ ", "gross/net mark"),
            ("    1234LGQ", "motion mark"),
            ("*   1234LG ", "sign"),
            ("    12a4LG ", "weight"),
        ] {
            match fixed.parse(line) {
                Err(ScaleError::Field {
                    format, field: got, ..
                }) => {
                    assert_eq!((format.as_str(), got), ("fixed", field), "{line:?}")
                }
                other => panic!("{line:?}: {other:?}"),
            }
        }
        assert!(matches!(
            fixed.parse("    1234LG"),
            Err(ScaleError::Shape { .. })
        ));
    }

    #[test]
    fn a_pattern_row_uses_its_fixed_unit_marks_and_ignore_lines() {
        let csv = row(CSV, "csv_kg");
        let r = csv.parse("N,M,-3.5\r\n").unwrap().unwrap();
        assert_eq!(r.weight, Some(Weight::from_kg(-3.5)));
        assert_eq!(r.gross_net, Some(GrossNet::Net));
        assert_eq!(r.status, ScaleStatus::Motion);
        assert_eq!(csv.parse("-----").unwrap(), None);
        assert!(matches!(csv.parse("G,S,4x"), Err(ScaleError::Shape { .. })));
        assert!(matches!(
            csv.parse("G,S,1.2.3"),
            Err(ScaleError::Field {
                field: "weight",
                ..
            })
        ));
    }

    #[test]
    fn a_bad_row_is_refused_naming_the_row_and_its_field() {
        for (toml, field) in [
            (CSV.replace("P<weight>", "P<w>"), "scale.shapes[0].pattern"),
            (
                CSV.replace("(?P<gross", "((?P<gross"),
                "scale.shapes[0].pattern",
            ),
            (CSV.replace("unit = \"kg\"\n", ""), "scale.shapes[0].unit"),
            (CSV.replace("'^-+$'", "'('"), "scale.shapes[0].ignore[0]"),
            (
                CSV.replace("kg = 412.5", "kg = 41.25"),
                "scale.shapes[0].samples[0]",
            ),
            (
                CSV.replace("stable = true", "stable = false"),
                "scale.shapes[0].samples[0]",
            ),
            (
                CSV.replace("\"---\"", "\"G,S,1\""),
                "scale.shapes[0].samples[1]",
            ),
            (CSV.replace("\"csv_kg\"", "\"sma\""), "scale.shapes[0].name"),
            (
                FIXED.replace("weight = [1, 7]", "weight = [5, 7]"),
                "scale.shapes[0].fields.weight",
            ),
            (
                FIXED.replace("LG \\r", "XG \\r"),
                "scale.shapes[0].samples[0]",
            ),
            (
                format!("{CSV}fields = {{ weight = [0, 3] }}\n"),
                "scale.shapes[0].pattern",
            ),
            (format!("{CSV}{}", CSV), "scale.shapes[1].name"),
        ] {
            let err = rows(&toml).unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
        }
        let err = rows(&CSV.replace("kg = 412.5", "kg = 41.25"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("csv_kg") && err.contains("41.25"), "{err}");
    }

    #[test]
    fn a_scale_device_names_an_operator_row_or_a_built_in_one() {
        let device = "\n[[devices]]\ndevice_id = \"s\"\npath = \"/dev/ttyS1\"\nrole = \"scale\"\n";
        rows(&format!("{CSV}{device}format = \"csv_kg\"\n")).unwrap();
        rows(&format!("{CSV}{device}format = \"sma\"\n")).unwrap();
        rows(&format!("{CSV}{device}")).unwrap();
        let err = rows(&format!("{CSV}{device}format = \"csv\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`devices[0].format`") && err.contains("csv_kg"),
            "{err}"
        );
    }

    #[test]
    fn the_commented_example_rows_are_valid() {
        let example: String = crate::config::EXAMPLE_TOML
            .lines()
            .skip_while(|l| *l != "# [[scale.shapes]]")
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        assert!(
            example.contains("fixed_lb") && example.contains("csv_kg"),
            "{example}"
        );
        let config = rows(&example).unwrap();
        assert_eq!(config.scale.shapes.len(), 2);
    }

    #[test]
    fn the_embedded_built_in_table_compiles_and_holds_every_family() {
        let names: Vec<&str> = builtin_shapes().unwrap().iter().map(|s| s.name()).collect();
        assert_eq!(names, ["rice_lake", "tru_test", "sma"]);
        for (name, format) in crate::readers::scale::ScaleFormat::ALL {
            assert_eq!(format.name(), name);
            assert!(names.contains(&name), "{name}");
        }
    }

    #[test]
    fn the_built_in_rows_copied_into_the_config_read_every_line_as_the_built_in_ones() {
        // The built-in table is operator rows: copied under other names into `[[scale.shapes]]`
        // they read (and refuse) every line exactly as the built-in rows do.
        let copied = BUILTIN_TOML
            .replace("[[shapes]]", "[[scale.shapes]]")
            .replace("name = \"", "name = \"my_");
        let config = rows(&copied).unwrap();
        let table = ScaleParser::from_config(&config.scale).unwrap();
        for (name, lines) in [
            (
                "rice_lake",
                &[
                    "\u{2}    1234LG \r\n",
                    "\u{2}    1230LGM",
                    "\u{2}       0KGZ",
                    "\u{2} -------KGO",
                    "\u{2}      12KGI",
                    "\u{2}-   12.5KN ",
                    "\u{2}    1234XG ",
                    "\u{2}    1234LGQ",
                    "\u{2}    1234LG",
                ][..],
            ),
            (
                "tru_test",
                &[
                    "[ID982000123456789,WS412.5]\r",
                    "[WL410.0]",
                    "[]",
                    "[WS41x2]",
                    "WS412",
                ][..],
            ),
            (
                "sma",
                &[
                    "\n 1G      1234.0lb \r",
                    "Z1G         0.0kg ",
                    "O1G  ----------kg ",
                    " 1T        20.0kg ",
                    " 9G      1234.0lb ",
                    "X1G      1234.0lb ",
                ][..],
            ),
        ] {
            let builtin = table.for_format(Some(name)).unwrap();
            let copy = table.for_format(Some(&format!("my_{name}"))).unwrap();
            for line in lines {
                let rename = |r: Result<Option<ScaleReading>, ScaleError>| match r {
                    Err(ScaleError::Shape { line, .. }) => Err(("shape", line)),
                    Err(ScaleError::Field { field, value, .. }) => Err((field, value)),
                    Ok(reading) => Ok(reading),
                };
                assert_eq!(
                    rename(copy.parse(line)),
                    rename(builtin.parse(line)),
                    "{line:?}"
                );
            }
        }
    }

    const STATUS_ROW: &str = "[[scale.shapes]]\nname = \"status_csv\"\n\
        pattern = '^(?P<status>[A-Z ]),(?P<weight>[^,]*),(?P<unit>kg|lb)$'\n\
        stable = [\"S\"]\nmotion = [\"M\"]\nzero = [\"Z\"]\nout_of_range = [\"O\", \"U\"]\n\
        invalid = [\"E\"]\n\
        samples = [{ line = \"S,412.5,kg\", kg = 412.5, stable = true }]\n";

    #[test]
    fn an_operator_row_marks_zero_out_of_range_and_invalid_by_pattern_or_position() {
        let csv = row(STATUS_ROW, "status_csv");
        for (line, status, weight) in [
            (
                "S,412.5,kg",
                ScaleStatus::Stable,
                Some(Weight::from_kg(412.5)),
            ),
            (
                "M,410,kg",
                ScaleStatus::Motion,
                Some(Weight::from_kg(410.0)),
            ),
            (
                "Z,0,lb",
                ScaleStatus::CenterOfZero,
                Some(Weight::from_lb(0.0)),
            ),
            ("O,-----,kg", ScaleStatus::OutOfRange, None),
            ("U,,kg", ScaleStatus::OutOfRange, None),
            ("E,12,kg", ScaleStatus::Invalid, Some(Weight::from_kg(12.0))),
        ] {
            let r = csv.parse(line).unwrap().unwrap();
            assert_eq!((r.status, r.weight), (status, weight), "{line:?}");
        }
        assert!(matches!(
            csv.parse("Q,1,kg"),
            Err(ScaleError::Field {
                field: "status",
                ..
            })
        ));
        // Dashes are no number on a stable line.
        assert!(matches!(
            csv.parse("S,---,kg"),
            Err(ScaleError::Field {
                field: "weight",
                ..
            })
        ));

        // Fixed positions: a status column and a motion column; the graver one wins.
        let fixed = row(
            "[[scale.shapes]]\nname = \"cols\"\n\
             fields = { status = [0, 1], motion = [1, 1], weight = [2, 6] }\nunit = \"kg\"\n\
             motion = [\"M\"]\nzero = [\"Z\"]\nout_of_range = [\"O\"]\n",
            "cols",
        );
        for (line, status) in [
            ("     412", ScaleStatus::Stable),
            ("Z      0", ScaleStatus::CenterOfZero),
            ("ZM     3", ScaleStatus::Motion),
            ("OM -----", ScaleStatus::OutOfRange),
        ] {
            let r = fixed.parse(line).unwrap().unwrap();
            assert_eq!(r.status, status, "{line:?}");
        }
        assert!(matches!(
            fixed.parse(" X   412"),
            Err(ScaleError::Field {
                field: "motion mark",
                ..
            })
        ));
    }

    #[test]
    fn a_sample_states_the_status_it_expects_and_a_mismatch_names_the_row_and_sample() {
        let with_status = STATUS_ROW.replace(
            "stable = true }]",
            "stable = true, status = \"stable\" }, \
             { line = \"M,410,kg\", kg = 410.0, status = \"motion\" }, \
             { line = \"Z,0,kg\", kg = 0.0, status = \"zero\" }, \
             { line = \"U,,kg\", status = \"out_of_range\" }, \
             { line = \"E,12,kg\", status = \"invalid\" }]",
        );
        let shape = row(&with_status, "status_csv");
        assert_eq!(shape.samples().len(), 5);
        assert_eq!(
            shape.samples()[3].status,
            Some(SampleStatus::OutOfRange),
            "{with_status}"
        );
        for (from, to, sample, got, want) in [
            ("\"U,,kg\"", "\"E,,kg\"", 3, "invalid", "out_of_range"),
            ("\"Z,0,kg\"", "\"S,0,kg\"", 2, "stable", "zero"),
            (
                "status = \"motion\"",
                "status = \"stable\"",
                1,
                "motion",
                "stable",
            ),
        ] {
            let err = rows(&with_status.replace(from, to))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`scale.shapes[0].samples[{sample}]`"))
                    && err.contains("status_csv")
                    && err.contains(&format!("status is \"{got}\", the sample says \"{want}\"")),
                "{err}"
            );
        }
        let err = rows(&with_status.replace("\"zero\" }", "\"empty\" }"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn range_and_tare_marks_are_row_fields_and_a_range_list_needs_a_range_piece() {
        let toml = "[[scale.shapes]]\nname = \"ranged\"\n\
            fields = { range = [0, 1], gross_net = [1, 1], weight = [2, 6] }\nunit = \"kg\"\n\
            ranges = [\"1\", \"2\"]\ntare = [\"T\"]\n\
            samples = [{ line = \"1G   412\", kg = 412.0, gross_net = \"gross\" }, \
            { line = \"2T    20\", ignored = true }]\n";
        let ranged = row(toml, "ranged");
        assert_eq!(ranged.parse("2T    20").unwrap(), None);
        assert!(matches!(
            ranged.parse("3G   412"),
            Err(ScaleError::Field { field: "range", .. })
        ));
        let err = rows(&toml.replace("range = [0, 1], ", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`scale.shapes[0].ranges`"), "{err}");
        let err = rows(&toml.replace("weight = [2, 6] }", "weight = [2, 6] }\nlength = 7"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`scale.shapes[0].fields.weight`"), "{err}");
        let err = rows(&STATUS_ROW.replace("\"S,412.5,kg\"", "\"Q,412.5,kg\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`scale.shapes[0].samples[0]`") && err.contains("status"),
            "{err}"
        );
    }
}
