//! The fleet load generator: many yards' worth of events straight into Kafka, as their
//! gateways would send them, for pipeline throughput tests and the benchmark population.
//!
//! Each yard places a herd (see [`crate::herd`]) `days` ago; every animal is read and weighed
//! at placement and re-weighed every `reweigh_every_days`, growing along its
//! [`GrowthCurve`](crate::growth::GrowthCurve).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Envelope, Event, TagRead, Weighing, Weight};

use crate::growth::GrowthCurve;
use crate::herd::arrivals;

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

/// The events yard `yard` has sent by `now`: for each animal a tag read and a weighing at
/// placement and at every re-weigh.
pub fn yard_events(options: &LoadOptions, yard: usize, now: DateTime<Utc>) -> Vec<Envelope> {
    let feedlot_id = format!("yard-{yard:05}");
    let gateway_id = format!("gw-{yard:05}");
    // The last re-weigh is yesterday, so no event is in the future.
    let placed = now - chrono::Duration::days(i64::from(options.days) + 1);
    let mut rng = StdRng::seed_from_u64(options.seed + yard as u64);
    let step = if options.reweigh_every_days == 0 {
        options.days + 1
    } else {
        options.reweigh_every_days
    };
    let mut events = Vec::new();
    for (i, animal) in arrivals(options.head_per_yard, options.seed + yard as u64)
        .into_iter()
        .enumerate()
    {
        let curve = GrowthCurve::sample(animal.weight_kg, options.mean_adg_kg, &mut rng);
        let mut day = 0;
        while day <= options.days {
            // Animals go through the chute about 20 s apart.
            let at = placed
                + chrono::Duration::days(i64::from(day))
                + chrono::Duration::seconds(20 * i as i64);
            let tag = Envelope::new(
                &feedlot_id,
                &gateway_id,
                "rfid-1",
                at,
                Event::TagRead(TagRead {
                    eid: animal.eid.clone(),
                }),
            );
            let kg = (curve.weight_kg(f64::from(day)) * 2.0).round() / 2.0;
            let weighing = Envelope::new(
                &feedlot_id,
                &gateway_id,
                "scale-1",
                at + chrono::Duration::seconds(4),
                Event::Weighing(Weighing {
                    eid: animal.eid.clone(),
                    weight: Weight::from_kg(kg),
                    tag_read_event_id: Some(tag.event_id),
                    gross_net: None,
                }),
            );
            events.push(tag);
            events.push(weighing);
            day += step;
        }
    }
    events
}

/// Generates and sends every yard's events; returns once the broker acknowledged all.
pub async fn run(options: &LoadOptions) -> Result<LoadReport, LoadError> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &options.kafka_brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .create()?;
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
