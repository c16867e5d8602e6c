//! From readings to captured events: dedup, pairing, envelopes, and the outbox commit.
//!
//! [`Capture`] is the synchronous core (tested without I/O): a reading in, the envelopes it
//! produces out. [`run_capture`] feeds it from the readers' channel and commits each group of
//! envelopes to the outbox before taking more, so a reading counts as captured only after
//! its events are durable. Each committed event is logged `captured event_id=…` (after the
//! commit, never before) and counted; events the outbox refuses because it is full are logged
//! as lost, with their ids and the reason, and counted (`edge_events_lost_total`).

use std::collections::HashMap;
use std::time::Duration;

use schemas::{Eid, Envelope, Event, TagRead, Weighing};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::config::{Config, DeviceRole, PairingConfig};
use crate::outbox::{OutboxError, OutboxWriter};
use crate::pairing::Pairing;
use crate::readers::dedup::TagDedup;
use crate::readers::scale::ScaleReading;
use crate::readers::{DeviceReading, Reading};
use crate::telemetry::Metrics;
use crate::telemetry::events::{EventsCaptured, EventsLost};

/// Most envelopes committed in one outbox append by the capture loop.
const MAX_GROUP: usize = 512;

/// Dedup and pairing state for every device of a gateway.
#[derive(Debug)]
pub struct Capture {
    feedlot_id: String,
    gateway_id: String,
    chute_of: HashMap<String, String>,
    dedup_window: Duration,
    pairing: PairingConfig,
    dedup: HashMap<String, TagDedup>,
    chutes: HashMap<String, Pairing>,
    metrics: Metrics,
}

impl Capture {
    /// Empty state for `config`'s devices and chutes.
    pub fn new(config: &Config) -> Self {
        Self {
            feedlot_id: config.feedlot_id.clone(),
            gateway_id: config.gateway_id.clone(),
            chute_of: config
                .devices
                .iter()
                .map(|d| {
                    // A combined device pairs its own lines only, never another device's.
                    let chute = match d.role {
                        DeviceRole::Combined => format!("{}/{}", d.chute, d.device_id),
                        _ => d.chute.clone(),
                    };
                    (d.device_id.clone(), chute)
                })
                .collect(),
            dedup_window: Duration::from_millis(config.rfid.dedup_window_ms),
            pairing: config.pairing.clone(),
            dedup: HashMap::new(),
            chutes: HashMap::new(),
            metrics: Metrics::new(),
        }
    }

    /// Reports captured and lost events to `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The events one reading produces: a tag read (unless it repeats a recent one), a weighing
    /// (when a stable weight completes a pairing), or nothing. A line carrying both (a combined
    /// device) is its tag read then its weight, on the device's own pairing: the same tag read
    /// and paired weighing a reader and a scale would give, stamped with the line's time.
    pub fn on_reading(&mut self, reading: &DeviceReading) -> Vec<Envelope> {
        match &reading.reading {
            Reading::Tag(eid) => self.on_tag(reading, eid).into_iter().collect(),
            Reading::Weight(frame) => self.on_weight(reading, frame).into_iter().collect(),
            Reading::TagAndWeight(eid, frame) => {
                let tag_read = self.on_tag(reading, eid);
                tag_read
                    .into_iter()
                    .chain(self.on_weight(reading, frame))
                    .collect()
            }
        }
    }

    /// The envelope of `event` from the device and at the time of `reading`.
    fn envelope(&self, reading: &DeviceReading, event: Event) -> Envelope {
        Envelope::new(
            self.feedlot_id.as_str(),
            self.gateway_id.as_str(),
            &*reading.device_id,
            reading.received_at,
            event,
        )
    }

    /// The pairing of the chute `device` belongs to (a combined device has its own), and the
    /// chute's name for logs.
    fn pairing(&mut self, device: &str) -> (String, &mut Pairing) {
        let chute = self.chute_of.get(device).cloned().unwrap_or_default();
        let settings = &self.pairing;
        let pairing = self
            .chutes
            .entry(chute.clone())
            .or_insert_with(|| Pairing::new(settings));
        (chute, pairing)
    }

