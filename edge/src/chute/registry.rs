//! The animal registry in redb: one JSON record per EID, plus the EID last weighed, each lot's
//! animals (so a whole-lot move moves them) and each lot's lot-level treatments (so the
//! withdrawal warning of every animal of the lot shows them).
//!
//! Tables: `registry_animals_v1` (EID → [`AnimalRecord`] as JSON), `registry_meta_v1` (the EID
//! last weighed), `registry_lot_animals_v1` (lot → EIDs placed in it, a multimap; an animal
//! placed again in another lot leaves its old lot's set) and `registry_lot_treatments_v1` (lot
//! → its lot-level [`TreatmentAt`]s as JSON), and which of them hold each dose, for corrections
//! (`registry_treatment_owners_v1`, see [`super::corrections`]). A registry written before the
//! lot tables existed opens with them empty: its animals follow whole-lot moves once placed
//! again.

use std::path::Path;

use chrono::{DateTime, Utc};
use redb::{
    Database, MultimapTableDefinition, ReadableDatabase, ReadableTable, Table, TableDefinition,
};
use schemas::{Envelope, Event};
use serde::{Deserialize, Serialize};

use super::corrections::{Owner, Owners, TREATMENT_OWNERS};
use super::lots::Lots;

const ANIMALS: TableDefinition<&str, &[u8]> = TableDefinition::new("registry_animals_v1");
const META: TableDefinition<&str, &str> = TableDefinition::new("registry_meta_v1");
const LOT_ANIMALS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("registry_lot_animals_v1");
const LOT_TREATMENTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("registry_lot_treatments_v1");
const LAST_WEIGHED: &str = "last_weighed_eid";

/// Why the registry could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// redb failed.
    #[error("animal registry: {0}")]
    Store(#[from] redb::Error),
    /// A stored record is unreadable.
    #[error("animal registry record: {0}")]
    Record(#[from] serde_json::Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(impl From<$t> for RegistryError {
        fn from(e: $t) -> Self { Self::Store(e.into()) }
    })*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// A weight and when it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightAt {
    /// When, ms since the epoch (UTC).
    pub at_ms: i64,
    /// Weight, kg.
    pub kg: f64,
}

/// A product given to the animal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentAt {
    /// The product.
    pub product: String,
    /// When it was given, ms since the epoch (UTC).
    pub at_ms: i64,
    /// Meat withdrawal after this dose, days.
    pub withdrawal_days: u32,
    /// Days after this dose a booster is due, for two-dose vaccines.
    #[serde(default)]
    pub booster_after_days: Option<u32>,
    /// Who was given it, for a lot-level treatment (`lot L-1`, or `pen P3` for an animal of
    /// no known lot in a treated pen); None for a dose given to the animal itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_to: Option<String>,
    /// The event id of the record of this dose, so a correction naming it finds it (None for
    /// doses stored before corrections reached the chute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// What the gateway knows about one animal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnimalRecord {
    /// The EID.
    pub eid: String,
    /// First weighing at this yard (its arrival weight).
    pub first: Option<WeightAt>,
    /// The weighing before the last.
    pub previous: Option<WeightAt>,
    /// The last weighing.
    pub last: Option<WeightAt>,
    /// Its pen: from its placement, then its own moves and its lot's whole-lot moves.
    pub pen_id: Option<String>,
    /// Its lot, from its latest placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// When the record that set its pen (and lot) happened, ms since the epoch: a placement or
    /// move that happened before it (entered late, with an earlier `occurred_at`) changes
    /// neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen_at_ms: Option<i64>,
    /// Every treatment recorded: its own, and (as [`Registry::get`] returns it) its lot's
    /// lot-level ones.
    pub treatments: Vec<TreatmentAt>,
    /// Recorded dead.
    pub dead: bool,
}

const DAY_MS: f64 = 86_400_000.0;

impl AnimalRecord {
    /// Gain since the previous weighing, kg.
    pub fn gain_since_previous_kg(&self) -> Option<f64> {
        Some(self.last?.kg - self.previous?.kg)
    }

    /// Days on feed at the last weighing, counted from the first.
    pub fn days_on_feed(&self) -> Option<f64> {
        Some((self.last?.at_ms - self.first?.at_ms) as f64 / DAY_MS)
    }

    /// Gain since arrival (the first weighing), kg.
    pub fn gain_since_arrival_kg(&self) -> Option<f64> {
        Some(self.last?.kg - self.first?.kg)
    }

