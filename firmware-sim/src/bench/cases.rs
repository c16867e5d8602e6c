//! The measured cases. Each returns (events processed, seconds) for the part it times.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use edge::outbox::{Outbox, OutboxRecord, OutboxWriter};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::data::weighings;

/// Concurrent capture tasks in the outbox case (readers and API requests appending at once).
const CAPTURE_TASKS: usize = 64;

/// What every case needs.
#[derive(Debug, Clone)]
pub struct CaseOptions {
    /// Events per case.
    pub events: usize,
    /// Kafka-protocol broker.
    pub kafka_brokers: String,
    /// ClickHouse HTTP URL (the native port for `clickhouse-client` is `CLICKHOUSE_TCP_PORT`,
    /// default 9000).
    pub clickhouse_url: String,
    /// The ClickHouse cluster the `consumer.*` cases write through (its `Distributed` tables);
    /// None: one server.
    pub clickhouse_cluster: Option<String>,
    /// The MQTT broker an `mqtt.*` case loads, `host:port` (`bench` starts it per case).
    pub mqtt_broker: Option<String>,
}

fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}_{}", &id[id.len() - 12..])
}

fn records(n: usize) -> Vec<OutboxRecord> {
    weighings(n, "bench-yard")
        .iter()
        .map(OutboxRecord::from_envelope)
        .collect()
}

/// Runs one case by name.
pub async fn run_case(case: &str, o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    match case {
        "outbox.gateway" => outbox_gateway(o.events).await,
        "outbox.redb_raw" => outbox_redb_raw(o.events),
        "forwarder.gateway" => forwarder_gateway(o).await,
        "forwarder.rdkafka_raw" => forwarder_rdkafka_raw(o).await,
        "ingest.pipeline" => ingest_pipeline(o).await,
        "ingest.clickhouse_client" => ingest_clickhouse_client(o).await,
        "consumer.ingest" => consumer_ingest(o).await,
        "consumer.rdkafka_bulk" => consumer_rdkafka_bulk(o).await,
        "mqtt.embedded_rumqttd" | "mqtt.mosquitto" => {
            let addr = o.mqtt_broker.as_deref().context("--mqtt-broker")?;
            super::mqtt::load(addr, o.events).await
        }
        other => bail!("unknown bench case {other}"),
    }
}

