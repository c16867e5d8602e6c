//! The first reading, end to end, with every part real: simulated devices write their wire
//! formats into socat pseudo-terminals, the gateway reads them with tokio-serial and forwards
//! through its redb outbox to a tansu broker, `ingest` stores them in ClickHouse, and the page
//! shows them.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeMap;
use std::time::Duration;

use edge::config::{DeviceConfig, DeviceRole};
use firmware_sim::chute::{ChuteSetup, Pacing, SentWeighing, run_chute};
use firmware_sim::herd::{Animal, arrivals};
use firmware_sim::port::open_port;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use schemas::{Envelope, Event};
use tokio_util::sync::CancellationToken;

/// The token of the yard's user, who reads the pages (tests only).
const TOKEN: &str = "e2e-token-0123456789-abcdefghij";

/// Everything one test runs: broker, database, cables, gateway and pipeline.
struct Yard {
    feedlot_id: String,
    broker: testkit::Tansu,
    db: testkit::ClickHouseDb,
    web: String,
    /// The pipeline's ops listener (`/metrics`), host:port.
    ops: String,
    /// The gateway's ops listener (`http.ops_listen`: `/metrics`), host:port.
    gateway_ops: String,
    reader: tokio_serial::SerialStream,
    scale: tokio_serial::SerialStream,
    gateway: edge::Gateway,
    pipeline: tokio::task::JoinHandle<anyhow::Result<()>>,
    shutdown: CancellationToken,
    _cables: (testkit::PtyPair, testkit::PtyPair),
    _data: tempfile::TempDir,
}

async fn yard(test: &str) -> Yard {
    let feedlot_id = testkit::unique_name(test);
    let broker = testkit::Tansu::start().await.unwrap();
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let (reader_cable, scale_cable) = (
        testkit::PtyPair::new().await.unwrap(),
        testkit::PtyPair::new().await.unwrap(),
    );
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();

    let mut pipeline_config = ingest::Config::default();
    pipeline_config.kafka.brokers = broker.bootstrap.clone();
    pipeline_config.kafka.group_id = format!("{feedlot_id}-ingest");
    pipeline_config.clickhouse.url = db.url.clone();
    pipeline_config.clickhouse.database = db.database.clone();
    pipeline_config.batch.max_wait_ms = 100;
    pipeline_config.ops.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut pages = dashboards::Config {
        clickhouse: pipeline_config.clickhouse.clone(),
        ..Default::default()
    };
    pages.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    pages.web.users.push(dashboards::config::WebUserConfig {
        name: "e2e".into(),
        token_sha256: dashboards::web::auth::hash_token(TOKEN),
        feedlots: vec![feedlot_id.clone()],
    });
    let web = format!("http://{}", pages.web.listen);
    let ops = pipeline_config.ops.listen.clone();
    let pipeline = firmware_sim::pipeline::spawn(pipeline_config, pages, shutdown.clone());
    // ingest creates the topic and the schema; the pages answer once the schema is there.
    let health = format!("{web}/healthz");
    assert!(
        testkit::wait_until(Duration::from_secs(30), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await
    );

    let mut gateway_config = edge::Config {
        feedlot_id: feedlot_id.clone(),
        gateway_id: "gw-e2e".into(),
        data_dir: data.path().to_owned(),
        devices: vec![
            DeviceConfig::new("rfid-1", &reader_cable.host_end, DeviceRole::Rfid),
            DeviceConfig::new("scale-1", &scale_cable.host_end, DeviceRole::Scale),
        ],
        ..edge::Config::default()
    };
    gateway_config.kafka.brokers = broker.bootstrap.clone();
    gateway_config.kafka.message_timeout_ms = 5_000;
    gateway_config.http.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    // /metrics is only on the ops listener, never on the public one.
    let gateway_ops = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    gateway_config.http.ops_listen = gateway_ops.clone();
    // The consumer stores only events signed by an enrolled key.
    firmware_sim::pipeline::enroll_gateway(
        &ingest::config::ClickHouseConfig {
            url: db.url.clone(),
            database: db.database.clone(),
            ..Default::default()
        },
        data.path(),
        &gateway_config.gateway_id,
        std::slice::from_ref(&feedlot_id),
    )
    .await
    .unwrap();
    let gateway = edge::Gateway::start(gateway_config, shutdown.clone())
        .await
        .unwrap();
    let reader = open_port(&reader_cable.device_end, 9600).unwrap();
    let scale = open_port(&scale_cable.device_end, 9600).unwrap();
    // Let the gateway open its ends of the cables.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Yard {
        feedlot_id,
        broker,
        db,
        web,
        ops,
        gateway_ops,
        reader,
        scale,
        gateway,
        pipeline,
        shutdown,
        _cables: (reader_cable, scale_cable),
        _data: data,
    }
}

