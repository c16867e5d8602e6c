//! Where each animal is and has been (`animal_stays`): its stays in pens, replayed by the
//! facts worker from the yard's movement records with the pages' own replay
//! ([`crate::queries::whereabouts::Replay`]), so the pens page lists who is in each pen on any
//! day with one read instead of replaying the yard's movements on a request.
//!
//! The worker rewrites the animals whose stays change from the start of the earliest day a
//! change touches: those with a stay beginning or ending then or later, in the new replay or in
//! the stored rows (a voided move ends no stay any more). On a rebuild, or for a yard with no
//! rows yet (its facts made before this table), it writes every animal. An animal's row holds
//! all its stays, so rewriting it is idempotent, and an animal no change touched keeps its row.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::analytics::records::YardRecords;
use crate::queries::whereabouts::{Departure, MovementRecords, PenStay, Replay, Why};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// `to_ms` of a stay the animal is still in.
pub const STILL_THERE_MS: u64 = u64::MAX;

/// One animal's stays (`animal_stays`), columns in table order; the arrays run in parallel,
/// oldest stay first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct StayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The animal.
    pub eid: String,
    /// Each stay's pen.
    pub pen_ids: Vec<String>,
    /// The lot the animal belonged to during each stay.
    pub lot_ids: Vec<String>,
    /// When each stay began, ms since the epoch UTC.
    pub from_ms: Vec<u64>,
    /// When each ended, ms since the epoch UTC; [`STILL_THERE_MS`] while it lasts.
    pub to_ms: Vec<u64>,
    /// How the animal came in: `placed`, `moved` or `lot_moved`.
    pub whys: Vec<String>,
    /// The row's version (higher wins under FINAL).
    pub version: u64,
}

/// The movement records of a yard's history (placements, pen moves, deaths and shipments by
/// EID), each list in a fixed order (time, then value), so the replay does not depend on the
/// order ClickHouse returned them in.
pub fn movement_records(records: &YardRecords) -> MovementRecords {
    let mut placements = records.placements.clone();
    placements.sort_by(|a, b| {
        (a.at_ms, &a.eid, &a.lot_id, &a.pen_id).cmp(&(b.at_ms, &b.eid, &b.lot_id, &b.pen_id))
    });
    let mut moves: Vec<_> = records
        .moves
        .iter()
        .filter(|m| !m.eid.is_empty() || m.head_count == 0)
        .cloned()
        .collect();
    moves.sort_by(|a, b| {
        (a.at_ms, &a.eid, &a.lot_id, &a.from_pen_id, &a.to_pen_id).cmp(&(
            b.at_ms,
            &b.eid,
            &b.lot_id,
            &b.from_pen_id,
            &b.to_pen_id,
        ))
    });
    let departures = |list: Vec<Departure>| {
        let mut list = list;
        list.sort_by(|a, b| (a.at_ms, &a.eid).cmp(&(b.at_ms, &b.eid)));
        list
    };
    let deaths = records
        .deaths
        .iter()
        .filter(|d| !d.eid.is_empty())
        .map(|d| Departure {
            eid: d.eid.clone(),
            at_ms: d.at_ms,
        })
        .collect();
    let shipments = records
        .shipments
        .iter()
        .flat_map(|s| {
            s.eids.iter().map(|eid| Departure {
                eid: eid.clone(),
                at_ms: s.at_ms,
            })
        })
        .collect();
    MovementRecords {
        placements,
        moves,
        deaths: departures(deaths),
        shipments: departures(shipments),
    }
}

/// Whether `stays` hold a stay beginning or ending at or after `from_ms`.
fn changes_from(stays: &[PenStay], from_ms: u64) -> bool {
    stays
        .iter()
        .any(|s| s.from_ms >= from_ms || s.to_ms.is_some_and(|to| to >= from_ms))
}

/// The rows of `feedlot_id`'s animals whose stays change at or after `from_ms` (every animal
/// for 0), replayed from all of `records`, and of `stored` (animals whose stored stays did:
/// written with no stays when the replay has none), versioned `version`, by EID.
pub fn stay_rows(
    feedlot_id: &str,
    records: &YardRecords,
    from_ms: u64,
    stored: &[String],
    version: u64,
) -> Vec<StayRow> {
    let replay = Replay::of(&movement_records(records), u64::MAX);
    let mut eids: BTreeSet<&str> = replay
        .animals()
        .filter(|(_, stays)| changes_from(stays, from_ms))
        .map(|(eid, _)| eid)
        .collect();
    eids.extend(stored.iter().map(String::as_str));
    eids.into_iter()
        .map(|eid| row(feedlot_id, eid, replay.history(eid), version))
        .collect()
}

fn row(feedlot_id: &str, eid: &str, stays: &[PenStay], version: u64) -> StayRow {
    StayRow {
        feedlot_id: feedlot_id.to_owned(),
        eid: eid.to_owned(),
        pen_ids: stays.iter().map(|s| s.pen_id.clone()).collect(),
        lot_ids: stays.iter().map(|s| s.lot_id.clone()).collect(),
        from_ms: stays.iter().map(|s| s.from_ms).collect(),
        to_ms: stays
            .iter()
            .map(|s| s.to_ms.unwrap_or(STILL_THERE_MS))
            .collect(),
        whys: stays.iter().map(|s| why_text(s.why).to_owned()).collect(),
        version,
    }
}

