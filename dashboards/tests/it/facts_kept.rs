//! A facts worker that resumes the replay it kept (`facts::kept`) writes exactly the rows a
//! whole replay of the same records writes: the same events go into two databases, one
//! recomputed with a kept replay, one from the first record each time, and every fact table is
//! compared after each batch.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use chrono::{DateTime, Duration, Utc};
use dashboards::facts::kept::Kept;
use dashboards::facts::rows::{
    DAY_MS, IngredientDayRow, LotDayRow, PenDayRow, SourceDayRow, YardDayRow, day_of,
};
use dashboards::facts::worker::{Recomputed, recompute, recompute_keeping, server_now};
use schemas::{Envelope, Event};
use serde_json::Value;

use crate::bench_yards::{database, insert};
use crate::facts::{big_yard, differences};

const YARD: &str = "kept-21";

/// The rows of `table` for the yard, oldest version rule applied (FINAL), as JSON.
async fn rows<T>(client: &clickhouse::Client, table: &str, order: &str) -> Value
where
    T: clickhouse::RowOwned + clickhouse::RowRead + serde::Serialize,
{
    let rows: Vec<T> = client
        .query(&format!(
            "SELECT ?fields FROM {table} FINAL WHERE feedlot_id = ? ORDER BY {order}"
        ))
        .bind(YARD)
        .fetch_all()
        .await
        .unwrap();
    serde_json::to_value(rows).unwrap()
}

/// Every fact table of the yard, by name.
async fn facts(client: &clickhouse::Client) -> Value {
    use dashboards::facts::animals::{AnimalFactRow, YardGainsRow};
    use dashboards::facts::stays::StayRow;
    serde_json::json!({
        "lot_day_facts": rows::<LotDayRow>(client, "lot_day_facts", "lot_id, day").await,
        "pen_day_facts": rows::<PenDayRow>(client, "pen_day_facts", "pen_id, day").await,
        "ingredient_day_facts":
            rows::<IngredientDayRow>(client, "ingredient_day_facts", "ingredient, day").await,
        "feed_source_day_facts": rows::<SourceDayRow>(
            client, "feed_source_day_facts", "ingredient, supplier, origin, day").await,
        "yard_day_facts": rows::<YardDayRow>(client, "yard_day_facts", "day").await,
        "animal_facts": rows::<AnimalFactRow>(client, "animal_facts", "eid").await,
        "animal_stays": rows::<StayRow>(client, "animal_stays", "eid").await,
        "yard_gains": rows::<YardGainsRow>(client, "yard_gains", "feedlot_id").await,
        "lot_mark_facts": rows::<LotDayRow>(client, "lot_mark_facts", "lot_id, day").await,
    })
}

/// Stores `events` in both databases, recomputes the kept one with `kept` and the other
/// whole, from the day of the earliest event, and compares every fact table.
async fn batch(
    dbs: [&(testkit::ClickHouseDb, clickhouse::Client); 2],
    kept: &mut Kept,
    events: &[Envelope],
    what: &str,
) -> Recomputed {
    let [(kept_db, kept_client), (whole_db, whole_client)] = dbs;
    assert!(!events.is_empty(), "{what}: no events");
    insert(kept_db, events).await;
    insert(whole_db, events).await;
    let earliest = events.iter().map(|e| e.captured_at).min().unwrap();
    let from_day = day_of(u64::try_from(earliest.timestamp_millis()).unwrap());
    let through = server_now(kept_client).await.unwrap();
    let done = recompute_keeping(kept_client, kept, YARD, Some(from_day), through)
        .await
        .unwrap();
    let whole = recompute(whole_client, YARD, Some(from_day), through)
        .await
        .unwrap();
    assert!(!whole.resumed);
    assert_eq!(done.rows, whole.rows, "{what}: rows written");
    let (a, b) = (facts(kept_client).await, facts(whole_client).await);
    let mut out = Vec::new();
    differences(&a, &b, "", &mut out);
    assert!(
        out.is_empty(),
        "{what}: {} differences: {:?}",
        out.len(),
        &out[..out.len().min(10)]
    );
    assert!(
        a["lot_day_facts"].as_array().unwrap().len() > 100,
        "{what}: {a:.0}"
    );
    done
}

#[tokio::test]
async fn a_worker_resuming_its_kept_replay_writes_the_rows_a_whole_replay_writes() {
    let kept_db = database("facts_kept_resumed").await;
    let whole_db = database("facts_kept_whole").await;
    let dbs = [&kept_db, &whole_db];
    // A yard whose records run to yesterday, so the kept day ends (the two before today) are
    // the ones a recompute of yesterday's or today's records resumes after.
    let today_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap() / DAY_MS * DAY_MS;
    let today = DateTime::<Utc>::from_timestamp_millis(i64::try_from(today_ms).unwrap()).unwrap();
    let size = big_yard::Size {
        head: 600,
        days: 60,
        head_per_lot: 60,
    };
    let yard = big_yard::generate_from(YARD, size, 21, today - Duration::days(60));
    let day = |back: i64| today - Duration::days(back);
    let of = |keep: &dyn Fn(&Envelope) -> bool| -> Vec<Envelope> {
        yard.events.iter().filter(|e| keep(e)).cloned().collect()
    };
    // The day before yesterday's weighings, deliveries and deaths arrive late.
    let late = |e: &Envelope| {
        e.captured_at >= day(2)
            && e.captured_at < day(1)
            && matches!(
                e.event,
                Event::Weighing(_) | Event::FeedDelivery(_) | Event::Death(_)
            )
    };
    // Yesterday in three parts: the morning feeding's first pens (07:02-07:02:30), the rest of
    // the morning, the afternoon feeding (from 15:00).
    let noon = day(1) + Duration::seconds(7 * 3_600 + 2 * 60 + 30);
    let evening = day(1) + Duration::hours(12);
    let mut kept = Kept::new(1_000_000);

    let first = batch(
        dbs,
        &mut kept,
        &of(&|e| e.captured_at < day(1) && !late(e)),
        "first",
    )
    .await;
    assert!(!first.resumed, "nothing kept yet: a whole replay");
    assert_eq!(kept.len(), 1);
    let morning = of(&|e| e.captured_at >= day(1) && e.captured_at < noon);
    let resumed = batch(dbs, &mut kept, &morning, "yesterday morning").await;
    assert!(
        resumed.resumed,
        "yesterday's records resume after the day before's end"
    );
    let afternoon = of(&|e| e.captured_at >= noon && e.captured_at < evening);
    let again = batch(dbs, &mut kept, &afternoon, "yesterday afternoon").await;
    assert!(
        again.resumed,
        "and again from the replay the last recompute kept"
    );
    let older = batch(dbs, &mut kept, &of(&late), "late records of the day before").await;
    assert!(
        !older.resumed,
        "a change before the kept days replays the whole history"
    );
    let last = batch(
        dbs,
        &mut kept,
        &of(&|e| e.captured_at >= evening),
        "yesterday evening",
    )
    .await;
    assert!(last.resumed);
    // Another worker recomputes the yard (a higher version): this one's kept replay no longer
    // serves, and the next recompute replays the whole history.
    let (_, kept_client) = &kept_db;
    let through = server_now(kept_client).await.unwrap() + 1;
    recompute(kept_client, YARD, Some(day_of(today_ms) - 1), through)
        .await
        .unwrap();
    let after = recompute_keeping(
        kept_client,
        &mut kept,
        YARD,
        Some(day_of(today_ms)),
        through + 1,
    )
    .await
    .unwrap();
    assert!(!after.resumed, "another worker wrote in between");
}
