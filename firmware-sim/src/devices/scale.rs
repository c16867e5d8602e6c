//! Scale indicator line formats (see `shared/reference/devices.md`), the readings an indicator
//! shows while one animal is weighed, and a stream that sends them at the indicator's rate.

use std::time::Duration;

use chrono::{DateTime, Utc};
use schemas::{GrossNet, Weight, WeightUnit};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// What a simulated indicator shows about the weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indication {
    /// Settled weight.
    Stable,
    /// Platform moving.
    Motion,
    /// Empty platform at the centre of zero.
    CenterOfZero,
}

/// `weight_kg` in `unit`'s numbers (what an indicator set to `unit` would show, unrounded).
pub fn in_unit(weight_kg: f64, unit: WeightUnit) -> f64 {
    match unit {
        WeightUnit::Kg => weight_kg,
        WeightUnit::Lb => Weight::from_kg(weight_kg).lb(),
    }
}

/// Formats `value` the way an indicator with graduation `graduation` displays it: whole
/// numbers for graduations of 1 or more, one decimal below that. Rounds to the graduation.
pub fn displayed_value(value: f64, graduation: f64) -> f64 {
    let graduation = if graduation > 0.0 { graduation } else { 1.0 };
    (value / graduation).round() * graduation
}

fn value_text(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value.abs() as i64)
    } else {
        format!("{:.1}", value.abs())
    }
}

/// A Rice Lake "Consolidated Controls" stream line: `<STX><POL><wwwwwww><UNIT><G/N><S><CR><LF>`,
/// e.g. stable 1,234 lb gross is `\x02    1234LG \r\n`.
pub fn rice_lake_line(weight: Weight, gross_net: GrossNet, indication: Indication) -> Vec<u8> {
    let polarity = if weight.value < 0.0 { '-' } else { ' ' };
    let unit = match weight.unit {
        WeightUnit::Lb => 'L',
        WeightUnit::Kg => 'K',
    };
    let gn = match gross_net {
        GrossNet::Gross => 'G',
        GrossNet::Net => 'N',
    };
    let status = match indication {
        Indication::Stable => ' ',
        Indication::Motion => 'M',
        Indication::CenterOfZero => 'Z',
    };
    format!(
        "\x02{polarity}{:>7}{unit}{gn}{status}\r\n",
        value_text(weight.value)
    )
    .into_bytes()
}

/// A Tru-Test poll answer carrying a stable (`WS`) or live (`WL`) weight in kg, with the EID
/// the indicator's own reader saw: `[ID982000123456789,WS412.5]`.
pub fn tru_test_answer(eid: Option<&schemas::Eid>, weight_kg: f64, stable: bool) -> Vec<u8> {
    let field = if stable { "WS" } else { "WL" };
    let mut parts = Vec::new();
    if let Some(eid) = eid {
        parts.push(format!("ID{eid}"));
    }
    parts.push(format!("{field}{weight_kg:.1}"));
    format!("[{}]\r\n", parts.join(",")).into_bytes()
}

/// The line protocol a simulated indicator speaks: each of the gateway's scale formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IndicatorFormat {
    /// Rice Lake "Consolidated Controls" stream (920i, 482): see [`rice_lake_line`].
    #[default]
    RiceLake,
    /// Tru-Test bracketed answers, streamed as if polled: see [`tru_test_line`]. Always kg.
    TruTest,
    /// SMA standard weight responses (Avery Weigh-Tronix, Cardinal, ...): see [`sma_line`].
    Sma,
}

