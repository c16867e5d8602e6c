//! Each animal's state now (`animal_facts`): its weighings (how many, the first and the latest)
//! and its latest placement, kept by the facts worker so the herd (animals) table and a lot's
//! animals are one read of one row per animal, not an aggregation over every weighing.
//!
//! The worker rewrites the animals a change touches: those with a weighing or placement
//! captured on or after the start of the earliest day it touches (every animal on a rebuild).
//! An animal's row is made from all its records, so rewriting it is idempotent, and an animal
//! no change touched keeps its row. The ranks in the yard and in each lot are made when read
//! ([`crate::queries::summarize`], the same code as the summary made from the weighings).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analytics::records::YardRecords;
use crate::queries::{AnimalSummary, Ranking, Weighed, adg_kg_per_day, of_lot, summarize};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// One animal's state (`animal_facts`), columns in table order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct AnimalFactRow {
    /// The yard.
    pub feedlot_id: String,
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
    /// 1 when the animal was placed in a lot, else 0.
    pub placed: u8,
    /// Its latest placement's lot ('' when not placed).
    pub lot_id: String,
    /// Its latest placement's pen ('' when not placed).
    pub pen_id: String,
    /// The row's version (higher wins under FINAL).
    pub version: u64,
}

/// The rows of `feedlot_id`'s weighed animals with a weighing or placement at or after
/// `from_ms` (every weighed animal for 0), from all their records in `records`, versioned
/// `version`, by EID; and for each of `stored` (the animals stored as weighed, see
/// [`stored_weighed`]) no longer weighed, its every weighing voided, a row with
/// `weighings = 0` that reads skip.
///
/// As the summary made from the weighings: the first weighing is the earliest and the latest
/// the last, and the placement the latest. Two records of an animal at the same millisecond
/// (which ClickHouse's `argMin`/`argMax` would pick between as they come) are decided by
/// value, so the rows do not depend on the order of `records`: the lighter weighing first, the
/// heavier latest, the greater (lot, pen) latest.
pub fn animal_rows(
    feedlot_id: &str,
    records: &YardRecords,
    from_ms: u64,
    stored: &[String],
    version: u64,
) -> Vec<AnimalFactRow> {
    let touched = |at_ms: u64| at_ms >= from_ms;
    let mut rows: HashMap<&str, AnimalFactRow> = HashMap::new();
    let mut wanted: std::collections::HashSet<&str> = records
        .weighings
        .iter()
        .filter(|w| touched(w.at_ms))
        .map(|w| w.eid.as_str())
        .collect();
    wanted.extend(
        records
            .placements
            .iter()
            .filter(|p| touched(p.at_ms))
            .map(|p| p.eid.as_str()),
    );
    for w in records
        .weighings
        .iter()
        .filter(|w| wanted.contains(w.eid.as_str()))
    {
        let row = rows.entry(w.eid.as_str()).or_insert_with(|| AnimalFactRow {
            feedlot_id: feedlot_id.to_owned(),
            eid: w.eid.clone(),
            weighings: 0,
            first_kg: w.weight_kg,
            first_ms: w.at_ms,
            last_kg: w.weight_kg,
            last_ms: w.at_ms,
            placed: 0,
            lot_id: String::new(),
            pen_id: String::new(),
            version,
        });
        row.weighings += 1;
        let at = |ms: u64, kg: f64, other_ms: u64, other_kg: f64| {
            ms.cmp(&other_ms).then(kg.total_cmp(&other_kg))
        };
        if at(w.at_ms, w.weight_kg, row.first_ms, row.first_kg).is_lt() {
            row.first_ms = w.at_ms;
            row.first_kg = w.weight_kg;
        }
        if at(w.at_ms, w.weight_kg, row.last_ms, row.last_kg).is_gt() {
            row.last_ms = w.at_ms;
            row.last_kg = w.weight_kg;
        }
    }
    let mut latest: HashMap<&str, u64> = HashMap::new();
    for p in &records.placements {
        let Some(row) = rows.get_mut(p.eid.as_str()) else {
            continue;
        };
        let at = latest.entry(p.eid.as_str()).or_insert(0);
        let later = (p.at_ms, p.lot_id.as_str(), p.pen_id.as_str())
            > (*at, row.lot_id.as_str(), row.pen_id.as_str());
        if row.placed == 0 || later {
            *at = p.at_ms;
            row.placed = 1;
            row.lot_id.clone_from(&p.lot_id);
            row.pen_id.clone_from(&p.pen_id);
        }
    }
    let weighed: std::collections::HashSet<&str> = if stored.is_empty() {
        std::collections::HashSet::new()
    } else {
        records.weighings.iter().map(|w| w.eid.as_str()).collect()
    };
    let unweighed = stored
        .iter()
        .filter(|eid| !weighed.contains(eid.as_str()))
        .map(|eid| AnimalFactRow::unweighed(feedlot_id, eid, version));
    let mut rows: Vec<AnimalFactRow> = rows.into_values().chain(unweighed).collect();
    rows.sort_by(|a, b| a.eid.cmp(&b.eid));
    rows
}

