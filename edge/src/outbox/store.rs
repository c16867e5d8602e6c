//! The redb file behind the outbox: append (within its limits), peek, remove, depth.

use std::path::Path;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};

use super::limits::{ENTRY_OVERHEAD_BYTES, OutboxFull, OutboxLimits, OutboxUsage};
use super::once::{Claim, Once, oldest_kept};
use super::{OutboxEntry, OutboxError, OutboxRecord};

/// Entries by sequence number: (enqueued at, ms since the Unix epoch; Kafka key; payload).
const ENTRIES: TableDefinition<u64, (u64, &str, &[u8])> = TableDefinition::new("outbox_entries_v1");
/// Bookkeeping that must outlive the entries themselves.
const META: TableDefinition<&str, u64> = TableDefinition::new("outbox_meta_v1");
/// Idempotency keys (UUIDv7 as `u128`): (event id as `u128`, fingerprint). See [`super::once`].
const KEYS: TableDefinition<u128, (u128, &[u8])> = TableDefinition::new("outbox_idempotency_v1");
/// Entries Kafka will never accept, by their old sequence number: (enqueued at ms, key,
/// payload, why). Kept for an operator; not counted against the outbox limits.
const DEAD: TableDefinition<u64, (u64, &str, &[u8], &str)> =
    TableDefinition::new("outbox_dead_letters_v1");
/// The next sequence number to hand out; never decreases, even when the outbox is empty.
const NEXT_SEQ: &str = "next_seq";
/// Bytes of the stored entries as counted against the limit ([`entry_bytes`]), kept in the
/// same transactions as the entries. Computed from the entries when a file lacks it.
const STORED_BYTES: &str = "stored_bytes";

/// The bytes one entry counts against `max_bytes`.
fn entry_bytes(key: &str, payload: &[u8]) -> u64 {
    (key.len() + payload.len()) as u64 + ENTRY_OVERHEAD_BYTES
}

/// A durable FIFO of records to forward, in one redb file.
///
/// Safe to share between threads (`Arc<Outbox>`); writes are serialized by redb. Methods block
/// on disk I/O: call them from `spawn_blocking` in async code.
#[derive(Debug)]
pub struct Outbox {
    db: Database,
    limits: OutboxLimits,
}

impl Outbox {
    /// Opens (or creates) the outbox file without limits. Only one process may have it open.
    pub fn open(path: &Path) -> Result<Self, OutboxError> {
        Self::open_with_limits(path, OutboxLimits::UNLIMITED)
    }

    /// Opens (or creates) the outbox file; appends beyond `limits` are refused. A file that
    /// already holds more than the limits keeps everything (and refuses appends until drained).
    pub fn open_with_limits(path: &Path, limits: OutboxLimits) -> Result<Self, OutboxError> {
        let db = Database::create(path).map_err(|e| OutboxError::Open {
            path: path.to_owned(),
            source: redb::Error::from(e),
        })?;
        let txn = db.begin_write()?;
        {
            let entries = txn.open_table(ENTRIES)?;
            let mut meta = txn.open_table(META)?;
            if meta.get(STORED_BYTES)?.is_none() {
                // A file from before the byte count: count once, keep it from now on.
                let mut bytes = 0;
                for item in entries.range::<u64>(..)? {
                    let (_, value) = item?;
                    let (_, key, payload) = value.value();
                    bytes += entry_bytes(key, payload);
                }
                meta.insert(STORED_BYTES, bytes)?;
            }
        }
        txn.commit()?;
        Ok(Self { db, limits })
    }

    /// The limits this outbox enforces.
    pub fn limits(&self) -> OutboxLimits {
        self.limits
    }

    /// How many entries and bytes it holds.
    pub fn usage(&self) -> Result<OutboxUsage, OutboxError> {
        let txn = self.db.begin_read()?;
        let entries = txn.open_table(ENTRIES)?.len()?;
        let bytes = txn
            .open_table(META)?
            .get(STORED_BYTES)?
            .map(|v| v.value())
            .unwrap_or(0);
        Ok(OutboxUsage { entries, bytes })
    }

