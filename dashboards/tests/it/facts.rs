//! The daily facts (docs/facts.md) against the replay they replace: the same measures on a
//! generated yard at many moments, head that balances on every lot-day and in every pen, and a
//! gateway's late records correcting the days they touch, through the facts worker over real
//! ClickHouse.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

#[path = "../../benches/support/big_yard/mod.rs"]
#[allow(dead_code)]
pub mod big_yard;

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::analytics::{Settings, YardReport};
use dashboards::facts::Worker;
use schemas::{Arrival, Death, Eid, Envelope, Event, FeedDelivery, Placement, Ration};
use serde_json::Value;

use crate::bench_yards::{database, insert};

/// Where two JSON values differ (numbers compared to 1e-9 of their size), by path.
pub fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0) {
                out.push(format!("{path}: {x} vs {y}"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
}

/// Fails unless the report from the facts is the replay's, field by field.
pub fn assert_same(facts: &YardReport, replayed: &YardReport, what: &str) {
    let mut out = Vec::new();
    differences(
        &serde_json::to_value(facts).unwrap(),
        &serde_json::to_value(replayed).unwrap(),
        "report",
        &mut out,
    );
    assert!(
        out.is_empty(),
        "{what}: facts and replay differ:\n{}",
        out.join("\n")
    );
}

/// Both reports of `feedlot` as of `at`: from the facts, and replayed from the records.
pub async fn both(
    client: &clickhouse::Client,
    feedlot: &str,
    at: DateTime<Utc>,
) -> (YardReport, YardReport) {
    let ms = at.timestamp_millis() as u64;
    let s = Settings::default();
    let facts = dashboards::facts::yard_report(client, feedlot, ms, &s)
        .await
        .unwrap();
    let replayed = dashboards::analytics::yard_report(client, feedlot, ms, &s)
        .await
        .unwrap();
    (facts, replayed)
}

/// A worker over `client` that takes changes a second after they are stored.
pub fn worker(client: &clickhouse::Client) -> Worker {
    let config = dashboards::config::FactsConfig {
        settle_secs: 1,
        ..Default::default()
    };
    Worker::new(
        client.clone(),
        config,
        dashboards::telemetry::Metrics::new(),
    )
}

/// Runs worker rounds until one recomputes nothing and the last change has settled.
pub async fn settle(worker: &mut Worker) -> usize {
    let mut made = 0;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    loop {
        let n = worker.round().await.unwrap();
        made += n;
        if n == 0 {
            return made;
        }
    }
}

#[tokio::test]
async fn a_generated_yard_reads_the_same_from_facts_as_from_the_replay_and_its_head_balances() {
    let (db, client) = database("facts_generated_yard").await;
    let size = big_yard::Size {
        head: 1_200,
        days: 90,
        head_per_lot: 80,
    };
    let mut yards = Vec::new();
    for seed in [7_u64, 11, 23] {
        let yard = big_yard::generate(&format!("gen-{seed}"), size, seed);
        insert(&db, &yard.events).await;
        yards.push(yard);
    }
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 3, "each yard once");

    for yard in &yards {
        let f = &yard.feedlot_id;
        let mut moments: Vec<DateTime<Utc>> = (0..=size.days)
            .step_by(9)
            .map(|d| yard.start + Duration::days(i64::from(d)) - Duration::milliseconds(1))
            .collect();
        moments.push(yard.end);
        moments.push(Utc::now());
        for at in moments {
            let (facts, replayed) = both(&client, f, at).await;
            assert_same(&facts, &replayed, &format!("{f} as of {at}"));
        }
        let (facts, _) = both(&client, f, yard.end).await;
        let closed = facts.lots.iter().filter(|l| l.status == "closed").count();
        assert_eq!(closed, yard.totals.closed_lots, "{f}");
        assert!(
            closed > 0 && closed < facts.lots.len(),
            "open and closed lots"
        );
    }

    // Head balances on every lot-day: in = on hand + dead + shipped, never below zero, and the
    // pens hold each lot's head on hand.
    let (lot_days, unbalanced): (u64, u64) = client
        .query(
            "SELECT count(), countIf(head_in != head_on_hand + head_dead + head_shipped \
             OR head_on_hand < 0) FROM lot_day_facts FINAL",
        )
        .fetch_one()
        .await
        .unwrap();
    assert!(lot_days > 1_000, "{lot_days} lot-days");
    assert_eq!(unbalanced, 0);
    let misplaced: u64 = client
        .query(
            "SELECT count() FROM (\
               SELECT feedlot_id, lot_id, day, head_on_hand FROM lot_day_facts FINAL) AS lots \
             ANY LEFT JOIN (\
               SELECT feedlot_id, lot_id, day, sum(head) AS in_pens FROM (\
                 SELECT feedlot_id, day, lot_id, head FROM pen_day_facts FINAL \
                 ARRAY JOIN lots AS lot_id, lot_head AS head) \
               GROUP BY feedlot_id, lot_id, day) AS pens USING feedlot_id, lot_id, day \
             WHERE in_pens != head_on_hand",
        )
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(misplaced, 0, "lot-days whose pens do not hold their head");
}

#[tokio::test]
async fn a_lots_cost_by_days_on_feed_is_its_measures_at_every_30_days_beside_the_other_lots() {
    use crate::two_yards::{bearer, get, site};
    let (db, client) = database("facts_cost_by_dof").await;
    let size = big_yard::Size {
        head: 800,
        days: 120,
        head_per_lot: 80,
    };
    let yard = big_yard::generate("gen-dof", size, 5);
    crate::bench_yards::store(&db, &yard.events).await;
    let s = Settings::default();
    let end = yard.end.timestamp_millis() as u64;
    let marks = dashboards::facts::read::by_days_on_feed(&client, "gen-dof", end, &s)
        .await
        .unwrap();
    assert!(marks.len() >= 10, "{marks:?}");
    for m in &marks {
        assert_eq!(m.days_on_feed % 30, 0);
        // The lot's report as of that day's end says the same.
        let report = dashboards::facts::yard_report(&client, "gen-dof", m.at_ms - 1, &s)
            .await
            .unwrap();
        let lot = report.lots.iter().find(|l| l.lot_id == m.lot_id).unwrap();
        let cost = lot.total_cost_per_head_minor.unwrap();
        assert!(
            (m.cost_per_head_minor.unwrap() - cost).abs() < 1e-6 * cost,
            "{m:?} vs {cost}"
        );
        assert_eq!(
            m.cost_of_gain_per_kg_minor.is_some(),
            lot.cost_of_gain_per_kg_minor.is_some()
        );
        // Marks are days after the arrival day: about the lot's days on feed then.
        assert!(
            (lot.days_on_feed - f64::from(m.days_on_feed)).abs() <= 1.0,
            "{m:?}"
        );
    }

    // The API, the lot's page and its CSV, for a user of the yard (US units by default).
    const TOKEN: &str = "dof-token-0123456789-abcdef";
    let web = dashboards::config::WebConfig {
        users: vec![dashboards::config::WebUserConfig {
            name: "dof".into(),
            token_sha256: dashboards::web::auth::hash_token(TOKEN),
            feedlots: vec!["gen-dof".into()],
        }],
        ..Default::default()
    };
    let app = site(&client, &web);
    let auth = bearer(TOKEN);
    let lot = &marks[0].lot_id;
    let as_of = yard.end.format("%Y-%m-%dT%H:%M:%SZ");
    let api = get(
        &app,
        &format!("/api/feedlots/gen-dof/lots/{lot}/by-dof?as_of={as_of}"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let api: Value = serde_json::from_str(&api.body).unwrap();
    let mine: Vec<&dashboards::facts::read::DofMark> =
        marks.iter().filter(|m| &m.lot_id == lot).collect();
    let shown = api["marks"].as_array().unwrap();
    assert_eq!(shown.len(), mine.len());
    for (row, m) in shown.iter().zip(&mine) {
        assert_eq!(row["days_on_feed"], m.days_on_feed);
        let others: Vec<f64> = marks
            .iter()
            .filter(|o| &o.lot_id != lot && o.days_on_feed == m.days_on_feed)
            .filter_map(|o| o.cost_per_head_minor)
            .collect();
        assert_eq!(row["others"].as_u64().unwrap() as usize, others.len());
    }
    let page = get(
        &app,
        &format!("/feedlots/gen-dof/lots/{lot}?as_of={as_of}"),
        &[("authorization", &auth)],
    )
    .await;
    assert!(page.body.contains("<table id=\"by-dof\">"), "{}", page.body);
    assert!(
        page.body.contains("<svg id=\"by-dof-chart\""),
        "{}",
        page.body
    );
    let first = format!(
        "<td data-key=\"cost_head\">{:.2}</td>",
        mine[0].cost_per_head_minor.unwrap() / 100.0
    );
    assert!(page.body.contains(&first), "{first}: {}", page.body);
    let csv = get(
        &app,
        &format!("/feedlots/gen-dof/lots/{lot}/by-dof.csv?as_of={as_of}"),
        &[("authorization", &auth)],
    )
    .await;
    assert!(
        csv.body
            .starts_with("dof,head,cost_head,feeding_head,cog_per_cwt,"),
        "{}",
        csv.body
    );
    let unknown = get(
        &app,
        "/api/feedlots/gen-dof/lots/NOPE/by-dof",
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(unknown.status, 404);

    // The marks kept in `lot_mark_facts` are the lot-day rows at the marks, read from every
    // lot-day as the page did before they were kept.
    assert_eq!(
        keys(&marks),
        marks_in_day_rows(&client, "gen-dof", end).await
    );
    // A yard whose facts were made before the marks were kept: its next recompute, from a
    // late day, copies them from its day rows.
    client
        .query("TRUNCATE TABLE lot_mark_facts")
        .execute()
        .await
        .unwrap();
    let none = dashboards::facts::read::by_days_on_feed(&client, "gen-dof", end, &s)
        .await
        .unwrap();
    assert!(none.is_empty());
    let late = (yard.end - Duration::days(1)).timestamp_millis() as u64;
    let now = dashboards::facts::worker::server_now(&client)
        .await
        .unwrap();
    dashboards::facts::recompute(&client, "gen-dof", Some((late / 86_400_000) as u16), now)
        .await
        .unwrap();
    let copied = dashboards::facts::read::by_days_on_feed(&client, "gen-dof", end, &s)
        .await
        .unwrap();
    assert_eq!(copied, marks);

    // Cattle recorded late into the lot, arrived three days before it: every mark of the lot
    // moves three days earlier, and the old ones are gone.
    let first = yard
        .events
        .iter()
        .filter(|e| matches!(&e.event, Event::Arrival(a) if &a.lot_id == lot))
        .min_by_key(|e| e.captured_at)
        .unwrap()
        .clone();
    let Event::Arrival(mut earlier) = first.event.clone() else {
        unreachable!()
    };
    earlier.head_count = 5;
    earlier.pay_weight_kg = 5.0 * 250.0;
    let early = Envelope::new(
        "gen-dof",
        &first.gateway_id,
        "office",
        first.captured_at - Duration::days(3),
        Event::Arrival(earlier),
    );
    // Stored a second after the recompute above took in the changes up to its second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    insert(&db, &[early]).await;
    let mut w = worker(&client);
    assert!(settle(&mut w).await > 0);
    let moved = dashboards::facts::read::by_days_on_feed(&client, "gen-dof", end, &s)
        .await
        .unwrap();
    let (before, after): (Vec<_>, Vec<_>) = (
        marks.iter().filter(|m| &m.lot_id == lot).collect(),
        moved.iter().filter(|m| &m.lot_id == lot).collect(),
    );
    assert!(!after.is_empty());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a.days_on_feed, b.days_on_feed);
        assert_eq!(a.at_ms + 3 * 86_400_000, b.at_ms, "{a:?} {b:?}");
    }
    assert_eq!(
        keys(&moved),
        marks_in_day_rows(&client, "gen-dof", end).await
    );
    let others = |v: &[dashboards::facts::read::DofMark]| -> Vec<(String, u64)> {
        keys(v).into_iter().filter(|(l, _)| l != lot).collect()
    };
    assert_eq!(others(&moved), others(&marks));
}

/// Each mark's (lot, day end).
fn keys(marks: &[dashboards::facts::read::DofMark]) -> Vec<(String, u64)> {
    marks.iter().map(|m| (m.lot_id.clone(), m.at_ms)).collect()
}

/// The (lot, day end) of every lot-day row at a mark of 30 days on feed up to `as_of_ms`'s
/// day, from `lot_day_facts`.
async fn marks_in_day_rows(
    client: &clickhouse::Client,
    yard: &str,
    as_of_ms: u64,
) -> Vec<(String, u64)> {
    let rows: Vec<(String, u64)> = client
        .query(
            "SELECT lot_id, through_ms FROM lot_day_facts FINAL WHERE feedlot_id = ? \
             AND toUInt64(day) > intDiv(arrived_ms, 86400000) \
             AND (toUInt64(day) - intDiv(arrived_ms, 86400000)) % 30 = 0 ORDER BY lot_id, day",
        )
        .bind(yard)
        .fetch_all()
        .await
        .unwrap();
    let last_end = (as_of_ms / 86_400_000 + 1) * 86_400_000;
    rows.into_iter().filter(|(_, t)| *t <= last_end).collect()
}

const YARD: &str = "yard-late";

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap() + Duration::days(d)
}

fn env(when: DateTime<Utc>, event: Event) -> Envelope {
    Envelope::new(YARD, "gw-1", "office", when, event)
}

fn eid(n: u32) -> Eid {
    Eid::parse(&format!("98200000001{n:04}")).unwrap()
}

fn delivery(d: i64) -> Envelope {
    env(
        day(d) + Duration::hours(7),
        Event::FeedDelivery(FeedDelivery {
            pen_id: "P1".into(),
            ration_id: "R".into(),
            target_kg: 100.0,
            delivered_kg: 100.0,
            truck_id: "T1".into(),
            operator: "sam".into(),
        }),
    )
}

/// A lot of 4 head placed on day 0 in P1, fed 100 kg a day on days 0-2.
fn first_records() -> Vec<Envelope> {
    let mut first = vec![
        env(
            day(0),
            Event::Arrival(Arrival {
                lot_id: "L1".into(),
                head_count: 4,
                origin: "NE".into(),
                source: None,
                pen_id: Some("P1".into()),
                pay_weight_kg: 1_200.0,
                pay_weight_per_head_kg: None,
                shrink_pct: 0.0,
                purchase_price_minor: 400_000,
                currency: "USD".into(),
            }),
        ),
        env(
            day(0),
            Event::Ration(Ration {
                ration_id: "R".into(),
                ingredients: vec![schemas::RationIngredient {
                    ingredient: "corn".into(),
                    inclusion_as_fed_pct: 100.0,
                    dry_matter_pct: 85.0,
                }],
            }),
        ),
    ];
    for n in 1..=4 {
        first.push(env(
            day(0) + Duration::hours(1),
            Event::Placement(Placement {
                eid: eid(n),
                lot_id: "L1".into(),
                pen_id: "P1".into(),
                sex: None,
                breed: None,
            }),
        ));
    }
    first.extend((0..3).map(delivery));
    first
}

#[tokio::test]
async fn a_gateway_back_after_a_week_offline_corrects_the_days_it_missed_once() {
    let (db, client) = database("facts_late_records").await;
    insert(&db, &first_records()).await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);
    let version_before: u64 = client
        .query("SELECT max(version) FROM lot_day_facts FINAL WHERE day = toDate(?)")
        .bind(day(1).format("%Y-%m-%d").to_string())
        .fetch_one()
        .await
        .unwrap();

    // The gateway comes back: a death on day 3 and a week of deliveries it held.
    let mut late: Vec<Envelope> = (3..10).map(delivery).collect();
    late.push(env(
        day(3) + Duration::hours(12),
        Event::Death(Death {
            eid: eid(2),
            cause: "BRD".into(),
            lot_id: Some("L1".into()),
            pen_id: Some("P1".into()),
        }),
    ));
    insert(&db, &late).await;
    // Stored twice, as a redelivery would: still one recompute, the same measures.
    insert(&db, &late).await;
    assert_eq!(settle(&mut worker).await, 1, "one recompute for the change");
    assert_eq!(settle(&mut worker).await, 0, "nothing left to do");

    // Days before the earliest late record keep their rows; from day 3 on they are rewritten.
    let versions: Vec<(u16, u64)> = client
        .query(
            "SELECT toUInt16(day), version FROM lot_day_facts FINAL \
             WHERE feedlot_id = ? ORDER BY day",
        )
        .bind(YARD)
        .fetch_all()
        .await
        .unwrap();
    let day3 = (day(3).timestamp() / 86_400) as u16;
    for (d, v) in &versions {
        if *d < day3 {
            assert_eq!(*v, version_before, "day {d} kept");
        } else {
            assert!(*v > version_before, "day {d} rewritten");
        }
    }
    for d in [2, 3, 5, 9] {
        let at = day(d + 1) - Duration::milliseconds(1);
        let (facts, replayed) = both(&client, YARD, at).await;
        assert_same(&facts, &replayed, &format!("as of day {d}"));
        let lot = &facts.lots[0];
        assert_eq!(lot.head_dead, u32::from(d >= 3), "day {d}");
        assert!(
            (lot.as_fed_kg - 100.0 * (d + 1) as f64).abs() < 1e-9,
            "day {d}"
        );
    }
    let deaths_on_day_3: u64 = client
        .query("SELECT sum(day_head_dead) FROM lot_day_facts FINAL WHERE feedlot_id = ?")
        .bind(YARD)
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(deaths_on_day_3, 1, "the death counted once, on its day");
}

