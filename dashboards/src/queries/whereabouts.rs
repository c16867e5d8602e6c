//! Where each animal has been: its pens over time, and who is in each pen on a date.
//!
//! An animal's pen history is replayed from its records in time order (records on the same
//! millisecond as the ledger applies them: placements, pen moves, deaths, shipments):
//!
//! - a **placement** puts it in its lot and pen (`placed`); a later placement into another
//!   lot or pen starts a new stay;
//! - a **move of the animal** (`pen_moves` naming its EID) takes it to `to_pen_id` (`moved`);
//! - a **whole-lot move** (`pen_moves` with no EID, the lot named and no head count: "all of
//!   the lot in `from_pen_id`") takes it along when, at that moment, it belongs to that lot
//!   and is in `from_pen_id` (`lot moved`). An animal moved alone to a hospital pen before
//!   the lot moves stays there. A move of part of a lot (a head count) names no animal, so
//!   it moves none here;
//! - its **death** or its **shipment** by EID ends its last stay; it is then in no pen.
//!
//! The replay of one animal needs only its own records and the whole-lot moves of the lots it
//! was placed in, so the animal page reads those; the pens page replays the yard's records up
//! to the end of the day asked and lists who is in each pen then. Both use [`Replay`], so an
//! animal's page and the pens page agree (`dashboards/tests/it/whereabouts.rs`). Records are
//! read as corrected ([`super::live`]): a voided placement, move, death or shipment moves no one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::live;
use crate::analytics::records::{MoveRecord, PlacementRecord};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// Why an animal came into a pen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// Its placement (tagged into its lot and pen).
    Placed,
    /// A move of the animal alone.
    Moved,
    /// A move of its whole lot.
    LotMoved,
}

impl Why {
    /// As the pages show it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Moved => "moved",
            Self::LotMoved => "lot moved",
        }
    }
}

/// One stay of an animal in a pen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenStay {
    /// The pen.
    pub pen_id: String,
    /// The lot the animal belonged to during the stay.
    pub lot_id: String,
    /// When it came in, ms since the epoch UTC.
    pub from_ms: u64,
    /// When it left (moved on, died or shipped); None while it is still there.
    pub to_ms: Option<u64>,
    /// How it came in.
    pub why: Why,
}

/// An animal that left the yard by EID (`deaths`, `shipments` listing it).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct Departure {
    /// The animal.
    pub eid: String,
    /// When.
    pub at_ms: u64,
}

/// The records a pen history is made of, each list oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovementRecords {
    /// Placements.
    pub placements: Vec<PlacementRecord>,
    /// Pen moves: of one animal, or of a whole lot.
    pub moves: Vec<MoveRecord>,
    /// Deaths by EID.
    pub deaths: Vec<Departure>,
    /// Shipments by EID.
    pub shipments: Vec<Departure>,
}