/// The EIDs of `feedlot_id`'s animals stored as weighed in `animal_facts`, for a recompute
/// from `from_ms`: every one for a recompute from the first day (0), which a correction makes
/// and which may have voided an animal's every weighing; none for a later one, which only adds
/// records (an animal it touches has a weighing still).
pub async fn stored_weighed(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_ms: u64,
) -> Result<Vec<String>> {
    if from_ms > 0 {
        return Ok(Vec::new());
    }
    // Filtered after FINAL has picked each animal's latest row, not before.
    client
        .query(
            "SELECT eid FROM (SELECT eid, weighings FROM animal_facts FINAL \
             WHERE feedlot_id = ?) WHERE weighings > 0",
        )
        .bind(feedlot_id)
        .fetch_all()
        .await
}

/// Every weighed animal's ADG at a yard, in one row (`yard_gains`): what ranks a lot's animals
/// in the yard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct YardGainsRow {
    /// The yard.
    pub feedlot_id: String,
    /// Each weighed animal's ADG (a day or more between its first and latest weighing), kg per
    /// day, high to low.
    pub adg_kg_per_day: Vec<f64>,
    /// The row's version (higher wins under FINAL).
    pub version: u64,
}

/// `feedlot_id`'s gains from `rows`, every weighed animal's `animal_facts` row (as
/// [`animal_rows`] from 0 makes them).
pub fn yard_gains(feedlot_id: &str, rows: &[AnimalFactRow], version: u64) -> YardGainsRow {
    YardGainsRow {
        feedlot_id: feedlot_id.to_owned(),
        adg_kg_per_day: adgs(rows),
        version,
    }
}

/// The ADG of each of `rows` that has one, high to low.
fn adgs(rows: &[AnimalFactRow]) -> Vec<f64> {
    let mut adgs: Vec<f64> = rows
        .iter()
        .filter(|r| r.is_weighed())
        .filter_map(|r| adg_kg_per_day(r.first_kg, r.first_ms, r.last_kg, r.last_ms))
        .collect();
    adgs.sort_by(|a, b| b.total_cmp(a));
    adgs
}

/// `feedlot_id`'s herd summary from its `animal_facts`: every weighed animal by EID, with its
/// ranks in the yard and its lot, the same as [`crate::queries::herd_summary`] once the facts
/// hold every change.
pub async fn herd(client: &clickhouse::Client, feedlot_id: &str) -> Result<Vec<AnimalSummary>> {
    let rows: Vec<AnimalFactRow> = client
        .query("SELECT ?fields FROM animal_facts FINAL WHERE feedlot_id = ? ORDER BY eid")
        .bind(feedlot_id)
        .fetch_all()
        .await?;
    tracing::debug!(
        feedlot = feedlot_id,
        animals = rows.len(),
        "herd read from the facts"
    );
    Ok(summarize(
        rows.into_iter()
            .filter(AnimalFactRow::is_weighed)
            .map(AnimalFactRow::into_summary_input)
            .collect(),
    ))
}

impl AnimalFactRow {
    /// The row of an animal no longer weighed (its every weighing voided): `weighings = 0`.
    fn unweighed(feedlot_id: &str, eid: &str, version: u64) -> Self {
        Self {
            feedlot_id: feedlot_id.to_owned(),
            eid: eid.to_owned(),
            weighings: 0,
            first_kg: 0.0,
            first_ms: 0,
            last_kg: 0.0,
            last_ms: 0,
            placed: 0,
            lot_id: String::new(),
            pen_id: String::new(),
            version,
        }
    }

    /// Whether the animal has a weighing (rows with none are skipped when read).
    pub fn is_weighed(&self) -> bool {
        self.weighings > 0
    }

    /// What [`summarize`] takes of the row: its weighings, and its lot and pen when placed.
    fn into_summary_input(self) -> (Weighed, Option<(String, String)>) {
        let placed = (self.placed != 0).then_some((self.lot_id, self.pen_id));
        let weighed = Weighed {
            eid: self.eid,
            weighings: self.weighings,
            first_kg: self.first_kg,
            first_ms: self.first_ms,
            last_kg: self.last_kg,
            last_ms: self.last_ms,
        };
        (weighed, placed)
    }
}

/// A yard's gains as stored.
#[derive(Debug, Deserialize, clickhouse::Row)]
struct Gains {
    adg_kg_per_day: Vec<f64>,
}