#[tokio::test]
async fn a_change_visible_only_after_its_yard_moved_past_its_second_is_still_counted() {
    let (db, client) = database("facts_late_visible").await;
    insert(&db, &first_records()).await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);
    let through: u32 = client
        .query(
            "SELECT toUInt32(max(through_recorded_at)) FROM fact_state FINAL WHERE feedlot_id = ?",
        )
        .bind(YARD)
        .fetch_one()
        .await
        .unwrap();

    // A death stored by an insert that took longer than the settling time: its change carries
    // a second the yard's facts are already past when it becomes visible.
    let death = env(
        day(1) + Duration::hours(9),
        Event::Death(Death {
            eid: eid(3),
            cause: "BRD".into(),
            lot_id: Some("L1".into()),
            pen_id: Some("P1".into()),
        }),
    );
    let mut rows = ingest::sink::Rows::default();
    rows.push(&death);
    let ingest_client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        database: db.database.clone(),
        ..Default::default()
    })
    .with_database(&db.database);
    ingest::sink::insert_table(&ingest_client, "deaths", &rows.deaths)
        .await
        .unwrap();
    client
        .query(
            "INSERT INTO fact_changes (feedlot_id, earliest_captured_ms, records, recorded_at) \
             VALUES (?, ?, 1, toDateTime(?))",
        )
        .bind(YARD)
        .bind(death.captured_at.timestamp_millis() as u64)
        .bind(through - 1)
        .execute()
        .await
        .unwrap();

    assert_eq!(
        settle(&mut worker).await,
        1,
        "the late change is recomputed"
    );
    assert_eq!(settle(&mut worker).await, 0, "once");
    // Facts are day-end states: compared at the end of the death's day.
    let at = day(2) - Duration::milliseconds(1);
    let (facts, replayed) = both(&client, YARD, at).await;
    assert_same(&facts, &replayed, "after the late change");
    assert_eq!(facts.lots[0].head_dead, 1, "the death is in the facts");
}

