//! The redb file behind the outbox: append, peek, remove, depth.

use std::path::Path;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};

use super::{OutboxEntry, OutboxError, OutboxRecord};

/// Entries by sequence number: (enqueued at, ms since the Unix epoch; Kafka key; payload).
const ENTRIES: TableDefinition<u64, (u64, &str, &[u8])> = TableDefinition::new("outbox_entries_v1");
/// Bookkeeping that must outlive the entries themselves.
const META: TableDefinition<&str, u64> = TableDefinition::new("outbox_meta_v1");
/// The next sequence number to hand out; never decreases, even when the outbox is empty.
const NEXT_SEQ: &str = "next_seq";

/// A durable FIFO of records to forward, in one redb file.
///
/// Safe to share between threads (`Arc<Outbox>`); writes are serialized by redb. Methods block
/// on disk I/O: call them from `spawn_blocking` in async code.
#[derive(Debug)]
pub struct Outbox {
    db: Database,
}

impl Outbox {
    /// Opens (or creates) the outbox file. Only one process may have it open.
    pub fn open(path: &Path) -> Result<Self, OutboxError> {
        let db = Database::create(path).map_err(|e| OutboxError::Open {
            path: path.to_owned(),
            source: redb::Error::from(e),
        })?;
        let txn = db.begin_write()?;
        txn.open_table(ENTRIES)?;
        txn.open_table(META)?;
        txn.commit()?;
        Ok(Self { db })
    }

    /// Appends `records` in one transaction and returns their sequence numbers. When this
    /// returns `Ok`, the transaction is committed with immediate durability (fsync): the
    /// records survive a crash or power loss.
    pub fn append(&self, records: &[OutboxRecord]) -> Result<Vec<u64>, OutboxError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut seqs = Vec::with_capacity(records.len());
        {
            let mut meta = txn.open_table(META)?;
            let mut next = meta.get(NEXT_SEQ)?.map(|v| v.value()).unwrap_or(0);
            let mut entries = txn.open_table(ENTRIES)?;
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
        }
        txn.commit()?;
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
            for seq in seqs {
                if entries.remove(seq)?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit()?;
        Ok(removed)
    }

    /// How many entries wait to be forwarded.
    pub fn depth(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(ENTRIES)?.len()?)
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
    fn a_second_open_of_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.redb");
        let _first = Outbox::open(&path).unwrap();
        assert!(matches!(Outbox::open(&path), Err(OutboxError::Open { .. })));
    }
}