impl IndicatorFormat {
    /// The gateway's name for it (`[[devices]] format = ...`).
    pub fn gateway_name(self) -> &'static str {
        match self {
            Self::RiceLake => "rice_lake",
            Self::TruTest => "tru_test",
            Self::Sma => "sma",
        }
    }

    /// The unit an indicator of this format displays when set to `unit` (Tru-Test: kg only).
    pub fn unit(self, unit: WeightUnit) -> WeightUnit {
        match self {
            Self::TruTest => WeightUnit::Kg,
            Self::RiceLake | Self::Sma => unit,
        }
    }

    /// The bytes of one reading in this format (always gross in the chute).
    pub fn line(self, reading: Reading) -> Vec<u8> {
        match self {
            Self::RiceLake => rice_lake_line(reading.weight, GrossNet::Gross, reading.indication),
            Self::TruTest => tru_test_line(reading),
            Self::Sma => sma_line(reading.weight, GrossNet::Gross, reading.indication),
        }
    }
}

/// A Tru-Test answer for what the indicator shows: `[WL412.5]` while the weight moves,
/// `[WS412.5]` once stable, and `[]` (nothing to report) on the empty platform.
pub fn tru_test_line(reading: Reading) -> Vec<u8> {
    match reading.indication {
        Indication::CenterOfZero => b"[]\r\n".to_vec(),
        Indication::Motion => tru_test_answer(None, reading.weight.kg(), false),
        Indication::Stable => tru_test_answer(None, reading.weight.kg(), true),
    }
}

/// An SMA standard weight response: `<LF><s><r><n><m><f><xxxxxx.xxx><uuu><CR>`: status
/// (space, or `Z` at centre of zero), range `1`, `G`/`N`, motion `M` or space, a reserved
/// space, the weight right-justified in 10 columns, the unit in 3 (`lb `, `kg `). E.g. stable
/// 1,234 lb gross is `\n 1G        1234lb \r`.
pub fn sma_line(weight: Weight, gross_net: GrossNet, indication: Indication) -> Vec<u8> {
    let status = match indication {
        Indication::CenterOfZero => 'Z',
        Indication::Stable | Indication::Motion => ' ',
    };
    let gn = match gross_net {
        GrossNet::Gross => 'G',
        GrossNet::Net => 'N',
    };
    let motion = if indication == Indication::Motion {
        'M'
    } else {
        ' '
    };
    let sign = if weight.value < 0.0 { "-" } else { "" };
    let unit = match weight.unit {
        WeightUnit::Lb => "lb",
        WeightUnit::Kg => "kg",
    };
    let value = format!("{sign}{}", value_text(weight.value));
    format!("\n{status}1{gn}{motion} {value:>10}{unit:<3}\r").into_bytes()
}

/// One line's worth of what the indicator shows (always gross in the chute).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The weight as displayed (already rounded to the graduation).
    pub weight: Weight,
    /// Stable, in motion or at centre of zero.
    pub indication: Indication,
}

impl Reading {
    /// The empty platform at centre of zero, in `unit`.
    pub fn zero(unit: WeightUnit) -> Self {
        Self {
            weight: Weight { value: 0.0, unit },
            indication: Indication::CenterOfZero,
        }
    }
}

/// How many lines each phase of one weighing lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeighingPhases {
    /// Motion lines while the animal steps on and the reading settles.
    pub motion_lines: u32,
    /// Stable lines while the animal stands still (at least one).
    pub stable_lines: u32,
    /// Zero lines after it has stepped off (at least one).
    pub empty_lines: u32,
}

/// What the indicator shows while one animal is weighed: motion readings that climb and
/// oscillate ever closer to `target`, then `target` stable, one motion reading as the animal
/// steps off, then the empty platform at zero. `target` must already be a displayed value
/// (see [`displayed_value`]); motion readings are rounded to `graduation` and never negative.
pub fn weighing_readings(target: Weight, graduation: f64, phases: WeighingPhases) -> Vec<Reading> {
    let at = |value: f64, indication| Reading {
        weight: Weight {
            value: displayed_value(value, graduation).max(0.0),
            unit: target.unit,
        },
        indication,
    };
    let mut readings = Vec::new();
    for i in 1..=phases.motion_lines {
        // Below, above, below...: the error shrinks with the square of the time left.
        let left = 1.0 - f64::from(i) / f64::from(phases.motion_lines + 1);
        let side = if i % 2 == 1 { -1.0 } else { 1.0 };
        let value = target.value * (1.0 + 0.35 * left * left * side);
        readings.push(at(value, Indication::Motion));
    }
    for _ in 0..phases.stable_lines.max(1) {
        readings.push(Reading {
            weight: target,
            indication: Indication::Stable,
        });
    }
    readings.push(at(target.value / 3.0, Indication::Motion));
    for _ in 0..phases.empty_lines.max(1) {
        readings.push(Reading::zero(target.unit));
    }
    readings
}

