//! A chute session: animals walk onto the scale one at a time.
//!
//! For each animal the RFID reader sends its tag (repeated while the tag is in range), the
//! indicator streams motion readings converging on the weight, then stable readings, then the
//! empty platform at zero as the animal leaves. [`run_chute`] returns exactly what the
//! indicator displayed as stable, so a test can assert the gateway captured those weighings.

use std::time::Duration;

use chrono::{DateTime, Utc};
use schemas::{Eid, GrossNet, Weight, WeightUnit};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::devices::rfid::{ReaderFormat, tag_line};
use crate::devices::scale::{Indication, displayed_value, rice_lake_line};
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
            scale_line_interval: Duration::from_millis(15),
            tag_repeats: 3,
            tag_repeat_interval: Duration::from_millis(20),
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
    /// The unit the indicator displays.
    pub unit: WeightUnit,
    /// The indicator's graduation in `unit` (1 lb, 0.5 kg are common).
    pub graduation: f64,
    /// The devices' pace.
    pub pacing: Pacing,
}

impl Default for ChuteSetup {
    fn default() -> Self {
        Self {
            reader_format: ReaderFormat::Allflex,
            unit: WeightUnit::Lb,
            graduation: 1.0,
            pacing: Pacing::realistic(),
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

async fn send(
    port: &mut (impl AsyncWrite + Unpin),
    device: &'static str,
    bytes: &[u8],
) -> Result<(), ChuteError> {
    port.write_all(bytes)
        .await
        .map_err(|source| ChuteError::Write { device, source })?;
    port.flush()
        .await
        .map_err(|source| ChuteError::Write { device, source })
}

fn in_unit(weight_kg: f64, unit: WeightUnit) -> f64 {
    match unit {
        WeightUnit::Kg => weight_kg,
        WeightUnit::Lb => Weight::from_kg(weight_kg).lb(),
    }
}

/// Passes `animals` through the chute, writing the reader's lines to `reader` and the
/// indicator's lines to `scale`. Returns what was presented as stable, one per animal.
pub async fn run_chute(
    reader: &mut (impl AsyncWrite + Unpin),
    scale: &mut (impl AsyncWrite + Unpin),
    animals: &[Animal],
    setup: ChuteSetup,
) -> Result<Vec<SentWeighing>, ChuteError> {
    let p = setup.pacing;
    let zero = Weight {
        value: 0.0,
        unit: setup.unit,
    };
    let mut sent = Vec::with_capacity(animals.len());
    for animal in animals {
        let target = displayed_value(in_unit(animal.weight_kg, setup.unit), setup.graduation);
        let tag_sent_at = Utc::now();
        for i in 0..p.tag_repeats.max(1) {
            if i > 0 {
                tokio::time::sleep(p.tag_repeat_interval).await;
            }
            send(
                reader,
                "reader",
                &tag_line(setup.reader_format, &animal.eid, Utc::now()),
            )
            .await?;
        }
        // Stepping on: readings climb towards the weight and wobble around it.
        for i in 1..=p.motion_lines {
            let frac = f64::from(i) / f64::from(p.motion_lines + 1);
            let wobble = if i % 2 == 0 { 1.5 } else { -1.0 } * setup.graduation * 4.0;
            let value = displayed_value(target * frac + wobble * frac, setup.graduation).max(0.0);
            let line = rice_lake_line(
                Weight {
                    value,
                    unit: setup.unit,
                },
                GrossNet::Gross,
                Indication::Motion,
            );
            send(scale, "scale", &line).await?;
            tokio::time::sleep(p.scale_line_interval).await;
        }
        let weight = Weight {
            value: target,
            unit: setup.unit,
        };
        let stable_sent_at = Utc::now();
        for _ in 0..p.stable_lines.max(1) {
            send(
                scale,
                "scale",
                &rice_lake_line(weight, GrossNet::Gross, Indication::Stable),
            )
            .await?;
            tokio::time::sleep(p.scale_line_interval).await;
        }
        // Stepping off: motion, then the empty platform.
        let leaving = Weight {
            value: displayed_value(target / 3.0, setup.graduation),
            unit: setup.unit,
        };
        send(
            scale,
            "scale",
            &rice_lake_line(leaving, GrossNet::Gross, Indication::Motion),
        )
        .await?;
        for _ in 0..p.empty_lines.max(1) {
            tokio::time::sleep(p.scale_line_interval).await;
            send(
                scale,
                "scale",
                &rice_lake_line(zero, GrossNet::Gross, Indication::CenterOfZero),
            )
            .await?;
        }
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
    use crate::herd::arrivals;

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
}