/// One record, in replay order.
enum Step<'a> {
    Placement(&'a PlacementRecord),
    Move(&'a MoveRecord),
    Departure(&'a Departure),
}

/// Where each animal is and has been, as the records are replayed.
#[derive(Debug, Default)]
pub struct Replay {
    /// Each animal's stays, oldest first.
    stays: HashMap<String, Vec<PenStay>>,
    /// Each animal's lot (its latest placement's).
    lot_of: HashMap<String, String>,
    /// The animals of each lot still in the yard.
    lot_animals: HashMap<String, BTreeSet<String>>,
    /// Animals that died or shipped.
    gone: BTreeSet<String>,
}

impl Replay {
    /// Replays `records` (every step at or before `until_ms`).
    pub fn of(records: &MovementRecords, until_ms: u64) -> Self {
        let mut steps: Vec<(u64, u8, Step<'_>)> = Vec::new();
        steps.extend(
            records
                .placements
                .iter()
                .map(|p| (p.at_ms, 0, Step::Placement(p))),
        );
        steps.extend(records.moves.iter().map(|m| (m.at_ms, 1, Step::Move(m))));
        steps.extend(
            records
                .deaths
                .iter()
                .map(|d| (d.at_ms, 2, Step::Departure(d))),
        );
        steps.extend(
            records
                .shipments
                .iter()
                .map(|s| (s.at_ms, 3, Step::Departure(s))),
        );
        // Stable: records of one kind on the same millisecond keep the order they were read in.
        steps.sort_by_key(|(at, kind, _)| (*at, *kind));
        let mut replay = Self::default();
        for (at, _, step) in steps.into_iter().filter(|(at, _, _)| *at <= until_ms) {
            match step {
                Step::Placement(p) => replay.place(p),
                Step::Move(m) => replay.pen_move(m),
                Step::Departure(d) => replay.leave(&d.eid, at),
            }
        }
        replay
    }

    fn place(&mut self, p: &PlacementRecord) {
        if self.gone.contains(&p.eid) {
            return;
        }
        if let Some(old) = self.lot_of.insert(p.eid.clone(), p.lot_id.clone())
            && let Some(members) = self.lot_animals.get_mut(&old)
        {
            members.remove(&p.eid);
        }
        self.lot_animals
            .entry(p.lot_id.clone())
            .or_default()
            .insert(p.eid.clone());
        self.enter(&p.eid, &p.lot_id, &p.pen_id, p.at_ms, Why::Placed);
    }

    fn pen_move(&mut self, m: &MoveRecord) {
        if !m.eid.is_empty() {
            if self.gone.contains(&m.eid) {
                return;
            }
            // Never placed (tagged before the yard kept placements): the lot the move names.
            let lot = self.lot_of.get(&m.eid).unwrap_or(&m.lot_id).clone();
            self.enter(&m.eid, &lot, &m.to_pen_id, m.at_ms, Why::Moved);
            return;
        }
        if m.head_count != 0 || m.lot_id.is_empty() {
            return; // Part of a lot: no animal named.
        }
        let members: Vec<String> = self
            .lot_animals
            .get(&m.lot_id)
            .into_iter()
            .flatten()
            .filter(|eid| self.pen_of(eid) == Some(m.from_pen_id.as_str()))
            .cloned()
            .collect();
        for eid in members {
            self.enter(&eid, &m.lot_id, &m.to_pen_id, m.at_ms, Why::LotMoved);
        }
    }

    fn leave(&mut self, eid: &str, at_ms: u64) {
        if !self.gone.insert(eid.to_owned()) {
            return;
        }
        if let Some(lot) = self.lot_of.get(eid)
            && let Some(members) = self.lot_animals.get_mut(lot)
        {
            members.remove(eid);
        }
        if let Some(last) = self.stays.get_mut(eid).and_then(|s| s.last_mut())
            && last.to_ms.is_none()
        {
            last.to_ms = Some(at_ms);
        }
    }

    /// Starts a stay of `eid` in `pen_id`, unless it is already there in `lot_id`.
    fn enter(&mut self, eid: &str, lot_id: &str, pen_id: &str, at_ms: u64, why: Why) {
        let stays = self.stays.entry(eid.to_owned()).or_default();
        if let Some(last) = stays.last_mut() {
            if last.pen_id == pen_id && last.lot_id == lot_id {
                return;
            }
            last.to_ms = Some(at_ms);
        }
        stays.push(PenStay {
            pen_id: pen_id.to_owned(),
            lot_id: lot_id.to_owned(),
            from_ms: at_ms,
            to_ms: None,
            why,
        });
    }

    /// The pen `eid` is in now (None when never placed, dead or shipped).
    pub fn pen_of(&self, eid: &str) -> Option<&str> {
        if self.gone.contains(eid) {
            return None;
        }
        self.stays
            .get(eid)
            .and_then(|s| s.last())
            .map(|s| s.pen_id.as_str())
    }

    /// Every animal ever placed or moved, with its stays (oldest first), in no order.
    pub fn animals(&self) -> impl Iterator<Item = (&str, &[PenStay])> {
        self.stays
            .iter()
            .map(|(eid, s)| (eid.as_str(), s.as_slice()))
    }

    /// `eid`'s stays, oldest first (empty when never placed).
    pub fn history(&self, eid: &str) -> &[PenStay] {
        self.stays.get(eid).map(Vec::as_slice).unwrap_or_default()
    }

    /// The animals of `lot_id` still in the yard (their latest placement is in it), in order.
    pub fn lot_animals(&self, lot_id: &str) -> Vec<String> {
        self.lot_animals
            .get(lot_id)
            .map(|eids| eids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The animals in each pen now, by pen, each pen's EIDs in order.
    pub fn pens(&self) -> BTreeMap<String, Vec<String>> {
        let mut pens: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for eid in self.stays.keys() {
            if let Some(pen) = self.pen_of(eid) {
                pens.entry(pen.to_owned()).or_default().push(eid.clone());
            }
        }
        for eids in pens.values_mut() {
            eids.sort();
        }
        pens
    }
}

/// The last millisecond of the UTC day holding `ms`.
pub fn end_of_day_ms(ms: u64) -> u64 {
    const DAY_MS: u64 = 86_400_000;
    ms - ms % DAY_MS + DAY_MS - 1
}

/// The movement tables, in the order [`movements`] reads them.
#[derive(Debug, Clone, Copy)]
enum Table {
    Placements,
    Moves,
    Deaths,
    Shipments,
}

/// The movement records where each table's conditions hold (SQL over its columns, with `?`
/// binds that `bind` fills for that table), each list oldest first. A shipment lists its EIDs
/// in one row, so `shipment_eid` says which animal a row is: `? AS eid` (one animal, bound
/// first) or `arrayJoin(eids) AS eid` (each).
async fn movements(
    client: &clickhouse::Client,
    [placements, moves, deaths, shipments]: [&str; 4],
    shipment_eid: &str,
    bind: impl Fn(clickhouse::query::Query, Table) -> clickhouse::query::Query,
) -> Result<MovementRecords> {
    let read = |select: &str, table: &str, conditions: &str, which: Table| {
        bind(
            client.query(&format!(
                "SELECT {select} FROM {} ORDER BY captured_at_ms, event_id",
                live::source(table, conditions)
            )),
            which,
        )
    };
    let placements = read(
        "eid, lot_id, pen_id, captured_at_ms AS at_ms",
        "placements",
        placements,
        Table::Placements,
    )
    .fetch_all::<PlacementRecord>();
    let moves = read(
        "eid, lot_id, head_count, from_pen_id, to_pen_id, captured_at_ms AS at_ms",
        "pen_moves",
        moves,
        Table::Moves,
    )
    .fetch_all::<MoveRecord>();
    let deaths = read(
        "eid, captured_at_ms AS at_ms",
        "deaths",
        deaths,
        Table::Deaths,
    )
    .fetch_all::<Departure>();
    let shipments = read(
        &format!("{shipment_eid}, captured_at_ms AS at_ms"),
        "shipments",
        shipments,
        Table::Shipments,
    )
    .fetch_all::<Departure>();
    let (placements, moves, deaths, shipments) =
        tokio::try_join!(placements, moves, deaths, shipments)?;
    Ok(MovementRecords {
        placements,
        moves,
        deaths,
        shipments,
    })
}

/// Animal `eid`'s pen history at `feedlot_id`: its placements, its own moves, the whole-lot
/// moves of the lots it was placed in, its death and shipment.
pub async fn animal_pens(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eid: &str,
) -> Result<Vec<PenStay>> {
    // `GLOBAL IN`: on a cluster the lots are read once over the `Distributed` table.
    let conditions = [
        "feedlot_id = ? AND eid = ?",
        "feedlot_id = ? AND (eid = ? OR (eid = '' AND head_count = 0 AND lot_id GLOBAL IN \
         (SELECT lot_id FROM placements WHERE feedlot_id = ? AND eid = ?)))",
        "feedlot_id = ? AND eid = ?",
        "feedlot_id = ? AND has(eids, ?)",
    ];
    let records = movements(client, conditions, "? AS eid", |q, table| match table {
        Table::Moves => q.bind(feedlot_id).bind(eid).bind(feedlot_id).bind(eid),
        Table::Shipments => q.bind(eid).bind(feedlot_id).bind(eid),
        Table::Placements | Table::Deaths => q.bind(feedlot_id).bind(eid),
    })
    .await?;
    Ok(Replay::of(&records, u64::MAX).history(eid).to_vec())
}

/// Who is in each pen of `feedlot_id` at the end of the UTC day holding `as_of_ms` (every
/// record of that day counts, as in the daily facts): pen → EIDs.
pub async fn pens_on(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
) -> Result<BTreeMap<String, Vec<String>>> {
    Ok(yard_on(client, feedlot_id, as_of_ms).await?.pens())
}

/// The yard `feedlot_id` replayed to the end of the UTC day holding `as_of_ms`: where each
/// animal is and has been, and each lot's animals still in the yard.
pub async fn yard_on(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
) -> Result<Replay> {
    let until = end_of_day_ms(as_of_ms);
    let conditions = [
        "feedlot_id = ? AND captured_at_ms <= ?",
        "feedlot_id = ? AND captured_at_ms <= ? AND (eid != '' OR head_count = 0)",
        "feedlot_id = ? AND captured_at_ms <= ? AND eid != ''",
        "feedlot_id = ? AND captured_at_ms <= ? AND notEmpty(eids)",
    ];
    let records = movements(client, conditions, "arrayJoin(eids) AS eid", |q, _| {
        q.bind(feedlot_id).bind(until)
    })
    .await?;
    Ok(Replay::of(&records, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(eid: &str, lot: &str, pen: &str, at_ms: u64) -> PlacementRecord {
        PlacementRecord {
            eid: eid.into(),
            lot_id: lot.into(),
            pen_id: pen.into(),
            at_ms,
        }
    }

    fn moved(eid: &str, lot: &str, head: u32, from: &str, to: &str, at_ms: u64) -> MoveRecord {
        MoveRecord {
            eid: eid.into(),
            lot_id: lot.into(),
            head_count: head,
            from_pen_id: from.into(),
            to_pen_id: to.into(),
            at_ms,
        }
    }

    fn yard() -> MovementRecords {
        MovementRecords {
            placements: vec![
                placed("a", "L1", "P1", 10),
                placed("b", "L1", "P1", 10),
                placed("c", "L2", "P1", 10),
            ],
            moves: vec![
                moved("b", "L1", 1, "P1", "H1", 20),
                moved("", "L1", 0, "P1", "P2", 30),
                moved("", "L1", 5, "P2", "P3", 35),
            ],
            deaths: vec![],
            shipments: vec![Departure {
                eid: "a".into(),
                at_ms: 40,
            }],
        }
    }

    #[test]
    fn a_whole_lot_move_takes_the_lots_animals_in_its_pen_and_no_other() {
        let r = Replay::of(&yard(), 39);
        assert_eq!(r.pen_of("a"), Some("P2"), "moved with its lot");
        assert_eq!(r.pen_of("b"), Some("H1"), "in hospital when the lot moved");
        assert_eq!(r.pen_of("c"), Some("P1"), "another lot in the same pen");
        assert_eq!(
            r.history("a")
                .iter()
                .map(|s| (s.pen_id.as_str(), s.from_ms, s.to_ms, s.why))
                .collect::<Vec<_>>(),
            [
                ("P1", 10, Some(30), Why::Placed),
                ("P2", 30, None, Why::LotMoved)
            ],
            "a part-lot move (a head count) names no animal"
        );
    }

    #[test]
    fn who_is_in_a_pen_depends_on_the_day_and_a_shipped_animal_is_in_none() {
        let before = Replay::of(&yard(), 25).pens();
        assert_eq!(before["P1"], ["a", "c"]);
        assert_eq!(before["H1"], ["b"]);
        let after = Replay::of(&yard(), u64::MAX);
        assert_eq!(after.pen_of("a"), None, "shipped");
        assert_eq!(after.history("a").last().unwrap().to_ms, Some(40));
        assert!(!after.pens().contains_key("P2"));
    }

    #[test]
    fn a_new_placement_moves_the_animal_to_its_new_lot_for_later_lot_moves() {
        let mut records = yard();
        records.placements.push(placed("c", "L1", "P1", 25));
        let r = Replay::of(&records, 39);
        assert_eq!(r.pen_of("c"), Some("P2"), "in L1 when L1 moved");
        assert_eq!(r.history("c").len(), 3);
        assert_eq!(r.history("c")[1].why, Why::Placed);
    }

    #[test]
    fn the_end_of_a_day_is_its_last_millisecond() {
        let day = 86_400_000;
        assert_eq!(end_of_day_ms(3 * day), 4 * day - 1);
        assert_eq!(end_of_day_ms(4 * day - 1), 4 * day - 1);
    }
}