/// Streams `readings` as Rice Lake lines to `port`: [`stream_readings_as`] a Rice Lake.
pub async fn stream_readings(
    port: &mut (impl AsyncWrite + Unpin),
    readings: &[Reading],
    interval: Duration,
) -> std::io::Result<Option<DateTime<Utc>>> {
    stream_readings_as(port, IndicatorFormat::RiceLake, readings, interval).await
}

/// Streams `readings` as `format` lines to `port`, one every `interval` (a 920i sends ~10/s),
/// each flushed and followed by `interval`, so consecutive calls keep the rate. Returns when
/// the first stable line was sent, if there was one.
pub async fn stream_readings_as(
    port: &mut (impl AsyncWrite + Unpin),
    format: IndicatorFormat,
    readings: &[Reading],
    interval: Duration,
) -> std::io::Result<Option<DateTime<Utc>>> {
    let mut first_stable = None;
    for reading in readings {
        if reading.indication == Indication::Stable && first_stable.is_none() {
            first_stable = Some(Utc::now());
        }
        let line = format.line(*reading);
        port.write_all(&line).await?;
        port.flush().await?;
        tokio::time::sleep(interval).await;
    }
    Ok(first_stable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rice_lake_lines_match_the_documented_examples_byte_for_byte() {
        let stable = rice_lake_line(Weight::from_lb(1234.0), GrossNet::Gross, Indication::Stable);
        assert_eq!(stable, b"\x02    1234LG \r\n");
        let moving = rice_lake_line(Weight::from_lb(1230.0), GrossNet::Gross, Indication::Motion);
        assert_eq!(moving, b"\x02    1230LGM\r\n");
    }

    #[test]
    fn kilograms_negative_net_and_zero_render_in_seven_columns() {
        assert_eq!(
            rice_lake_line(Weight::from_kg(412.5), GrossNet::Net, Indication::Stable),
            b"\x02   412.5KN \r\n"
        );
        assert_eq!(
            rice_lake_line(Weight::from_kg(-3.0), GrossNet::Gross, Indication::Motion),
            b"\x02-      3KGM\r\n"
        );
        assert_eq!(
            rice_lake_line(
                Weight::from_lb(0.0),
                GrossNet::Gross,
                Indication::CenterOfZero
            ),
            b"\x02       0LGZ\r\n"
        );
    }

    #[test]
    fn displayed_values_round_to_the_graduation() {
        assert_eq!(displayed_value(412.26, 0.5), 412.5);
        assert_eq!(displayed_value(1233.6, 1.0), 1234.0);
    }

    #[test]
    fn tru_test_answers_match_the_documented_shape() {
        let eid = schemas::Eid::parse("982000123456789").unwrap();
        assert_eq!(
            tru_test_answer(Some(&eid), 412.5, true),
            b"[ID982000123456789,WS412.5]\r\n"
        );
        assert_eq!(tru_test_answer(None, 80.0, false), b"[WL80.0]\r\n");
    }

    #[test]
    fn sma_lines_have_the_standard_columns() {
        assert_eq!(
            sma_line(Weight::from_lb(1234.0), GrossNet::Gross, Indication::Stable),
            b"\n 1G        1234lb \r"
        );
        assert_eq!(
            sma_line(Weight::from_kg(412.5), GrossNet::Net, Indication::Motion),
            b"\n 1NM      412.5kg \r"
        );
        assert_eq!(
            sma_line(
                Weight::from_kg(0.0),
                GrossNet::Gross,
                Indication::CenterOfZero
            ),
            b"\nZ1G           0kg \r"
        );
    }

    #[test]
    fn every_format_is_read_by_the_gateway_as_the_weight_and_status_shown() {
        use edge::readers::scale::{ScaleFormat, ScaleStatus};
        for format in <IndicatorFormat as clap::ValueEnum>::value_variants() {
            let gateway = ScaleFormat::from_name(Some(format.gateway_name())).unwrap();
            let unit = format.unit(WeightUnit::Lb);
            let target = Weight {
                value: displayed_value(in_unit(430.0, unit), 0.5),
                unit,
            };
            for reading in weighing_readings(target, 0.5, PHASES) {
                let bytes = format.line(reading);
                let line = String::from_utf8(bytes).unwrap();
                let parsed = gateway
                    .parse(line.trim_matches(['\r', '\n', '\u{2}']))
                    .unwrap();
                match (reading.indication, parsed) {
                    (Indication::CenterOfZero, None) => {
                        assert_eq!(
                            *format,
                            IndicatorFormat::TruTest,
                            "only Tru-Test says nothing"
                        )
                    }
                    (indication, Some(r)) => {
                        let status = match indication {
                            Indication::Stable => ScaleStatus::Stable,
                            Indication::Motion => ScaleStatus::Motion,
                            Indication::CenterOfZero => ScaleStatus::CenterOfZero,
                        };
                        assert_eq!(r.status, status, "{format:?} {line:?}");
                        let kg = r.weight.unwrap().kg();
                        assert!(
                            (kg - reading.weight.kg()).abs() < 1e-9,
                            "{format:?} {line:?}"
                        );
                    }
                    (_, None) => panic!("{format:?}: {line:?} read as nothing"),
                }
            }
        }
    }

    const PHASES: WeighingPhases = WeighingPhases {
        motion_lines: 6,
        stable_lines: 3,
        empty_lines: 2,
    };

    #[test]
    fn a_weighing_is_motion_converging_on_the_weight_then_stable_then_zero() {
        let target = Weight::from_lb(812.0);
        let readings = weighing_readings(target, 1.0, PHASES);
        let marks: String = readings
            .iter()
            .map(|r| match r.indication {
                Indication::Motion => 'M',
                Indication::Stable => 'S',
                Indication::CenterOfZero => 'Z',
            })
            .collect();
        assert_eq!(marks, "MMMMMMSSSMZZ");
        let errors: Vec<f64> = readings[..6]
            .iter()
            .map(|r| (r.weight.value - target.value).abs())
            .collect();
        assert!(errors.windows(2).all(|w| w[1] < w[0]), "{errors:?}");
        assert!(readings[6..9].iter().all(|r| r.weight == target));
        assert!(readings[10..].iter().all(|r| r.weight.value == 0.0));
    }

    #[test]
    fn motion_readings_are_on_the_graduation_in_the_indicators_unit() {
        let target = Weight::from_kg(367.5);
        for r in weighing_readings(target, 0.5, PHASES) {
            assert_eq!(r.weight.unit, WeightUnit::Kg);
            assert_eq!((r.weight.value * 2.0).fract(), 0.0, "{r:?}");
            assert!(r.weight.value >= 0.0);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_stream_sends_one_line_per_interval_and_reports_the_first_stable_one() {
        let readings = weighing_readings(Weight::from_lb(1234.0), 1.0, PHASES);
        let mut port = Vec::new();
        let start = tokio::time::Instant::now();
        let stable_at = stream_readings(&mut port, &readings, Duration::from_millis(100))
            .await
            .unwrap();
        assert!(stable_at.is_some());
        assert_eq!(start.elapsed(), Duration::from_millis(1200));
        let lines: Vec<&[u8]> = port.split_inclusive(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 12);
        assert_eq!(lines[6], b"\x02    1234LG \r\n");
        assert_eq!(lines[11], b"\x02       0LGZ\r\n");
    }
}
