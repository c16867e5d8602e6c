//! A simulated feed truck: publishes mixer loads and bunk deliveries over MQTT the way an
//! on-board scale with a cellular/Wi-Fi link does, and keeps every record until the gateway
//! answers `captured` for it on the truck's `ack` topic (re-sending otherwise).

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use uuid::Uuid;

use super::faults::DeviceClock;

/// Where and as whom the truck connects, and which yard it feeds.
#[derive(Debug, Clone)]
pub struct TruckSetup {
    /// The yard (part of the topic).
    pub feedlot_id: String,
    /// This truck's id (part of the topic).
    pub truck_id: String,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// User name and password on the broker.
    pub credentials: Option<(String, String)>,
    /// Who drives.
    pub operator: String,
    /// How long to wait for `captured` before re-sending a record.
    pub resend_after: Duration,
}

/// One load: a ration mixed from ingredients, then dropped in pens.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The ration.
    pub ration_id: String,
    /// Ingredient name and kg as fed to add.
    pub ingredients: Vec<(String, f64)>,
    /// Pen and bunk call (kg as fed) to deliver to.
    pub deliveries: Vec<(String, f64)>,
}

/// What the gateway answered.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TruckReport {
    /// Every record published (event ids), in order.
    pub published: Vec<Uuid>,
    /// Records the gateway confirmed as captured.
    pub captured: Vec<Uuid>,
    /// Records the gateway rejected, with its reason.
    pub rejected: Vec<(Value, String)>,
    /// Re-sends made while waiting for confirmations.
    pub resends: usize,
}

