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

use std::collections::{BTreeMap, BTreeSet, HashSet};

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
/// EID), of the animals in `only` (every animal for None), each list in a fixed order (time,
/// then value), so the replay does not depend on the order ClickHouse returned them in.
pub fn movement_records(records: &YardRecords, only: Option<&HashSet<&str>>) -> MovementRecords {
    let wanted = |eid: &str| only.is_none_or(|only| only.contains(eid));
    // The lots the animals were placed in: their whole-lot moves take them along.
    let lots: Option<HashSet<&str>> = only.map(|_| {
        records
            .placements
            .iter()
            .filter(|p| wanted(&p.eid))
            .map(|p| p.lot_id.as_str())
            .collect()
    });
    let whole_lot = |lot: &str| lots.as_ref().is_none_or(|lots| lots.contains(lot));
    let mut placements: Vec<_> = records
        .placements
        .iter()
        .filter(|p| wanted(&p.eid))
        .cloned()
        .collect();
    placements.sort_by(|a, b| {
        (a.at_ms, &a.eid, &a.lot_id, &a.pen_id).cmp(&(b.at_ms, &b.eid, &b.lot_id, &b.pen_id))
    });
    let mut moves: Vec<_> = records
        .moves
        .iter()
        .filter(|m| {
            if m.eid.is_empty() {
                m.head_count == 0 && whole_lot(&m.lot_id)
            } else {
                wanted(&m.eid)
            }
        })
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
        .filter(|d| !d.eid.is_empty() && wanted(&d.eid))
        .map(|d| Departure {
            eid: d.eid.clone(),
            at_ms: d.at_ms,
        })
        .collect();
    let shipments = records
        .shipments
        .iter()
        .flat_map(|s| {
            s.eids
                .iter()
                .filter(|eid| wanted(eid))
                .map(|eid| Departure {
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

/// The animals whose stays the records captured at or after `from_ms` may change: those they
/// name (placed, moved alone, dead or shipped), and every animal ever placed in a lot they move
/// whole. An animal's stays depend only on its own records and its lots' whole-lot moves, so
/// replaying these animals alone gives each of them the stays a replay of the yard gives.
fn touched_from(records: &YardRecords, from_ms: u64) -> HashSet<&str> {
    let mut eids: HashSet<&str> = HashSet::new();
    let mut lots: HashSet<&str> = HashSet::new();
    let from = |at_ms: u64| at_ms >= from_ms;
    eids.extend(
        records
            .placements
            .iter()
            .filter(|p| from(p.at_ms))
            .map(|p| p.eid.as_str()),
    );
    for m in records.moves.iter().filter(|m| from(m.at_ms)) {
        if !m.eid.is_empty() {
            eids.insert(&m.eid);
        } else if m.head_count == 0 {
            lots.insert(&m.lot_id);
        }
    }
    eids.extend(
        records
            .deaths
            .iter()
            .filter(|d| from(d.at_ms) && !d.eid.is_empty())
            .map(|d| d.eid.as_str()),
    );
    eids.extend(
        records
            .shipments
            .iter()
            .filter(|s| from(s.at_ms))
            .flat_map(|s| s.eids.iter().map(String::as_str)),
    );
    if !lots.is_empty() {
        eids.extend(
            records
                .placements
                .iter()
                .filter(|p| lots.contains(p.lot_id.as_str()))
                .map(|p| p.eid.as_str()),
        );
    }
    eids
}

/// Whether `stays` hold a stay beginning or ending at or after `from_ms`.
fn changes_from(stays: &[PenStay], from_ms: u64) -> bool {
    stays
        .iter()
        .any(|s| s.from_ms >= from_ms || s.to_ms.is_some_and(|to| to >= from_ms))
}

/// The rows of `feedlot_id`'s animals whose stays change at or after `from_ms` (every animal
/// for 0), replayed from `records` (only the records of the animals a record from `from_ms` on
/// names, for a later `from_ms`), and of `stored` (animals with rows stored: written with no
/// stays when the replay has none), versioned `version`, by EID.
pub fn stay_rows(
    feedlot_id: &str,
    records: &YardRecords,
    from_ms: u64,
    stored: &[String],
    version: u64,
) -> Vec<StayRow> {
    let only = (from_ms > 0).then(|| touched_from(records, from_ms));
    let replay = Replay::of(&movement_records(records, only.as_ref()), u64::MAX);
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
    /// Rows stored (0: the yard's facts were made before `animal_stays`).
    pub rows: u64,
    /// For a recompute from the first day, every animal with a row (one whose records were
    /// voided since gets a row with no stays); else none.
    pub animals: Vec<String>,
}

/// `feedlot_id`'s stored stays, for a recompute from `from_ms`.
///
/// A later recompute needs no stored animal: its change only adds records from `from_ms` on
/// (a correction, which may void one, recomputes from the first day), and an animal whose
/// stored stays changed from then on has a record from then on, so the new replay changes its
/// stays then too and rewrites it.
pub async fn stored_from(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_ms: u64,
) -> Result<Stored> {
    let sql = if from_ms == 0 {
        "SELECT count() AS rows, groupArray(eid) AS animals FROM \
         (SELECT eid FROM animal_stays WHERE feedlot_id = ? GROUP BY eid)"
    } else {
        "SELECT count() AS rows, emptyArrayString() AS animals FROM animal_stays \
         WHERE feedlot_id = ?"
    };
    client.query(sql).bind(feedlot_id).fetch_one().await
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
            eids(stay_rows("y", &history(), 50, &[], 1)),
            ["a", "b"],
            "the lot's whole move takes a and b; c died before it"
        );
        let whole = stay_rows("y", &history(), 0, &[], 1);
        let from_50 = stay_rows("y", &history(), 50, &[], 1);
        assert_eq!(
            &whole[..2],
            &from_50[..],
            "the same stays as a replay of every animal"
        );
        assert_eq!(
            eids(stay_rows("y", &history(), 71, &[], 1)),
            Vec::<String>::new()
        );
        let gone = stay_rows("y", &history(), 71, &["x".to_owned()], 1);
        assert_eq!(gone.len(), 1);
        assert!(gone[0].pen_ids.is_empty(), "no stays left: an empty row");
    }
}
