//! Scale indicator readings, and the names of the built-in indicator families.
//!
//! How a line becomes a [`ScaleReading`] is the scale table's business
//! ([`super::scale_shapes`]): the built-in families (`rice_lake`, `tru_test`, `sma`) are rows
//! of that table written in `scale_builtin.toml`, read by the same code as the operator's
//! `[[scale.shapes]]` rows. [`ScaleFormat`] names the built-in rows for code that wants one
//! without a config (the simulator, tests); its [`ScaleFormat::parse`] is that row's.

use schemas::{GrossNet, Weight};

/// What the indicator said about the weight it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleStatus {
    /// Settled: this weight may be recorded.
    Stable,
    /// The platform is moving.
    Motion,
    /// Over or under the indicator's range.
    OutOfRange,
    /// The indicator reports the reading invalid.
    Invalid,
    /// At the centre of zero: the platform is empty.
    CenterOfZero,
}

/// One weight line from an indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleReading {
    /// The weight shown, when the line carries a readable number.
    pub weight: Option<Weight>,
    /// Gross or net, when the format says.
    pub gross_net: Option<GrossNet>,
    /// Stability and validity.
    pub status: ScaleStatus,
}

impl ScaleReading {
    /// The weight, only when it is stable.
    pub fn stable_weight(&self) -> Option<Weight> {
        match self.status {
            ScaleStatus::Stable => self.weight,
            _ => None,
        }
    }
}

/// Why a scale line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScaleError {
    /// The line does not have the format's length or framing.
    #[error("{format} line has the wrong shape: {line:?}")]
    Shape {
        /// The format (row) name.
        format: String,
        /// The line as received.
        line: String,
    },
    /// A field holds a value the format does not define.
    #[error("{format} line has an unknown {field} {value:?}")]
    Field {
        /// The format (row) name.
        format: String,
        /// Which field.
        field: &'static str,
        /// The value found.
        value: String,
    },
}

/// An indicator family's line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaleFormat {
    /// Rice Lake Consolidated Controls stream (920i, 482 and compatibles).
    RiceLake,
    /// Tru-Test bracketed poll answers.
    TruTest,
    /// SMA standard weight responses (Avery Weigh-Tronix, Cardinal, Gallagher, ...).
    Sma,
}