/// Which of a generated yard's records are stored at one moment.
type Stage<'a> = dyn Fn(&big_yard::BigYard, &Envelope) -> bool + 'a;

/// `feedlot`'s herd summary read from `animal_facts` equals the one made from the weighings and
/// placements (`queries::herd_summary`), every animal and field, exactly.
async fn assert_same_herd(client: &clickhouse::Client, feedlot: &str, what: &str) -> usize {
    let facts = dashboards::facts::animals::herd(client, feedlot)
        .await
        .unwrap();
    let summary = dashboards::queries::herd_summary(client, feedlot)
        .await
        .unwrap();
    assert_eq!(facts.len(), summary.len(), "{what}: animals");
    for (f, s) in facts.iter().zip(&summary) {
        assert_eq!(f, s, "{what}: {}", s.eid);
    }
    // A lot's animals read alone (its rows and the yard's gains, what the lot page reads) are
    // the whole herd's animals of that lot, with the same ranks in the lot and in the yard.
    let lots: std::collections::BTreeSet<&str> =
        facts.iter().filter_map(|a| a.lot_id.as_deref()).collect();
    assert!(!lots.is_empty(), "{what}: no lot");
    for lot in lots {
        let alone = dashboards::facts::animals::lot_herd(client, feedlot, lot)
            .await
            .unwrap();
        assert_eq!(
            alone,
            dashboards::queries::of_lot(&facts, lot),
            "{what}: lot {lot}"
        );
    }
    facts.len()
}

