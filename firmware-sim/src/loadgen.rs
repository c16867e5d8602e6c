//! The fleet load generator: many yards' worth of events straight into Kafka, as their
//! gateways would send them, for pipeline throughput tests and the benchmark population.
//!
//! Each yard is a [`YardSim`] started `days` ago: its pens fill with lots (staggered), which
//! are processed, fed, treated, re-weighed, drafted and shipped, so a yard sends every kind of
//! record (see [`crate::herd`]). Ids are deterministic per yard and record, so re-sending the
//! same history is deduplicated downstream.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Envelope, Event, YardProfile};

use crate::herd::{Channel, SimEvent, YardConfig, YardSim, envelopes};

/// Sends in flight at once before waiting for acknowledgements.
const IN_FLIGHT: usize = 10_000;

/// The region the generated yards (and the demo yard) benchmark in.
pub const PEER_REGION: &str = "US-NE";

/// The largest lot the load generator places (bigger yards get more pens).
pub const MAX_HEAD_PER_LOT: usize = 100;

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Number of yards (each its own feedlot and gateway id).
    pub yards: usize,
    /// Head per yard once its pens are full (pens of up to [`MAX_HEAD_PER_LOT`]).
    pub head_per_yard: usize,
    /// Days of history per yard (a lot ships in drafts from ~150 days and closes, its last
    /// animal gone, after ~250).
    pub days: u32,
    /// Brokers.
    pub kafka_brokers: String,
    /// Topic.
    pub topic: String,
    /// Seed; yard `i` uses `seed + i`.
    pub seed: u64,
    /// Where to enrol the yards' gateway keys (`ingest gateways` registry). Each simulated
    /// gateway makes a key and signs every event, as a real one does; the cloud stores only
    /// events of enrolled keys. None: the events are sent unsigned (stored only by a consumer
    /// with `security.require_signatures = false`).
    pub registry: Option<ingest::config::ClickHouseConfig>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            yards: 100,
            head_per_yard: 200,
            days: 400,
            kafka_brokers: "127.0.0.1:9092".into(),
            topic: "feedlot.events.v1".into(),
            seed: 1,
            registry: None,
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
    /// A gateway key could not be made or enrolled.
    #[error("gateway registry: {0}")]
    Registry(#[from] ingest::gateways::RegistryError),
}

/// A simulated gateway's key, enrolled for its feedlot in `registry` (None: no key, unsigned).
async fn gateway_key(
    registry: Option<&ingest::config::ClickHouseConfig>,
    gateway: &str,
    feedlot: &str,
) -> Result<Option<schemas::GatewayKey>, LoadError> {
    let Some(clickhouse) = registry else {
        return Ok(None);
    };
    let client = ingest::sink::client(clickhouse);
    let key = ingest::gateways::enroll_new_key(
        &client,
        &clickhouse.database,
        gateway,
        &[feedlot.to_owned()],
    )
    .await?;
    Ok(Some(key))
}

/// `envelope`'s Kafka key and payload, signed with `key` when there is one.
fn message(envelope: &Envelope, key: Option<&schemas::GatewayKey>) -> (String, Vec<u8>) {
    let payload = match key {
        Some(key) => key.encode_signed(envelope),
        None => schemas::encode(envelope),
    };
    (envelope.feedlot_id.clone(), payload)
}

/// The yard `yard` of `options` as a simulation: `pens` of up to [`MAX_HEAD_PER_LOT`] head,
/// started `options.days` days before `now`.
pub fn yard_sim(options: &LoadOptions, yard: usize, now: DateTime<Utc>) -> YardSim {
    let pens = options.head_per_yard.div_ceil(MAX_HEAD_PER_LOT).max(1);
    let start = (now - chrono::Duration::days(i64::from(options.days))).date_naive();
    YardSim::new(YardConfig::new(
        pens,
        options.head_per_yard.div_ceil(pens),
        options.seed + yard as u64,
        start,
    ))
}

/// The demo yard's position (latitude, longitude, degrees: central Nebraska); the peer yards
/// lie around it.
pub const DEMO_POSITION_DEG: (f64, f64) = (41.45, -99.64);

/// Peer yards per ring around [`DEMO_POSITION_DEG`].
const RING_YARDS: usize = 10;
/// The rings' inner distances from the demo yard, km; each spans 36 km (`RING_YARDS` yards 4 km
/// apart), well inside one benchmark radius tier: within 100 km, 100-250 km, 250-500 km.
const RING_KM: [f64; 3] = [40.0, 170.0, 380.0];

/// Where peer yard `yard` lies (latitude, longitude, degrees), as its profile says and as the
/// demo registers it for the benchmarks: yards 0-9 within 100 km of the demo yard, 10-19
/// 100-250 km away, 20-29 250-500 km away, then round again, spread around the compass. So
/// 30 peers give the demo yard's radius tiers 10, 20 and 30 other yards: sets ten apart.
pub fn peer_position(yard: usize) -> (f64, f64) {
    let ring = (yard / RING_YARDS) % RING_KM.len();
    let slot = yard % RING_YARDS;
    let distance_km = RING_KM[ring] + slot as f64 * 4.0;
    let bearing = (slot as f64 * 36.0 + ring as f64 * 12.0).to_radians();
    let (lat, lon) = DEMO_POSITION_DEG;
    let km_per_deg = 111.2;
    (
        lat + distance_km * bearing.cos() / km_per_deg,
        lon + distance_km * bearing.sin() / (km_per_deg * lat.to_radians().cos()),
    )
}

