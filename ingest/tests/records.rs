//! Every event kind from the wire to its ClickHouse table, against a real tansu broker and a
//! real ClickHouse: each kind lands in its own table once even when delivered twice, and an
//! event that decodes but has a wrong value goes to the dead-letter topic naming the field.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use rdkafka::message::{Headers, Message};
use schemas::{Envelope, Event, EventKind};

mod support;

use support::*;

/// The table each kind is stored in.
fn table(kind: EventKind) -> &'static str {
    match kind {
        EventKind::TagRead => "tag_reads",
        EventKind::Weighing => "weighings",
        EventKind::FeedLoad => "feed_loads",
        EventKind::FeedDelivery => "feed_deliveries",
        EventKind::Treatment => "treatments",
        EventKind::Arrival => "arrivals",
        EventKind::PenMove => "pen_moves",
        EventKind::Death => "deaths",
        EventKind::Shipment => "shipments",
        EventKind::FeedPurchase => "feed_purchases",
        EventKind::Ration => "rations",
        EventKind::YardageRate => "yardage_rates",
        EventKind::Placement => "placements",
        EventKind::YardProfile => "yard_profiles",
        EventKind::LotDeath => "deaths",
        EventKind::LotTreatment => "treatments",
        EventKind::GatewayStatus => "gateway_status",
        EventKind::Correction => "corrections",
        EventKind::ShipmentPlan => "shipment_plans",
        other => panic!("no table for {}", other.as_str()),
    }
}

/// The v1 fixture of `kind`, as a fresh event of `feedlot`.
fn fixture(kind: EventKind, feedlot: &str) -> Envelope {
    let path = format!(
        "{}/../schemas/tests/fixtures/v1/{}.json",
        env!("CARGO_MANIFEST_DIR"),
        kind.as_str()
    );
    let mut env = schemas::decode(&std::fs::read(path).unwrap()).unwrap();
    env.event_id = uuid::Uuid::now_v7();
    env.feedlot_id = feedlot.into();
    env
}

#[tokio::test]
async fn every_kind_lands_once_in_its_table_and_an_invalid_event_is_dead_lettered_with_the_field() {
    let p = pipeline("records_every_kind").await;
    let (shutdown, task) = start(&p.config);
    let yard = "yard-rec";
    let mut events: Vec<Envelope> = EventKind::ALL.iter().map(|k| fixture(*k, yard)).collect();
    // A second delivery to another pen, so a table holds more than one row.
    let mut second = fixture(EventKind::FeedDelivery, yard);
    if let Event::FeedDelivery(d) = &mut second.event {
        d.pen_id = "P13".into();
        d.delivered_kg = 3000.0;
    }
    events.push(second);
    let mut invalid = fixture(EventKind::Arrival, yard);
    if let Event::Arrival(a) = &mut invalid.event {
        a.shrink_pct = 104.0;
    }
    let mut all = events.clone();
    all.push(invalid.clone());
    let mut messages = signed(&p.config, &all).await;
    let invalid_message = messages.pop().unwrap();
    // Every event delivered a second time, as after a gateway crash before its outbox delete.
    messages.extend(messages.clone());
    messages.push(invalid_message.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    produce(&p.broker.bootstrap, &messages).await;

    for kind in EventKind::ALL {
        // Kinds sharing a table (a lot-level death or treatment beside one animal's) add up.
        let sharing = EventKind::ALL
            .iter()
            .filter(|k| table(**k) == table(kind))
            .count() as u64;
        let expected = sharing + u64::from(kind == EventKind::FeedDelivery);
        assert_eq!(
            wait_for_rows(&p.db, table(kind), expected).await,
            expected,
            "{} rows through FINAL",
            table(kind)
        );
    }
    let raw = count(&p.db, "SELECT count() FROM arrivals WHERE shrink_pct > 100").await;
    assert_eq!(raw, 0, "the invalid arrival was not stored");

    // What the analytics will read: sums through FINAL count each event once.
    let delivered =
        p.db.client()
            .query("SELECT sum(delivered_kg) FROM feed_deliveries FINAL WHERE feedlot_id = ?")
            .bind(yard)
            .fetch_one::<f64>()
            .await
            .unwrap();
    assert_eq!(delivered, 4185.5 + 3000.0);
    let load: ingest::sink::FeedLoadRow =
        p.db.client()
            .query("SELECT * FROM feed_loads FINAL")
            .fetch_one()
            .await
            .unwrap();
    assert_eq!(load.ingredients, ["corn", "silage", "supplement"]);
    assert_eq!(load.ingredient_weights_kg, [3200.5, 900.0, 450.0]);
    assert_eq!((load.total_kg, load.truck_id.as_str()), (4550.5, "T7"));
    let (head, price, currency): (u32, u64, String) =
        p.db.client()
            .query("SELECT head_count, purchase_price_minor, currency FROM arrivals FINAL")
            .fetch_one()
            .await
            .unwrap();
    assert_eq!((head, price, currency.as_str()), (120, 21_750_000, "USD"));
    let (eid, withdrawal) =
        p.db.client()
            .query("SELECT eid, withdrawal_days FROM treatments FINAL WHERE eid != ''")
            .fetch_one::<(String, u32)>()
            .await
            .unwrap();
    assert_eq!((eid.as_str(), withdrawal), ("982000001088420", 18));
    // The lot-level records: no eid, their lot and head count.
    let (lot, head, cost): (String, u32, u64) =
        p.db.client()
            .query("SELECT lot_id, head_count, cost_minor FROM treatments FINAL WHERE eid = ''")
            .fetch_one()
            .await
            .unwrap();
    assert_eq!((lot.as_str(), head, cost), ("L-2026-031", 1000, 120_000));
    let heads: Vec<(String, u32)> =
        p.db.client()
            .query("SELECT eid, head_count FROM deaths FINAL ORDER BY eid")
            .fetch_all()
            .await
            .unwrap();
    assert_eq!(
        heads,
        [(String::new(), 1), ("982000001088421".to_owned(), 1)],
        "a death before migration 0008's column counts 1 head"
    );

    // The invalid arrival is in the dead-letter topic, unchanged, with the field named.
    let dlq = dead_letter_reader(&p.broker.bootstrap, "dlq-reader");
    let m = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.payload().unwrap(), invalid_message.1.as_slice());
    let reason = m
        .headers()
        .unwrap()
        .iter()
        .find(|h| h.key == "dlq.reason")
        .map(|h| String::from_utf8_lossy(h.value.unwrap()).into_owned())
        .unwrap();
    assert!(
        reason.contains("invalid event") && reason.contains("`shrink_pct`"),
        "{reason}"
    );
    // Nothing else was dead-lettered.
    let more = tokio::time::timeout(Duration::from_secs(2), dlq.recv()).await;
    assert!(more.is_err(), "unexpected second dead letter");

    shutdown.cancel();
    task.await.unwrap().unwrap();
}