/// Who is in each pen read from `animal_stays` equals the replay of `yard`'s stored movements
/// (`queries::whereabouts::pens_on`, what the pens page read before) at several days' ends,
/// every pen and EID; returns how many animals were in pens on each of those days.
async fn assert_same_pens(
    client: &clickhouse::Client,
    yard: &big_yard::BigYard,
    what: &str,
) -> Vec<usize> {
    use dashboards::queries::whereabouts;
    let mut in_pens = Vec::new();
    for d in [0, 10, 35, 41, 44, 59, 75, 89, 120] {
        let ms = u64::try_from((yard.start + Duration::days(d)).timestamp_millis()).unwrap();
        let at = whereabouts::end_of_day_ms(ms);
        let from_facts = dashboards::facts::stays::pens_at(client, &yard.feedlot_id, at)
            .await
            .unwrap();
        let replayed = whereabouts::pens_on(client, &yard.feedlot_id, at)
            .await
            .unwrap();
        assert_eq!(
            from_facts, replayed,
            "{what}: who is in each pen on day {d}"
        );
        in_pens.push(from_facts.values().map(Vec::len).sum());
    }
    in_pens
}

#[tokio::test]
async fn the_herd_read_from_animal_facts_equals_the_summary_of_the_weighings_as_records_arrive() {
    let (db, client) = database("facts_animal_herd").await;
    let size = big_yard::Size {
        head: 1_200,
        days: 90,
        head_per_lot: 80,
    };
    let yards: Vec<_> = [5_u64, 13]
        .iter()
        .map(|seed| big_yard::generate(&format!("herd-{seed}"), size, *seed))
        .collect();
    // Three moments: the first 30 days; days 30-60 without the weighings and placements of
    // days 40-45 (a gateway offline); those late records with days 60-90.
    let day = |yard: &big_yard::BigYard, d: i64| yard.start + Duration::days(d);
    let late = |yard: &big_yard::BigYard, e: &Envelope| {
        matches!(e.event, Event::Weighing(_) | Event::Placement(_))
            && e.captured_at >= day(yard, 40)
            && e.captured_at < day(yard, 45)
    };
    let stages: [&Stage<'_>; 3] = [
        &|y, e| e.captured_at < day(y, 30),
        &|y, e| e.captured_at >= day(y, 30) && e.captured_at < day(y, 60) && !late(y, e),
        &|y, e| e.captured_at >= day(y, 60) || late(y, e),
    ];
    let mut worker = worker(&client);
    let mut herds = Vec::new();
    for (stage, keep) in stages.iter().enumerate() {
        for yard in &yards {
            let events: Vec<Envelope> = yard
                .events
                .iter()
                .filter(|e| keep(yard, e))
                .cloned()
                .collect();
            insert(&db, &events).await;
        }
        assert_eq!(settle(&mut worker).await, yards.len(), "stage {stage}");
        for yard in &yards {
            let f = &yard.feedlot_id;
            herds.push(assert_same_herd(&client, f, &format!("{f} at stage {stage}")).await);
            let in_pens = assert_same_pens(&client, yard, &format!("{f} at stage {stage}")).await;
            assert!(in_pens.iter().any(|n| *n > 0), "{f}: no one in a pen");
        }
    }
    assert!(
        herds[0] > 0 && herds[0] < herds[4],
        "the herd grows: {herds:?}"
    );
    assert!(herds[4] >= 1_000, "{herds:?}");
    // A later recompute rewrites only the animals its change touches: the last stage's change
    // (from day 40) rewrote fewer than all.
    let versions: u64 = client
        .query("SELECT uniqExact(version) FROM animal_facts FINAL WHERE feedlot_id = ?")
        .bind(&yards[0].feedlot_id)
        .fetch_one()
        .await
        .unwrap();
    assert!(versions >= 2, "rows of more than one recompute: {versions}");
    // So do the stays; and animals moved (hospital pens and back, whole lots) have several.
    let (versions, moved): (u64, u64) = client
        .query(
            "SELECT uniqExact(version), countIf(length(pen_ids) > 1) FROM animal_stays FINAL \
             WHERE feedlot_id = ?",
        )
        .bind(&yards[0].feedlot_id)
        .fetch_one()
        .await
        .unwrap();
    assert!(
        versions >= 2,
        "stays of more than one recompute: {versions}"
    );
    assert!(moved > 0, "no animal moved");
    // A rebuild from the first record writes the same herd and stays.
    dashboards::facts::worker::rebuild(&client, &[yards[0].feedlot_id.clone()])
        .await
        .unwrap();
    assert_same_herd(&client, &yards[0].feedlot_id, "after a rebuild").await;
    assert_same_pens(&client, &yards[0], "after a rebuild").await;
    // Facts made before `yard_gains`: a lot's animals are ranked from every animal's row.
    client
        .query("TRUNCATE TABLE yard_gains")
        .execute()
        .await
        .unwrap();
    assert_same_herd(&client, &yards[0].feedlot_id, "without yard_gains").await;
}

