//! Group commit: one task owns appends; concurrent requests share a transaction.
//!
//! When a group does not fit within the outbox's limits, its requests are committed one by
//! one instead, so each request that fits is captured and only the ones that do not are
//! refused with [`OutboxError::Full`] (and the alarm raised).

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::once::{Claim, Once};
use super::{Outbox, OutboxError, OutboxRecord};
use crate::telemetry::Metrics;
use crate::telemetry::events::{OutboxCommitFailed, OutboxCommitted, OutboxRefused};

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
    /// For keyed appends, which take their own transaction outside the group commit.
    outbox: Arc<Outbox>,
    /// Woken after a keyed append, as the writer task does after a group.
    appended: Arc<Notify>,
    metrics: Metrics,
    /// The chute-side animal registry, updated after each committed append of envelopes.
    registry: Option<Arc<crate::chute::Registry>>,
    /// The gateway's key, signing every envelope appended (see `crate::identity`).
    signer: Option<Arc<schemas::GatewayKey>>,
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
        Self::spawn_with_metrics(outbox, appended, Metrics::new())
    }

    /// Like [`OutboxWriter::spawn`], reporting refusals and failures to `metrics`.
    pub fn spawn_with_metrics(
        outbox: Arc<Outbox>,
        appended: Arc<Notify>,
        metrics: Metrics,
    ) -> (Self, JoinHandle<()>) {
        let (requests, rx) = mpsc::channel(QUEUE_DEPTH);
        let task = tokio::spawn(run(outbox.clone(), rx, appended.clone(), metrics.clone()));
        (
            Self {
                requests,
                outbox,
                appended,
                metrics,
                registry: None,
                signer: None,
            },
            task,
        )
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

    /// Appends envelopes (keyed by feedlot, encoded with `schemas::encode`, signed with the
    /// gateway's key when [`Self::with_signer`] gave one).
    pub async fn append_envelopes(
        &self,
        envelopes: &[schemas::Envelope],
    ) -> Result<Vec<u64>, OutboxError> {
        let seqs = self
            .append(
                envelopes
                    .iter()
                    .map(|e| OutboxRecord::signed(e, self.signer.as_deref()))
                    .collect(),
            )
            .await?;
        self.observe(envelopes).await;
        Ok(seqs)
    }

    /// Appends `envelope` once per idempotency key (see [`super::once`]): the first call with
    /// `key` records it and answers [`Once::Appended`] once it is durable; a later one records
    /// nothing and answers the event the key made. Not group-committed: for the records API.
    pub async fn append_envelope_once(
        &self,
        envelope: &schemas::Envelope,
        key: uuid::Uuid,
        fingerprint: [u8; 32],
    ) -> Result<Once, OutboxError> {
        let record = OutboxRecord::signed(envelope, self.signer.as_deref());
        let claim = Claim {
            key,
            event_id: envelope.event_id,
            fingerprint,
        };
        let store = self.outbox.clone();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let outcome =
            tokio::task::spawn_blocking(move || store.append_once(&record, &claim, now_ms))
                .await
                .map_err(|e| OutboxError::Append(e.to_string()))?
                .map_err(|error| report(error, 1, &self.metrics))?;
        if let Once::Appended(_) = outcome {
            OutboxCommitted { events: 1 }.emit(&self.metrics);
            self.appended.notify_one();
            self.observe(std::slice::from_ref(envelope)).await;
        }
        Ok(outcome)
    }

    /// Appends all `envelopes` once per idempotency key, in one transaction (a manifest
    /// import): the first call with `key` records them and answers [`Once::Appended`] once they
    /// are durable; a later one records nothing and answers the event the key made (the first
    /// envelope's id). `envelopes` must not be empty.
    pub async fn append_envelopes_once(
        &self,
        envelopes: &[schemas::Envelope],
        key: uuid::Uuid,
        fingerprint: [u8; 32],
    ) -> Result<Once, OutboxError> {
        let Some(first) = envelopes.first() else {
            return Err(OutboxError::Append("nothing to append".into()));
        };
        let records: Vec<OutboxRecord> = envelopes
            .iter()
            .map(|e| OutboxRecord::signed(e, self.signer.as_deref()))
            .collect();
        let claim = Claim {
            key,
            event_id: first.event_id,
            fingerprint,
        };
        let store = self.outbox.clone();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let count = records.len();
        let outcome =
            tokio::task::spawn_blocking(move || store.append_all_once(&records, &claim, now_ms))
                .await
                .map_err(|e| OutboxError::Append(e.to_string()))?
                .map_err(|error| report(error, count, &self.metrics))?;
        if let Once::Appended(_) = outcome {
            OutboxCommitted { events: count }.emit(&self.metrics);
            self.appended.notify_one();
            self.observe(envelopes).await;
        }
        Ok(outcome)
    }

    /// What idempotency key `key` recorded, if it was seen (see [`Outbox::key_seen`]).
    pub async fn key_seen(
        &self,
        key: uuid::Uuid,
    ) -> Result<Option<(uuid::Uuid, [u8; 32])>, OutboxError> {
        let store = self.outbox.clone();
        tokio::task::spawn_blocking(move || store.key_seen(key))
            .await
            .map_err(|e| OutboxError::Append(e.to_string()))?
    }

    /// Updates the registry (if any) with committed envelopes.
    async fn observe(&self, envelopes: &[schemas::Envelope]) {
        if let Some(registry) = &self.registry {
            let (registry, envelopes) = (registry.clone(), envelopes.to_vec());
            // The events are captured either way; a registry failure only dims the chute page.
            match tokio::task::spawn_blocking(move || registry.observe(&envelopes)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "animal registry not updated"),
                Err(error) => tracing::error!(%error, "animal registry task failed"),
            }
        }
    }

    /// This writer, also updating `registry` after every committed append of envelopes.
    pub fn with_registry(mut self, registry: Arc<crate::chute::Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Signs every envelope appended from now on with `key`.
    pub fn with_signer(mut self, key: Arc<schemas::GatewayKey>) -> Self {
        self.signer = Some(key);
        self
    }
}

