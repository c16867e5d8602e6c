//! The lot side of the animal registry: each lot's animals (so a whole-lot move moves them)
//! and its lot-level treatments (so every animal of the lot carries them), kept in the
//! registry's write transaction.

use redb::{ReadableMultimapTable, ReadableTable, Table};
use schemas::{LotTreatment, PenMove};

use super::corrections::Owner;
use super::registry::{AnimalRecord, Animals, RegistryError, TreatmentAt, read, write};

/// A lot-level treatment as each animal given it carries it.
fn lot_dose(t: &LotTreatment, event_id: &str, given_to: String, at_ms: i64) -> TreatmentAt {
    TreatmentAt {
        product: t.product.clone(),
        at_ms,
        withdrawal_days: t.withdrawal_days,
        booster_after_days: None,
        given_to: Some(given_to),
        event_id: Some(event_id.to_owned()),
    }
}

pub(super) struct Lots<'t> {
    /// `registry_lot_animals_v1`.
    pub(super) animals: redb::MultimapTable<'t, &'static str, &'static str>,
    /// `registry_lot_treatments_v1`.
    pub(super) treatments: Table<'t, &'static str, &'static [u8]>,
}

impl Lots<'_> {
    /// Moves `eid` from lot `old`'s set (if any) to lot `new`'s.
    pub(super) fn rejoin(
        &mut self,
        eid: &str,
        old: Option<&str>,
        new: &str,
    ) -> Result<(), RegistryError> {
        if let Some(old) = old {
            self.animals.remove(old, eid)?;
        }
        self.animals.insert(new, eid)?;
        Ok(())
    }

    /// A whole-lot move (no EID, no head count): every animal of the lot still in the yard and
    /// in `from_pen_id` goes to `to_pen_id`. A move of part of a lot names no animal.
    pub(super) fn pen_move(
        &self,
        m: &PenMove,
        at_ms: i64,
        animals: &mut Animals<'_>,
    ) -> Result<(), RegistryError> {
        let (None, Some(lot), None) = (&m.eid, &m.lot_id, m.head_count) else {
            return Ok(());
        };
        for eid in self.members(lot)? {
            let Some(mut record) = read(animals, &eid)? else {
                continue;
            };
            let here = record.pen_id.as_deref() == Some(m.from_pen_id.as_str());
            if !record.dead
                && here
                && record.lot_id.as_deref() == Some(lot.as_str())
                && record.enter(&m.to_pen_id, None, at_ms)
            {
                write(animals, &record)?;
            }
        }
        Ok(())
    }

    /// A lot-level treatment recorded as `event_id`: kept under its lot, or, given only a pen,
    /// under the lot of each animal in that pen now (an animal there of no known lot carries it
    /// itself). Returns the records that now hold it.
    pub(super) fn treat(
        &mut self,
        t: &LotTreatment,
        event_id: &str,
        at_ms: i64,
        animals: &mut Animals<'_>,
    ) -> Result<Vec<Owner>, RegistryError> {
        let mut owners = Vec::new();
        let mut lots: Vec<String> = Vec::new();
        match (&t.lot_id, &t.pen_id) {
            (Some(lot), _) => lots.push(lot.clone()),
            (None, Some(pen)) => {
                let mut unplaced = Vec::new();
                for entry in animals.iter()? {
                    let (_, bytes) = entry?;
                    let record: AnimalRecord = serde_json::from_slice(bytes.value())?;
                    if record.dead || record.pen_id.as_deref() != Some(pen.as_str()) {
                        continue;
                    }
                    match record.lot_id {
                        Some(lot) if !lots.contains(&lot) => lots.push(lot),
                        Some(_) => {}
                        None => unplaced.push(record),
                    }
                }
                for mut record in unplaced {
                    record
                        .treatments
                        .push(lot_dose(t, event_id, format!("pen {pen}"), at_ms));
                    write(animals, &record)?;
                    owners.push(Owner::Animal(record.eid));
                }
            }
            (None, None) => {}
        }
        for lot in lots {
            let mut doses = self.doses(&lot)?;
            doses.push(lot_dose(t, event_id, format!("lot {lot}"), at_ms));
            self.set_doses(&lot, &doses)?;
            owners.push(Owner::Lot(lot));
        }
        Ok(owners)
    }

    fn members(&self, lot: &str) -> Result<Vec<String>, RegistryError> {
        let mut eids = Vec::new();
        for eid in self.animals.get(lot)? {
            eids.push(eid?.value().to_owned());
        }
        Ok(eids)
    }

    /// Stores `doses` as lot `lot`'s lot-level doses.
    pub(super) fn set_doses(
        &mut self,
        lot: &str,
        doses: &[TreatmentAt],
    ) -> Result<(), RegistryError> {
        self.treatments
            .insert(lot, serde_json::to_vec(doses)?.as_slice())?;
        Ok(())
    }

    /// Lot `lot`'s lot-level doses.
    pub(super) fn doses(&self, lot: &str) -> Result<Vec<TreatmentAt>, RegistryError> {
        Ok(match self.treatments.get(lot)? {
            Some(bytes) => serde_json::from_slice(bytes.value())?,
            None => Vec::new(),
        })
    }
}
