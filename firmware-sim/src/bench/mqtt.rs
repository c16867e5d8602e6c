//! The `mqtt` pair: the gateway's embedded broker (rumqttd with edge's own settings) against
//! mosquitto, under the same load, each broker in its own process so its peak RSS is its own.
//!
//! The `bench` process starts the broker ([`BrokerProcess`]), runs the load in a `bench-case`
//! child ([`load`]: one rumqttc publisher sending N feed-truck deliveries at QoS 1, one
//! rumqttc subscriber at QoS 1 that must receive every one), then reads the broker's VmHWM
//! from `/proc/<pid>/status` before stopping it. The time runs from the first publish until
//! the subscriber holds all N distinct messages.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

/// The topic the load publishes on (a feed truck's deliveries).
const TOPIC: &str = "feedlot/bench-yard/truck/T1/delivery";
/// In-flight QoS 1 messages per connection, for the clients and both brokers (rumqttd's
/// `max_inflight_count` in edge's config; mosquitto's `max_inflight_messages`).
const INFLIGHT: u16 = 100;
/// The mosquitto binary `scripts/install-services.sh` installs.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Which broker a case measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// The gateway's embedded rumqttd, in a `firmware-sim bench-broker` process.
    Embedded,
    /// mosquitto.
    Mosquitto,
}

impl Broker {
    /// The broker a case name measures, if it is an MQTT case.
    pub fn for_case(case: &str) -> Option<Self> {
        match case {
            "mqtt.embedded_rumqttd" => Some(Self::Embedded),
            "mqtt.mosquitto" => Some(Self::Mosquitto),
            _ => None,
        }
    }
}

/// A running broker process, stopped (SIGKILL) when dropped.
#[derive(Debug)]
pub struct BrokerProcess {
    child: Child,
    /// Where it listens, `127.0.0.1:port`.
    pub addr: String,
    /// Its peak RSS once it answered, before any load, KiB (the process's own overhead).
    pub idle_rss_kib: u64,
    _dir: tempfile::TempDir,
}

impl BrokerProcess {
    /// Starts `broker` on a free local port and waits until it accepts connections.
    pub fn start(broker: Broker) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let dir = tempfile::tempdir()?;
        let child = match broker {
            Broker::Embedded => {
                let mut child = Command::new(std::env::current_exe()?)
                    .args(["bench-broker", "--listen", &addr])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .context("starting firmware-sim bench-broker")?;
                let stdout = child.stdout.take().context("bench-broker stdout")?;
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line)?;
                if line.trim() != "ready" {
                    let _ = child.kill();
                    bail!("bench-broker did not start: {line:?}");
                }
                child
            }
            Broker::Mosquitto => {
                let conf = dir.path().join("mosquitto.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                         max_inflight_messages {INFLIGHT}\nmax_queued_messages 0\n"
                    ),
                )?;
                let child = Command::new(MOSQUITTO)
                    .arg("-c")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .context("starting mosquitto (bash scripts/install-services.sh)")?;
                let deadline = Instant::now() + Duration::from_secs(10);
                while std::net::TcpStream::connect(&addr).is_err() {
                    anyhow::ensure!(Instant::now() < deadline, "mosquitto not listening");
                    std::thread::sleep(Duration::from_millis(20));
                }
                child
            }
        };
        let mut broker = Self {
            child,
            addr,
            idle_rss_kib: 0,
            _dir: dir,
        };
        broker.idle_rss_kib = broker.peak_rss_kib()?;
        Ok(broker)
    }

    /// The broker's peak resident set size so far (VmHWM), KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `firmware-sim bench-broker`: the gateway's embedded broker (its own rumqttd settings,
/// anonymous devices allowed) on `listen`, until the process is killed. Prints `ready` once
/// it answers MQTT.
pub async fn serve_embedded_broker(listen: &str) -> anyhow::Result<()> {
    let config = edge::mqtt::MqttConfig {
        embedded: true,
        listen: listen.to_owned(),
        allow_anonymous: true,
        ..Default::default()
    };
    edge::mqtt::broker::start(&config, &edge::mqtt::broker::InternalAccount::random()).await?;
    println!("ready");
    std::future::pending::<()>().await;
    Ok(())
}

/// The payloads: feed deliveries as a truck publishes them, numbered.
fn payloads(n: usize) -> Vec<String> {
    let recorded_at = chrono::Utc::now();
    (0..n)
        .map(|seq| {
            serde_json::json!({"seq": seq, "event_id": uuid::Uuid::now_v7(), "recorded_at": recorded_at,
                "pen": format!("P{:02}", seq % 40 + 1), "ration_id": "finisher-1", "target_kg": 4200.0,
                "delivered_kg": 4185.5, "operator": "sam"})
            .to_string()
        })
        .collect()
}

fn options(id: &str, addr: &str) -> anyhow::Result<MqttOptions> {
    let (host, port) = addr.rsplit_once(':').context("broker address host:port")?;
    let mut options = MqttOptions::new(id, host, port.parse()?);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_inflight(INFLIGHT);
    Ok(options)
}

/// The load against the broker at `addr`: returns (messages received, seconds).
pub async fn load(addr: &str, n: usize) -> anyhow::Result<(u64, f64)> {
    let bodies = payloads(n);
    let (subscriber, mut sub_events) = AsyncClient::new(options("bench-sub", addr)?, 64);
    subscriber.subscribe(TOPIC, QoS::AtLeastOnce).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), sub_events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("subscriber: {e}"),
            Err(_) => bail!("subscriber not subscribed in 10 s"),
        }
    }
    let received = tokio::spawn(async move {
        let mut seen = vec![false; n];
        let mut distinct = 0;
        while distinct < n {
            match sub_events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let body: serde_json::Value = serde_json::from_slice(&p.payload)?;
                    let seq = body["seq"].as_u64().and_then(|s| usize::try_from(s).ok());
                    if let Some(slot) = seq.and_then(|s| seen.get_mut(s)).filter(|s| !**s) {
                        *slot = true;
                        distinct += 1;
                    }
                }
                Ok(_) => {}
                Err(e) => bail!("subscriber: {e}"),
            }
        }
        Ok(Instant::now())
    });
    let (publisher, mut pub_events) = AsyncClient::new(options("bench-pub", addr)?, 1024);
    let driver = tokio::spawn(async move {
        loop {
            if let Err(e) = pub_events.poll().await {
                return anyhow::Error::from(e);
            }
        }
    });
    let start = Instant::now();
    for body in bodies {
        publisher
            .publish(TOPIC, QoS::AtLeastOnce, false, body)
            .await?;
    }
    let done = tokio::time::timeout(Duration::from_secs(300), received).await;
    driver.abort();
    let end = match done {
        Ok(result) => result??,
        Err(_) => bail!("the subscriber did not receive all {n} messages in 300 s"),
    };
    Ok((n as u64, end.duration_since(start).as_secs_f64()))
}