impl ScaleFormat {
    /// Every format, with its config name.
    pub const ALL: [(&'static str, ScaleFormat); 3] = [
        ("rice_lake", Self::RiceLake),
        ("tru_test", Self::TruTest),
        ("sma", Self::Sma),
    ];

    /// The format for a config name (`None` = the default, `rice_lake`).
    pub fn from_name(name: Option<&str>) -> Result<Self, String> {
        let Some(name) = name else {
            return Ok(Self::RiceLake);
        };
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                format!("unknown scale format {name:?} (known: rice_lake, tru_test, sma)")
            })
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RiceLake => "rice_lake",
            Self::TruTest => "tru_test",
            Self::Sma => "sma",
        }
    }

    /// Parses one line with the built-in row of this name; `Ok(None)` is a well-formed line
    /// without a weight.
    pub fn parse(self, line: &str) -> Result<Option<ScaleReading>, ScaleError> {
        let rows = super::scale_shapes::builtin_shapes()
            .ok()
            .unwrap_or_default();
        match rows.iter().find(|row| row.name() == self.name()) {
            Some(row) => row.parse(line),
            // Only if the embedded table were broken (a unit test proves it is not).
            None => Err(ScaleError::Shape {
                format: self.name().into(),
                line: line.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::WeightUnit;

    fn rice(line: &str) -> Result<Option<ScaleReading>, ScaleError> {
        ScaleFormat::RiceLake.parse(line)
    }

    #[test]
    fn a_stable_gross_pound_line_is_a_stable_weight() {
        let r = rice("\u{2}    1234LG \r\n").unwrap().unwrap();
        assert_eq!(r.status, ScaleStatus::Stable);
        assert_eq!(r.gross_net, Some(GrossNet::Gross));
        assert_eq!(r.stable_weight(), Some(Weight::from_lb(1234.0)));
    }

    #[test]
    fn motion_zero_and_range_marks_are_not_stable() {
        let r = rice("\u{2}    1230LGM").unwrap().unwrap();
        assert_eq!(r.status, ScaleStatus::Motion);
        assert_eq!(r.weight, Some(Weight::from_lb(1230.0)));
        assert_eq!(r.stable_weight(), None);
        let z = rice("\u{2}       0KGZ").unwrap().unwrap();
        assert_eq!(z.status, ScaleStatus::CenterOfZero);
        let o = rice("\u{2} -------KGO").unwrap().unwrap();
        assert_eq!(o.status, ScaleStatus::OutOfRange);
        assert_eq!(o.weight, None);
        let i = rice("\u{2}      12KGI").unwrap().unwrap();
        assert_eq!(i.status, ScaleStatus::Invalid);
    }

    #[test]
    fn net_kilograms_negative_and_decimal_weights_are_read() {
        let r = rice("\u{2}-   12.5KN ").unwrap().unwrap();
        assert_eq!(r.gross_net, Some(GrossNet::Net));
        assert_eq!(r.stable_weight(), Some(Weight::from_kg(-12.5)));
    }

    #[test]
    fn a_line_without_stx_is_still_read() {
        let r = rice("     560KG ").unwrap().unwrap();
        assert_eq!(r.stable_weight(), Some(Weight::from_kg(560.0)));
    }

    #[test]
    fn garbled_rice_lake_lines_are_errors_not_panics() {
        for line in [
            "",
            "\u{2}",
            "\u{2}    1234LG",
            "\u{2}    1234LG  x",
            "\u{2}    12a4LG ",
            "\u{2}    1234XG ",
            "\u{2}    1234LX ",
            "\u{2}    1234LGQ",
            "\u{2}*   1234LG ",
            "\u{2}    ¼¼¼¼LG ",
        ] {
            assert!(rice(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn tru_test_answers_give_stable_live_and_recorded_weights() {
        let t = ScaleFormat::TruTest;
        let r = t.parse("[ID982000123456789,WS412.5]\r").unwrap().unwrap();
        assert_eq!(r.stable_weight(), Some(Weight::from_kg(412.5)));
        let r = t.parse("[WL410.0]").unwrap().unwrap();
        assert_eq!(r.status, ScaleStatus::Motion);
        let r = t.parse("[WR399]").unwrap().unwrap();
        assert_eq!(r.stable_weight(), Some(Weight::from_kg(399.0)));
        assert_eq!(t.parse("[]").unwrap(), None);
        assert_eq!(t.parse("[ID982000123456789]").unwrap(), None);
    }

    #[test]
    fn garbled_tru_test_answers_are_errors() {
        let t = ScaleFormat::TruTest;
        assert!(t.parse("[WS41x2]").is_err());
        assert!(t.parse("WS412").is_err());
        assert!(t.parse("[WS").is_err());
    }

    /// SMA lines: (line after framing, status, weight).
    /// A line, the status it means, and its weight (value, unit) if readable.
    type SmaRow = (&'static str, ScaleStatus, Option<(f64, WeightUnit)>);

    const SMA_TABLE: [SmaRow; 7] = [
        (
            " 1G      1234.0lb ",
            ScaleStatus::Stable,
            Some((1234.0, WeightUnit::Lb)),
        ),
        (
            " 1GM     1230.0lb ",
            ScaleStatus::Motion,
            Some((1230.0, WeightUnit::Lb)),
        ),
        (
            " 2N       560.5kg ",
            ScaleStatus::Stable,
            Some((560.5, WeightUnit::Kg)),
        ),
        (
            "Z1G         0.0kg ",
            ScaleStatus::CenterOfZero,
            Some((0.0, WeightUnit::Kg)),
        ),
        (
            " 1G       -12.5kg ",
            ScaleStatus::Stable,
            Some((-12.5, WeightUnit::Kg)),
        ),
        ("O1G  ----------kg ", ScaleStatus::OutOfRange, None),
        (
            "E1G         412kg ",
            ScaleStatus::Invalid,
            Some((412.0, WeightUnit::Kg)),
        ),
    ];

    #[test]
    fn sma_weight_responses_give_status_and_weight() {
        for (line, status, weight) in SMA_TABLE {
            let framed = format!("\n{line}\r");
            for input in [line, framed.as_str()] {
                let r = ScaleFormat::Sma.parse(input).unwrap().unwrap();
                assert_eq!(r.status, status, "{line:?}");
                assert_eq!(
                    r.weight,
                    weight.map(|(value, unit)| Weight { value, unit }),
                    "{line:?}"
                );
            }
        }
        let net = ScaleFormat::Sma
            .parse(" 2N       560.5kg ")
            .unwrap()
            .unwrap();
        assert_eq!(net.gross_net, Some(GrossNet::Net));
        assert_eq!(
            ScaleFormat::Sma.parse(" 1T        20.0kg ").unwrap(),
            None,
            "tare is no weighing"
        );
    }

    #[test]
    fn garbled_sma_lines_are_errors_naming_the_field() {
        for (line, field) in [
            (" 1G      1234.0lb", None),
            ("X1G      1234.0lb ", Some("status")),
            (" 9G      1234.0lb ", Some("range")),
            (" 1Q      1234.0lb ", Some("gross/net mark")),
            (" 1GX     1234.0lb ", Some("motion mark")),
            (" 1G      1234.0oz ", Some("unit")),
            (" 1G      12x4.0lb ", Some("weight")),
        ] {
            match (ScaleFormat::Sma.parse(line), field) {
                (Err(ScaleError::Shape { .. }), None) => {}
                (Err(ScaleError::Field { field: got, .. }), Some(want)) => {
                    assert_eq!(got, want, "{line:?}")
                }
                (other, _) => panic!("{line:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn format_names_round_trip_and_unknown_names_are_refused() {
        for (name, format) in ScaleFormat::ALL {
            assert_eq!(ScaleFormat::from_name(Some(name)), Ok(format));
            assert_eq!(format.name(), name);
        }
        assert_eq!(ScaleFormat::from_name(None), Ok(ScaleFormat::RiceLake));
        assert!(ScaleFormat::from_name(Some("digi_star")).is_err());
    }
}