impl Yard {
    async fn chute(&mut self, animals: &[Animal]) -> Vec<SentWeighing> {
        let setup = ChuteSetup {
            pacing: Pacing::fast(),
            ..ChuteSetup::default()
        };
        run_chute(&mut self.reader, &mut self.scale, animals, setup)
            .await
            .unwrap()
    }

    async fn stored(&self) -> Vec<StoredWeighing> {
        self.db
            .client()
            .query("SELECT ?fields FROM weighings FINAL WHERE feedlot_id = ? ORDER BY eid")
            .bind(&self.feedlot_id)
            .fetch_all::<StoredWeighing>()
            .await
            .unwrap_or_default()
    }

    /// Waits until `n` weighings are stored, then a little longer so a duplicate would show.
    async fn wait_for_weighings(&self, n: usize) -> Vec<StoredWeighing> {
        testkit::wait_until(Duration::from_secs(90), || async {
            self.stored().await.len() >= n
        })
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.stored().await
    }

    /// Every weighing envelope the gateway put on the topic, by event id.
    async fn weighings_on_kafka(&self, n: usize) -> BTreeMap<String, Envelope> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.broker.bootstrap)
            .set("group.id", format!("{}-audit", self.feedlot_id))
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&["feedlot.events.v1"]).unwrap();
        let mut found = BTreeMap::new();
        while found.len() < n {
            let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
                .await
                .unwrap()
                .unwrap();
            let envelope = schemas::decode(m.payload().unwrap()).unwrap();
            if let Event::Weighing(_) = envelope.event {
                found.insert(envelope.event_id.to_string(), envelope);
            }
        }
        found
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.gateway.wait().await.unwrap();
        self.pipeline.await.unwrap().unwrap();
    }
}

#[derive(Debug, clickhouse::Row, serde::Deserialize)]
struct StoredWeighing {
    #[serde(with = "clickhouse::serde::uuid")]
    event_id: uuid::Uuid,
    eid: String,
    displayed_value: f64,
    displayed_unit: String,
    captured_at_ms: u64,
}