    fn on_tag(&mut self, reading: &DeviceReading, eid: &Eid) -> Option<Envelope> {
        let device = &*reading.device_id;
        let window = self.dedup_window;
        let dedup = self
            .dedup
            .entry(device.to_owned())
            .or_insert_with(|| TagDedup::new(window));
        if !dedup.observe(eid, reading.received_instant) {
            return None;
        }
        let tag_read = self.envelope(reading, Event::TagRead(TagRead { eid: eid.clone() }));
        let (chute, pairing) = self.pairing(device);
        let replaced = pairing.on_tag(eid.clone(), tag_read.event_id, reading.received_instant);
        if let Some(previous) = replaced {
            tracing::info!(%chute, eid = %previous, "tag read replaced before a stable weight");
        }
        tracing::debug!(device, %eid, event_id = %tag_read.event_id, "tag read");
        Some(tag_read)
    }

    fn on_weight(&mut self, reading: &DeviceReading, frame: &ScaleReading) -> Option<Envelope> {
        let device = &*reading.device_id;
        let (chute, pairing) = self.pairing(device);
        let paired = pairing.on_weight(frame, reading.received_instant)?;
        let weight = paired.weight;
        let weighing = self.envelope(
            reading,
            Event::Weighing(Weighing {
                eid: paired.eid,
                weight,
                tag_read_event_id: Some(paired.tag_read_event_id),
                gross_net: paired.gross_net,
            }),
        );
        tracing::debug!(device, %chute, event_id = %weighing.event_id, weight = weight.value, unit = ?weight.unit, "weighing");
        Some(weighing)
    }
}

/// Runs `capture` over the readings until every reader has stopped (the channel closed),
/// committing the events to the outbox. A failed commit is retried with back-off while the
/// readers wait (the channel fills); only at shutdown are uncommitted events given up. Events
/// refused by a full outbox are not retried (the chute keeps moving). Given-up and refused
/// events are logged as lost, each with its id and reason, and counted.
pub async fn run_capture(
    mut capture: Capture,
    mut readings: mpsc::Receiver<DeviceReading>,
    writer: OutboxWriter,
    shutdown: CancellationToken,
) {
    while let Some(first) = readings.recv().await {
        let mut envelopes = capture.on_reading(&first);
        while envelopes.len() < MAX_GROUP {
            match readings.try_recv() {
                Ok(more) => envelopes.extend(capture.on_reading(&more)),
                Err(_) => break,
            }
        }
        if !envelopes.is_empty() {
            commit(&writer, &envelopes, &shutdown, &capture.metrics).await;
        }
    }
}