    /// ADG since arrival, kg/day (None before a day on feed).
    pub fn adg_since_arrival_kg(&self) -> Option<f64> {
        let days = self.days_on_feed()?;
        (days >= 1.0).then(|| self.gain_since_arrival_kg().unwrap_or(0.0) / days)
    }

    /// The treatments whose withdrawal period has not ended at `now`, with the end.
    pub fn in_withdrawal(&self, now: DateTime<Utc>) -> Vec<(&TreatmentAt, DateTime<Utc>)> {
        self.treatments
            .iter()
            .filter_map(|t| {
                let end = DateTime::<Utc>::from_timestamp_millis(t.at_ms)?
                    + chrono::Duration::days(i64::from(t.withdrawal_days));
                (end > now).then_some((t, end))
            })
            .collect()
    }

    /// Products whose booster is due at `now`: the booster interval has passed since a dose and
    /// the product was not given again after it.
    pub fn boosters_due(&self, now: DateTime<Utc>) -> Vec<&TreatmentAt> {
        self.treatments
            .iter()
            .filter(|t| {
                let Some(days) = t.booster_after_days else {
                    return false;
                };
                let given_again = self
                    .treatments
                    .iter()
                    .any(|l| l.product == t.product && l.at_ms > t.at_ms);
                let due = t.at_ms + i64::from(days) * 86_400_000;
                !given_again && now.timestamp_millis() >= due
            })
            .collect()
    }

    /// Puts the animal in `pen_id` (and `lot_id`, when given) from `at_ms`, unless its pen
    /// was set by a later record. Whether it did.
    pub(super) fn enter(&mut self, pen_id: &str, lot_id: Option<&str>, at_ms: i64) -> bool {
        if self.pen_at_ms.is_some_and(|since| at_ms < since) {
            return false;
        }
        self.pen_id = Some(pen_id.to_owned());
        if let Some(lot) = lot_id {
            self.lot_id = Some(lot.to_owned());
        }
        self.pen_at_ms = Some(at_ms);
        true
    }

    /// Folds one captured event into the record.
    fn apply(&mut self, envelope: &Envelope) {
        let at_ms = envelope.captured_at.timestamp_millis();
        match &envelope.event {
            Event::Weighing(w) => {
                let now = WeightAt {
                    at_ms,
                    kg: w.weight.kg(),
                };
                if self.first.is_none() {
                    self.first = Some(now);
                }
                self.previous = self.last.replace(now);
            }
            Event::Treatment(t) => self.treatments.push(TreatmentAt {
                product: t.product.clone(),
                at_ms,
                withdrawal_days: t.withdrawal_days,
                booster_after_days: t.booster_after_days,
                given_to: None,
                event_id: Some(envelope.event_id.to_string()),
            }),
            Event::PenMove(m) if m.eid.is_some() => {
                self.enter(&m.to_pen_id, None, at_ms);
            }
            Event::Placement(p) => {
                self.enter(&p.pen_id, Some(&p.lot_id), at_ms);
            }
            Event::Death(_) => self.dead = true,
            _ => {}
        }
    }
}

/// The EID an event is about, when it is about one animal.
fn animal_of(envelope: &Envelope) -> Option<String> {
    match &envelope.event {
        Event::Weighing(w) => Some(w.eid.to_string()),
        Event::Treatment(t) => Some(t.eid.to_string()),
        Event::PenMove(m) => m.eid.as_ref().map(ToString::to_string),
        Event::Death(d) => Some(d.eid.to_string()),
        Event::Placement(p) => Some(p.eid.to_string()),
        _ => None,
    }
}

/// The animals table of a write transaction.
pub(super) type Animals<'t> = Table<'t, &'static str, &'static [u8]>;

/// `eid`'s stored record (its own treatments only).
pub(super) fn read(
    animals: &Animals<'_>,
    eid: &str,
) -> Result<Option<AnimalRecord>, RegistryError> {
    Ok(match animals.get(eid)? {
        Some(bytes) => Some(serde_json::from_slice(bytes.value())?),
        None => None,
    })
}

/// Stores `record` under its EID.
pub(super) fn write(animals: &mut Animals<'_>, record: &AnimalRecord) -> Result<(), RegistryError> {
    animals.insert(record.eid.as_str(), serde_json::to_vec(record)?.as_slice())?;
    Ok(())
}

/// The registry file.
#[derive(Debug)]
pub struct Registry {
    db: Database,
}

