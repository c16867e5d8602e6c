//! The pipeline against a real tansu broker and a real ClickHouse: events land once each,
//! bad messages go to the dead-letter topic, pages show what was stored.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use rdkafka::message::{Headers, Message};
use schemas::{Eid, Envelope, Event, TagRead};

mod support;

use support::*;

#[tokio::test]
async fn migrations_apply_once_and_are_idempotent() {
    let db = testkit::ClickHouseDb::create("migrations_idempotent")
        .await
        .unwrap();
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    let first = ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    let second = ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    let all: Vec<u32> = ingest::schema::MIGRATIONS
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        first, all,
        "a fresh database gets every migration, in order"
    );
    assert!(second.is_empty(), "nothing left to apply: {second:?}");
    assert_eq!(
        ingest::schema::applied_versions(&client, &db.database)
            .await
            .unwrap(),
        all
    );
    let recorded = count(
        &db,
        &format!("SELECT count() FROM {}.schema_migrations", db.database),
    )
    .await;
    assert_eq!(recorded, all.len() as u64, "each version recorded once");
    let tables = count(&db, &format!("SELECT count() FROM system.tables WHERE database = '{}' AND name IN ('weighings','tag_reads')", db.database)).await;
    assert_eq!(tables, 2);
    let views = count(&db, &format!("SELECT count() FROM system.tables WHERE database = '{}' AND engine = 'View' AND name IN ('lot_day_measures','closeouts','pen_day_measures')", db.database)).await;
    assert_eq!(views, 3, "the fact views (docs/facts.md)");
}

#[tokio::test]
async fn each_event_is_stored_once_even_when_kafka_delivers_it_twice() {
    let p = pipeline("stored_once").await;
    let (shutdown, task) = start(&p.config);
    let eid = "982000000000111";
    let a = weighing("yard-a", eid, 350.0, 1);
    let b = weighing("yard-a", eid, 362.5, 11);
    let other_yard = weighing("yard-b", eid, 999.0, 5);
    let tag = Envelope::new(
        "yard-a",
        "gw-1",
        "rfid-1",
        a.captured_at,
        Event::TagRead(TagRead {
            eid: Eid::parse(eid).unwrap(),
        }),
    );
    let envelopes: Vec<Envelope> = [&a, &b, &a, &tag, &other_yard, &tag]
        .into_iter()
        .cloned()
        .collect();
    let mut messages = signed(&p.config, &envelopes).await;
    messages.push(("yard-a".into(), b"{not json".to_vec()));
    // The topic is created by ingest at start; wait until it exists before producing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    produce(&p.broker.bootstrap, &messages).await;

    assert_eq!(
        wait_for_rows(&p.db, "weighings", 3).await,
        3,
        "a, b, other yard"
    );
    assert_eq!(wait_for_rows(&p.db, "tag_reads", 1).await, 1);
    let stored_ms: Vec<u64> = p.db.client()
        .query("SELECT captured_at_ms FROM weighings FINAL WHERE feedlot_id = 'yard-a' ORDER BY captured_at_ms")
        .fetch_all()
        .await
        .unwrap();
    let expected: Vec<u64> = [&a, &b]
        .iter()
        .map(|e| e.captured_at.timestamp_millis() as u64)
        .collect();
    assert_eq!(stored_ms, expected);

    // The garbage message is in the dead-letter topic with its reason and original bytes.
    let dlq = dead_letter_reader(&p.broker.bootstrap, "dlq-reader");
    let m = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.payload().unwrap(), b"{not json");
    let reason = m
        .headers()
        .unwrap()
        .iter()
        .find(|h| h.key == "dlq.reason")
        .unwrap();
    assert!(String::from_utf8_lossy(reason.value.unwrap()).contains("undecodable"));

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_restarted_consumer_resumes_after_its_committed_offsets_without_double_counting() {
    let p = pipeline("restart_resumes").await;
    let (shutdown, task) = start(&p.config);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first: Vec<_> = (1..=5)
        .map(|d| weighing("yard-r", "840003000000001", 300.0 + f64::from(d), d))
        .collect();
    produce(&p.broker.bootstrap, &signed(&p.config, &first).await).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 5).await, 5);
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let raw_before = count(&p.db, "SELECT count() FROM weighings").await;
    let (shutdown, task) = start(&p.config);
    let more: Vec<_> = (6..=8)
        .map(|d| weighing("yard-r", "840003000000001", 300.0 + f64::from(d), d))
        .collect();
    produce(&p.broker.bootstrap, &signed(&p.config, &more).await).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 8).await, 8);
    let raw_after = count(&p.db, "SELECT count() FROM weighings").await;
    assert_eq!(
        raw_after - raw_before,
        3,
        "committed messages were not inserted again"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_row_clickhouse_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored() {
    let p = pipeline("row_refused").await;
    let admin = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: p.db.url.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&admin, &p.db.database)
        .await
        .unwrap();
    // A guard of the kind a table may carry: ClickHouse refuses one tag's weighings (code
    // 395) however often they are sent. Without isolating them, their batch would be retried
    // forever and the partition would stall.
    p.db.client()
        .query(
            "ALTER TABLE weighings ADD COLUMN guard UInt8 \
             MATERIALIZED throwIf(eid = '982000000000666')",
        )
        .execute()
        .await
        .unwrap();
    let (shutdown, task) = start(&p.config);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let refused = "982000000000666";
    let mut events: Vec<Envelope> = (0..40)
        .map(|i| {
            weighing(
                "yard-g",
                &format!("9820000000001{i:02}"),
                300.0 + f64::from(i),
                1,
            )
        })
        .collect();
    let bad = [
        weighing("yard-g", refused, 410.0, 2),
        weighing("yard-g", refused, 415.0, 3),
    ];
    events.insert(7, bad[0].clone());
    events.insert(23, bad[1].clone());
    produce(&p.broker.bootstrap, &signed(&p.config, &events).await).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 40).await, 40);

    // The partition carries on: later events are stored too.
    let later: Vec<Envelope> = (0..5)
        .map(|i| weighing("yard-g", &format!("9820000000002{i:02}"), 320.0, 4))
        .collect();
    produce(&p.broker.bootstrap, &signed(&p.config, &later).await).await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 45).await, 45);
    let stored_refused = count(
        &p.db,
        &format!(
            "SELECT count() FROM {}.weighings WHERE eid = '{refused}'",
            p.db.database
        ),
    )
    .await;
    assert_eq!(stored_refused, 0);

    // Both refused events are in the dead-letter topic, with ClickHouse's message.
    let dlq = dead_letter_reader(&p.broker.bootstrap, "dlq-reader-refused");
    let mut dead = Vec::new();
    while dead.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
            .await
            .expect("two dead letters within 30 s")
            .unwrap();
        let envelope = schemas::decode(m.payload().unwrap()).unwrap();
        let reason = m
            .headers()
            .unwrap()
            .iter()
            .find(|h| h.key == "dlq.reason")
            .map(|h| String::from_utf8_lossy(h.value.unwrap()).into_owned())
            .unwrap();
        dead.push((envelope.event_id, reason));
    }
    dead.sort();
    let mut expected = vec![bad[0].event_id, bad[1].event_id];
    expected.sort();
    assert_eq!(dead.iter().map(|d| d.0).collect::<Vec<_>>(), expected);
    for (_, reason) in &dead {
        assert!(
            reason.contains("rejected by ClickHouse (weighings)"),
            "{reason}"
        );
        assert!(reason.contains("throwIf"), "{reason}");
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