    /// Checks that a write transaction can be started and committed (nothing is written; the
    /// empty commit is not synced). For health checks.
    pub fn check_writable(&self) -> Result<(), OutboxError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        txn.open_table(META)?;
        txn.commit()?;
        Ok(())
    }

    /// Appends `records` in one transaction and returns their sequence numbers. When this
    /// returns `Ok`, the transaction is committed with immediate durability (fsync): the
    /// records survive a crash or power loss. If they do not all fit within the limits,
    /// nothing is written and [`OutboxError::Full`] says why.
    pub fn append(&self, records: &[OutboxRecord]) -> Result<Vec<u64>, OutboxError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let seqs = self.append_in(&txn, records)?;
        txn.commit()?;
        Ok(seqs)
    }

    /// Appends `record` unless `claim.key` was seen before, in one transaction that also
    /// stores the key (and prunes keys past their retention, as of `now_ms`). Durable as
    /// [`Outbox::append`] when it returns [`Once::Appended`]; otherwise nothing was written.
    pub fn append_once(
        &self,
        record: &OutboxRecord,
        claim: &Claim,
        now_ms: i64,
    ) -> Result<Once, OutboxError> {
        self.append_all_once(std::slice::from_ref(record), claim, now_ms)
    }

    /// As [`Outbox::append_once`], for several records under one key (a manifest import): all
    /// of them and the key in one transaction, or nothing. [`Once::Appended`] carries the first
    /// record's sequence number.
    pub fn append_all_once(
        &self,
        records: &[OutboxRecord],
        claim: &Claim,
        now_ms: i64,
    ) -> Result<Once, OutboxError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut keys = txn.open_table(KEYS)?;
            keys.retain_in(..oldest_kept(now_ms), |_, _| false)?;
            if let Some(seen) = keys.get(claim.key.as_u128())? {
                let (event_id, fingerprint) = seen.value();
                let event_id = uuid::Uuid::from_u128(event_id);
                // Dropping the transaction aborts it (the pruning waits for the next append).
                return Ok(if fingerprint == claim.fingerprint.as_slice() {
                    Once::Replayed(event_id)
                } else {
                    Once::Conflict(event_id)
                });
            }
            keys.insert(
                claim.key.as_u128(),
                (claim.event_id.as_u128(), claim.fingerprint.as_slice()),
            )?;
        }
        let seqs = self.append_in(&txn, records)?;
        txn.commit()?;
        Ok(Once::Appended(seqs.first().copied().unwrap_or_default()))
    }

    /// What a key recorded, if it was seen and is still kept: the event id and the request's
    /// fingerprint.
    pub fn key_seen(&self, key: uuid::Uuid) -> Result<Option<(uuid::Uuid, [u8; 32])>, OutboxError> {
        let txn = self.db.begin_read()?;
        let keys = match txn.open_table(KEYS) {
            Ok(keys) => keys,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(keys.get(key.as_u128())?.map(|seen| {
            let (event_id, fingerprint) = seen.value();
            let mut print = [0u8; 32];
            if fingerprint.len() == 32 {
                print.copy_from_slice(fingerprint);
            }
            (uuid::Uuid::from_u128(event_id), print)
        }))
    }

    /// Adds `records` to the entries within `txn` (refused whole if over the limits).
    fn append_in(
        &self,
        txn: &WriteTransaction,
        records: &[OutboxRecord],
    ) -> Result<Vec<u64>, OutboxError> {
        let added: u64 = records
            .iter()
            .map(|r| entry_bytes(&r.key, &r.payload))
            .sum();
        let mut seqs = Vec::with_capacity(records.len());
        let mut meta = txn.open_table(META)?;
        let mut next = meta.get(NEXT_SEQ)?.map(|v| v.value()).unwrap_or(0);
        let stored_bytes = meta.get(STORED_BYTES)?.map(|v| v.value()).unwrap_or(0);
        let mut entries = txn.open_table(ENTRIES)?;
        let usage = OutboxUsage {
            entries: entries.len()?,
            bytes: stored_bytes,
        };
        let count = records.len() as u64;
        if !self.limits.admits(usage, count, added) {
            // The caller drops the transaction, which aborts it: nothing is written.
            return Err(OutboxError::Full(OutboxFull {
                stored_entries: usage.entries,
                stored_bytes: usage.bytes,
                max_entries: self.limits.max_entries,
                max_bytes: self.limits.max_bytes,
                refused_events: count,
                refused_bytes: added,
            }));
        }
        for record in records {
            entries.insert(
                next,
                (
                    record.enqueued_at_ms,
                    record.key.as_str(),
                    record.payload.as_slice(),
                ),
            )?;
            seqs.push(next);
            next += 1;
        }
        meta.insert(NEXT_SEQ, next)?;
        meta.insert(STORED_BYTES, stored_bytes + added)?;
        Ok(seqs)
    }

    /// Up to `limit` oldest entries, in sequence order. Peeking does not remove.
    pub fn peek(&self, limit: usize) -> Result<Vec<OutboxEntry>, OutboxError> {
        let txn = self.db.begin_read()?;
        let entries = txn.open_table(ENTRIES)?;
        let mut out = Vec::with_capacity(limit.min(1024));
        for item in entries.range::<u64>(..)?.take(limit) {
            let (seq, value) = item?;
            let (enqueued_at_ms, key, payload) = value.value();
            out.push(OutboxEntry {
                seq: seq.value(),
                record: OutboxRecord {
                    key: key.to_owned(),
                    payload: payload.to_vec(),
                    enqueued_at_ms,
                },
            });
        }
        Ok(out)
    }

    /// Removes the entries with these sequence numbers (unknown ones are ignored) in one
    /// transaction; returns how many were removed.
    pub fn remove(&self, seqs: &[u64]) -> Result<usize, OutboxError> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut removed = 0;
        {
            let mut entries = txn.open_table(ENTRIES)?;
            let mut freed = 0;
            for seq in seqs {
                if let Some(value) = entries.remove(seq)? {
                    let (_, key, payload) = value.value();
                    freed += entry_bytes(key, payload);
                    removed += 1;
                }
            }
            let mut meta = txn.open_table(META)?;
            let stored = meta.get(STORED_BYTES)?.map(|v| v.value()).unwrap_or(0);
            meta.insert(STORED_BYTES, stored.saturating_sub(freed))?;
        }
        txn.commit()?;
        Ok(removed)
    }

    /// Moves the entry `seq` to the dead-letter table with `reason`, in one transaction
    /// (the entries behind it are then forwarded). False when there is no such entry.
    pub fn dead_letter(&self, seq: u64, reason: &str) -> Result<bool, OutboxError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let moved = {
            let mut entries = txn.open_table(ENTRIES)?;
            let removed = entries.remove(&seq)?.map(|v| {
                let (at, key, payload) = v.value();
                (at, key.to_owned(), payload.to_vec())
            });
            match removed {
                Some((at, key, payload)) => {
                    let mut dead = txn.open_table(DEAD)?;
                    dead.insert(seq, (at, key.as_str(), payload.as_slice(), reason))?;
                    let mut meta = txn.open_table(META)?;
                    let stored = meta.get(STORED_BYTES)?.map(|v| v.value()).unwrap_or(0);
                    meta.insert(
                        STORED_BYTES,
                        stored.saturating_sub(entry_bytes(&key, &payload)),
                    )?;
                    true
                }
                None => false,
            }
        };
        txn.commit()?;
        Ok(moved)
    }

    /// The dead-lettered entries: sequence number, key, payload size in bytes and why.
    pub fn dead_letters(&self) -> Result<Vec<(u64, String, usize, String)>, OutboxError> {
        let txn = self.db.begin_read()?;
        let dead = match txn.open_table(DEAD) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for item in dead.range::<u64>(..)? {
            let (seq, value) = item?;
            let (_, key, payload, reason) = value.value();
            out.push((
                seq.value(),
                key.to_owned(),
                payload.len(),
                reason.to_owned(),
            ));
        }
        Ok(out)
    }

    /// How many entries wait to be forwarded.
    pub fn depth(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(ENTRIES)?.len()?)
    }

    /// How many entries were moved to the dead-letter table, in all.
    pub fn dead_letter_count(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        match txn.open_table(DEAD) {
            Ok(dead) => Ok(dead.len()?),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// When the oldest waiting entry was enqueued (ms since the Unix epoch), if any.
    pub fn oldest_enqueued_at_ms(&self) -> Result<Option<u64>, OutboxError> {
        let txn = self.db.begin_read()?;
        let entries = txn.open_table(ENTRIES)?;
        Ok(entries.first()?.map(|(_, v)| v.value().0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8) -> OutboxRecord {
        OutboxRecord {
            key: "yard-1".into(),
            payload: vec![n],
            enqueued_at_ms: 1_700_000_000_000 + u64::from(n),
        }
    }

    fn payloads(entries: &[OutboxEntry]) -> Vec<u8> {
        entries.iter().map(|e| e.record.payload[0]).collect()
    }

    #[test]
    fn entries_come_back_in_append_order_with_increasing_sequence_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("o.redb")).unwrap();
        let a = outbox.append(&[record(1), record(2)]).unwrap();
        let b = outbox.append(&[record(3)]).unwrap();
        assert_eq!(a, vec![0, 1]);
        assert_eq!(b, vec![2]);
        let got = outbox.peek(10).unwrap();
        assert_eq!(payloads(&got), vec![1, 2, 3]);
        assert_eq!(got[0].record, record(1));
        assert_eq!(payloads(&outbox.peek(2).unwrap()), vec![1, 2]);
        assert_eq!(outbox.depth().unwrap(), 3);
        assert_eq!(
            outbox.oldest_enqueued_at_ms().unwrap(),
            Some(record(1).enqueued_at_ms)
        );
    }

    #[test]
    fn removed_entries_are_gone_and_the_rest_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("o.redb")).unwrap();
        let seqs = outbox
            .append(&[record(1), record(2), record(3), record(4)])
            .unwrap();
        assert_eq!(outbox.remove(&[seqs[0], seqs[2], 999]).unwrap(), 2);
        assert_eq!(payloads(&outbox.peek(10).unwrap()), vec![2, 4]);
        assert_eq!(outbox.depth().unwrap(), 2);
        assert_eq!(outbox.remove(&[]).unwrap(), 0);
    }

    #[test]
    fn a_reopened_outbox_keeps_its_entries_and_continues_the_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        {
            let outbox = Outbox::open(&path).unwrap();
            outbox.append(&[record(1), record(2)]).unwrap();
        }
        let outbox = Outbox::open(&path).unwrap();
        assert_eq!(payloads(&outbox.peek(10).unwrap()), vec![1, 2]);
        assert_eq!(outbox.append(&[record(3)]).unwrap(), vec![2]);
    }

    #[test]
    fn the_sequence_never_restarts_even_after_the_outbox_was_emptied_and_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        {
            let outbox = Outbox::open(&path).unwrap();
            let seqs = outbox.append(&[record(1), record(2)]).unwrap();
            outbox.remove(&seqs).unwrap();
            assert_eq!(outbox.depth().unwrap(), 0);
            assert_eq!(outbox.oldest_enqueued_at_ms().unwrap(), None);
        }
        let outbox = Outbox::open(&path).unwrap();
        assert_eq!(outbox.append(&[record(3)]).unwrap(), vec![2]);
    }

    #[test]
    fn a_full_outbox_refuses_the_whole_append_and_keeps_everything_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        let one = entry_bytes("yard-1", &[0]);
        let limits = OutboxLimits {
            max_bytes: 3 * one,
            max_entries: 0,
        };
        let outbox = Outbox::open_with_limits(&path, limits).unwrap();
        outbox.append(&[record(1), record(2)]).unwrap();
        let Err(OutboxError::Full(full)) = outbox.append(&[record(3), record(4)]) else {
            panic!("two more did not fit");
        };
        assert_eq!((full.stored_entries, full.refused_events), (2, 2));
        assert_eq!(full.stored_bytes, 2 * one);
        assert!(full.to_string().contains("outbox full"), "{full}");
        assert_eq!(
            payloads(&outbox.peek(10).unwrap()),
            vec![1, 2],
            "nothing half-written"
        );
        assert_eq!(
            outbox.append(&[record(3)]).unwrap(),
            vec![2],
            "one still fits"
        );
        assert!(matches!(
            outbox.append(&[record(4)]),
            Err(OutboxError::Full(_))
        ));
        // Kafka drains one: room for one more.
        outbox.remove(&[0]).unwrap();
        assert_eq!(
            outbox.usage().unwrap(),
            OutboxUsage {
                entries: 2,
                bytes: 2 * one
            }
        );
        assert_eq!(outbox.append(&[record(4)]).unwrap(), vec![3]);
        drop(outbox);
        let reopened = Outbox::open_with_limits(&path, limits).unwrap();
        assert_eq!(
            payloads(&reopened.peek(10).unwrap()),
            vec![2, 3, 4],
            "the store is intact"
        );
        assert_eq!(reopened.usage().unwrap().bytes, 3 * one);
    }

    #[test]
    fn the_entry_limit_is_enforced_too() {
        let dir = tempfile::tempdir().unwrap();
        let limits = OutboxLimits {
            max_bytes: 0,
            max_entries: 2,
        };
        let outbox = Outbox::open_with_limits(&dir.path().join("o.redb"), limits).unwrap();
        outbox.append(&[record(1), record(2)]).unwrap();
        assert!(matches!(
            outbox.append(&[record(3)]),
            Err(OutboxError::Full(_))
        ));
        assert_eq!(outbox.depth().unwrap(), 2);
    }

    #[test]
    fn a_file_without_a_byte_count_is_counted_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        {
            let outbox = Outbox::open(&path).unwrap();
            outbox.append(&[record(1), record(2)]).unwrap();
            // As a file written before the count existed.
            let txn = outbox.db.begin_write().unwrap();
            txn.open_table(META).unwrap().remove(STORED_BYTES).unwrap();
            txn.commit().unwrap();
        }
        let outbox = Outbox::open(&path).unwrap();
        assert_eq!(
            outbox.usage().unwrap().bytes,
            2 * entry_bytes("yard-1", &[0])
        );
    }

    #[test]
    fn a_healthy_outbox_is_writable() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("o.redb")).unwrap();
        outbox.check_writable().unwrap();
        assert_eq!(outbox.depth().unwrap(), 0);
    }

    #[test]
    fn a_second_open_of_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        let _first = Outbox::open(&path).unwrap();
        assert!(matches!(Outbox::open(&path), Err(OutboxError::Open { .. })));
    }
}