/// Asserts ClickHouse holds exactly one weighing per presented animal, with the presented
/// weight, the capture time the gateway stamped, and a capture time inside the window in
/// which the simulator showed that stable weight.
async fn assert_exactly_once(yard: &Yard, sent: &[SentWeighing]) -> Vec<StoredWeighing> {
    let stored = yard.wait_for_weighings(sent.len()).await;
    assert_eq!(
        stored.len(),
        sent.len(),
        "one row per animal, no duplicates: {stored:#?}"
    );
    let on_kafka = yard.weighings_on_kafka(sent.len()).await;
    for s in sent {
        let rows: Vec<_> = stored.iter().filter(|r| r.eid == s.eid.as_str()).collect();
        assert_eq!(rows.len(), 1, "{} stored once", s.eid);
        let row = rows[0];
        assert_eq!(
            (row.displayed_value, row.displayed_unit.as_str()),
            (s.weight.value, "lb"),
            "{}",
            s.eid
        );
        let envelope = &on_kafka[&row.event_id.to_string()];
        assert_eq!(
            row.captured_at_ms,
            envelope.captured_at.timestamp_millis() as u64,
            "capture time kept to the ms"
        );
        let stable_ms = s.stable_sent_at.timestamp_millis() as u64;
        assert!(
            row.captured_at_ms + 50 >= stable_ms && row.captured_at_ms <= stable_ms + 5_000,
            "{} captured at {} but shown stable at {stable_ms}",
            s.eid,
            row.captured_at_ms
        );
    }
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chute_weighings_reach_clickhouse_and_the_page_once_each() {
    let mut yard = yard("e2e_chute").await;
    let herd = arrivals(8, 11);
    let sent = yard.chute(&herd).await;
    assert_eq!(sent.len(), 8);
    let stored = assert_exactly_once(&yard, &sent).await;

    for s in &sent {
        let url = format!(
            "{}/feedlots/{}/animals/{}",
            yard.web, yard.feedlot_id, s.eid
        );
        let page = reqwest::Client::new()
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("<span id=\"count\">1</span>"),
            "{url}: {page}"
        );
        let row = stored.iter().find(|r| r.eid == s.eid.as_str()).unwrap();
        assert!(
            page.contains(&format!("data-captured-at-ms=\"{}\"", row.captured_at_ms)),
            "{page}"
        );
        assert!(page.contains(&format!("{} lb", s.weight.value)), "{page}");
    }
    yard.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_restart_mid_stream_loses_and_duplicates_nothing() {
    let mut yard = yard("e2e_broker_restart").await;
    let herd = arrivals(10, 12);
    let mut sent = yard.chute(&herd[..4]).await;
    yard.broker.stop().await;
    // Captured while the uplink is down: they wait in the gateway's outbox.
    sent.extend(yard.chute(&herd[4..]).await);
    assert!(
        yard.gateway.outbox_depth().await.unwrap() >= 6,
        "offline weighings are held in the outbox"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    yard.broker.restart().await.unwrap();
    assert_exactly_once(&yard, &sent).await;
    yard.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbled_lines_and_dropped_bytes_are_refused_and_every_weighing_still_arrives_once() {
    let mut yard = yard("e2e_faults").await;
    let herd = arrivals(6, 13);
    let setup = ChuteSetup {
        pacing: Pacing::fast(),
        faults: firmware_sim::devices::faults::Faults::some(13),
        ..ChuteSetup::default()
    };
    let sent = run_chute(&mut yard.reader, &mut yard.scale, &herd, setup)
        .await
        .unwrap();
    // Exactly the real weighings: no noise line became a tag or a weight.
    assert_exactly_once(&yard, &sent).await;
    yard.stop().await;
}

/// The chart's Prometheus files (rules, lists of exported metrics).
fn chart_prometheus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../helm/feedlot/files/prometheus")
}

/// `GET /api/v1/<path>` of the Prometheus at `base`: its `data`.
async fn prometheus_api(base: &str, path: &str) -> serde_json::Value {
    let body: serde_json::Value = reqwest::get(format!("{base}/api/v1/{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "success", "{path}: {body}");
    body["data"].clone()
}

/// An instant query's samples as (labels, value).
async fn prometheus_query(base: &str, query: &str) -> Vec<(serde_json::Value, f64)> {
    let data = prometheus_api(base, &format!("query?query={}", urlencode(query))).await;
    data["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].clone(),
                s["value"][1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A real Prometheus (Debian's /usr/bin/prometheus, scripts/install-services.sh) scrapes the
/// gateway and the pipeline as docs/monitoring.md says to (jobs `feedlot-edge` with `yard` and
/// `gateway` labels, `feedlot-ingest`), with the chart's alerting rules loaded: both targets are
/// up, the readings show in both services' metrics, the rules load with health ok, and every
/// metric the targets export is in the chart's checked-in lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prometheus_scrapes_the_gateway_and_the_pipeline_with_the_alerting_rules_loaded() {
    let binary = std::path::Path::new("/usr/bin/prometheus");
    assert!(
        binary.exists(),
        "no /usr/bin/prometheus: run scripts/install-services.sh"
    );
    let mut yard = yard("e2e_prometheus").await;
    let sent = yard.chute(&arrivals(3, 5)).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(yard.wait_for_weighings(3).await.len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let rules = chart_prometheus_dir().join("rules");
    let listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}/*.yml
scrape_configs:
  - job_name: feedlot-edge
    static_configs:
      - targets: ["{gateway}"]
        labels: {{ yard: "{yard}", gateway: gw-e2e }}
  - job_name: feedlot-ingest
    static_configs:
      - targets: ["{ops}"]
"#,
            rules = rules.canonicalize().unwrap().display(),
            gateway = yard.gateway_ops,
            yard = yard.feedlot_id,
            ops = yard.ops,
        ),
    )
    .unwrap();
    let mut prometheus = tokio::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");

    let both_up = testkit::wait_until(Duration::from_secs(30), || async {
        let Ok(response) = reqwest::get(format!("{base}/api/v1/targets")).await else {
            return false;
        };
        let Ok(body) = response.json::<serde_json::Value>().await else {
            return false;
        };
        let targets = body["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        targets.len() == 2 && targets.iter().all(|t| t["health"] == "up")
    })
    .await;
    let targets = prometheus_api(&base, "targets").await;
    assert!(both_up, "{targets:#}");

    // A query sees a scrape only after it is stored: wait for the readings to show.
    let weighings = r#"sum(edge_weighings_total{job="feedlot-edge", gateway="gw-e2e"})"#;
    let stored = r#"sum(ingest_events_stored_total{job="feedlot-ingest", kind="weighing"})"#;
    assert!(
        testkit::wait_until(Duration::from_secs(15), || async {
            prometheus_query(&base, weighings)
                .await
                .first()
                .map(|s| s.1)
                == Some(3.0)
                && prometheus_query(&base, stored).await.first().map(|s| s.1) >= Some(3.0)
        })
        .await,
        "{:?} {:?}",
        prometheus_query(&base, weighings).await,
        prometheus_query(&base, stored).await
    );
    let mut up: Vec<(String, f64)> = prometheus_query(&base, "up")
        .await
        .into_iter()
        .map(|(m, v)| (m["job"].as_str().unwrap().to_owned(), v))
        .collect();
    up.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        up,
        [
            ("feedlot-edge".to_owned(), 1.0),
            ("feedlot-ingest".to_owned(), 1.0)
        ]
    );
    // Both serial devices are open, as the device-gone alert reads them, with the yard label.
    let inputs = prometheus_query(&base, r#"edge_input_up{kind="serial"}"#).await;
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    for (labels, value) in &inputs {
        assert_eq!(*value, 1.0, "{labels}");
        assert_eq!(labels["yard"], yard.feedlot_id.as_str());
    }
    let free = prometheus_query(&base, "edge_outbox_volume_free_bytes").await;
    assert!(free.len() == 1 && free[0].1 > 0.0, "{free:?}");

    // The chart's rules load and evaluate; none fires on a healthy yard.
    let rules = prometheus_api(&base, "rules").await;
    let mut alerts = Vec::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            assert_eq!(rule["health"], "ok", "{rule:#}");
            assert_eq!(rule["state"], "inactive", "{rule:#}");
            alerts.push(rule["name"].as_str().unwrap().to_owned());
        }
    }
    alerts.sort();
    alerts.dedup();
    assert_eq!(
        alerts,
        [
            "AlertDeliveriesFailing",
            "AlertsWorkerStalled",
            "FactsLagHigh",
            "FactsRecomputeFailing",
            "GatewayDeadLetters",
            "GatewayDiskNearlyFull",
            "GatewayOutboxBackingUp",
            "GatewayOutboxFull",
            "GatewaySerialDeviceGone",
            "GatewaySilent",
            "IngestConsumerLagHigh",
            "IngestDeadLettersRising",
            "IngestInsertErrors",
        ]
    );

    // Every metric name the targets export is in the chart's lists, which the dashboards and
    // rules are checked against (scripts/check-monitoring.sh).
    for (job, list) in [
        ("feedlot-edge", "edge.txt"),
        ("feedlot-ingest", "ingest.txt"),
    ] {
        let listed =
            std::fs::read_to_string(chart_prometheus_dir().join("exported").join(list)).unwrap();
        let names =
            prometheus_query(&base, &format!(r#"group by (__name__) ({{job="{job}"}})"#)).await;
        let names: Vec<String> = names
            .iter()
            .map(|(m, _)| m["__name__"].as_str().unwrap().to_owned())
            .filter(|n| !n.starts_with("scrape_") && n != "up")
            .collect();
        assert!(names.len() > 5, "{job}: {names:?}");
        for name in names {
            assert!(
                listed.lines().any(|l| l == name),
                "{job} exports {name}, not in {list}"
            );
        }
    }

    prometheus.start_kill().unwrap();
    let _ = prometheus.wait().await;
    yard.stop().await;
}