/// Stores a change of `yard` recorded at `at` (UTC, `YYYY-MM-DD hh:mm:ss`) in `fact_changes`,
/// and, with `made_through`, its facts' state made through that second.
pub async fn change_at(
    client: &clickhouse::Client,
    yard: &str,
    at: &str,
    made_through: Option<&str>,
) {
    client
        .query(
            "INSERT INTO fact_changes (feedlot_id, earliest_captured_ms, records, recorded_at) \
             VALUES (?, 0, 1, toDateTime(?, 'UTC'))",
        )
        .bind(yard)
        .bind(at)
        .execute()
        .await
        .unwrap();
    if let Some(through) = made_through {
        client
            .query(
                "INSERT INTO fact_state (feedlot_id, through_recorded_at, through_day, \
                 computed_at_ms, version) VALUES (?, toDateTime(?, 'UTC'), today(), 0, \
                 toUInt64(toDateTime(?, 'UTC')) * 1000)",
            )
            .bind(yard)
            .bind(through)
            .bind(through)
            .execute()
            .await
            .unwrap();
    }
}

/// The months (`YYYYMM`) `fact_changes` holds.
pub async fn change_months(client: &clickhouse::Client) -> Vec<u32> {
    client
        .query("SELECT DISTINCT toUInt32(toYYYYMM(recorded_at)) AS m FROM fact_changes ORDER BY m")
        .fetch_all()
        .await
        .unwrap()
}

