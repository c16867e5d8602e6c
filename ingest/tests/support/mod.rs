//! Shared by the pipeline's integration tests: a per-test broker, database and config, and
//! producing envelopes.

#![allow(clippy::unwrap_used, dead_code)] // Tests: a failed unwrap is a failed test.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use ingest::Config;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Eid, Envelope, Event, Weighing, Weight};
use tokio_util::sync::CancellationToken;

pub const TOPIC: &str = "feedlot.events.v1";

pub struct Pipeline {
    pub broker: testkit::Tansu,
    pub db: testkit::ClickHouseDb,
    pub config: Config,
}

pub async fn pipeline(test: &str) -> Pipeline {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let mut config = Config::default();
    config.kafka.brokers = broker.bootstrap.clone();
    config.kafka.group_id = format!("{test}-group");
    config.kafka.partitions = 3;
    config.clickhouse.url = db.url.clone();
    config.clickhouse.database = db.database.clone();
    config.batch.max_wait_ms = 100;
    config.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    Pipeline { broker, db, config }
}

/// Runs the consumer (`ingest::run_consumer`) over `config` until the token is cancelled.
pub fn start(
    config: &Config,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), ingest::Error>>,
) {
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(ingest::run_consumer(config.clone(), shutdown.clone()));
    (shutdown, task)
}

pub fn weighing(feedlot: &str, eid: &str, kg: f64, day: u32) -> Envelope {
    let at = Utc.with_ymd_and_hms(2026, 10, day, 14, 30, 0).unwrap()
        + chrono::Duration::milliseconds(125);
    Envelope::new(
        feedlot,
        "gw-1",
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

/// Each envelope signed as its gateway would send it, that gateway's key enrolled first (for
/// the feedlots its envelopes name): (Kafka key, payload). Applies the migrations if needed.
pub async fn signed(config: &Config, envelopes: &[Envelope]) -> Vec<(String, Vec<u8>)> {
    ingest::gateways::sign_as_enrolled(&config.clickhouse, envelopes)
        .await
        .unwrap()
}

pub async fn produce(brokers: &str, messages: &[(String, Vec<u8>)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .unwrap();
    for (key, payload) in messages {
        producer
            .send(
                FutureRecord::to(TOPIC).key(key).payload(payload),
                Duration::from_secs(20),
            )
            .await
            .unwrap();
    }
}

pub async fn count(db: &testkit::ClickHouseDb, sql: &str) -> u64 {
    db.client().query(sql).fetch_one::<u64>().await.unwrap_or(0)
}

pub async fn wait_for_rows(db: &testkit::ClickHouseDb, table: &str, n: u64) -> u64 {
    let sql = format!("SELECT count() FROM {table} FINAL");
    testkit::wait_until(Duration::from_secs(60), || async {
        count(db, &sql).await >= n
    })
    .await;
    // Give a duplicate the chance to show up before the caller asserts exactness.
    tokio::time::sleep(Duration::from_millis(700)).await;
    count(db, &sql).await
}

/// A consumer of the dead-letter topic from its start, in consumer group `group`.
pub fn dead_letter_reader(bootstrap: &str, group: &str) -> StreamConsumer {
    let dlq: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    dlq.subscribe(&["feedlot.events.dlq.v1"]).unwrap();
    dlq
}
