//! The fleet load generator: many yards' worth of events straight into Kafka, as their
//! gateways would send them, for pipeline throughput tests and the benchmark population.
//!
//! Each yard places a herd (see [`crate::herd`]) `days` ago; every animal is read and weighed
//! at placement and re-weighed every `reweigh_every_days`, growing along its
//! [`GrowthCurve`](crate::growth::GrowthCurve).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Envelope, Event, TagRead, Weighing, Weight};

use crate::growth::GrowthCurve;
use crate::herd::{Animal, arrivals};

/// Sends in flight at once before waiting for acknowledgements.
const IN_FLIGHT: usize = 10_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Number of yards (each its own feedlot and gateway id).
    pub yards: usize,
    /// Head placed per yard.
    pub head_per_yard: usize,
    /// Days since placement.
    pub days: u32,
    /// Days between re-weighs (0: only at placement).
    pub reweigh_every_days: u32,
    /// Brokers.
    pub kafka_brokers: String,
    /// Topic.
    pub topic: String,
    /// Seed; yard `i` uses `seed + i`.
    pub seed: u64,
    /// Mean placement ADG, kg/day.
    pub mean_adg_kg: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            yards: 100,
            head_per_yard: 200,
            days: 120,
            reweigh_every_days: 30,
            kafka_brokers: "127.0.0.1:9092".into(),
            topic: "feedlot.events.v1".into(),
            seed: 1,
            mean_adg_kg: 1.75,
        }
    }
}

/// What was sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// Events acknowledged by the broker.
    pub events: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Why generation stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The broker refused or did not acknowledge a send.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// A yard's herd: each animal with its growth curve, reproducible from `seed`.
pub fn herd_with_curves(head: usize, seed: u64, mean_adg_kg: f64) -> Vec<(Animal, GrowthCurve)> {
    let mut rng = StdRng::seed_from_u64(seed);
    arrivals(head, seed)
        .into_iter()
        .map(|animal| {
            let curve = GrowthCurve::sample(animal.weight_kg, mean_adg_kg, &mut rng);
            (animal, curve)
        })
        .collect()
}

/// Which yard and when: the ids on the envelopes, the placement time, and the weigh days.
#[derive(Debug, Clone)]
pub struct History<'a> {
    /// The yard.
    pub feedlot_id: &'a str,
    /// Its gateway.
    pub gateway_id: &'a str,
    /// When the herd was placed.
    pub placed: DateTime<Utc>,
    /// Days on feed at which every animal went through the chute.
    pub weigh_days: Vec<u32>,
}

/// A UUIDv7 for an event captured at `at`, its random part drawn from `rng`: the same history
/// regenerated gives the same ids, so re-sending it is deduplicated downstream.
fn event_id_at(at: DateTime<Utc>, rng: &mut StdRng) -> uuid::Uuid {
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(at.timestamp_millis()).unwrap_or(0),
        &random,
    )
    .into_uuid()
}

/// The tag reads and weighings `herd` produced at each of `history.weigh_days`, animals about
/// 20 s apart in the chute, weights along each animal's curve. Deterministic for a given
/// history and herd (event ids included).
pub fn herd_history(history: &History<'_>, herd: &[(Animal, GrowthCurve)]) -> Vec<Envelope> {
    let mut rng = StdRng::seed_from_u64(history.placed.timestamp_millis().unsigned_abs());
    let mut events = Vec::new();
    for &day in &history.weigh_days {
        for (i, (animal, curve)) in herd.iter().enumerate() {
            let at = history.placed
                + chrono::Duration::days(i64::from(day))
                + chrono::Duration::seconds(20 * i as i64);
            let mut tag = Envelope::new(
                history.feedlot_id,
                history.gateway_id,
                "rfid-1",
                at,
                Event::TagRead(TagRead {
                    eid: animal.eid.clone(),
                }),
            );
            tag.event_id = event_id_at(at, &mut rng);
            let kg = (curve.weight_kg(f64::from(day)) * 2.0).round() / 2.0;
            let mut weighing = Envelope::new(
                history.feedlot_id,
                history.gateway_id,
                "scale-1",
                at + chrono::Duration::seconds(4),
                Event::Weighing(Weighing {
                    eid: animal.eid.clone(),
                    weight: Weight::from_kg(kg),
                    tag_read_event_id: Some(tag.event_id),
                    gross_net: None,
                }),
            );
            weighing.event_id = event_id_at(weighing.captured_at, &mut rng);
            events.push(tag);
            events.push(weighing);
        }
    }
    events
}

