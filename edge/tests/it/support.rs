//! A simulated chute on pseudo-terminals, a gateway config for it, and a Kafka reader.
#![allow(
    clippy::unwrap_used,
    reason = "test support: any failure here should fail the test"
)]

use std::time::Duration;

use edge::config::{DeviceConfig, DeviceRole};
use edge::{Config, Gateway};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use schemas::{Envelope, Event};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// Pause between two lines a device sends.
const LINE_GAP: Duration = Duration::from_millis(80);

/// An animal going through the chute: its tag and its stable weight in pounds.
#[derive(Debug, Clone, Copy)]
pub struct Animal {
    pub eid: &'static str,
    pub weight_lb: u32,
}

pub const HERD: [Animal; 4] = [
    Animal {
        eid: "982000001088420",
        weight_lb: 1234,
    },
    Animal {
        eid: "840003123456789",
        weight_lb: 1187,
    },
    Animal {
        eid: "982000001088421",
        weight_lb: 1302,
    },
    Animal {
        eid: "124000000000777",
        weight_lb: 948,
    },
];

/// An RFID reader and a scale indicator on pseudo-terminals, written with their real byte formats.
pub struct Chute {
    rfid: testkit::PtyPair,
    scale: testkit::PtyPair,
    rfid_out: tokio::fs::File,
    scale_out: tokio::fs::File,
}

impl Chute {
    pub async fn new() -> Self {
        let rfid = testkit::PtyPair::new().await.unwrap();
        let scale = testkit::PtyPair::new().await.unwrap();
        let open = |path| async move {
            tokio::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .await
                .unwrap()
        };
        let rfid_out = open(rfid.device_end.clone()).await;
        let scale_out = open(scale.device_end.clone()).await;
        Self {
            rfid,
            scale,
            rfid_out,
            scale_out,
        }
    }

    /// The gateway's view: the host ends of both cables.
    pub fn devices(&self) -> Vec<DeviceConfig> {
        vec![
            DeviceConfig::new("rfid-1", &self.rfid.host_end, DeviceRole::Rfid),
            DeviceConfig::new("scale-1", &self.scale.host_end, DeviceRole::Scale),
        ]
    }

    /// The device end of the scale's cable, for a test that plays an indicator reading it too.
    pub fn scale_device_end(&self) -> std::path::PathBuf {
        self.scale.device_end.clone()
    }

    /// Writes `bytes` as the RFID reader (a line with or without its terminator), then pauses
    /// [`LINE_GAP`].
    pub async fn rfid_line(&mut self, bytes: &[u8]) {
        self.rfid_out.write_all(bytes).await.unwrap();
        self.rfid_out.flush().await.unwrap();
        tokio::time::sleep(LINE_GAP).await;
    }

    /// Writes `bytes` as the scale indicator (any line shape), then pauses [`LINE_GAP`].
    pub async fn scale_line(&mut self, bytes: &[u8]) {
        self.scale_out.write_all(bytes).await.unwrap();
        self.scale_out.flush().await.unwrap();
        tokio::time::sleep(LINE_GAP).await;
    }

    /// One Rice Lake Consolidated Controls frame: `<STX><POL><wwwwwww><UNIT><G/N><S><CR><LF>`.
    async fn scale_frame(&mut self, lb: u32, status: char) {
        let frame = format!("\x02 {lb:>7}LG{status}\r\n");
        self.scale_out.write_all(frame.as_bytes()).await.unwrap();
        self.scale_out.flush().await.unwrap();
        tokio::time::sleep(LINE_GAP).await;
    }

    /// The empty scale at zero.
    pub async fn idle(&mut self) {
        for _ in 0..3 {
            self.scale_frame(0, 'Z').await;
        }
    }