/// Why the truck stopped.
#[derive(Debug, thiserror::Error)]
pub enum TruckError {
    /// The MQTT client failed.
    #[error("mqtt: {0}")]
    Client(#[from] rumqttc::ClientError),
    /// Not every record was confirmed in time.
    #[error("{0} record(s) not confirmed before the deadline")]
    Unconfirmed(usize),
}

/// The records a plan produces: each load (scale weights with a little noise), then its
/// deliveries (delivered within ±1.5% of the call), stamped by a truck whose clock is right.
pub fn records(plan: &[LoadPlan], setup: &TruckSetup, rng: &mut impl Rng) -> Vec<(String, Value)> {
    records_on(plan, setup, rng, DeviceClock::exact())
}

/// [`records`] stamped (`recorded_at`) by a truck whose own clock is `clock`.
pub fn records_on(
    plan: &[LoadPlan],
    setup: &TruckSetup,
    rng: &mut impl Rng,
    clock: DeviceClock,
) -> Vec<(String, Value)> {
    let base = format!("feedlot/{}/truck/{}", setup.feedlot_id, setup.truck_id);
    let mut out = Vec::new();
    for (i, load) in plan.iter().enumerate() {
        let ingredients: Vec<Value> = load
            .ingredients
            .iter()
            .map(|(name, kg)| json!({"ingredient": name, "weight_kg": (kg * rng.random_range(0.99..1.01) * 2.0).round() / 2.0}))
            .collect();
        out.push((
            format!("{base}/load"),
            json!({"event_id": Uuid::now_v7(), "recorded_at": clock.now(), "ration_id": load.ration_id,
                   "batch_id": format!("{}-{}", setup.truck_id, i + 1), "operator": setup.operator,
                   "ingredients": ingredients}),
        ));
        for (pen, target) in &load.deliveries {
            let delivered = (target * rng.random_range(0.985..1.015) * 2.0).round() / 2.0;
            out.push((
                format!("{base}/delivery"),
                json!({"event_id": Uuid::now_v7(), "recorded_at": clock.now(), "pen": pen,
                       "ration_id": load.ration_id, "target_kg": target, "delivered_kg": delivered,
                       "operator": setup.operator}),
            ));
        }
    }
    out
}

/// Publishes `records` (QoS 1) and waits up to `deadline` until the gateway has answered every
/// one, re-sending those it has not confirmed every `resend_after`.
pub async fn run_truck(
    setup: &TruckSetup,
    records: Vec<(String, Value)>,
    deadline: Duration,
) -> Result<TruckReport, TruckError> {
    let mut options =
        MqttOptions::new(format!("truck-{}", setup.truck_id), &setup.host, setup.port);
    options.set_keep_alive(Duration::from_secs(10));
    if let Some((user, password)) = &setup.credentials {
        options.set_credentials(user, password);
    }
    let (client, mut events) = AsyncClient::new(options, 256);
    let ack_topic = format!("feedlot/{}/truck/{}/ack", setup.feedlot_id, setup.truck_id);
    client.subscribe(&ack_topic, QoS::AtLeastOnce).await?;
    let mut report = TruckReport::default();
    let mut pending: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for (topic, body) in records {
        let id = body["event_id"].as_str().unwrap_or_default().to_owned();
        if let Ok(uuid) = id.parse() {
            report.published.push(uuid);
        }
        client
            .publish(&topic, QoS::AtLeastOnce, false, body.to_string())
            .await?;
        pending.insert(id, (topic, body));
    }
    let give_up = tokio::time::Instant::now() + deadline;
    let mut resend_at = tokio::time::Instant::now() + setup.resend_after;
    while !pending.is_empty() && tokio::time::Instant::now() < give_up {
        tokio::select! {
            _ = tokio::time::sleep_until(resend_at) => {
                for (topic, body) in pending.values() {
                    client.publish(topic, QoS::AtLeastOnce, false, body.to_string()).await?;
                    report.resends += 1;
                }
                resend_at = tokio::time::Instant::now() + setup.resend_after;
            }
            _ = tokio::time::sleep_until(give_up) => {}
            event = events.poll() => match event {
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == ack_topic => {
                    let Ok(answer) = serde_json::from_slice::<Value>(&p.payload) else { continue };
                    let id = answer["id"].as_str().unwrap_or_default().to_owned();
                    let Some((_, body)) = pending.remove(&id) else { continue };
                    match answer["status"].as_str() {
                        Some("captured") => report.captured.extend(id.parse::<Uuid>().ok()),
                        _ => report.rejected.push((body, answer["reason"].as_str().unwrap_or_default().to_owned())),
                    }
                }
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    // Re-subscribe after a reconnect (clean session).
                    client.subscribe(&ack_topic, QoS::AtLeastOnce).await?;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "truck lost its MQTT connection; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            },
        }
    }
    let _ = client.disconnect().await;
    if pending.is_empty() {
        Ok(report)
    } else {
        Err(TruckError::Unconfirmed(pending.len()))
    }
}

/// A day's feeding for `pens` pens of a finishing ration: one load per two pens.
pub fn finishing_day(pens: usize, head_per_pen: usize) -> Vec<LoadPlan> {
    let call_kg = head_per_pen as f64 * 11.5; // ~11.5 kg as fed per head per day
    (0..pens)
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|chunk| {
            let total = call_kg * chunk.len() as f64;
            LoadPlan {
                ration_id: "finisher-1".into(),
                ingredients: vec![
                    ("steam-flaked corn".into(), total * 0.72),
                    ("wet distillers grains".into(), total * 0.18),
                    ("hay".into(), total * 0.07),
                    ("supplement".into(), total * 0.03),
                ],
                deliveries: chunk
                    .iter()
                    .map(|p| (format!("P{:02}", p + 1), call_kg))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_feeding_day_makes_one_load_per_two_pens_and_a_delivery_per_pen() {
        let setup = TruckSetup {
            feedlot_id: "y".into(),
            truck_id: "T1".into(),
            host: "localhost".into(),
            port: 1883,
            credentials: None,
            operator: "sam".into(),
            resend_after: Duration::from_secs(5),
        };
        let recs = records(
            &finishing_day(3, 100),
            &setup,
            &mut rand::rngs::StdRng::seed_from_u64(1),
        );
        let topics: Vec<&str> = recs
            .iter()
            .map(|(t, _)| t.rsplit('/').next().unwrap_or_default())
            .collect();
        assert_eq!(topics, ["load", "delivery", "delivery", "load", "delivery"]);
        for (_, body) in recs.iter().filter(|(t, _)| t.ends_with("delivery")) {
            let (target, delivered) = (
                body["target_kg"].as_f64().unwrap(),
                body["delivered_kg"].as_f64().unwrap(),
            );
            assert!(
                (delivered - target).abs() <= target * 0.016,
                "{delivered} vs {target}"
            );
        }
    }

    #[test]
    fn a_truck_with_a_skewed_clock_stamps_its_records_with_its_own_time() {
        let setup = TruckSetup {
            feedlot_id: "y".into(),
            truck_id: "T1".into(),
            host: "localhost".into(),
            port: 1883,
            credentials: None,
            operator: "sam".into(),
            resend_after: Duration::from_secs(5),
        };
        let clock = DeviceClock::skewed(chrono::TimeDelta::hours(3));
        let before = chrono::Utc::now();
        let recs = records_on(
            &finishing_day(2, 10),
            &setup,
            &mut rand::rngs::StdRng::seed_from_u64(1),
            clock,
        );
        let after = chrono::Utc::now();
        for (_, body) in &recs {
            let at: chrono::DateTime<chrono::Utc> =
                body["recorded_at"].as_str().unwrap().parse().unwrap();
            let true_time = at - chrono::TimeDelta::hours(3);
            assert!(before <= true_time && true_time <= after, "{at}");
        }
    }
}
