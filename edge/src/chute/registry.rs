//! The animal registry in redb: one JSON record per EID, plus the EID last weighed.

use std::path::Path;

use chrono::{DateTime, Utc};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use schemas::{Envelope, Event};
use serde::{Deserialize, Serialize};

const ANIMALS: TableDefinition<&str, &[u8]> = TableDefinition::new("registry_animals_v1");
const META: TableDefinition<&str, &str> = TableDefinition::new("registry_meta_v1");
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
    /// Its pen, from the last move.
    pub pen_id: Option<String>,
    /// Every treatment recorded.
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
            }),
            Event::PenMove(m) if m.eid.is_some() => self.pen_id = Some(m.to_pen_id.clone()),
            Event::Placement(p) if self.pen_id.is_none() => self.pen_id = Some(p.pen_id.clone()),
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
        txn.commit()?;
        Ok(Self { db })
    }

    /// Folds captured events into their animals' records, in one transaction.
    pub fn observe(&self, envelopes: &[Envelope]) -> Result<(), RegistryError> {
        let txn = self.db.begin_write()?;
        {
            let mut animals = txn.open_table(ANIMALS)?;
            let mut meta = txn.open_table(META)?;
            for envelope in envelopes {
                let Some(eid) = animal_of(envelope) else {
                    continue;
                };
                let mut record: AnimalRecord = match animals.get(eid.as_str())? {
                    Some(bytes) => serde_json::from_slice(bytes.value())?,
                    None => AnimalRecord {
                        eid: eid.clone(),
                        ..AnimalRecord::default()
                    },
                };
                record.apply(envelope);
                animals.insert(eid.as_str(), serde_json::to_vec(&record)?.as_slice())?;
                if matches!(envelope.event, Event::Weighing(_)) {
                    meta.insert(LAST_WEIGHED, eid.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// One animal's record.
    pub fn get(&self, eid: &str) -> Result<Option<AnimalRecord>, RegistryError> {
        let txn = self.db.begin_read()?;
        let animals = txn.open_table(ANIMALS)?;
        Ok(match animals.get(eid)? {
            Some(bytes) => Some(serde_json::from_slice(bytes.value())?),
            None => None,
        })
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
    use schemas::{Eid, Weighing, Weight};

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