/// The weighed animals of `feedlot_id` placed in `lot_id`, best in the lot first, ranked in
/// the lot and in the yard: equal to [`of_lot`] of [`herd`], from the lot's rows of
/// `animal_facts` and the yard's gains (`yard_gains`, one row), not every animal's row.
pub async fn lot_herd(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
) -> Result<Vec<AnimalSummary>> {
    // Every animal ever placed in the lot by any version of its row, then each one's latest
    // row (FINAL), its lot checked on that row below. A plain `IN` on the table's key merges
    // only those animals' rows; on a cluster the subquery runs on each shard's own table,
    // which holds the whole yard (docs/cluster.md).
    let lot_rows = client
        .query(
            "SELECT ?fields FROM animal_facts FINAL WHERE feedlot_id = ? AND eid IN \
             (SELECT eid FROM animal_facts WHERE feedlot_id = ? AND lot_id = ?) ORDER BY eid",
        )
        .bind(feedlot_id)
        .bind(feedlot_id)
        .bind(lot_id)
        .with_setting("distributed_product_mode", "local")
        .fetch_all::<AnimalFactRow>();
    let gains = client
        .query("SELECT adg_kg_per_day FROM yard_gains FINAL WHERE feedlot_id = ?")
        .bind(feedlot_id)
        .fetch_optional::<Gains>();
    let (lot_rows, gains) = tokio::try_join!(lot_rows, gains)?;
    let yard_adgs = match gains {
        Some(gains) => gains.adg_kg_per_day,
        // Facts made before `yard_gains` (until the yard's next change): every animal's row.
        None => adgs(
            &client
                .query("SELECT ?fields FROM animal_facts FINAL WHERE feedlot_id = ?")
                .bind(feedlot_id)
                .fetch_all::<AnimalFactRow>()
                .await?,
        ),
    };
    let yard_animals = yard_adgs.len();
    let yard = Ranking::new(yard_adgs);
    let mut animals = summarize(
        lot_rows
            .into_iter()
            .filter(|r| r.is_weighed() && r.placed != 0 && r.lot_id == lot_id)
            .map(AnimalFactRow::into_summary_input)
            .collect(),
    );
    // `summarize` ranked them among themselves: right in the lot, not in the yard.
    for animal in &mut animals {
        let (rank, pct) = match animal.adg_kg_per_day.map(|adg| yard.of(adg)) {
            Some((rank, pct)) => (Some(rank), Some(pct)),
            None => (None, None),
        };
        animal.adg_rank = rank;
        animal.adg_percentile = pct;
    }
    tracing::debug!(
        feedlot = feedlot_id,
        lot = lot_id,
        animals = animals.len(),
        yard_gains = yard_animals,
        "a lot's animals read from the facts"
    );
    Ok(of_lot(&animals, lot_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::records::{PlacementRecord, WeighingRecord};

    fn weighing(eid: &str, kg: f64, at_ms: u64) -> WeighingRecord {
        WeighingRecord {
            eid: eid.into(),
            weight_kg: kg,
            at_ms,
        }
    }

    #[test]
    fn only_animals_touched_from_the_day_are_made_and_each_from_all_its_records() {
        let records = YardRecords {
            weighings: vec![
                weighing("a", 300.0, 10),
                weighing("a", 330.0, 500),
                weighing("b", 310.0, 20),
                weighing("c", 290.0, 30),
            ],
            placements: vec![
                PlacementRecord {
                    eid: "c".into(),
                    lot_id: "L1".into(),
                    pen_id: "P1".into(),
                    at_ms: 5,
                },
                PlacementRecord {
                    eid: "c".into(),
                    lot_id: "L2".into(),
                    pen_id: "P2".into(),
                    at_ms: 400,
                },
            ],
            ..Default::default()
        };
        let rows = animal_rows("y", &records, 100, &[], 7);
        let eids: Vec<&str> = rows.iter().map(|r| r.eid.as_str()).collect();
        assert_eq!(eids, ["a", "c"], "b has nothing from 100 on");
        assert_eq!(
            (
                rows[0].weighings,
                rows[0].first_kg,
                rows[0].last_kg,
                rows[0].placed
            ),
            (2, 300.0, 330.0, 0)
        );
        assert_eq!(
            (rows[1].lot_id.as_str(), rows[1].pen_id.as_str()),
            ("L2", "P2")
        );
        assert_eq!(animal_rows("y", &records, 0, &[], 7).len(), 3, "all from 0");
        // Stored as weighed: "a" still is, "z" no longer (its weighings voided).
        let stored = ["a".to_owned(), "z".to_owned()];
        let rows = animal_rows("y", &records, 0, &stored, 8);
        let eids: Vec<(&str, u64)> = rows.iter().map(|r| (r.eid.as_str(), r.weighings)).collect();
        assert_eq!(eids, [("a", 2), ("b", 1), ("c", 1), ("z", 0)]);
        assert!(!rows[3].is_weighed() && rows[3].placed == 0 && rows[3].version == 8);
        assert_eq!(adgs(&rows).len(), adgs(&rows[..3]).len(), "no gain for z");
    }
}