async fn commit(
    writer: &OutboxWriter,
    envelopes: &[Envelope],
    shutdown: &CancellationToken,
    metrics: &Metrics,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match writer.append_envelopes(envelopes).await {
            Ok(_) => {
                EventsCaptured { envelopes }.emit(metrics);
                return;
            }
            Err(error @ OutboxError::Full(_)) => {
                let reason = "outbox_full";
                EventsLost {
                    envelopes,
                    reason,
                    error: &error,
                }
                .emit(metrics);
                return;
            }
            Err(error) if shutdown.is_cancelled() => {
                let reason = "shutdown";
                EventsLost {
                    envelopes,
                    reason,
                    error: &error,
                }
                .emit(metrics);
                return;
            }
            Err(error) => {
                tracing::error!(%error, events = envelopes.len(), "outbox commit failed; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use chrono::Utc;
    use schemas::{GrossNet, Weight};

    use super::*;
    use crate::readers::scale::ScaleStatus;

    fn reading(device: &str, at: Instant, reading: Reading) -> DeviceReading {
        DeviceReading {
            device_id: Arc::from(device),
            received_at: Utc::now(),
            received_instant: at,
            reading,
        }
    }

    fn tag(n: u64) -> Reading {
        Reading::Tag(Eid::parse(&format!("982{n:012}")).unwrap())
    }

    fn weight(lb: f64, status: ScaleStatus) -> Reading {
        Reading::Weight(ScaleReading {
            weight: Some(Weight::from_lb(lb)),
            gross_net: Some(GrossNet::Gross),
            status,
        })
    }

    #[test]
    fn a_chute_pass_gives_one_tag_read_and_one_weighing_with_capture_metadata() {
        let config = Config::default();
        let mut capture = Capture::new(&config);
        let t = Instant::now();
        let mut events = Vec::new();
        for _ in 0..5 {
            events.extend(capture.on_reading(&reading("rfid-1", t, tag(1))));
        }
        events.extend(capture.on_reading(&reading(
            "scale-1",
            t,
            weight(1230.0, ScaleStatus::Motion),
        )));
        let stable = reading("scale-1", t, weight(1234.0, ScaleStatus::Stable));
        for _ in 0..5 {
            events.extend(capture.on_reading(&stable));
        }
        assert_eq!(events.len(), 2, "{events:#?}");
        let (tag_read, weighing) = (&events[0], &events[1]);
        assert_eq!(tag_read.device_id, "rfid-1");
        assert_eq!(weighing.device_id, "scale-1");
        assert_eq!(weighing.feedlot_id, config.feedlot_id);
        assert_eq!(weighing.gateway_id, config.gateway_id);
        assert_eq!(weighing.captured_at, stable.received_at);
        assert_eq!(weighing.event_id.get_version_num(), 7);
        let Event::Weighing(w) = &weighing.event else {
            panic!("not a weighing: {weighing:?}");
        };
        assert_eq!(w.eid.as_str(), "982000000000001");
        assert_eq!(w.weight, Weight::from_lb(1234.0));
        assert_eq!(w.tag_read_event_id, Some(tag_read.event_id));
    }

    #[tokio::test]
    async fn events_a_full_outbox_refuses_are_counted_as_lost_and_the_rest_as_captured() {
        use crate::outbox::{Outbox, OutboxLimits};
        let dir = tempfile::tempdir().unwrap();
        let limits = OutboxLimits {
            max_bytes: 0,
            max_entries: 1,
        };
        let outbox =
            Arc::new(Outbox::open_with_limits(&dir.path().join("o.redb"), limits).unwrap());
        let metrics = Metrics::new();
        let (writer, _task) = OutboxWriter::spawn_with_metrics(
            outbox.clone(),
            Arc::new(tokio::sync::Notify::new()),
            metrics.clone(),
        );
        let capture = Capture::new(&Config::default()).with_metrics(metrics.clone());
        let (tx, rx) = mpsc::channel(8);
        let t = Instant::now();
        tx.send(reading("rfid-1", t, tag(1))).await.unwrap();
        let task = tokio::spawn(run_capture(capture, rx, writer, CancellationToken::new()));
        // Wait for the first commit, so the second tag is its own append.
        while outbox.depth().unwrap() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send(reading("rfid-1", t, tag(2))).await.unwrap();
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outbox.depth().unwrap(), 1);
        assert_eq!(metrics.tag_reads("rfid-1"), 1);
        assert_eq!(metrics.events_lost("rfid-1", "outbox_full"), 1);
        assert!(metrics.outbox_full());
    }

    #[test]
    fn a_combined_line_gives_a_tag_read_and_its_weighing_once_however_often_it_repeats() {
        let mut config = Config::default();
        config.devices.push(crate::config::DeviceConfig::new(
            "relay-1",
            "/dev/ttyS3",
            DeviceRole::Combined,
        ));
        let mut capture = Capture::new(&config);
        let t = Instant::now();
        let both = |lb, status| match (tag(7), weight(lb, status)) {
            (Reading::Tag(eid), Reading::Weight(w)) => Reading::TagAndWeight(eid, w),
            _ => unreachable!(),
        };
        let mut events =
            capture.on_reading(&reading("relay-1", t, both(600.0, ScaleStatus::Motion)));
        let line = reading("relay-1", t, both(1234.0, ScaleStatus::Stable));
        for _ in 0..5 {
            events.extend(capture.on_reading(&line));
        }
        assert_eq!(events.len(), 2, "{events:#?}");
        let (tag_read, weighing) = (&events[0], &events[1]);
        assert!(
            matches!(&tag_read.event, Event::TagRead(t) if t.eid.as_str() == "982000000000007")
        );
        let Event::Weighing(w) = &weighing.event else {
            panic!("not a weighing: {weighing:?}");
        };
        assert_eq!(w.eid.as_str(), "982000000000007");
        assert_eq!(w.weight, Weight::from_lb(1234.0));
        assert_eq!(w.tag_read_event_id, Some(tag_read.event_id));
        assert_eq!(weighing.device_id, "relay-1");
        assert_eq!(weighing.captured_at, line.received_at);
        // A tag from the chute's own reader never pairs with the combined device's weight.
        capture.on_reading(&reading("rfid-1", t, tag(8)));
        let relay_weight = reading("relay-1", t, weight(1500.0, ScaleStatus::Stable));
        assert!(capture.on_reading(&relay_weight).is_empty());
    }

    #[test]
    fn tags_pair_only_with_scales_in_their_own_chute() {
        let mut config = Config::default();
        config.devices[1].chute = "other".into();
        let mut capture = Capture::new(&config);
        let t = Instant::now();
        capture.on_reading(&reading("rfid-1", t, tag(1)));
        let got = capture.on_reading(&reading("scale-1", t, weight(1234.0, ScaleStatus::Stable)));
        assert!(got.is_empty());
    }
}