/// Peer yard `yard`'s feedlot id.
pub fn peer_id(yard: usize) -> String {
    format!("yard-{yard:05}")
}

/// The records yard `yard` has made by `now`.
pub fn yard_records(options: &LoadOptions, yard: usize, now: DateTime<Utc>) -> Vec<SimEvent> {
    let mut sim = yard_sim(options, yard, now);
    // Each yard's gateway sends its profile when it starts: anonymous peers in one region.
    let mut records = vec![SimEvent {
        at: sim.date(0).and_time(chrono::NaiveTime::MIN).and_utc(),
        channel: Channel::Office,
        event: Event::YardProfile(YardProfile {
            name: format!("Peer yard {yard}"),
            region: PEER_REGION.into(),
            country: "US".into(),
            latitude: peer_position(yard).0,
            longitude: peer_position(yard).1,
            capacity_head: u32::try_from(options.head_per_yard).ok(),
        }),
    }];
    while sim.date(sim.day()) <= now.date_naive() {
        records.extend(sim.step().1.into_iter().filter(|e| e.at <= now));
    }
    records
}

/// The events yard `yard` has sent by `now`, as its gateway would have sent them.
pub fn yard_events(options: &LoadOptions, yard: usize, now: DateTime<Utc>) -> Vec<Envelope> {
    envelopes(
        &yard_records(options, yard, now),
        &peer_id(yard),
        &format!("gw-{yard:05}"),
        options.seed + yard as u64,
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

/// Sends `events` (keyed by feedlot), each signed by its gateway's key (made and enrolled in
/// `registry` for the feedlots named; unsigned without a registry), and returns once the
/// broker acknowledged all.
pub async fn send(
    brokers: &str,
    topic: &str,
    registry: Option<&ingest::config::ClickHouseConfig>,
    events: &[Envelope],
) -> Result<u64, LoadError> {
    let producer = producer(brokers)?;
    let mut sent = 0;
    let messages = match registry {
        Some(clickhouse) => ingest::gateways::sign_as_enrolled(clickhouse, events).await?,
        None => events.iter().map(|e| message(e, None)).collect(),
    };
    for chunk in messages.chunks(IN_FLIGHT) {
        let mut pending: Vec<(String, Vec<u8>)> = chunk.to_vec();
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
    if options.registry.is_none() {
        tracing::warn!("no registry to enrol the gateways' keys in: sending unsigned events");
    }
    for yard in 0..options.yards {
        let events = yard_events(options, yard, now);
        let key = match events.first() {
            Some(e) => gateway_key(options.registry.as_ref(), &e.gateway_id, &e.feedlot_id).await?,
            None => None,
        };
        for envelope in events {
            pending.push(message(&envelope, key.as_ref()));
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
    #![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

    use std::collections::BTreeMap;

    use super::*;

    /// Great-circle distance, km (as ClickHouse's `greatCircleDistance`, near enough).
    fn km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
        let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
        let dp = p2 - p1;
        let dl = (lon2 - lon1).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6_371.0 * a.sqrt().asin()
    }

    #[test]
    fn peers_lie_in_rings_of_ten_inside_each_radius_tier_around_the_demo_yard() {
        let mut per_tier = [0usize; 3];
        for yard in 0..30 {
            let d = km(DEMO_POSITION_DEG, peer_position(yard));
            let tier = match d {
                d if d < 90.0 => 0,
                d if (110.0..240.0).contains(&d) => 1,
                d if (260.0..490.0).contains(&d) => 2,
                _ => panic!("yard {yard} at {d:.0} km is near a tier edge"),
            };
            assert_eq!(tier, yard / 10, "yard {yard} at {d:.0} km");
            per_tier[tier] += 1;
        }
        assert_eq!(per_tier, [10, 10, 10]);
        let distinct: std::collections::BTreeSet<String> =
            (0..30).map(|y| format!("{:?}", peer_position(y))).collect();
        assert_eq!(distinct.len(), 30, "every peer its own place");
    }

    #[test]
    fn each_yard_sends_every_kind_of_record_in_the_past_and_the_same_ids_again() {
        let options = LoadOptions {
            yards: 2,
            head_per_yard: 60,
            days: 240,
            ..Default::default()
        };
        let now = Utc::now();
        let events = yard_events(&options, 1, now);
        assert!(
            events.iter().all(|e| e.feedlot_id == "yard-00001"
                && e.captured_at <= now + chrono::Duration::seconds(4))
        );
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &events {
            *kinds.entry(e.event.kind().as_str()).or_default() += 1;
        }
        for kind in [
            "arrival",
            "placement",
            "tag_read",
            "weighing",
            "treatment",
            "pen_move",
            "shipment",
            "ration",
            "feed_purchase",
            "feed_delivery",
            "feed_load",
            "yardage_rate",
        ] {
            assert!(kinds.contains_key(kind), "no {kind}: {kinds:?}");
        }
        assert_eq!(kinds["tag_read"], kinds["weighing"]);
        let again = yard_events(&options, 1, now);
        assert_eq!(
            again.iter().map(|e| e.event_id).collect::<Vec<_>>(),
            events.iter().map(|e| e.event_id).collect::<Vec<_>>(),
            "deterministic ids per seed"
        );
        let other = yard_events(&options, 0, now);
        assert!(other.iter().all(|e| e.feedlot_id == "yard-00000"));
        assert_ne!(other.len(), 0);
    }
}
