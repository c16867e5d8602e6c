//! Alert delivery end to end (docs/alerts.md, "Delivery"): the yard of `alerts.rs` with its
//! alerts (one per rule), delivered to a real HTTP receiver (an axum server on loopback checking the
//! signature, answering 500 to each alert's first call) by two workers at once, and to a real
//! SMTP server (`mailin-embedded`, refusing each first message with a 451).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use dashboards::alerts::store::{SENT, deliveries_of};
use dashboards::config::AlertsConfig;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::alerts::{ALERTS, LOT, SICK, YARD, now_ms, seeded, worker};

pub const SECRET: &str = "webhook-secret-0123456789";

/// What the receiver saw.
#[derive(Debug, Default)]
pub struct Received {
    /// Calls per `X-Alert-Id`.
    pub calls: HashMap<String, u32>,
    /// Calls answered 200 per `X-Alert-Id`.
    pub accepted: HashMap<String, u32>,
    /// Bodies accepted.
    pub bodies: Vec<Value>,
    /// Calls whose signature did not verify.
    pub bad: u32,
}

pub type Shared = Arc<Mutex<Received>>;

/// The receiver: verifies `X-Alert-Signature` (our HMAC here, and the crate's `verify`), then
/// answers 500 to an alert's first call and 200 after.
async fn hook(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let id = header("x-alert-id");
    let signature = header("x-alert-signature");
    let timestamp = header("x-alert-timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&body);
    let expected = format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    );
    let now = chrono::Utc::now().timestamp() as u64;
    let mut seen = seen.lock().unwrap();
    if signature != expected
        || !dashboards::alerts::webhook::verify(SECRET, &signature, &body, now, 300)
    {
        seen.bad += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let calls = seen.calls.entry(id.clone()).or_default();
    *calls += 1;
    if *calls == 1 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    *seen.accepted.entry(id).or_default() += 1;
    seen.bodies.push(serde_json::from_slice(&body).unwrap());
    StatusCode::OK
}

pub async fn receiver() -> (String, Shared) {
    let seen = Shared::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

pub fn fast(config: &mut AlertsConfig) {
    config.first_retry_ms = 200;
    config.max_retry_ms = 1_000;
    config.timeout_ms = 1_000;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_deliver_each_alert_to_the_webhook_once_signed_and_retried_after_a_500() {
    let (_db, client) = seeded("alerts_webhook").await;
    let (url, seen) = receiver().await;
    let mut config = AlertsConfig::default();
    fast(&mut config);
    config.yards.insert(
        YARD.into(),
        dashboards::config::RuleOverrides {
            webhook_url: Some(url),
            webhook_secret: Some(SECRET.into()),
            ..Default::default()
        },
    );
    config.public_url = "https://feedlot.example".into();
    // Two replicas, each running rounds until the receiver has accepted them all.
    let done = |seen: &Shared| seen.lock().unwrap().accepted.len() >= ALERTS;
    let run = |mut w: dashboards::alerts::Worker, seen: Shared| async move {
        for _ in 0..200 {
            w.round(now_ms()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            if done(&seen) {
                break;
            }
        }
        w
    };
    // Both count into one registry, served at the ops listener's /metrics.
    let metrics = dashboards::telemetry::Metrics::new();
    let ops = dashboards::web::ops_app(
        dashboards::web::AppState::new(client.clone()).with_metrics(metrics.clone()),
    );
    // One round alone first raises the alerts (two workers racing on a new alert may both
    // store and count it; the stored row is one), then both deliver side by side.
    let mut first = worker(&client, config.clone()).with_metrics(metrics.clone());
    first.round(now_ms()).await.unwrap();
    let (mut a, mut b) = tokio::join!(
        run(first, seen.clone()),
        run(
            worker(&client, config.clone()).with_metrics(metrics.clone()),
            seen.clone()
        )
    );
    assert!(done(&seen), "{:?}", seen.lock().unwrap());
    // More rounds by both send nothing more.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    a.round(now_ms()).await.unwrap();
    b.round(now_ms()).await.unwrap();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(seen.bad, 0);
    assert_eq!(seen.accepted.len(), ALERTS, "{seen:?}");
    for (id, n) in &seen.accepted {
        assert_eq!(*n, 1, "alert {id} accepted {n} times");
        assert_eq!(seen.calls[id], 2, "alert {id}: a 500, then a 200");
    }
    // /metrics counts what the receiver saw: each alert raised once, one 500 retried and one
    // 200 sent per alert, nothing failed, and the time of the last round.
    let text = crate::two_yards::get(&ops, "/metrics", &[]).await.body;
    let sum = |prefix: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(
        sum("dashboards_alerts_raised_total{"),
        ALERTS as f64,
        "{text}"
    );
    assert!(
        text.contains("dashboards_alerts_raised_total{rule=\"pulled_twice\"} 1"),
        "{text}"
    );
    let calls: u32 = seen.calls.values().sum();
    let deliveries = |outcome: &str| {
        sum(&format!(
            "dashboards_alert_deliveries_total{{channel=\"webhook\",outcome=\"{outcome}\"}}"
        ))
    };
    assert_eq!(deliveries("sent"), ALERTS as f64, "{text}");
    assert_eq!(
        deliveries("retried"),
        f64::from(calls) - ALERTS as f64,
        "{text}"
    );
    assert!(!text.contains("outcome=\"failed\""), "{text}");
    let last_round = sum("dashboards_alerts_last_round_timestamp_seconds ");
    assert!(
        (last_round - now_ms() as f64 / 1000.0).abs() < 60.0,
        "last round at {last_round}: {text}"
    );
    assert!(
        text.contains("dashboards_alerts_round_duration_seconds_count"),
        "{text}"
    );
    let pull = seen
        .bodies
        .iter()
        .find(|b| b["rule"] == "pulled_twice")
        .unwrap();
    assert!(pull["title"].as_str().unwrap().contains(SICK));
    assert!(pull["title"].as_str().unwrap().contains(LOT));
    assert_eq!(
        pull["url"],
        format!("https://feedlot.example/feedlots/{YARD}/animals/{SICK}")
    );
    for id in seen.accepted.keys() {
        let d = deliveries_of(&client, YARD, id).await.unwrap();
        assert_eq!(d.len(), 1);
        // Two tries at least (a race of both workers for one try counts as one).
        assert_eq!(d[0].state, SENT, "{d:?}");
        assert!(d[0].attempts >= 2, "{d:?}");
    }
}

/// What the SMTP server saw.
#[derive(Debug, Default)]
struct Mailbox {
    /// Messages refused (the first of each alert's).
    refused: u32,
    /// Messages taken: (recipients, raw message).
    taken: Vec<(Vec<String>, String)>,
}

/// A mailin handler (cloned per connection) sharing one [`Mailbox`].
#[derive(Clone)]
struct Smtp {
    mailbox: Arc<Mutex<Mailbox>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Smtp {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let text = String::from_utf8_lossy(&self.data).to_string();
        let mut mailbox = self.mailbox.lock().unwrap();
        let id = message_id(&text);
        let seen_before = mailbox.refused_ids().contains(&id);
        if !seen_before {
            mailbox.refused += 1;
            mailbox.taken.push((Vec::new(), text));
            // 451: a transient refusal, so the sender must retry.
            return mailin_embedded::response::INTERNAL_ERROR;
        }
        mailbox.taken.push((self.to.clone(), text));
        mailin_embedded::response::OK
    }
}

impl Mailbox {
    /// Message-IDs refused so far (entries without recipients).
    fn refused_ids(&self) -> Vec<String> {
        self.taken
            .iter()
            .filter(|(to, _)| to.is_empty())
            .map(|(_, m)| message_id(m))
            .collect()
    }

    /// Messages accepted.
    fn accepted(&self) -> Vec<&(Vec<String>, String)> {
        self.taken.iter().filter(|(to, _)| !to.is_empty()).collect()
    }
}

fn message_id(message: &str) -> String {
    message
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l[11..].trim().to_owned())
        .unwrap_or_default()
}

fn subject(message: &str) -> String {
    message
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .map(|l| l[8..].trim().to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_alert_is_emailed_once_over_smtp_after_a_451_naming_the_animal_and_lot() {
    let (_db, client) = seeded("alerts_email").await;
    let mailbox = Arc::new(Mutex::new(Mailbox::default()));
    let port = testkit::free_port().unwrap();
    let mut server = mailin_embedded::Server::new(Smtp {
        mailbox: mailbox.clone(),
        to: Vec::new(),
        data: Vec::new(),
    });
    server
        .with_name("mail.test")
        .with_ssl(mailin_embedded::SslConfig::None)
        .unwrap()
        .with_addr(format!("127.0.0.1:{port}"))
        .unwrap();
    std::thread::spawn(move || {
        if let Err(e) = server.serve() {
            eprintln!("smtp server: {e}");
        }
    });
    let mut config = AlertsConfig::default();
    fast(&mut config);
    config.smtp_url = format!("smtp://127.0.0.1:{port}");
    config.email_from = "Feedlot alerts <alerts@feedlot.example>".into();
    config.public_url = "https://feedlot.example".into();
    config.rules.emails = vec!["manager@yard.example".into(), "vet@yard.example".into()];
    let mut w = worker(&client, config);
    for _ in 0..100 {
        w.round(now_ms()).await.unwrap();
        if mailbox.lock().unwrap().accepted().len() >= ALERTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    w.round(now_ms()).await.unwrap();

    let mailbox = std::mem::take(&mut *mailbox.lock().unwrap());
    let accepted = mailbox.accepted();
    assert_eq!(mailbox.refused as usize, ALERTS, "{mailbox:?}");
    assert_eq!(accepted.len(), ALERTS, "{mailbox:?}");
    let mut ids: Vec<String> = accepted.iter().map(|(_, m)| message_id(m)).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ALERTS, "one message per alert: {ids:?}");
    let (to, pull) = accepted
        .iter()
        .find(|(_, m)| subject(m).contains("Pulled again"))
        .unwrap();
    assert_eq!(to, &["manager@yard.example", "vet@yard.example"]);
    let subject = subject(pull);
    assert!(
        subject.contains(YARD) && subject.contains(SICK) && subject.contains(LOT),
        "{subject}"
    );
    assert!(pull.contains(&format!(
        "https://feedlot.example/feedlots/{YARD}/animals/{SICK}"
    )));
    assert!(pull.contains("Treated for sickness"), "{pull}");
    let alert_id = message_id(pull);
    assert!(alert_id.ends_with("@feedlot-alerts>"), "{alert_id}");
    let id = alert_id.trim_start_matches('<').split('@').next().unwrap();
    let d = deliveries_of(&client, YARD, id).await.unwrap();
    assert_eq!(
        (d[0].channel.as_str(), d[0].state.as_str(), d[0].attempts),
        ("email", SENT, 2)
    );
}
