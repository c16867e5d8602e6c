//! One animal's weighings and its gain since its first weighing.

use serde::{Deserialize, Serialize};

use schemas::weight::KG_PER_LB;

/// One weighing as shown to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct WeighingPoint {
    /// Capture time, ms since the Unix epoch UTC.
    pub captured_at_ms: u64,
    /// Weight, kg.
    pub weight_kg: f64,
    /// The weight as displayed by the indicator.
    pub displayed_value: f64,
    /// `kg` or `lb`.
    pub displayed_unit: String,
    /// The scale.
    pub device_id: String,
}

/// An animal's weighings, oldest first, and what it gained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnimalReport {
    /// The yard.
    pub feedlot_id: String,
    /// The animal.
    pub eid: String,
    /// Every weighing, oldest first, each once.
    pub weighings: Vec<WeighingPoint>,
    /// Last weight minus first weight, kg (0 with fewer than two weighings).
    pub gain_kg: f64,
    /// The same in lb.
    pub gain_lb: f64,
    /// Days between the first and the last weighing.
    pub days: f64,
    /// Average daily gain, kg/day, when at least one day passed.
    pub adg_kg_per_day: Option<f64>,
}

impl AnimalReport {
    /// Builds the report from weighings sorted oldest first.
    pub fn from_weighings(feedlot_id: &str, eid: &str, weighings: Vec<WeighingPoint>) -> Self {
        let (gain_kg, days) = match (weighings.first(), weighings.last()) {
            (Some(first), Some(last)) => (
                last.weight_kg - first.weight_kg,
                (last.captured_at_ms.saturating_sub(first.captured_at_ms)) as f64 / 86_400_000.0,
            ),
            _ => (0.0, 0.0),
        };
        Self {
            feedlot_id: feedlot_id.into(),
            eid: eid.into(),
            weighings,
            gain_kg,
            gain_lb: gain_kg / KG_PER_LB,
            days,
            adg_kg_per_day: (days >= 1.0).then(|| gain_kg / days),
        }
    }
}

/// The animal `eid`'s weighings at `feedlot_id`, each event once.
pub async fn animal_report(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eid: &str,
) -> Result<AnimalReport, clickhouse::error::Error> {
    let weighings = client
        .query(
            "SELECT captured_at_ms, weight_kg, displayed_value, displayed_unit, device_id \
             FROM weighings FINAL WHERE feedlot_id = ? AND eid = ? ORDER BY captured_at_ms, event_id",
        )
        .bind(feedlot_id)
        .bind(eid)
        .fetch_all::<WeighingPoint>()
        .await?;
    Ok(AnimalReport::from_weighings(feedlot_id, eid, weighings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: u64, kg: f64) -> WeighingPoint {
        WeighingPoint {
            captured_at_ms: day * 86_400_000,
            weight_kg: kg,
            displayed_value: kg,
            displayed_unit: "kg".into(),
            device_id: "scale-1".into(),
        }
    }

    #[test]
    fn gain_and_adg_run_from_the_first_to_the_last_weighing() {
        let r = AnimalReport::from_weighings(
            "y",
            "982000000000001",
            vec![point(0, 350.0), point(10, 360.0), point(50, 430.0)],
        );
        assert_eq!(r.gain_kg, 80.0);
        assert_eq!(r.days, 50.0);
        assert_eq!(r.adg_kg_per_day, Some(1.6));
        assert!((r.gain_lb - 176.37).abs() < 0.01);
    }

    #[test]
    fn one_weighing_has_no_gain_and_no_adg() {
        let r = AnimalReport::from_weighings("y", "982000000000001", vec![point(3, 350.0)]);
        assert_eq!((r.gain_kg, r.adg_kg_per_day), (0.0, None));
    }
}
