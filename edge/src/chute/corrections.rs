//! Corrections at the chute: a treatment or lot treatment voided or amended (docs/corrections.md)
//! changes the doses the chute warns of, so an amended withdrawal period (10 days that should
//! have been 30) warns for 30, and a voided dose warns no more.
//!
//! A correction names its record by event id only, so the registry keeps which records hold
//! each dose: `registry_treatment_owners_v1` (event id → `animal:<EID>` or `lot:<lot>`, a
//! multimap: a pen treatment is carried by each lot in the pen, and by each animal there of no
//! known lot). Doses recorded before this table existed have no owners: a correction of one
//! changes nothing at the chute (the cloud's pages follow it).

use redb::{MultimapTable, MultimapTableDefinition, ReadableMultimapTable};
use schemas::{Correction, CorrectionAction, EventKind};

use super::lots::Lots;
use super::registry::{Animals, RegistryError, TreatmentAt, read, write};

/// Which records hold each dose, by the dose's event id.
pub(super) const TREATMENT_OWNERS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("registry_treatment_owners_v1");

/// A record that holds a dose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    /// The animal's own record (its own dose, or a pen dose given while it had no lot).
    Animal(String),
    /// The lot's lot-level doses.
    Lot(String),
}

impl Owner {
    fn key(&self) -> String {
        match self {
            Self::Animal(eid) => format!("animal:{eid}"),
            Self::Lot(lot) => format!("lot:{lot}"),
        }
    }

    fn parse(key: &str) -> Option<Self> {
        if let Some(eid) = key.strip_prefix("animal:") {
            return Some(Self::Animal(eid.to_owned()));
        }
        key.strip_prefix("lot:")
            .map(|lot| Self::Lot(lot.to_owned()))
    }
}

/// The owners table, in the registry's write transaction.
pub(super) struct Owners<'t> {
    /// `registry_treatment_owners_v1`.
    pub(super) table: MultimapTable<'t, &'static str, &'static str>,
}

impl Owners<'_> {
    /// Notes that `owner` holds the dose recorded as `event_id`.
    pub(super) fn note(&mut self, event_id: &str, owner: &Owner) -> Result<(), RegistryError> {
        self.table.insert(event_id, owner.key().as_str())?;
        Ok(())
    }

    /// Applies `c` when it corrects a treatment or lot treatment: each dose it names is removed
    /// (void) or given its new product and withdrawal period (amend).
    pub(super) fn apply(
        &self,
        c: &Correction,
        animals: &mut Animals<'_>,
        lots: &mut Lots<'_>,
    ) -> Result<(), RegistryError> {
        if !matches!(
            c.kind(),
            Some(EventKind::Treatment | EventKind::LotTreatment)
        ) {
            return Ok(());
        }
        let id = c.corrects_event_id.to_string();
        let mut owners = Vec::new();
        for key in self.table.get(id.as_str())? {
            owners.extend(Owner::parse(key?.value()));
        }
        if owners.is_empty() {
            tracing::debug!(event_id = %id, "correction of a dose the chute registry does not hold");
        }
        for owner in owners {
            match owner {
                Owner::Animal(eid) => {
                    let Some(mut record) = read(animals, &eid)? else {
                        continue;
                    };
                    correct(&mut record.treatments, &id, c);
                    write(animals, &record)?;
                }
                Owner::Lot(lot) => {
                    let mut doses = lots.doses(&lot)?;
                    correct(&mut doses, &id, c);
                    lots.set_doses(&lot, &doses)?;
                }
            }
        }
        Ok(())
    }
}

/// `doses` with the one recorded as `event_id` voided or amended by `c`.
fn correct(doses: &mut Vec<TreatmentAt>, event_id: &str, c: &Correction) {
    let named = |d: &TreatmentAt| d.event_id.as_deref() == Some(event_id);
    match c.action {
        CorrectionAction::Void => doses.retain(|d| !named(d)),
        CorrectionAction::Amend => {
            for dose in doses.iter_mut().filter(|d| named(d)) {
                if let Some(product) = &c.product {
                    dose.product.clone_from(product);
                }
                if let Some(days) = c.withdrawal_days {
                    dose.withdrawal_days = days;
                }
            }
        }
    }
}
