//! Every animal of a yard at a glance: first and last weight, gain, ADG, and where each ranks.
//!
//! ClickHouse 18.16 has no window functions, so ranks and percentiles are computed here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use schemas::weight::KG_PER_LB;

/// An animal's weighings: how many, the first and the latest (what the herd summary is made
/// of, from the weighings or from `animal_facts`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct Weighed {
    /// The animal.
    pub eid: String,
    /// Weighings recorded (each event once).
    pub weighings: u64,
    /// First weight, kg.
    pub first_kg: f64,
    /// When it was taken, ms since the epoch UTC.
    pub first_ms: u64,
    /// Latest weight, kg.
    pub last_kg: f64,
    /// When it was taken.
    pub last_ms: u64,
}

/// One animal's performance in its yard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnimalSummary {
    /// The animal.
    pub eid: String,
    /// Weighings recorded.
    pub weighings: u64,
    /// First weight, kg, and when (ms since epoch, UTC).
    pub first_kg: f64,
    /// When the first weight was taken.
    pub first_at_ms: u64,
    /// Latest weight, kg.
    pub last_kg: f64,
    /// When the latest weight was taken.
    pub last_at_ms: u64,
    /// Gain between them, kg.
    pub gain_kg: f64,
    /// Days between them.
    pub days: f64,
    /// Average daily gain, kg/day (None under one day).
    pub adg_kg_per_day: Option<f64>,
    /// ADG in lb/day.
    pub adg_lb_per_day: Option<f64>,
    /// 1 = best ADG in the yard (among animals with an ADG).
    pub adg_rank: Option<usize>,
    /// Share of the yard's animals (with an ADG) at or below this one's ADG, 0-100.
    pub adg_percentile: Option<f64>,
    /// The lot it was placed in, when placed.
    pub lot_id: Option<String>,
    /// The pen of its latest placement (not its pen now, which follows moves: see the animal
    /// page, [`crate::queries::whereabouts`]).
    pub pen_id: Option<String>,
    /// 1 = best ADG in its lot.
    pub lot_rank: Option<usize>,
    /// Share of its lot (with an ADG) at or below its ADG, 0-100.
    pub lot_percentile: Option<f64>,
}

/// An animal's latest placement.
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
struct PlacedRow {
    eid: String,
    lot_id: String,
    pen_id: String,
}

/// A set of values to rank others against: rank 1 = highest, percentile = share of the set at
/// or below, 0-100.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    /// The values, high to low.
    sorted: Vec<f64>,
}

impl Ranking {
    /// The ranking of the present values of `values`.
    pub fn new(values: impl IntoIterator<Item = f64>) -> Self {
        let mut sorted: Vec<f64> = values.into_iter().collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        Self { sorted }
    }

    /// `value`'s rank and percentile in the set (ties share the better rank).
    pub fn of(&self, value: f64) -> (usize, f64) {
        // `sorted` is high to low: a binary search, not a scan (50,000 head).
        let higher = self.sorted.partition_point(|p| *p > value);
        let at_or_below = self.sorted.len() - higher;
        (
            higher + 1,
            100.0 * at_or_below as f64 / self.sorted.len().max(1) as f64,
        )
    }
}

/// A rank (1 = highest) and a percentile (share at or below, 0-100), when there is a value.
pub type RankAndPercentile = (Option<usize>, Option<f64>);

/// Rank (1 = highest) and percentile (share at or below, 0-100) of each value; None stays None.
pub fn rank_and_percentile(values: &[Option<f64>]) -> Vec<RankAndPercentile> {
    let ranking = Ranking::new(values.iter().flatten().copied());
    values
        .iter()
        .map(|v| match v {
            Some(v) => {
                let (rank, pct) = ranking.of(*v);
                (Some(rank), Some(pct))
            }
            None => (None, None),
        })
        .collect()
}

/// Average daily gain, kg/day, between the first and the latest weighing: None under one day.
pub fn adg_kg_per_day(first_kg: f64, first_ms: u64, last_kg: f64, last_ms: u64) -> Option<f64> {
    let days = last_ms.saturating_sub(first_ms) as f64 / 86_400_000.0;
    (days >= 1.0).then(|| (last_kg - first_kg) / days)
}

