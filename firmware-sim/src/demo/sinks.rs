//! Where the demo yard's records enter the gateway: the records API for manual records, the
//! embedded MQTT broker for the feed truck, the outbox for chute history.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use edge::outbox::{Outbox, OutboxRecord};
use schemas::{Envelope, Event};
use serde_json::{Value, json};

use crate::devices::truck::{TruckSetup, run_truck};
use crate::herd::{SimEvent, envelopes, records_path};

/// The office's account on the gateway's records API.
#[derive(Debug, Clone)]
pub struct Office {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Office {
    /// Posts to the records API at `http://{listen}` with bearer `token`.
    pub fn new(listen: &str, token: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: format!("http://{listen}/api/v1/records"),
            token: token.into(),
        }
    }

    /// Records `event` as having happened at `at`; an answer other than 201 is an error
    /// carrying the gateway's reason.
    pub async fn record(&self, at: DateTime<Utc>, event: &Event) -> anyhow::Result<()> {
        let path = records_path(event).context("not a manual record")?;
        let mut body = serde_json::to_value(event)?;
        if let Some(fields) = body.as_object_mut() {
            fields.remove("kind");
        }
        let response = self
            .client
            .post(format!(
                "{}/{path}?occurred_at={}",
                self.base,
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        if status.as_u16() != 201 {
            let reason = response.text().await.unwrap_or_default();
            anyhow::bail!("{path} refused ({status}): {reason}");
        }
        Ok(())
    }
}

/// Commits chute records the gateway would have captured at their (simulated) times straight
/// to its outbox, with deterministic ids, signed with the gateway's key (in `data_dir`, as the
/// gateway signs); returns how many envelopes.
pub async fn import(
    data_dir: &std::path::Path,
    outbox: Arc<Outbox>,
    feedlot_id: &str,
    gateway_id: &str,
    salt: u64,
    events: &[SimEvent],
) -> anyhow::Result<usize> {
    let envelopes: Vec<Envelope> = envelopes(events, feedlot_id, gateway_id, salt);
    let n = envelopes.len();
    let (key, _) = edge::identity::load_or_create(data_dir)?;
    for chunk in envelopes.chunks(2_000) {
        let records: Vec<OutboxRecord> = chunk
            .iter()
            .map(|e| OutboxRecord::signed(e, Some(&key)))
            .collect();
        let outbox = outbox.clone();
        tokio::task::spawn_blocking(move || outbox.append(&records)).await??;
    }
    Ok(n)
}

/// The truck's MQTT messages for feed loads and deliveries, stamped (`recorded_at`) with their
/// simulated times and the same ids [`envelopes`] gives them.
pub fn truck_messages(setup: &TruckSetup, salt: u64, events: &[SimEvent]) -> Vec<(String, Value)> {
    let base = format!("feedlot/{}/truck/{}", setup.feedlot_id, setup.truck_id);
    envelopes(events, &setup.feedlot_id, "demo-gateway", salt)
        .into_iter()
        .filter_map(|e| match e.event {
            Event::FeedLoad(load) => Some((
                format!("{base}/load"),
                json!({"event_id": e.event_id, "recorded_at": e.captured_at, "ration_id": load.ration_id,
                       "batch_id": load.batch_id, "operator": load.operator, "ingredients": load.ingredients}),
            )),
            Event::FeedDelivery(d) => Some((
                format!("{base}/delivery"),
                json!({"event_id": e.event_id, "recorded_at": e.captured_at, "pen": d.pen_id,
                       "ration_id": d.ration_id, "target_kg": d.target_kg, "delivered_kg": d.delivered_kg,
                       "operator": d.operator}),
            )),
            _ => None,
        })
        .collect()
}

/// Drives the truck through one feeding's messages; returns how many the gateway confirmed.
pub async fn feed(setup: &TruckSetup, messages: Vec<(String, Value)>) -> anyhow::Result<usize> {
    if messages.is_empty() {
        return Ok(0);
    }
    let report = run_truck(setup, messages, Duration::from_secs(30)).await?;
    for (body, reason) in &report.rejected {
        tracing::warn!(%reason, %body, "truck record refused");
    }
    Ok(report.captured.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

    use chrono::NaiveDate;
    use edge::mqtt::payload::{DeviceTopic, device_event};

    use super::*;
    use crate::herd::{Channel, YardConfig, YardSim};

    #[test]
    fn the_gateway_decodes_the_truck_messages_to_the_models_feed_records_with_their_times() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut sim = YardSim::new(YardConfig::new(2, 20, 4, start));
        let feed: Vec<SimEvent> = (0..3)
            .flat_map(|_| sim.step().1)
            .filter(|e| e.channel == Channel::Truck)
            .collect();
        assert!(feed.len() >= 4, "{feed:?}");
        let setup = TruckSetup {
            feedlot_id: "demo-yard".into(),
            truck_id: "T1".into(),
            host: "127.0.0.1".into(),
            port: 1883,
            credentials: None,
            operator: "demo-driver".into(),
            resend_after: Duration::from_secs(3),
        };
        let messages = truck_messages(&setup, 9, &feed);
        assert_eq!(messages.len(), feed.len());
        let ids: Vec<_> = envelopes(&feed, "demo-yard", "demo-gateway", 9)
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        for ((topic, body), (e, id)) in messages.iter().zip(feed.iter().zip(ids)) {
            let topic = DeviceTopic::parse(topic).unwrap();
            let (event_id, at, event) = device_event(&topic, body.to_string().as_bytes()).unwrap();
            assert_eq!((event_id, at, &event), (id, e.at, &e.event));
        }
    }
}