    /// One animal: it steps on (motion), the reader repeats its tag (plus line noise and an
    /// industrial tag), the weight settles and streams as stable, the animal leaves.
    pub async fn pass(&mut self, animal: Animal) {
        let (eid, lb) = (animal.eid, animal.weight_lb);
        self.scale_frame(lb / 2, 'M').await;
        let tag_line = format!("LA {} {}\r\n", &eid[..3], &eid[3..]);
        for _ in 0..3 {
            self.rfid_line(tag_line.as_bytes()).await;
        }
        self.rfid_line(b"\xff\x00garbled\r\n").await;
        self.rfid_line(b"LR 0006 0000000018514243\r\n").await;
        self.scale_frame(lb - 7, 'M').await;
        for _ in 0..4 {
            self.scale_frame(lb, ' ').await;
        }
        self.scale_frame(lb / 3, 'M').await;
        self.idle().await;
    }
}

/// A gateway config for `chute`, with its outbox in `data_dir`, sending to `bootstrap`/`topic`,
/// backing off briefly between failed rounds.
pub fn config(chute: &Chute, data_dir: &std::path::Path, bootstrap: &str, topic: &str) -> Config {
    let mut config = Config {
        feedlot_id: "yard-test".into(),
        gateway_id: "gw-test".into(),
        data_dir: data_dir.to_owned(),
        devices: chute.devices(),
        ..Config::default()
    };
    config.kafka.brokers = bootstrap.into();
    config.kafka.topic = topic.into();
    // Any free port: tests run gateways side by side.
    config.http.listen = "127.0.0.1:0".into();
    config.kafka.retry_backoff_initial_ms = 100;
    config.kafka.retry_backoff_max_ms = 1000;
    config
}

/// Like [`config`], with sends timing out after 3 s so outages are noticed quickly.
pub fn offline_config(
    chute: &Chute,
    data_dir: &std::path::Path,
    bootstrap: &str,
    topic: &str,
) -> Config {
    let mut config = config(chute, data_dir, bootstrap, topic);
    config.kafka.message_timeout_ms = 3000;
    config
}

/// Starts a gateway and gives its serial readers a moment to open their ports. Logs go to the
/// test output, filtered by `RUST_LOG` (default: warnings).
pub async fn start(config: Config) -> Gateway {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let gateway = Gateway::start(config, CancellationToken::new())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway
}

/// Waits until the gateway's outbox holds exactly `depth` events.
pub async fn wait_for_depth(gateway: &Gateway, depth: u64, timeout: Duration) {
    let outbox = gateway.outbox();
    let reached = testkit::wait_until(timeout, || {
        let outbox = outbox.clone();
        async move { outbox.depth().unwrap() == depth }
    })
    .await;
    assert!(
        reached,
        "outbox depth is {}, expected {depth}",
        outbox.depth().unwrap()
    );
}

/// A consumer assigned to `topic` partition 0 from its first offset, in a group of its own,
/// committing nothing.
pub fn reader_from_start(bootstrap: &str, topic: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", testkit::unique_name("edge_it_reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    consumer
}

/// A message read back from Kafka.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub envelope: Envelope,
}