/// Every animal weighed at `feedlot_id`, each event counted once, with ADG ranks.
pub async fn herd_summary(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<Vec<AnimalSummary>, clickhouse::error::Error> {
    let rows = client
        .query(&format!(
            "SELECT eid, count() AS weighings, \
                    argMin(weight_kg, captured_at_ms) AS first_kg, min(captured_at_ms) AS first_ms, \
                    argMax(weight_kg, captured_at_ms) AS last_kg, max(captured_at_ms) AS last_ms \
             FROM {} GROUP BY eid ORDER BY eid",
            super::live::source("weighings", "feedlot_id = ?")
        ))
        .bind(feedlot_id)
        .fetch_all::<Weighed>()
        .await?;
    let placed: HashMap<String, PlacedRow> = client
        .query(
            "SELECT eid, argMax(lot_id, captured_at_ms) AS lot_id, \
                    argMax(pen_id, captured_at_ms) AS pen_id \
             FROM placements FINAL WHERE feedlot_id = ? GROUP BY eid",
        )
        .bind(feedlot_id)
        .fetch_all::<PlacedRow>()
        .await?
        .into_iter()
        .map(|p| (p.eid.clone(), p))
        .collect();
    Ok(summarize(
        rows.into_iter()
            .map(|r| {
                let at = placed
                    .get(&r.eid)
                    .map(|p| (p.lot_id.clone(), p.pen_id.clone()));
                (r, at)
            })
            .collect(),
    ))
}

/// The herd summary of `animals` (each with its latest placement's lot and pen, if placed),
/// in the order given: gain and ADG from the first and latest weighing (ADG only over a day or
/// more), ranked in the yard and in each lot.
pub fn summarize(animals: Vec<(Weighed, Option<(String, String)>)>) -> Vec<AnimalSummary> {
    let mut animals: Vec<AnimalSummary> = animals
        .into_iter()
        .map(|(r, placed)| {
            let days = r.last_ms.saturating_sub(r.first_ms) as f64 / 86_400_000.0;
            let gain_kg = r.last_kg - r.first_kg;
            let adg = adg_kg_per_day(r.first_kg, r.first_ms, r.last_kg, r.last_ms);
            let (lot_id, pen_id) = match placed {
                Some((lot, pen)) => (Some(lot), Some(pen)),
                None => (None, None),
            };
            AnimalSummary {
                eid: r.eid,
                weighings: r.weighings,
                first_kg: r.first_kg,
                first_at_ms: r.first_ms,
                last_kg: r.last_kg,
                last_at_ms: r.last_ms,
                gain_kg,
                days,
                adg_kg_per_day: adg,
                adg_lb_per_day: adg.map(|a| a / KG_PER_LB),
                adg_rank: None,
                adg_percentile: None,
                lot_id,
                pen_id,
                lot_rank: None,
                lot_percentile: None,
            }
        })
        .collect();
    let adgs: Vec<Option<f64>> = animals.iter().map(|a| a.adg_kg_per_day).collect();
    for (animal, (rank, pct)) in animals.iter_mut().zip(rank_and_percentile(&adgs)) {
        animal.adg_rank = rank;
        animal.adg_percentile = pct;
    }
    let mut by_lot: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, animal) in animals.iter().enumerate() {
        if let Some(lot) = &animal.lot_id {
            by_lot.entry(lot.as_str()).or_default().push(i);
        }
    }
    let mut in_lot: Vec<(usize, RankAndPercentile)> = Vec::with_capacity(animals.len());
    for members in by_lot.values() {
        let adgs: Vec<Option<f64>> = members.iter().map(|i| animals[*i].adg_kg_per_day).collect();
        in_lot.extend(members.iter().copied().zip(rank_and_percentile(&adgs)));
    }
    for (i, (rank, pct)) in in_lot {
        animals[i].lot_rank = rank;
        animals[i].lot_percentile = pct;
    }
    animals
}

/// The weighed animals placed in `lot_id`, ranked within the lot (and within the yard).
pub async fn lot_animals(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
) -> Result<Vec<AnimalSummary>, clickhouse::error::Error> {
    Ok(of_lot(&herd_summary(client, feedlot_id).await?, lot_id))
}

/// The animals of `herd` placed in `lot_id`, best in the lot first.
pub fn of_lot(herd: &[AnimalSummary], lot_id: &str) -> Vec<AnimalSummary> {
    let mut animals: Vec<AnimalSummary> = herd
        .iter()
        .filter(|a| a.lot_id.as_deref() == Some(lot_id))
        .cloned()
        .collect();
    animals.sort_by(|a, b| {
        a.lot_rank
            .unwrap_or(usize::MAX)
            .cmp(&b.lot_rank.unwrap_or(usize::MAX))
    });
    animals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_count_from_the_best_and_percentiles_from_the_bottom() {
        let got = rank_and_percentile(&[Some(1.2), None, Some(1.8), Some(1.5), Some(1.5)]);
        assert_eq!(got[0], (Some(4), Some(25.0)));
        assert_eq!(got[1], (None, None));
        assert_eq!(got[2], (Some(1), Some(100.0)));
        assert_eq!(got[3], (Some(2), Some(75.0)), "ties share the better rank");
        assert_eq!(got[4], got[3]);
    }
}
