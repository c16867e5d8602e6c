//! A chute session: animals walk onto the scale one at a time.
//!
//! For each animal the RFID reader sends its tag (repeated while the tag is in range), the
//! indicator streams motion readings converging on the weight, then stable readings, then the
//! empty platform at zero as the animal leaves. [`run_chute`] returns exactly what the
//! indicator displayed as stable, so a test can assert the gateway captured those weighings.

use std::time::Duration;

use chrono::{DateTime, Utc};
use schemas::{Eid, Weight, WeightUnit};
use tokio::io::AsyncWrite;

use crate::devices::faults::{FaultSource, Faults};
use crate::devices::rfid::{ReaderFormat, TagRepeats, send_tag_read};
use crate::devices::scale::{
    Indication, IndicatorFormat, Reading, WeighingPhases, displayed_value, in_unit,
    stream_readings_as, weighing_readings,
};
use crate::herd::Animal;

/// How fast the simulated devices talk.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Time between two indicator lines (a 920i streams ~10 lines/s).
    pub scale_line_interval: Duration,
    /// How often the reader sends the tag while it is in range.
    pub tag_repeats: u32,
    /// Time between repeated tag lines.
    pub tag_repeat_interval: Duration,
    /// Motion lines before the weight settles.
    pub motion_lines: u32,
    /// Stable lines while the animal stands still.
    pub stable_lines: u32,
    /// Zero lines while the platform is empty between animals.
    pub empty_lines: u32,
}

impl Pacing {
    /// Real-time-ish: about four seconds an animal.
    pub fn realistic() -> Self {
        Self {
            scale_line_interval: Duration::from_millis(100),
            tag_repeats: 3,
            tag_repeat_interval: Duration::from_millis(250),
            motion_lines: 12,
            stable_lines: 15,
            empty_lines: 10,
        }
    }

    /// For tests: a few hundred milliseconds an animal, same shape.
    pub fn fast() -> Self {
        Self {
            scale_line_interval: Duration::from_millis(20),
            tag_repeats: 3,
            tag_repeat_interval: Duration::from_millis(40),
            motion_lines: 5,
            stable_lines: 4,
            empty_lines: 4,
        }
    }
}

/// How the chute's devices are set up.
#[derive(Debug, Clone, Copy)]
pub struct ChuteSetup {
    /// The reader's line format.
    pub reader_format: ReaderFormat,
    /// The indicator's line protocol.
    pub indicator: IndicatorFormat,
    /// The unit the indicator displays (a Tru-Test always shows kg).
    pub unit: WeightUnit,
    /// The indicator's graduation in `unit` (1 lb, 0.5 kg are common).
    pub graduation: f64,
    /// The devices' pace.
    pub pacing: Pacing,
    /// Bad lines to inject (none by default).
    pub faults: Faults,
}

impl Default for ChuteSetup {
    fn default() -> Self {
        Self {
            reader_format: ReaderFormat::Allflex,
            indicator: IndicatorFormat::RiceLake,
            unit: WeightUnit::Lb,
            graduation: 1.0,
            pacing: Pacing::realistic(),
            faults: Faults::default(),
        }
    }
}

/// A weighing the devices presented: the tag and the stable weight as displayed.
#[derive(Debug, Clone, PartialEq)]
pub struct SentWeighing {
    /// The animal's tag.
    pub eid: Eid,
    /// The stable weight as the indicator displayed it.
    pub weight: Weight,
    /// When the tag was first sent.
    pub tag_sent_at: DateTime<Utc>,
    /// When the first stable line was sent.
    pub stable_sent_at: DateTime<Utc>,
}