#[tokio::test]
async fn old_months_of_fact_changes_are_dropped_once_their_changes_are_in_the_facts() {
    let (_db, client) = database("facts_retention").await;
    // March: yard-a's change is in its facts, yard-b's never made. April: yard-a's alone, in.
    // May: yard-c's change after its facts were made. July: yard-a's, recent.
    change_at(&client, "yard-a", "2026-03-10 10:00:00", None).await;
    change_at(&client, "yard-b", "2026-03-20 10:00:00", None).await;
    change_at(&client, "yard-a", "2026-04-10 10:00:00", None).await;
    change_at(
        &client,
        "yard-c",
        "2026-05-10 10:00:00",
        Some("2026-05-01 00:00:00"),
    )
    .await;
    change_at(
        &client,
        "yard-a",
        "2026-07-20 10:00:00",
        Some("2026-04-30 00:00:00"),
    )
    .await;
    assert_eq!(
        change_months(&client).await,
        [202603, 202604, 202605, 202607]
    );

    // On 2026-08-15 with the default 62 days kept, the months that ended before 2026-06-14
    // may go: only April has every change in the facts.
    let now_ms = Utc
        .with_ymd_and_hms(2026, 8, 15, 12, 0, 0)
        .unwrap()
        .timestamp_millis() as u64;
    let mut worker = worker(&client);
    assert_eq!(worker.drop_old_changes(now_ms).await, [202604]);
    assert_eq!(change_months(&client).await, [202603, 202605, 202607]);

    // yard-b's and yard-c's facts are made: March and May may go, though not before the
    // worker's next look an hour later.
    change_at(
        &client,
        "yard-b",
        "2026-03-20 10:00:00",
        Some("2026-03-31 00:00:00"),
    )
    .await;
    change_at(
        &client,
        "yard-c",
        "2026-05-10 10:00:00",
        Some("2026-05-10 10:00:00"),
    )
    .await;
    assert!(
        worker.drop_old_changes(now_ms).await.is_empty(),
        "an hour later"
    );
    let table = dashboards::facts::retention::ChangesTable::default();
    let dropped = dashboards::facts::retention::drop_old_changes(&client, &table, now_ms, 62)
        .await
        .unwrap();
    assert_eq!(dropped, [202603, 202605]);
    assert_eq!(change_months(&client).await, [202607]);
    // July is recent: kept with everything in the facts.
    let later = dashboards::facts::retention::drop_old_changes(&client, &table, now_ms, 62)
        .await
        .unwrap();
    assert!(later.is_empty());
}
