//! Simulated feed trucks for the embedded broker: each connects, publishes its records (QoS 1),
//! waits for the gateway's `captured` answers and disconnects, again and again, and keeps
//! every record it has no confirmation for, re-sending it with the same `event_id`.
//!
//! Kinds, so that every client behaviour seen on a yard is exercised:
//! - [`Kind::Clean`]: rumqttc, clean session, subscribes to its `ack` topic on each connection.
//! - [`Kind::Dropper`]: like `Clean`, but some connections end by dropping the TCP connection
//!   right after the PUBLISH went out, and some by writing half a PUBLISH and closing.
//! - [`Kind::Persistent`]: rumqttc, `clean_session = false`, subscribes once; some connections
//!   end right after the PUBACK, before the answer, which the broker keeps for the next one.
//! - [`Kind::MosquittoPub`] / [`Kind::MosquittoPubPersistent`]: one `mosquitto_pub` process
//!   per record (connect, publish QoS 1, disconnect), as in the field report; confirmed by its
//!   exit status (the broker's PUBACK), the capture itself is checked on Kafka.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use uuid::Uuid;

use crate::process::TRUCK_USER;

/// How long one connection waits for the broker or the gateway before giving up (the truck
/// then reconnects and re-sends): far above what a working gateway needs (milliseconds).
const PATIENCE: Duration = Duration::from_secs(5);

/// What kind of client a truck is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// rumqttc, clean session.
    Clean,
    /// rumqttc, clean session, sometimes dropping the connection mid-publish.
    Dropper,
    /// rumqttc, persistent session.
    Persistent,
    /// `mosquitto_pub`, clean session.
    MosquittoPub,
    /// `mosquitto_pub -c` (persistent session).
    MosquittoPubPersistent,
}

/// A small deterministic random source (xorshift).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded; zero is replaced (xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// A number in `low..high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// One record a truck must get captured.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its id, minted on the truck.
    pub event_id: Uuid,
    /// The topic it goes to.
    pub topic: String,
    /// The JSON payload.
    pub payload: String,
}

/// What one truck did.
#[derive(Debug, Default, Clone)]
pub struct TruckReport {
    /// The truck's name.
    pub name: String,
    /// Every record it had.
    pub records: Vec<Uuid>,
    /// The records it has a confirmation for.
    pub confirmed: HashSet<Uuid>,
    /// Connections made.
    pub connections: u64,
    /// Connections that failed or timed out (the truck then retried).
    pub failures: u64,
    /// Connections it dropped on purpose mid-publish.
    pub drops: u64,
    /// Records published more than once.
    pub resends: u64,
    /// Answers other than `captured` (must stay empty).
    pub refusals: Vec<String>,
}

/// A simulated truck.
pub struct Truck {
    name: String,
    kind: Kind,
    feedlot_id: String,
    port: u16,
    rng: Rng,
    records: Vec<Record>,
    sent: HashSet<Uuid>,
    report: TruckReport,
    subscribed: bool,
}