/// Why a chute session stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChuteError {
    /// Writing to a device's port failed.
    #[error("writing to the {device} port: {source}")]
    Write {
        /// `reader` or `scale`.
        device: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn write_error(device: &'static str) -> impl FnOnce(std::io::Error) -> ChuteError {
    move |source| ChuteError::Write { device, source }
}

/// Writes one (injected) line.
async fn send(
    port: &mut (impl AsyncWrite + Unpin),
    device: &'static str,
    line: &[u8],
) -> Result<(), ChuteError> {
    use tokio::io::AsyncWriteExt;
    port.write_all(line).await.map_err(write_error(device))?;
    port.flush().await.map_err(write_error(device))
}

/// Zero lines that keep the indicator streaming for `window` (rounded up to whole lines).
fn idle_zeros(window: Duration, interval: Duration, unit: WeightUnit) -> Vec<Reading> {
    let lines = if interval.is_zero() {
        0
    } else {
        window.as_nanos().div_ceil(interval.as_nanos())
    };
    (0..lines).map(|_| Reading::zero(unit)).collect()
}

/// Passes `animals` through the chute, writing the reader's lines to `reader` and the
/// indicator's lines to `scale`. Returns what was presented as stable, one per animal.
///
/// Per animal: the reader sends the tag (with repeats) while the indicator keeps streaming
/// zero; then the indicator streams motion converging on the weight, the stable weight, one
/// motion line as the animal steps off, and zero (see [`weighing_readings`]).
pub async fn run_chute(
    reader: &mut (impl AsyncWrite + Unpin),
    scale: &mut (impl AsyncWrite + Unpin),
    animals: &[Animal],
    setup: ChuteSetup,
) -> Result<Vec<SentWeighing>, ChuteError> {
    let p = setup.pacing;
    let repeats = TagRepeats {
        count: p.tag_repeats,
        interval: p.tag_repeat_interval,
    };
    let phases = WeighingPhases {
        motion_lines: p.motion_lines,
        stable_lines: p.stable_lines,
        empty_lines: p.empty_lines,
    };
    let tag_window = p.tag_repeat_interval * p.tag_repeats.max(1).saturating_sub(1);
    let unit = setup.indicator.unit(setup.unit);
    let zeros = idle_zeros(tag_window, p.scale_line_interval, unit);
    let mut sent = Vec::with_capacity(animals.len());
    let mut noise = FaultSource::new(&setup.faults);
    for animal in animals {
        let weight = Weight {
            value: displayed_value(in_unit(animal.weight_kg, unit), setup.graduation),
            unit,
        };
        for _ in 0..setup.faults.garbled_reader_lines {
            send(reader, "reader", &noise.garbled_line()).await?;
        }
        for _ in 0..setup.faults.garbled_scale_lines {
            send(scale, "scale", &noise.garbled_line()).await?;
        }
        for _ in 0..setup.faults.dropped_byte_lines {
            let stable = setup.indicator.line(Reading {
                weight,
                indication: Indication::Stable,
            });
            send(scale, "scale", &noise.dropped_byte(&stable)).await?;
        }
        let tag_sent_at = Utc::now();
        tracing::debug!(eid = %animal.eid, "tag in range");
        tokio::try_join!(
            async {
                send_tag_read(reader, setup.reader_format, &animal.eid, repeats)
                    .await
                    .map_err(write_error("reader"))
            },
            async {
                stream_readings_as(scale, setup.indicator, &zeros, p.scale_line_interval)
                    .await
                    .map_err(write_error("scale"))
            },
        )?;
        let readings = weighing_readings(weight, setup.graduation, phases);
        let stable_sent_at =
            stream_readings_as(scale, setup.indicator, &readings, p.scale_line_interval)
                .await
                .map_err(write_error("scale"))?
                .unwrap_or_else(Utc::now);
        tracing::info!(eid = %animal.eid, value = weight.value, unit = ?weight.unit, "weighed");
        sent.push(SentWeighing {
            eid: animal.eid.clone(),
            weight,
            tag_sent_at,
            stable_sent_at,
        });
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::scale::{Indication, rice_lake_line};
    use crate::herd::arrivals;
    use schemas::GrossNet;

    #[tokio::test]
    async fn each_animal_is_tag_then_motion_then_stable_then_zero() {
        let animals = arrivals(2, 1);
        let (mut reader, mut scale) = (Vec::new(), Vec::new());
        let setup = ChuteSetup {
            pacing: Pacing {
                scale_line_interval: Duration::ZERO,
                tag_repeat_interval: Duration::ZERO,
                ..Pacing::fast()
            },
            ..ChuteSetup::default()
        };
        let sent = run_chute(&mut reader, &mut scale, &animals, setup)
            .await
            .unwrap();
        assert_eq!(sent.len(), 2);
        let reader = String::from_utf8(reader).unwrap();
        assert_eq!(reader.lines().count(), 6, "3 repeats per tag");
        let scale = String::from_utf8(scale).unwrap();
        let statuses: String = scale
            .lines()
            .map(|l| l.chars().nth(11).unwrap_or('?'))
            .collect();
        // Per animal: 5 motion, 4 stable, 1 leaving motion, 4 zero.
        assert_eq!(statuses, "MMMMM    MZZZZ".repeat(2));
        let stable = rice_lake_line(sent[0].weight, GrossNet::Gross, Indication::Stable);
        assert!(scale.contains(std::str::from_utf8(&stable).unwrap()));
        assert_eq!(sent[0].weight.unit, WeightUnit::Lb);
        assert_eq!(sent[0].weight.value.fract(), 0.0, "1 lb graduation");
    }

    #[tokio::test(start_paused = true)]
    async fn the_scale_keeps_streaming_zero_while_the_tag_is_read_and_fast_animals_take_under_a_second()
     {
        let animals = arrivals(3, 5);
        let (mut reader, mut scale) = (Vec::new(), Vec::new());
        let setup = ChuteSetup {
            unit: WeightUnit::Kg,
            graduation: 0.5,
            pacing: Pacing::fast(),
            ..ChuteSetup::default()
        };
        let start = tokio::time::Instant::now();
        let sent = run_chute(&mut reader, &mut scale, &animals, setup)
            .await
            .unwrap();
        let per_animal = start.elapsed() / 3;
        assert!(
            (Duration::from_millis(300)..Duration::from_millis(600)).contains(&per_animal),
            "{per_animal:?}"
        );
        let statuses: String = String::from_utf8(scale)
            .unwrap()
            .lines()
            .map(|l| l.chars().nth(11).unwrap_or('?'))
            .collect();
        // 40 ms apart x 3 tag lines = 80 ms of zeros at 20 ms a line, then the weighing.
        assert_eq!(statuses, "ZZZZMMMMM    MZZZZ".repeat(3));
        for (w, a) in sent.iter().zip(&animals) {
            assert_eq!(w.eid, a.eid);
            assert_eq!(w.weight.unit, WeightUnit::Kg);
            assert_eq!(w.weight.value, displayed_value(a.weight_kg, 0.5));
            assert!(w.stable_sent_at >= w.tag_sent_at);
        }
    }
}
