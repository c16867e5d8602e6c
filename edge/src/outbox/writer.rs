//! Group commit: one task owns appends; concurrent requests share a transaction.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Outbox, OutboxError, OutboxRecord};

/// Most records committed in one transaction.
const MAX_GROUP_RECORDS: usize = 4096;
/// Requests that may wait for the writer before `append` itself waits.
const QUEUE_DEPTH: usize = 256;

/// Where a request's outcome goes.
type Reply = oneshot::Sender<Result<Vec<u64>, OutboxError>>;

struct Request {
    records: Vec<OutboxRecord>,
    reply: Reply,
}

/// A cloneable handle for appending to the outbox. The writer task ends when every handle is
/// dropped, after committing what was already asked.
#[derive(Debug, Clone)]
pub struct OutboxWriter {
    requests: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("records", &self.records.len())
            .finish()
    }
}

impl OutboxWriter {
    /// Starts the writer task. `appended` is notified after every successful commit (the
    /// forwarder waits on it).
    pub fn spawn(outbox: Arc<Outbox>, appended: Arc<Notify>) -> (Self, JoinHandle<()>) {
        let (requests, rx) = mpsc::channel(QUEUE_DEPTH);
        let task = tokio::spawn(run(outbox, rx, appended));
        (Self { requests }, task)
    }

    /// Appends `records`; returns their sequence numbers once they are durably committed.
    pub async fn append(&self, records: Vec<OutboxRecord>) -> Result<Vec<u64>, OutboxError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { records, reply })
            .await
            .map_err(|_| OutboxError::Append("the outbox writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| OutboxError::Append("the outbox writer stopped mid-commit".into()))?
    }

    /// Appends envelopes (keyed by feedlot, encoded with `schemas::encode`).
    pub async fn append_envelopes(
        &self,
        envelopes: &[schemas::Envelope],
    ) -> Result<Vec<u64>, OutboxError> {
        self.append(envelopes.iter().map(OutboxRecord::from_envelope).collect())
            .await
    }
}

async fn run(outbox: Arc<Outbox>, mut rx: mpsc::Receiver<Request>, appended: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut count = group[0].records.len();
        while count < MAX_GROUP_RECORDS {
            match rx.try_recv() {
                Ok(request) => {
                    count += request.records.len();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(group.len());
        let mut records = Vec::with_capacity(count);
        for request in group {
            replies.push((request.reply, request.records.len()));
            records.extend(request.records);
        }
        let store = outbox.clone();
        let committed = tokio::task::spawn_blocking(move || store.append(&records)).await;
        match committed {
            Ok(Ok(seqs)) => {
                let mut rest = seqs.as_slice();
                for (reply, n) in replies {
                    let (mine, after) = rest.split_at(n.min(rest.len()));
                    rest = after;
                    let _ = reply.send(Ok(mine.to_vec()));
                }
                appended.notify_one();
            }
            Ok(Err(error)) => fail_all(replies, &error.to_string()),
            Err(join_error) => fail_all(replies, &join_error.to_string()),
        }
    }
}

fn fail_all(replies: Vec<(Reply, usize)>, reason: &str) {
    tracing::error!(reason, requests = replies.len(), "outbox commit failed");
    for (reply, _) in replies {
        let _ = reply.send(Err(OutboxError::Append(reason.to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8) -> OutboxRecord {
        OutboxRecord {
            key: "yard-1".into(),
            payload: vec![n],
            enqueued_at_ms: 0,
        }
    }

    #[tokio::test]
    async fn concurrent_appends_are_all_committed_in_order_and_wake_the_forwarder() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Arc::new(Outbox::open(&dir.path().join("o.redb")).unwrap());
        let notify = Arc::new(Notify::new());
        let (writer, task) = OutboxWriter::spawn(outbox.clone(), notify.clone());
        let mut calls = Vec::new();
        for n in 0..20u8 {
            let w = writer.clone();
            calls.push(tokio::spawn(async move {
                w.append(vec![record(n), record(n)]).await
            }));
        }
        let mut seqs = Vec::new();
        for call in calls {
            let mine = call.await.unwrap().unwrap();
            assert_eq!(mine.len(), 2);
            assert_eq!(mine[1], mine[0] + 1, "one request's records are contiguous");
            seqs.extend(mine);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..40).collect::<Vec<u64>>());
        assert_eq!(outbox.depth().unwrap(), 40);
        tokio::time::timeout(std::time::Duration::from_secs(1), notify.notified())
            .await
            .unwrap();
        drop(writer);
        task.await.unwrap();
    }
}