impl Registry {
    /// Opens (or creates) the registry file.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(ANIMALS)?;
        txn.open_table(META)?;
        txn.open_multimap_table(LOT_ANIMALS)?;
        txn.open_table(LOT_TREATMENTS)?;
        txn.open_multimap_table(TREATMENT_OWNERS)?;
        txn.commit()?;
        Ok(Self { db })
    }

    /// Folds captured events into their animals' records, in one transaction.
    pub fn observe(&self, envelopes: &[Envelope]) -> Result<(), RegistryError> {
        let txn = self.db.begin_write()?;
        {
            let mut animals = txn.open_table(ANIMALS)?;
            let mut meta = txn.open_table(META)?;
            let mut lots = Lots {
                animals: txn.open_multimap_table(LOT_ANIMALS)?,
                treatments: txn.open_table(LOT_TREATMENTS)?,
            };
            let mut owners = Owners {
                table: txn.open_multimap_table(TREATMENT_OWNERS)?,
            };
            for envelope in envelopes {
                let at_ms = envelope.captured_at.timestamp_millis();
                let event_id = envelope.event_id.to_string();
                match &envelope.event {
                    Event::PenMove(m) => lots.pen_move(m, at_ms, &mut animals)?,
                    Event::LotTreatment(t) => {
                        for owner in lots.treat(t, &event_id, at_ms, &mut animals)? {
                            owners.note(&event_id, &owner)?;
                        }
                    }
                    Event::Treatment(t) => {
                        owners.note(&event_id, &Owner::Animal(t.eid.to_string()))?;
                    }
                    Event::Correction(c) => owners.apply(c, &mut animals, &mut lots)?,
                    _ => {}
                }
                let Some(eid) = animal_of(envelope) else {
                    continue;
                };
                let mut record = read(&animals, &eid)?.unwrap_or_else(|| AnimalRecord {
                    eid: eid.clone(),
                    ..AnimalRecord::default()
                });
                let lot_before = record.lot_id.clone();
                record.apply(envelope);
                if let Some(lot) = record.lot_id.as_deref()
                    && record.lot_id != lot_before
                {
                    lots.rejoin(&eid, lot_before.as_deref(), lot)?;
                }
                write(&mut animals, &record)?;
                if matches!(envelope.event, Event::Weighing(_)) {
                    meta.insert(LAST_WEIGHED, eid.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// One animal's record, its lot's lot-level treatments among its treatments (oldest
    /// first).
    pub fn get(&self, eid: &str) -> Result<Option<AnimalRecord>, RegistryError> {
        let txn = self.db.begin_read()?;
        let animals = txn.open_table(ANIMALS)?;
        let Some(bytes) = animals.get(eid)? else {
            return Ok(None);
        };
        let mut record: AnimalRecord = serde_json::from_slice(bytes.value())?;
        if let Some(lot) = &record.lot_id {
            let treatments = txn.open_table(LOT_TREATMENTS)?;
            if let Some(doses) = treatments.get(lot.as_str())? {
                let doses: Vec<TreatmentAt> = serde_json::from_slice(doses.value())?;
                record.treatments.extend(doses);
                record.treatments.sort_by_key(|t| t.at_ms);
            }
        }
        Ok(Some(record))
    }

    /// The animal weighed last (the one on, or just off, the scale).
    pub fn last_weighed(&self) -> Result<Option<AnimalRecord>, RegistryError> {
        let eid = {
            let txn = self.db.begin_read()?;
            let meta = txn.open_table(META)?;
            meta.get(LAST_WEIGHED)?.map(|v| v.value().to_owned())
        };
        match eid {
            Some(eid) => self.get(&eid),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{Eid, LotTreatment, PenMove, Placement, Weighing, Weight};

    fn weighing(eid: &str, kg: f64, day: i64) -> Envelope {
        let at =
            DateTime::<Utc>::from_timestamp_millis(1_790_000_000_000 + day * 86_400_000).unwrap();
        Envelope::new(
            "y",
            "g",
            "scale-1",
            at,
            Event::Weighing(Weighing {
                eid: Eid::parse(eid).unwrap(),
                weight: Weight::from_kg(kg),
                tag_read_event_id: None,
                gross_net: None,
            }),
        )
    }

    fn at(day: i64, event: Event) -> Envelope {
        let at =
            DateTime::<Utc>::from_timestamp_millis(1_790_000_000_000 + day * 86_400_000).unwrap();
        Envelope::new("y", "g", "api:sam", at, event)
    }

    fn placed(eid: &str, lot: &str, pen: &str) -> Envelope {
        placed_on(0, eid, lot, pen)
    }

    fn placed_on(day: i64, eid: &str, lot: &str, pen: &str) -> Envelope {
        at(
            day,
            Event::Placement(Placement {
                eid: Eid::parse(eid).unwrap(),
                lot_id: lot.into(),
                pen_id: pen.into(),
                sex: None,
                breed: None,
            }),
        )
    }

    fn lot_move(day: i64, lot: &str, head: Option<u32>, from: &str, to: &str) -> Envelope {
        at(
            day,
            Event::PenMove(PenMove {
                eid: None,
                lot_id: Some(lot.into()),
                head_count: head,
                from_pen_id: from.into(),
                to_pen_id: to.into(),
            }),
        )
    }

    fn pen_of(registry: &Registry, eid: &str) -> Option<String> {
        registry.get(eid).unwrap().unwrap().pen_id
    }

    #[test]
    fn a_whole_lot_move_moves_the_lots_animals_in_its_pen_only() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(&dir.path().join("registry.redb")).unwrap();
        let (a, b, c) = ("982000000000001", "982000000000002", "982000000000003");
        registry
            .observe(&[
                placed(a, "L1", "P1"),
                placed(b, "L1", "P1"),
                placed(c, "L2", "P1"),
                at(
                    1,
                    Event::PenMove(PenMove {
                        eid: Some(Eid::parse(b).unwrap()),
                        lot_id: Some("L1".into()),
                        head_count: None,
                        from_pen_id: "P1".into(),
                        to_pen_id: "H1".into(),
                    }),
                ),
                lot_move(2, "L1", Some(1), "P1", "P3"),
            ])
            .unwrap();
        assert_eq!(pen_of(&registry, a).as_deref(), Some("P1"), "part of a lot");
        registry
            .observe(&[lot_move(2, "L1", None, "P1", "P2")])
            .unwrap();
        assert_eq!(pen_of(&registry, a).as_deref(), Some("P2"), "moved with L1");
        assert_eq!(pen_of(&registry, b).as_deref(), Some("H1"), "in hospital");
        assert_eq!(pen_of(&registry, c).as_deref(), Some("P1"), "another lot");
        // Placed again in L2: it leaves L1 and moves with L2 from then on.
        registry
            .observe(&[
                placed_on(3, a, "L2", "P1"),
                lot_move(4, "L1", None, "P1", "P9"),
                lot_move(4, "L2", None, "P1", "P4"),
            ])
            .unwrap();
        assert_eq!(pen_of(&registry, a).as_deref(), Some("P4"));
        assert_eq!(pen_of(&registry, c).as_deref(), Some("P4"));
        // A placement entered late, dated before the moves, changes nothing.
        registry.observe(&[placed_on(1, c, "L1", "P7")]).unwrap();
        let c_now = registry.get(c).unwrap().unwrap();
        assert_eq!(
            (c_now.pen_id.as_deref(), c_now.lot_id.as_deref()),
            (Some("P4"), Some("L2"))
        );
    }

    fn lot_treatment(lot: Option<&str>, pen: Option<&str>, day: i64) -> Envelope {
        at(
            day,
            Event::LotTreatment(LotTreatment {
                lot_id: lot.map(Into::into),
                pen_id: pen.map(Into::into),
                head_count: 40,
                purpose: schemas::TreatmentPurpose::Therapeutic,
                product: "Micotil".into(),
                dose_per_head: 1.5,
                dose_unit: schemas::DoseUnit::Ml,
                route: schemas::Route::Subcutaneous,
                product_lot: "MC-1".into(),
                withdrawal_days: 42,
                administered_by: "dr-lee".into(),
                diagnosis: None,
                total_cost_minor: None,
                currency: None,
            }),
        )
    }

    #[test]
    fn a_lot_treatment_puts_every_animal_of_the_lot_in_withdrawal_and_a_pen_treatment_its_lots() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(&dir.path().join("registry.redb")).unwrap();
        let (a, b, c) = ("982000000000001", "982000000000002", "982000000000003");
        registry
            .observe(&[
                placed(a, "L1", "P1"),
                lot_treatment(Some("L1"), None, 1),
                // Tagged into the lot after the lot was treated: it came with the lot.
                placed(b, "L1", "P1"),
                placed(c, "L2", "P5"),
            ])
            .unwrap();
        let day_10 =
            DateTime::<Utc>::from_timestamp_millis(1_790_000_000_000 + 10 * 86_400_000).unwrap();
        for eid in [a, b] {
            let record = registry.get(eid).unwrap().unwrap();
            let warnings = record.in_withdrawal(day_10);
            assert_eq!(warnings.len(), 1, "{eid}");
            assert_eq!(warnings[0].0.given_to.as_deref(), Some("lot L1"));
        }
        assert!(registry.get(c).unwrap().unwrap().treatments.is_empty());
        // Given only a pen: the lots of the animals in it now.
        registry
            .observe(&[lot_treatment(None, Some("P5"), 3)])
            .unwrap();
        let record = registry.get(c).unwrap().unwrap();
        assert_eq!(record.in_withdrawal(day_10).len(), 1);
        assert_eq!(record.treatments[0].given_to.as_deref(), Some("lot L2"));
        assert_eq!(registry.get(a).unwrap().unwrap().treatments.len(), 1);
    }

    fn correction(of: &Envelope, action: schemas::CorrectionAction, days: Option<u32>) -> Envelope {
        at(
            3,
            Event::Correction(schemas::Correction {
                corrects_event_id: of.event_id,
                record_kind: of.event.kind().as_str().into(),
                action,
                reason: "entered wrong".into(),
                weight_kg: None,
                product: None,
                dose: None,
                withdrawal_days: days,
                cause: None,
                delivered_kg: None,
                planned_date: None,
                head_count: None,
            }),
        )
    }

    #[test]
    fn an_amended_withdrawal_warns_for_its_new_length_and_a_voided_lot_dose_warns_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(&dir.path().join("registry.redb")).unwrap();
        let (a, b) = ("982000000000001", "982000000000002");
        let own = at(
            1,
            Event::Treatment(schemas::Treatment {
                eid: Eid::parse(a).unwrap(),
                purpose: schemas::TreatmentPurpose::Therapeutic,
                product: "Nuflor".into(),
                dose: 6.0,
                dose_unit: schemas::DoseUnit::Ml,
                route: schemas::Route::Subcutaneous,
                product_lot: "N-1".into(),
                withdrawal_days: 10,
                administered_by: "dr-lee".into(),
                diagnosis: None,
                booster_after_days: None,
                cost_minor: None,
                currency: None,
            }),
        );
        let lot_dose = lot_treatment(Some("L1"), None, 1);
        registry
            .observe(&[
                placed(a, "L1", "P1"),
                placed(b, "L1", "P1"),
                own.clone(),
                lot_dose.clone(),
            ])
            .unwrap();
        let day = |n: i64| {
            DateTime::<Utc>::from_timestamp_millis(1_790_000_000_000 + n * 86_400_000).unwrap()
        };
        let warned = |eid: &str, n: i64| -> Vec<String> {
            let record = registry.get(eid).unwrap().unwrap();
            record
                .in_withdrawal(day(n))
                .iter()
                .map(|(t, _)| t.product.clone())
                .collect()
        };
        assert_eq!(warned(a, 20), ["Micotil"], "Nuflor's 10 days are over");
        // The Nuflor's withdrawal was 30 days, not 10; the lot's Micotil was never given.
        registry
            .observe(&[
                correction(&own, schemas::CorrectionAction::Amend, Some(30)),
                correction(&lot_dose, schemas::CorrectionAction::Void, None),
            ])
            .unwrap();
        assert_eq!(warned(a, 20), ["Nuflor"]);
        assert!(warned(a, 32).is_empty());
        assert!(warned(b, 20).is_empty(), "the voided lot dose is gone");
        assert_eq!(registry.get(b).unwrap().unwrap().treatments.len(), 0);
    }

    #[test]
    fn weighings_give_previous_weight_gain_and_adg_since_arrival_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.redb");
        {
            let registry = Registry::open(&path).unwrap();
            registry
                .observe(&[
                    weighing("982000000000001", 350.0, 0),
                    weighing("982000000000002", 300.0, 0),
                ])
                .unwrap();
            registry
                .observe(&[weighing("982000000000001", 380.0, 20)])
                .unwrap();
        }
        let registry = Registry::open(&path).unwrap();
        registry
            .observe(&[weighing("982000000000001", 395.0, 30)])
            .unwrap();
        let a = registry.last_weighed().unwrap().unwrap();
        assert_eq!(a.eid, "982000000000001");
        assert_eq!(a.previous.unwrap().kg, 380.0);
        assert_eq!(a.gain_since_previous_kg(), Some(15.0));
        assert_eq!(a.gain_since_arrival_kg(), Some(45.0));
        assert_eq!(a.adg_since_arrival_kg(), Some(1.5));
        assert_eq!(
            registry
                .get("982000000000002")
                .unwrap()
                .unwrap()
                .last
                .unwrap()
                .kg,
            300.0
        );
    }
}
