//! Shared by the dashboards' integration tests: a per-test broker, database and the two
//! configs (the consumer's and the dashboards'), running both in-process, and producing
//! envelopes.

#![allow(clippy::unwrap_used, dead_code)] // Tests: a failed unwrap is a failed test.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use dashboards::Config;
use dashboards::config::WebUserConfig;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::{Eid, Envelope, Event, Weighing, Weight};
use tokio_util::sync::CancellationToken;

pub const TOPIC: &str = "feedlot.events.v1";

/// A test's broker and database, the consumer's config over them and the dashboards' config
/// (`config`) over the same database.
pub struct Pipeline {
    pub broker: testkit::Tansu,
    pub db: testkit::ClickHouseDb,
    pub consumer: ingest::Config,
    pub config: Config,
}

pub async fn pipeline(test: &str) -> Pipeline {
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let mut consumer = ingest::Config::default();
    consumer.kafka.brokers = broker.bootstrap.clone();
    consumer.kafka.group_id = format!("{test}-group");
    consumer.kafka.partitions = 3;
    consumer.clickhouse.url = db.url.clone();
    consumer.clickhouse.database = db.database.clone();
    consumer.batch.max_wait_ms = 100;
    consumer.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut config = Config {
        clickhouse: consumer.clickhouse.clone(),
        ..Default::default()
    };
    config.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.web.ops_listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.facts.interval_ms = 200;
    config.facts.settle_secs = 1;
    Pipeline {
        broker,
        db,
        consumer,
        config,
    }
}

/// Applies ingest's migrations to the test's database (what `ingest consume` does at start),
/// for tests that run only the dashboards.
pub async fn migrate(p: &Pipeline) {
    let client = ingest::sink::client(&p.consumer.clickhouse);
    ingest::schema::migrate(&client, &p.db.database)
        .await
        .unwrap();
}

/// The token of the user [`allow`] adds (tests only; real ones: `ingest hash-token --generate`).
pub const TOKEN: &str = "test-token-0123456789-abcdefghij";

/// A user holding [`TOKEN`] who reads `feedlots`.
pub fn test_user(feedlots: &[&str]) -> WebUserConfig {
    WebUserConfig {
        name: "test-user".into(),
        token_sha256: dashboards::web::auth::hash_token(TOKEN),
        feedlots: feedlots.iter().map(|f| f.to_string()).collect(),
    }
}

/// The session secret of the pages [`allow`] opens (so [`magic_link`] can sign codes for them).
pub const SESSION_SECRET: &str = "test-session-secret-0123456789-abcdefghij";

/// Lets a user holding [`TOKEN`] read `feedlots` on the pages `config` serves, with
/// [`SESSION_SECRET`] and cookies that work over plain HTTP on loopback (the browser tests).
pub fn allow(config: &mut Config, feedlots: &[&str]) {
    config.web.users.push(test_user(feedlots));
    config.web.session_secret = SESSION_SECRET.into();
    config.web.secure_cookie = false;
}

/// The users of `dashboards::web::AppState::with_auth`: one holding [`TOKEN`] who reads `feedlots`.
pub fn test_auth(feedlots: &[&str]) -> dashboards::web::Auth {
    let web = dashboards::config::WebConfig {
        users: vec![test_user(feedlots)],
        session_secret: SESSION_SECRET.into(),
        secure_cookie: false,
        ..Default::default()
    };
    dashboards::web::Auth::from_config(&web).unwrap()
}

/// An HTTP client that sends `Authorization: Bearer` [`TOKEN`].
pub fn authed() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {TOKEN}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A one-time login link (as `dashboards login-link` prints) that logs a browser in as the
/// user of [`allow`] and redirects it to `path`.
pub fn magic_link(base: &str, path: &str) -> String {
    let link = test_auth(&["any"])
        .login_link("test-user", 5, path)
        .unwrap();
    format!("{base}{link}")
}

/// Both roles of a running pipeline, in-process: ends when both have stopped.
pub type Task = tokio::task::JoinHandle<Result<(), String>>;

/// Starts the consumer (`ingest::run_consumer`) and the dashboards (`dashboards::serve`) over
/// `p`, side by side, until the token is cancelled.
pub fn start(p: &Pipeline) -> (CancellationToken, Task) {
    let shutdown = CancellationToken::new();
    let consumer = tokio::spawn(ingest::run_consumer(p.consumer.clone(), shutdown.clone()));
    let web = tokio::spawn(dashboards::serve(p.config.clone(), shutdown.clone()));
    let task = tokio::spawn(async move {
        let consumed = consumer.await.map_err(|e| e.to_string())?;
        let served = web.await.map_err(|e| e.to_string())?;
        consumed.map_err(|e| format!("consumer: {e}"))?;
        served.map_err(|e| format!("dashboards: {e}"))
    });
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
pub async fn signed(p: &Pipeline, envelopes: &[Envelope]) -> Vec<(String, Vec<u8>)> {
    ingest::gateways::sign_as_enrolled(&p.consumer.clickhouse, envelopes)
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

/// Waits until the facts of `feedlot` hold every change stored for it (the facts worker of a
/// running `dashboards::serve` made them); panics after a minute.
pub async fn wait_for_facts(db: &testkit::ClickHouseDb, feedlot: &str) {
    let client = db.client();
    for _ in 0..600 {
        let (changes, pending): (u64, u64) = client
            .query(
                "SELECT count(), countIf(recorded_at > (SELECT max(through_recorded_at) \
                 FROM fact_state WHERE feedlot_id = ?)) FROM fact_changes WHERE feedlot_id = ?",
            )
            .bind(feedlot)
            .bind(feedlot)
            .fetch_one()
            .await
            .unwrap();
        if changes > 0 && pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the facts of {feedlot} were not made within a minute");
}