/// The events yard `yard` has sent by `now`: for each animal a tag read and a weighing at
/// placement and at every re-weigh.
pub fn yard_events(options: &LoadOptions, yard: usize, now: DateTime<Utc>) -> Vec<Envelope> {
    let feedlot_id = format!("yard-{yard:05}");
    let gateway_id = format!("gw-{yard:05}");
    let step = if options.reweigh_every_days == 0 {
        options.days + 1
    } else {
        options.reweigh_every_days
    };
    let history = History {
        feedlot_id: &feedlot_id,
        gateway_id: &gateway_id,
        // The last re-weigh is yesterday, so no event is in the future.
        placed: now - chrono::Duration::days(i64::from(options.days) + 1),
        weigh_days: (0..=options.days).step_by(step as usize).collect(),
    };
    herd_history(
        &history,
        &herd_with_curves(
            options.head_per_yard,
            options.seed + yard as u64,
            options.mean_adg_kg,
        ),
    )
}

fn producer(brokers: &str) -> Result<FutureProducer, LoadError> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .create()?)
}

/// Sends `events` (keyed by feedlot) and returns once the broker acknowledged all.
pub async fn send(brokers: &str, topic: &str, events: &[Envelope]) -> Result<u64, LoadError> {
    let producer = producer(brokers)?;
    let mut sent = 0;
    for chunk in events.chunks(IN_FLIGHT) {
        let mut pending: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|e| (e.feedlot_id.clone(), schemas::encode(e)))
            .collect();
        sent += flush(&producer, topic, &mut pending).await?;
    }
    Ok(sent)
}

/// Generates and sends every yard's events; returns once the broker acknowledged all.
pub async fn run(options: &LoadOptions) -> Result<LoadReport, LoadError> {
    let producer = producer(&options.kafka_brokers)?;
    let now = Utc::now();
    let start = Instant::now();
    let mut sent = 0u64;
    let mut pending: Vec<(String, Vec<u8>)> = Vec::with_capacity(IN_FLIGHT);
    for yard in 0..options.yards {
        for envelope in yard_events(options, yard, now) {
            pending.push((envelope.feedlot_id.clone(), schemas::encode(&envelope)));
            if pending.len() >= IN_FLIGHT {
                sent += flush(&producer, &options.topic, &mut pending).await?;
            }
        }
        tracing::debug!(yard, sent, "yard generated");
    }
    sent += flush(&producer, &options.topic, &mut pending).await?;
    Ok(LoadReport {
        events: sent,
        seconds: start.elapsed().as_secs_f64(),
    })
}

async fn flush(
    producer: &FutureProducer,
    topic: &str,
    pending: &mut Vec<(String, Vec<u8>)>,
) -> Result<u64, LoadError> {
    let sends = pending.iter().map(|(key, payload)| {
        producer.send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(60),
        )
    });
    for result in futures::future::join_all(sends).await {
        result.map_err(|(e, _)| e)?;
    }
    let n = pending.len() as u64;
    pending.clear();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_yard_weighs_every_head_at_placement_and_each_reweigh() {
        let options = LoadOptions {
            yards: 2,
            head_per_yard: 10,
            days: 90,
            reweigh_every_days: 30,
            ..Default::default()
        };
        let now = Utc::now();
        let events = yard_events(&options, 1, now);
        // Days 0, 30, 60, 90: 4 weighings and 4 tag reads per head.
        assert_eq!(events.len(), 10 * 4 * 2);
        assert!(
            events
                .iter()
                .all(|e| e.feedlot_id == "yard-00001" && e.captured_at <= now)
        );
        let first_animal: Vec<f64> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Weighing(w)
                    if w.eid
                        == match &events[0].event {
                            Event::TagRead(t) => t.eid.clone(),
                            _ => unreachable!(),
                        } =>
                {
                    Some(w.weight.kg())
                }
                _ => None,
            })
            .collect();
        assert_eq!(first_animal.len(), 4);
        assert!(
            first_animal.windows(2).all(|w| w[1] > w[0] + 30.0),
            "grows ~1.5 kg/day: {first_animal:?}"
        );
        assert_eq!(
            yard_events(&options, 1, now).len(),
            events.len(),
            "deterministic per seed"
        );
    }
}