async fn outbox_gateway(n: usize) -> anyhow::Result<(u64, f64)> {
    let dir = tempfile::tempdir()?;
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.redb"))?);
    let (writer, _task) = OutboxWriter::spawn(outbox.clone(), Arc::new(Notify::new()));
    let all = records(n);
    let per_task = n.div_ceil(CAPTURE_TASKS).max(1);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in all.chunks(per_task) {
        let (writer, chunk) = (writer.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for record in chunk {
                writer.append(vec![record]).await?;
            }
            Ok::<_, edge::outbox::OutboxError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let seconds = start.elapsed().as_secs_f64();
    anyhow::ensure!(outbox.depth()? == n as u64, "outbox holds every record");
    Ok((n as u64, seconds))
}

fn outbox_redb_raw(n: usize) -> anyhow::Result<(u64, f64)> {
    const TABLE: redb::TableDefinition<u64, (u64, &str, &[u8])> = redb::TableDefinition::new("raw");
    let dir = tempfile::tempdir()?;
    let db = redb::Database::create(dir.path().join("raw.redb"))?;
    let all = records(n);
    let start = Instant::now();
    let mut seq = 0u64;
    for chunk in all.chunks(CAPTURE_TASKS) {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(TABLE)?;
            for r in chunk {
                table.insert(
                    seq,
                    (r.enqueued_at_ms, r.key.as_str(), r.payload.as_slice()),
                )?;
                seq += 1;
            }
        }
        txn.commit()?;
    }
    Ok((n as u64, start.elapsed().as_secs_f64()))
}

async fn bench_topic(o: &CaseOptions, name: &str) -> anyhow::Result<ingest::config::KafkaConfig> {
    let kafka = ingest::config::KafkaConfig {
        brokers: o.kafka_brokers.clone(),
        topic: unique(name),
        dead_letter_topic: unique(&format!("{name}_dlq")),
        partitions: 1,
        ..Default::default()
    };
    ingest::topics::ensure_topics(&kafka)
        .await
        .context("creating the bench topic (is a broker running? scripts/services.sh)")?;
    Ok(kafka)
}

fn edge_kafka(o: &CaseOptions, topic: &str) -> edge::config::KafkaConfig {
    edge::config::KafkaConfig {
        brokers: o.kafka_brokers.clone(),
        topic: topic.to_owned(),
        ..Default::default()
    }
}

async fn forwarder_gateway(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    let topic = bench_topic(o, "bench_forwarder").await?.topic;
    let dir = tempfile::tempdir()?;
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.redb"))?);
    for chunk in records(o.events).chunks(1000) {
        outbox.append(chunk)?;
    }
    let forwarder = edge::forwarder::Forwarder::new(
        &edge_kafka(o, &topic),
        "bench",
        outbox.clone(),
        Arc::new(Notify::new()),
    )?;
    let shutdown = CancellationToken::new();
    let start = Instant::now();
    let task = tokio::spawn(forwarder.run(shutdown.clone()));
    while outbox.depth()? > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
        if start.elapsed() > Duration::from_secs(300) {
            bail!("the forwarder did not drain the outbox in 300 s");
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    shutdown.cancel();
    task.await?;
    Ok((o.events as u64, seconds))
}

async fn forwarder_rdkafka_raw(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    let topic = bench_topic(o, "bench_raw_producer").await?.topic;
    let producer: FutureProducer =
        edge::forwarder::producer::client_config(&edge_kafka(o, &topic), "bench-raw").create()?;
    let all = records(o.events);
    let start = Instant::now();
    let sends = all.iter().map(|r| {
        producer.send(
            FutureRecord::to(&topic).key(&r.key).payload(&r.payload),
            Duration::from_secs(60),
        )
    });
    for result in futures::future::join_all(sends).await {
        result.map_err(|(e, _)| e)?;
    }
    Ok((o.events as u64, start.elapsed().as_secs_f64()))
}

async fn count_rows(client: &clickhouse::Client) -> u64 {
    client
        .query("SELECT count() FROM weighings FINAL")
        .fetch_one::<u64>()
        .await
        .unwrap_or(0)
}

async fn ingest_pipeline(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    let kafka = bench_topic(o, "bench_ingest").await?;
    let producer: FutureProducer =
        edge::forwarder::producer::client_config(&edge_kafka(o, &kafka.topic), "bench-fill")
            .create()?;
    // The last one is the warm-up.
    let envelopes = weighings(o.events + 1, "bench-yard");
    let mut config = ingest::Config::default();
    config.kafka = ingest::config::KafkaConfig {
        group_id: unique("bench_group"),
        ..kafka.clone()
    };
    config.clickhouse.url = o.clickhouse_url.clone();
    config.clickhouse.database = unique("bench_ingest");
    let free = || -> anyhow::Result<String> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .to_string())
    };
    config.ops.listen = free()?;
    // The pages run beside the consumer, as in the demo (they only wait for the schema here).
    let mut pages = dashboards::Config {
        clickhouse: config.clickhouse.clone(),
        ..Default::default()
    };
    pages.web.listen = free()?;
    let client =
        ingest::sink::client(&config.clickhouse).with_database(&config.clickhouse.database);
    // Signed by the yard's gateway key, enrolled (as the consumer demands); verifying is part
    // of what is timed.
    let mut signed = ingest::gateways::sign_as_enrolled(&config.clickhouse, &envelopes).await?;
    let (_, warm_up) = signed.pop().context("at least one event")?;
    let shutdown = CancellationToken::new();
    let task = crate::pipeline::spawn(config, pages, shutdown.clone());
    // Warm up: one event through, so group join and migrations are not timed.
    let deadline = Instant::now() + Duration::from_secs(300);
    producer
        .send(
            FutureRecord::to(&kafka.topic)
                .key("bench-yard")
                .payload(&warm_up),
            Duration::from_secs(60),
        )
        .await
        .map_err(|(e, _)| e)?;
    while count_rows(&client).await < 1 {
        anyhow::ensure!(Instant::now() < deadline, "ingest did not start in 300 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Timed: from the first send until ClickHouse holds every event.
    let payloads: Vec<Vec<u8>> = signed.into_iter().map(|(_, payload)| payload).collect();
    let start = Instant::now();
    let sends = payloads.iter().map(|p| {
        producer.send(
            FutureRecord::to(&kafka.topic).key("bench-yard").payload(p),
            Duration::from_secs(60),
        )
    });
    for result in futures::future::join_all(sends).await {
        result.map_err(|(e, _)| e)?;
    }
    while count_rows(&client).await < o.events as u64 + 1 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "ingest did not store every event in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    shutdown.cancel();
    task.await??;
    Ok((o.events as u64, seconds))
}

async fn ingest_clickhouse_client(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    let database = unique("bench_client");
    let server = ingest::config::ClickHouseConfig {
        url: o.clickhouse_url.clone(),
        ..Default::default()
    };
    ingest::schema::migrate(&ingest::sink::client(&server), &database).await?;
    let mut body = String::new();
    for e in weighings(o.events, "bench-yard") {
        let schemas::Event::Weighing(w) = &e.event else {
            continue;
        };
        let row = serde_json::json!({
            "event_id": e.event_id.to_string(), "feedlot_id": e.feedlot_id, "gateway_id": e.gateway_id,
            "device_id": e.device_id, "eid": w.eid.to_string(), "weight_kg": w.weight.kg(),
            "displayed_value": w.weight.value, "displayed_unit": "kg", "gross_net": "", "tag_read_event_id": "",
            "captured_at": e.captured_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            "captured_at_ms": e.captured_at.timestamp_millis(), "schema_version": e.schema_version,
            "ingested_at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        });
        body.push_str(&row.to_string());
        body.push('\n');
    }
    let port = std::env::var("CLICKHOUSE_TCP_PORT").unwrap_or_else(|_| "9000".into());
    let start = Instant::now();
    let mut child = tokio::process::Command::new("clickhouse-client")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--database",
            &database,
        ])
        .args(["--query", "INSERT INTO weighings FORMAT JSONEachRow"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("clickhouse-client (apt-get install clickhouse-client)")?;
    let mut stdin = child.stdin.take().context("clickhouse-client stdin")?;
    stdin.write_all(body.as_bytes()).await?;
    drop(stdin);
    let status = child.wait().await?;
    let seconds = start.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "clickhouse-client failed: {status}");
    let client = ingest::sink::client(&server).with_database(&database);
    anyhow::ensure!(
        count_rows(&client).await == o.events as u64,
        "clickhouse-client stored every row"
    );
    Ok((o.events as u64, seconds))
}

/// Yards the consumer cases' events come from (keys spread over the partitions).
const CONSUMER_YARDS: usize = 48;

/// Partitions of the consumer cases' topic.
const CONSUMER_PARTITIONS: i32 = 8;

/// A fresh topic of [`CONSUMER_PARTITIONS`] holding `o.events` weighings of
/// [`CONSUMER_YARDS`] yards, and a migrated database for them: the same input for both
/// consumer cases, in place before the clock starts.
async fn consumer_input(
    o: &CaseOptions,
    name: &str,
) -> anyhow::Result<(
    ingest::config::KafkaConfig,
    ingest::config::ClickHouseConfig,
)> {
    let kafka = ingest::config::KafkaConfig {
        brokers: o.kafka_brokers.clone(),
        topic: unique(name),
        dead_letter_topic: unique(&format!("{name}_dlq")),
        group_id: unique(&format!("{name}_group")),
        partitions: CONSUMER_PARTITIONS,
        replication_factor: 1,
        min_insync_replicas: 1,
        session_timeout_ms: 3_000,
        ..Default::default()
    };
    ingest::topics::ensure_topics(&kafka)
        .await
        .context("creating the bench topic")?;
    let per_yard = o.events.div_ceil(CONSUMER_YARDS);
    let events: Vec<schemas::Envelope> = (0..CONSUMER_YARDS)
        .flat_map(|y| weighings(per_yard, &format!("bench-yard-{y:02}")))
        .take(o.events)
        .collect();
    let producer: FutureProducer =
        edge::forwarder::producer::client_config(&edge_kafka(o, &kafka.topic), "bench-fill")
            .create()?;
    let clickhouse = ingest::config::ClickHouseConfig {
        url: o.clickhouse_url.clone(),
        database: unique(name),
        cluster: o.clickhouse_cluster.clone().unwrap_or_default(),
        ..Default::default()
    };
    // Signed by each yard's gateway key, enrolled (as the consumer demands).
    let payloads = ingest::gateways::sign_as_enrolled(&clickhouse, &events).await?;
    let sends = payloads.iter().map(|(key, payload)| {
        producer.send(
            FutureRecord::to(&kafka.topic).key(key).payload(payload),
            Duration::from_secs(60),
        )
    });
    for result in futures::future::join_all(sends).await {
        result.map_err(|(e, _)| e)?;
    }
    ingest::schema::migrate_on(
        &ingest::sink::ddl_client(&clickhouse),
        &clickhouse.database,
        clickhouse.cluster(),
    )
    .await?;
    Ok((kafka, clickhouse))
}

/// Waits until `client` holds `n` weighings (deduplicated), for at most 300 s from `start`.
async fn until_stored(client: &clickhouse::Client, n: u64, start: Instant) -> anyhow::Result<()> {
    while count_rows(client).await < n {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(300),
            "not every event stored in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Ours: one `ingest` consumer (batches cut per partition with their intents committed,
/// inserts through the cluster), from joining the group until every event is stored.
async fn consumer_ingest(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    let (kafka, clickhouse) = consumer_input(o, "bench_consumer").await?;
    let client = ingest::sink::client(&clickhouse).with_database(&clickhouse.database);
    let mut config = ingest::Config {
        kafka,
        clickhouse,
        ..Default::default()
    };
    config.ops.listen = "127.0.0.1:0".into();
    let shutdown = CancellationToken::new();
    let start = Instant::now();
    let task = tokio::spawn(ingest::run_consumer(config, shutdown.clone()));
    until_stored(&client, o.events as u64, start).await?;
    let seconds = start.elapsed().as_secs_f64();
    shutdown.cancel();
    task.await??;
    Ok((o.events as u64, seconds))
}

/// Baseline: a bare rdkafka consumer in the same group setup, and one bulk insert per table per
/// batch of the same rows (up to 10,000 messages, or what arrived within 200 ms) into the same
/// tables, no offsets committed; from subscribing until every event is stored.
async fn consumer_rdkafka_bulk(o: &CaseOptions) -> anyhow::Result<(u64, f64)> {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Message;

    let (kafka, clickhouse) = consumer_input(o, "bench_bulk").await?;
    let client = ingest::sink::client(&clickhouse);
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_uncommitted")
        .set("session.timeout.ms", "3000")
        .create()?;
    let start = Instant::now();
    consumer.subscribe(&[&kafka.topic])?;
    let mut consumed = 0;
    while consumed < o.events {
        let mut rows = ingest::sink::Rows::default();
        let mut in_batch = 0;
        while in_batch < 10_000 && consumed + in_batch < o.events {
            let wait = if in_batch == 0 { 30_000 } else { 200 };
            match tokio::time::timeout(Duration::from_millis(wait), consumer.recv()).await {
                Ok(Ok(message)) => {
                    let envelope = schemas::decode(message.payload().unwrap_or_default())?;
                    let at = message.timestamp().to_millis().unwrap_or_default();
                    rows.push_ingested(&envelope, at);
                    in_batch += 1;
                }
                Ok(Err(e)) => bail!("kafka: {e}"),
                Err(_) if in_batch > 0 => break,
                Err(_) => bail!("no message in 30 s"),
            }
        }
        ingest::sink::insert_rows(&client, &clickhouse.database, &rows).await?;
        consumed += in_batch;
    }
    let seconds = start.elapsed().as_secs_f64();
    let stored = client.clone().with_database(&clickhouse.database);
    until_stored(&stored, o.events as u64, start).await?;
    Ok((o.events as u64, seconds))
}