/// A stay's `why` as stored.
fn why_text(why: Why) -> &'static str {
    match why {
        Why::Placed => "placed",
        Why::Moved => "moved",
        Why::LotMoved => "lot_moved",
    }
}

/// What the worker needs of a yard's stored stays before it writes.
#[derive(Debug, Clone, Default, Deserialize, clickhouse::Row)]
pub struct Stored {
    /// Animals with a row (0: the yard's facts were made before `animal_stays`).
    pub animals: u64,
    /// The animals with a stay beginning or ending at or after the day asked.
    pub changed: Vec<String>,
}

/// `feedlot_id`'s stored stays: how many animals have a row, and which have a stay beginning
/// or ending at or after `from_ms`.
pub async fn stored_from(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_ms: u64,
) -> Result<Stored> {
    client
        .query(
            "SELECT count() AS animals, groupArrayIf(eid, arrayExists((f, t) -> f >= ? OR \
             (t >= ? AND t < ?), from_ms, to_ms)) AS changed \
             FROM animal_stays FINAL WHERE feedlot_id = ?",
        )
        .bind(from_ms)
        .bind(from_ms)
        .bind(STILL_THERE_MS)
        .bind(feedlot_id)
        .fetch_one()
        .await
}

/// Who is in each pen of `feedlot_id` at `at_ms` (pen → EIDs, each pen's in order), from
/// `animal_stays`: the same as [`crate::queries::whereabouts::pens_on`]'s replay once the
/// facts hold every change.
pub async fn pens_at(
    client: &clickhouse::Client,
    feedlot_id: &str,
    at_ms: u64,
) -> Result<BTreeMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = client
        .query(
            "SELECT pen, eid FROM animal_stays FINAL \
             ARRAY JOIN pen_ids AS pen, from_ms AS stay_from, to_ms AS stay_to \
             WHERE feedlot_id = ? AND stay_from <= ? AND stay_to > ? ORDER BY pen, eid",
        )
        .bind(feedlot_id)
        .bind(at_ms)
        .bind(at_ms)
        .fetch_all()
        .await?;
    let mut pens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (pen, eid) in rows {
        pens.entry(pen).or_default().push(eid);
    }
    Ok(pens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::records::{DeathRecord, MoveRecord, PlacementRecord, ShipmentRecord};

    fn history() -> YardRecords {
        let placed = |eid: &str, at_ms| PlacementRecord {
            eid: eid.into(),
            lot_id: "L1".into(),
            pen_id: "P1".into(),
            at_ms,
        };
        YardRecords {
            placements: vec![placed("b", 10), placed("a", 10), placed("c", 10)],
            moves: vec![
                MoveRecord {
                    eid: String::new(),
                    lot_id: "L1".into(),
                    head_count: 0,
                    from_pen_id: "P1".into(),
                    to_pen_id: "P2".into(),
                    at_ms: 50,
                },
                MoveRecord {
                    eid: String::new(),
                    lot_id: "L1".into(),
                    head_count: 3,
                    from_pen_id: "P2".into(),
                    to_pen_id: "P3".into(),
                    at_ms: 60,
                },
            ],
            deaths: vec![DeathRecord {
                eid: "c".into(),
                lot_id: "L1".into(),
                pen_id: "P1".into(),
                head_count: 1,
                at_ms: 20,
            }],
            shipments: vec![ShipmentRecord {
                lot_id: "L1".into(),
                head_count: 1,
                weight_kg: 600.0,
                price_minor: 1,
                eids: vec!["b".into()],
                at_ms: 70,
            }],
            ..YardRecords::default()
        }
    }

    #[test]
    fn a_row_holds_every_stay_of_its_animal_and_the_open_one_runs_to_the_end_of_time() {
        let rows = stay_rows("y", &history(), 0, &[], 7);
        let eids: Vec<&str> = rows.iter().map(|r| r.eid.as_str()).collect();
        assert_eq!(eids, ["a", "b", "c"]);
        assert_eq!(
            rows[0].pen_ids,
            ["P1", "P2"],
            "a part-lot move moves no one"
        );
        assert_eq!(rows[0].from_ms, [10, 50]);
        assert_eq!(rows[0].to_ms, [50, STILL_THERE_MS]);
        assert_eq!(rows[0].whys, ["placed", "lot_moved"]);
        assert_eq!(rows[1].to_ms, [50, 70], "shipped");
        assert_eq!(rows[2].pen_ids, ["P1"], "dead before the lot moved");
        assert_eq!(rows[2].to_ms, [20]);
        assert!(rows.iter().all(|r| r.version == 7 && r.feedlot_id == "y"));
    }

    #[test]
    fn only_animals_whose_stays_change_from_the_day_are_rewritten_and_stored_ones_are_kept() {
        let eids = |rows: Vec<StayRow>| rows.into_iter().map(|r| r.eid).collect::<Vec<_>>();
        assert_eq!(eids(stay_rows("y", &history(), 65, &[], 1)), ["b"]);
        assert_eq!(
            eids(stay_rows("y", &history(), 71, &[], 1)),
            Vec::<String>::new()
        );
        let gone = stay_rows("y", &history(), 71, &["x".to_owned()], 1);
        assert_eq!(gone.len(), 1);
        assert!(gone[0].pen_ids.is_empty(), "no stays left: an empty row");
    }
}