/// Reads `topic` partition 0 from the start until `distinct` different event ids arrived, then
/// `settle` longer to catch anything extra. Panics after `timeout`. The gateway's status
/// reports are skipped: they are telemetry, not records (`status_report.rs` reads them).
pub async fn consume(
    bootstrap: &str,
    topic: &str,
    distinct: usize,
    settle: Duration,
    timeout: Duration,
) -> Vec<Received> {
    let consumer = reader_from_start(bootstrap, topic);
    let mut got: Vec<Received> = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut settle_until: Option<tokio::time::Instant> = None;
    loop {
        let until = settle_until.unwrap_or(deadline);
        let message = match tokio::time::timeout_at(until, consumer.recv()).await {
            Err(_) if settle_until.is_some() => return got,
            Err(_) => panic!(
                "after {timeout:?} only {} distinct events of {distinct} arrived: {got:#?}",
                distinct_ids(&got)
            ),
            Ok(Err(error)) => {
                eprintln!("consumer error (retrying): {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Ok(Ok(message)) => message,
        };
        let key = String::from_utf8(message.key().unwrap_or_default().to_vec()).unwrap();
        let envelope = schemas::decode(message.payload().unwrap_or_default()).unwrap();
        if matches!(envelope.event, Event::GatewayStatus(_)) {
            continue;
        }
        got.push(Received { key, envelope });
        if settle_until.is_none() && distinct_ids(&got) >= distinct {
            settle_until = Some(tokio::time::Instant::now() + settle);
        }
    }
}

fn distinct_ids(got: &[Received]) -> usize {
    let ids: std::collections::HashSet<_> = got.iter().map(|r| r.envelope.event_id).collect();
    ids.len()
}

/// The received events without Kafka-level duplicates (same event id), in arrival order.
pub fn dedup_by_event_id(got: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    got.iter()
        .filter(|r| seen.insert(r.envelope.event_id))
        .cloned()
        .collect()
}

/// (EID) of every tag read, in order.
pub fn tag_reads(got: &[Received]) -> Vec<String> {
    got.iter()
        .filter_map(|r| match &r.envelope.event {
            Event::TagRead(t) => Some(t.eid.to_string()),
            _ => None,
        })
        .collect()
}

/// (EID, pounds) of every weighing, in order.
pub fn weighings(got: &[Received]) -> Vec<(String, f64)> {
    got.iter()
        .filter_map(|r| match &r.envelope.event {
            Event::Weighing(w) => Some((w.eid.to_string(), w.weight.lb())),
            _ => None,
        })
        .collect()
}

/// What `animals` should have produced: their EIDs and weights.
pub fn expected(animals: &[Animal]) -> (Vec<String>, Vec<(String, f64)>) {
    (
        animals.iter().map(|a| a.eid.to_owned()).collect(),
        animals
            .iter()
            .map(|a| (a.eid.to_owned(), f64::from(a.weight_lb)))
            .collect(),
    )
}

/// A gateway for the office's records API and forms, on a loopback port, forwarding to its own
/// tansu: tokens `op-1` (user `sam`, operator) and `vet-1` (user `dr-lee`, vet).
pub struct Office {
    /// The broker the gateway forwards to (killed when dropped).
    pub broker: testkit::Tansu,
    /// The running gateway.
    pub gateway: Gateway,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _data: tempfile::TempDir,
}

/// Starts an [`Office`] gateway of `feedlot_id`/`gateway_id` forwarding to `topic`.
pub async fn office(feedlot_id: &str, gateway_id: &str, topic: &str) -> Office {
    use edge::api::{ApiToken, Role};
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(topic, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: feedlot_id.into(),
        gateway_id: gateway_id.into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = vec![
        ApiToken {
            token: "op-1".into(),
            user: "sam".into(),
            role: Role::Operator,
        },
        ApiToken {
            token: "vet-1".into(),
            user: "dr-lee".into(),
            role: Role::Vet,
        },
    ];
    let gateway = start(config).await;
    Office {
        broker,
        gateway,
        base: format!("http://127.0.0.1:{port}"),
        _data: data,
    }
}

/// Posts `body` to the records API's `kind` (e.g. `corrections`) with `token`: the status and
/// the JSON answer (null when none).
pub async fn post_record(
    base: &str,
    kind: &str,
    token: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/records/{kind}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Posts the office form `slug` as a browser would (urlencoded), signed in with `token`: the
/// status and the page.
pub async fn post_form(
    base: &str,
    slug: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    // The few characters the tests' values use that a form must encode.
    let encode = |v: &str| {
        v.replace('%', "%25")
            .replace(' ', "+")
            .replace(',', "%2C")
            .replace('\n', "%0A")
    };
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = reqwest::Client::new()
        .post(format!("{base}/forms/{slug}"))
        .basic_auth("office", Some(token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
