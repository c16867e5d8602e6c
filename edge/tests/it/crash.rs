//! The real `edge` binary is SIGKILLed at random points while the chute streams, and restarted
//! on the same data directory each time. Every event it logged as captured (the log line comes
//! only after the outbox commit) must reach Kafka; duplicates are allowed, losses are not.
//!
//! `EDGE_CRASH_KILLS` sets the number of kills (default 20).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::Message;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The topic `ingest` would create; created here because ingest is not running.
const TOPIC: &str = "feedlot.events.v1";

/// What the gateways logged, across all runs.
#[derive(Debug, Default)]
struct Logged {
    captured: HashSet<Uuid>,
    lost: usize,
}

/// The event id of a `captured event_id=…` log line, if the line is one (and complete).
fn captured_id(line: &str) -> Option<Uuid> {
    let (_, rest) = line.split_once(" captured event_id=")?;
    Uuid::parse_str(rest.get(..36)?).ok()
}

/// A small deterministic random source (xorshift), seeded per run and printed.
struct Rng(u64);

impl Rng {
    fn between_ms(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low))
    }
}

fn write_config(
    dir: &Path,
    rfid: &Path,
    scale: &Path,
    bootstrap: &str,
    listen: &str,
    ops_listen: &str,
) -> std::path::PathBuf {
    let text = format!(
        r#"feedlot_id = "yard-crash"
gateway_id = "gw-crash"
data_dir = "{data}"

[kafka]
brokers = "{bootstrap}"
topic = "{TOPIC}"
message_timeout_ms = 5000
retry_backoff_initial_ms = 100
retry_backoff_max_ms = 1000

[http]
listen = "{listen}"
ops_listen = "{ops_listen}"

[[devices]]
device_id = "rfid-1"
path = "{rfid}"
role = "rfid"

[[devices]]
device_id = "scale-1"
path = "{scale}"
role = "scale"
"#,
        data = dir.join("data").display(),
        rfid = rfid.display(),
        scale = scale.display(),
    );
    let path = dir.join("edge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the gateway binary; a task collects its captured ids until its stdout closes.
fn spawn_gateway(
    config: &Path,
    logged: &Arc<Mutex<Logged>>,
) -> (Child, tokio::task::JoinHandle<()>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edge"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info,edge::kafka=warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let logged = logged.clone();
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut logged = logged.lock().unwrap();
            if let Some(id) = captured_id(&line) {
                logged.captured.insert(id);
            } else if line.contains("event LOST") {
                logged.lost += 1;
                eprintln!("{line}");
            } else if line.contains(" ERROR ") {
                eprintln!("{line}");
            }
        }
    });
    (child, reader)
}

/// Streams animals through the chute until `stop`: a tag read, the weight in motion, settled
/// (stable), then the empty platform. Each animal has its own tag and weight.
async fn stream_chute(rfid: PathBuf, scale: PathBuf, stop: Arc<AtomicBool>) -> u64 {
    let open = |path: PathBuf| async move {
        tokio::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .await
            .unwrap()
    };
    let (mut rfid, mut scale) = (open(rfid).await, open(scale).await);
    let gap = Duration::from_millis(15);
    let mut animals = 0u64;
    while !stop.load(Ordering::Relaxed) {
        animals += 1;
        let lb = 600 + animals % 900;
        let tag = format!("LA 982 {:012}\r\n", 500_000 + animals);
        rfid.write_all(tag.as_bytes()).await.unwrap();
        rfid.flush().await.unwrap();
        tokio::time::sleep(gap).await;
        let mut frames = format!("\x02 {:>7}LGM\r\n", lb / 2);
        for _ in 0..3 {
            frames.push_str(&format!("\x02 {lb:>7}LG \r\n"));
        }
        for frame in [frames, "\x02       0LGZ\r\n".to_owned()] {
            scale.write_all(frame.as_bytes()).await.unwrap();
            scale.flush().await.unwrap();
            tokio::time::sleep(gap).await;
        }
    }
    animals
}