async fn run(
    outbox: Arc<Outbox>,
    mut rx: mpsc::Receiver<Request>,
    appended: Arc<Notify>,
    metrics: Metrics,
) {
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
        match commit(&outbox, records).await {
            Ok(seqs) => {
                let mut rest = seqs.as_slice();
                for (reply, n) in replies {
                    let (mine, after) = rest.split_at(n.min(rest.len()));
                    rest = after;
                    let _ = reply.send(Ok(mine.to_vec()));
                }
                OutboxCommitted { events: count }.emit(&metrics);
                appended.notify_one();
            }
            Err((OutboxError::Full(_), records)) if replies.len() > 1 => {
                // Some requests may fit on their own: commit them one by one.
                let mut records = records.into_iter();
                for (reply, n) in replies {
                    let mine: Vec<_> = records.by_ref().take(n).collect();
                    let outcome = match commit(&outbox, mine).await {
                        Ok(seqs) => {
                            OutboxCommitted { events: n }.emit(&metrics);
                            appended.notify_one();
                            Ok(seqs)
                        }
                        Err((error, _)) => Err(report(error, 1, &metrics)),
                    };
                    let _ = reply.send(outcome);
                }
            }
            Err((error, _)) => {
                let n = replies.len();
                let error = report(error, n, &metrics);
                for (reply, _) in replies {
                    let _ = reply.send(Err(copy(&error)));
                }
            }
        }
    }
}

/// Appends on a blocking thread; on failure the records come back for another try.
async fn commit(
    outbox: &Arc<Outbox>,
    records: Vec<OutboxRecord>,
) -> Result<Vec<u64>, (OutboxError, Vec<OutboxRecord>)> {
    let store = outbox.clone();
    let done = tokio::task::spawn_blocking(move || {
        let result = store.append(&records);
        (result, records)
    })
    .await;
    match done {
        Ok((Ok(seqs), _)) => Ok(seqs),
        Ok((Err(error), records)) => Err((error, records)),
        Err(join_error) => Err((OutboxError::Append(join_error.to_string()), Vec::new())),
    }
}

/// Emits the telemetry for a failed commit of `requests` requests; returns the error to answer.
fn report(error: OutboxError, requests: usize, metrics: &Metrics) -> OutboxError {
    match error {
        OutboxError::Full(full) => {
            OutboxRefused { full: &full }.emit(metrics);
            OutboxError::Full(full)
        }
        other => {
            let reason = other.to_string();
            OutboxCommitFailed {
                requests,
                error: &reason,
            }
            .emit(metrics);
            OutboxError::Append(reason)
        }
    }
}

/// The same answer for every request of a group (storage errors are not `Clone`).
fn copy(error: &OutboxError) -> OutboxError {
    match error {
        OutboxError::Full(full) => OutboxError::Full(full.clone()),
        other => OutboxError::Append(other.to_string()),
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

    #[tokio::test]
    async fn when_full_the_requests_that_fit_are_committed_and_the_rest_refused_with_the_alarm() {
        let dir = tempfile::tempdir().unwrap();
        let one = record(0).payload.len() as u64 + record(0).key.len() as u64 + 16;
        let limits = crate::outbox::OutboxLimits {
            max_bytes: 3 * one,
            max_entries: 0,
        };
        let outbox =
            Arc::new(Outbox::open_with_limits(&dir.path().join("o.redb"), limits).unwrap());
        let metrics = Metrics::new();
        let (writer, _task) = OutboxWriter::spawn_with_metrics(
            outbox.clone(),
            Arc::new(Notify::new()),
            metrics.clone(),
        );
        writer.append(vec![record(1), record(2)]).await.unwrap();
        assert!(!metrics.outbox_full());
        // Two requests in one group: two records do not fit, one does.
        let (a, b) = tokio::join!(
            writer.append(vec![record(3), record(4)]),
            writer.append(vec![record(5)])
        );
        assert!(matches!(a, Err(OutboxError::Full(_))), "{a:?}");
        assert_eq!(b.unwrap().len(), 1);
        assert!(matches!(
            writer.append(vec![record(6)]).await,
            Err(OutboxError::Full(_))
        ));
        assert!(metrics.outbox_full(), "the alarm is raised");
        assert_eq!(metrics.outbox_refused_events(), 3);
        assert_eq!(outbox.depth().unwrap(), 3);
        // Kafka drains: the next append is accepted and the alarm clears.
        outbox.remove(&[0, 1]).unwrap();
        writer.append(vec![record(7)]).await.unwrap();
        assert!(!metrics.outbox_full());
        assert!(
            metrics
                .encode()
                .contains("edge_outbox_refused_events_total 3")
        );
    }
}