impl Truck {
    /// Truck `index` of `kind` with `count` delivery records for `feedlot_id`, on the broker at
    /// `port`.
    pub fn new(
        index: usize,
        kind: Kind,
        feedlot_id: &str,
        port: u16,
        count: usize,
        seed: u64,
    ) -> Self {
        let name = format!("T{index}");
        let topic = format!("feedlot/{feedlot_id}/truck/{name}/delivery");
        let recorded_at = (chrono::Utc::now() - chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let records: Vec<Record> = (0..count)
            .map(|n| {
                let event_id = Uuid::now_v7();
                let payload = serde_json::json!({"event_id": event_id, "recorded_at": recorded_at,
                    "pen": format!("P{}", n % 40), "ration_id": "finisher-1", "target_kg": 4200.0,
                    "delivered_kg": 4000.0 + n as f64, "operator": name});
                Record {
                    event_id,
                    topic: topic.clone(),
                    payload: payload.to_string(),
                }
            })
            .collect();
        let report = TruckReport {
            name: name.clone(),
            records: records.iter().map(|r| r.event_id).collect(),
            ..TruckReport::default()
        };
        Self {
            name,
            kind,
            feedlot_id: feedlot_id.to_owned(),
            port,
            rng: Rng::new(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            records,
            sent: HashSet::new(),
            report,
            subscribed: false,
        }
    }

    fn ack_topic(&self) -> String {
        format!("feedlot/{}/truck/{}/ack", self.feedlot_id, self.name)
    }

    fn unconfirmed(&self) -> Vec<Record> {
        self.records
            .iter()
            .filter(|r| !self.report.confirmed.contains(&r.event_id))
            .cloned()
            .collect()
    }

    fn note_sent(&mut self, record: &Record) {
        if !self.sent.insert(record.event_id) {
            self.report.resends += 1;
        }
    }

    /// Works until every record is confirmed or `deadline` passes; returns what happened.
    pub async fn run(mut self, deadline: Instant) -> TruckReport {
        while Instant::now() < deadline {
            let pending = self.unconfirmed();
            if pending.is_empty() {
                break;
            }
            let take = self.rng.between(1, 4) as usize;
            let batch: Vec<Record> = pending.into_iter().take(take).collect();
            self.report.connections += 1;
            let ok = match self.kind {
                Kind::MosquittoPub | Kind::MosquittoPubPersistent => {
                    self.mosquitto_pub(&batch[0]).await
                }
                Kind::Dropper if self.rng.chance(15) => {
                    self.torn_publish(&batch[0]).await;
                    self.report.drops += 1;
                    true
                }
                _ => self.session(&batch).await,
            };
            if !ok {
                self.report.failures += 1;
            }
            let pause = self.rng.between(0, 40);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self.report
    }

    /// One `mosquitto_pub` process for `record`; confirmed when it exits 0 (PUBACK received).
    async fn mosquitto_pub(&mut self, record: &Record) -> bool {
        self.note_sent(record);
        let mut command = tokio::process::Command::new("mosquitto_pub");
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-u", TRUCK_USER.0, "-P", TRUCK_USER.1, "-q", "1"])
            .args(["-t", &record.topic, "-m", &record.payload])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        // The gateway's front takes only the account's client ids: `truck-…` for account `truck`.
        if self.kind == Kind::MosquittoPubPersistent {
            command.args(["-c", "-i", &format!("truck-mq-{}", self.name)]);
        } else {
            command.args(["-i", &format!("truck-pub-{}", self.name)]);
        }
        let status = tokio::time::timeout(PATIENCE, command.status()).await;
        let ok = matches!(status, Ok(Ok(s)) if s.success());
        if ok {
            self.report.confirmed.insert(record.event_id);
        }
        ok
    }

    /// Connects over raw TCP, writes half of a PUBLISH of `record` and closes the connection.
    async fn torn_publish(&mut self, record: &Record) {
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else {
            return;
        };
        let mut connect = rumqttc::Connect::new(format!("truck-torn-{}", self.name));
        connect.set_login(TRUCK_USER.0, TRUCK_USER.1);
        let mut bytes = BytesMut::new();
        connect.write(&mut bytes).unwrap();
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
        let mut connack = [0u8; 4];
        let read = tokio::time::timeout(PATIENCE, stream.read_exact(&mut connack)).await;
        if !matches!(read, Ok(Ok(_))) {
            return;
        }
        let mut publish =
            rumqttc::Publish::new(&record.topic, QoS::AtLeastOnce, record.payload.clone());
        publish.pkid = 1;
        let mut bytes = BytesMut::new();
        publish.write(&mut bytes).unwrap();
        let _ = stream.write_all(&bytes[..bytes.len() / 2]).await;
        let _ = stream.flush().await;
    }

    /// One rumqttc connection: publish `batch`, wait for the answers, disconnect (or, for some
    /// kinds, drop the connection early). False if it failed or timed out.
    async fn session(&mut self, batch: &[Record]) -> bool {
        let persistent = self.kind == Kind::Persistent;
        let mut options =
            MqttOptions::new(format!("truck-soak-{}", self.name), "127.0.0.1", self.port);
        options
            .set_credentials(TRUCK_USER.0, TRUCK_USER.1)
            .set_keep_alive(Duration::from_secs(5))
            .set_clean_session(!persistent);
        let (client, mut events) = AsyncClient::new(options, 32);
        let until = Instant::now() + PATIENCE;
        let Some(session_present) = connack(&mut events, until).await else {
            return false;
        };
        if !persistent || !session_present || !self.subscribed {
            client
                .subscribe(self.ack_topic(), QoS::AtLeastOnce)
                .await
                .unwrap();
            if !self
                .wait_for(&mut events, until, |p| matches!(p, Packet::SubAck(_)))
                .await
            {
                return false;
            }
            self.subscribed = true;
        }
        for record in batch {
            self.note_sent(record);
            client
                .publish(
                    &record.topic,
                    QoS::AtLeastOnce,
                    false,
                    record.payload.clone(),
                )
                .await
                .unwrap();
        }
        let drop_after_send = self.kind == Kind::Dropper && self.rng.chance(30);
        let leave_after_puback = persistent && self.rng.chance(30);
        if drop_after_send {
            // Gone as soon as the PUBLISH is on the wire: no PUBACK, no DISCONNECT.
            let _ = wait_outgoing_publishes(&mut events, until, batch.len()).await;
            self.report.drops += 1;
            return true;
        }
        let wanted: HashSet<Uuid> = batch.iter().map(|r| r.event_id).collect();
        let mut pubacks = 0;
        let done = loop {
            if wanted.iter().all(|id| self.report.confirmed.contains(id)) {
                break true;
            }
            if leave_after_puback && pubacks >= batch.len() {
                break true;
            }
            match tokio::time::timeout_at(until, events.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => pubacks += 1,
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => self.on_answer(&p.payload),
                Ok(Ok(_)) => {}
                Ok(Err(_)) | Err(_) => break false,
            }
        };
        if done {
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_millis(500), async {
                while let Ok(event) = events.poll().await {
                    if let Event::Incoming(Packet::Publish(p)) = event {
                        self.on_answer(&p.payload);
                    }
                }
            })
            .await;
        }
        done
    }

    fn on_answer(&mut self, payload: &[u8]) {
        let answer: serde_json::Value = serde_json::from_slice(payload).unwrap();
        let id = answer["id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
        match (answer["status"].as_str(), id) {
            (Some("captured"), Some(id)) => {
                self.report.confirmed.insert(id);
            }
            _ => self.report.refusals.push(answer.to_string()),
        }
    }

    /// Polls until a packet matching `want` arrives (answers seen meanwhile are recorded).
    async fn wait_for(
        &mut self,
        events: &mut EventLoop,
        until: Instant,
        want: impl Fn(&Packet) -> bool,
    ) -> bool {
        loop {
            match tokio::time::timeout_at(until, events.poll()).await {
                Ok(Ok(Event::Incoming(packet))) if want(&packet) => return true,
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => self.on_answer(&p.payload),
                Ok(Ok(_)) => {}
                Ok(Err(_)) | Err(_) => return false,
            }
        }
    }
}

/// Polls until the CONNACK; Some(session_present) on success.
async fn connack(events: &mut EventLoop, until: Instant) -> Option<bool> {
    loop {
        match tokio::time::timeout_at(until, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack))))
                if ack.code == rumqttc::ConnectReturnCode::Success =>
            {
                return Some(ack.session_present);
            }
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(_)) => {}
        }
    }
}

/// Polls until `n` PUBLISH packets were written to the socket.
async fn wait_outgoing_publishes(events: &mut EventLoop, until: Instant, n: usize) -> bool {
    let mut written = 0;
    while written < n {
        match tokio::time::timeout_at(until, events.poll()).await {
            Ok(Ok(Event::Outgoing(Outgoing::Publish(_)))) => written += 1,
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
    }
    true
}

/// Runs `trucks` side by side until `deadline`; their reports by name.
pub async fn run_all(trucks: Vec<Truck>, deadline: Instant) -> BTreeMap<String, TruckReport> {
    let handles: Vec<_> = trucks
        .into_iter()
        .map(|truck| tokio::spawn(truck.run(deadline)))
        .collect();
    let mut reports = BTreeMap::new();
    for handle in handles {
        let report = handle.await.unwrap();
        reports.insert(report.name.clone(), report);
    }
    reports
}