/// Reads the topic from the start until every id in `want` arrived or `timeout` passed;
/// returns how many times each id was seen.
async fn read_topic(
    bootstrap: &str,
    want: &HashSet<Uuid>,
    timeout: Duration,
) -> HashMap<Uuid, usize> {
    let consumer = crate::support::reader_from_start(bootstrap, TOPIC);
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !want.iter().all(|id| seen.contains_key(id)) {
        match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Err(_) => break,
            Ok(Err(error)) => {
                eprintln!("consumer error (retrying): {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Ok(message)) => {
                let envelope = schemas::decode(message.payload().unwrap_or_default()).unwrap();
                *seen.entry(envelope.event_id).or_default() += 1;
            }
        }
    }
    // Catch duplicates still arriving behind the last wanted id.
    while let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await
    {
        let envelope = schemas::decode(message.payload().unwrap_or_default()).unwrap();
        *seen.entry(envelope.event_id).or_default() += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_logged_as_captured_reaches_kafka_although_the_gateway_is_sigkilled_again_and_again()
 {
    let kills: usize = std::env::var("EDGE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(1) | 1;
    let mut rng = Rng(seed);
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let rfid = testkit::PtyPair::new().await.unwrap();
    let scale = testkit::PtyPair::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &rfid.host_end,
        &scale.host_end,
        &broker.bootstrap,
        "127.0.0.1:0",
        "",
    );
    let logged = Arc::new(Mutex::new(Logged::default()));

    let stop = Arc::new(AtomicBool::new(false));
    let chute = tokio::spawn(stream_chute(
        rfid.device_end.clone(),
        scale.device_end.clone(),
        stop.clone(),
    ));
    for _ in 0..kills {
        let (mut gateway, reader) = spawn_gateway(&config, &logged);
        tokio::time::sleep(rng.between_ms(300, 1500)).await;
        if let Some(status) = gateway.try_wait().unwrap() {
            panic!("the gateway exited by itself ({status}) before the kill");
        }
        gateway.start_kill().unwrap(); // SIGKILL
        gateway.wait().await.unwrap();
        reader.await.unwrap();
    }

    // The last run, on a known port: stream a little more, then stop the chute and let the
    // outbox drain.
    let http = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let ops = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let config = write_config(
        dir.path(),
        &rfid.host_end,
        &scale.host_end,
        &broker.bootstrap,
        &http,
        &ops,
    );
    let (mut gateway, reader) = spawn_gateway(&config, &logged);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let animals = chute.await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let captured = logged.lock().unwrap().captured.clone();
    let seen = read_topic(&broker.bootstrap, &captured, Duration::from_secs(60)).await;
    let drained = testkit::wait_until(Duration::from_secs(30), || {
        let url = format!("http://{http}/healthz");
        async move {
            let Ok(response) = reqwest::get(&url).await else {
                return false;
            };
            let health: serde_json::Value = response.json().await.unwrap_or_default();
            health["status"] == "ok"
                && health["outbox"]["depth"] == 0
                && health["kafka"]["reachable"] == true
        }
    })
    .await;
    assert!(
        drained,
        "/healthz never showed a drained outbox with Kafka reachable"
    );
    let metrics = reqwest::get(format!("http://{ops}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("edge_outbox_depth 0"), "{metrics}");
    assert!(metrics.contains("edge_outbox_full 0"), "{metrics}");
    let public = reqwest::get(format!("http://{http}/metrics"))
        .await
        .unwrap();
    assert_eq!(
        public.status(),
        404,
        "/metrics is not on the public listener"
    );
    gateway.start_kill().unwrap();
    gateway.wait().await.unwrap();
    reader.await.unwrap();

    let missing: Vec<_> = captured
        .iter()
        .filter(|id| !seen.contains_key(id))
        .collect();
    let messages: usize = seen.values().sum();
    let duplicates = messages - seen.len();
    let lost = logged.lock().unwrap().lost;
    println!(
        "crash test (seed {seed}): {kills} SIGKILLs, {animals} animals streamed, {} events logged captured, {} distinct on Kafka ({messages} messages, {duplicates} duplicates), {} missing, {lost} logged lost",
        captured.len(),
        seen.len(),
        missing.len(),
    );
    assert!(
        captured.len() > kills,
        "the gateway captured too little to test anything: {}",
        captured.len()
    );
    assert!(
        missing.is_empty(),
        "captured but never on Kafka: {missing:?}"
    );
    assert_eq!(lost, 0, "no event may be given up");
}
