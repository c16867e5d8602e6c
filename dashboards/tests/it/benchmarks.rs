//! Benchmark bands over real ClickHouse: the rollup pools a yard's closed lots (built from wire
//! events) into its KPI row and recomputes only yards with new records, and runs inside
//! `dashboards serve` beside the consumer on events sent through Kafka; the bands are
//! interpolated quantiles (type 7, weights kept within ¼..¾) of the other registered yards,
//! worked out by hand below; a set under 10 other yards, or one yard away from a published
//! one, is hidden without a count; only the registry places a yard.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::bench_yards;
use crate::support;

use bench_yards::{ME, REMOVED, SPOOF, database, store, store_yards, yards};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::analytics::Settings;
use dashboards::benchmarks::{AreaRule, Band, Benchmarks, Hidden, Rollup, YardKpis, benchmarks};
use schemas::{
    Arrival, Death, Eid, Envelope, Event, FeedDelivery, FeedPurchase, Placement, Ration,
    RationIngredient, Shipment, YardageRate,
};

const DAY_MS: u64 = 86_400_000;

/// Day `d` of the test at midnight UTC (day 0 = 2025-01-01).
fn at(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::days(d)
}

fn ms(d: i64) -> u64 {
    u64::try_from(at(d).timestamp_millis()).unwrap()
}

fn env(yard: &str, d: i64, event: Event) -> Envelope {
    Envelope::new(yard, "gw-1", "office", at(d), event)
}

fn arrival(yard: &str, d: i64, lot: &str, head: u32, pen: &str, pay_kg: f64) -> Envelope {
    let event = Event::Arrival(Arrival {
        lot_id: lot.into(),
        head_count: head,
        origin: "Cherry County, NE".into(),
        source: None,
        pen_id: Some(pen.into()),
        pay_weight_kg: pay_kg,
        pay_weight_per_head_kg: None,
        shrink_pct: 0.0,
        purchase_price_minor: 100_000,
        currency: "USD".into(),
    });
    env(yard, d, event)
}

fn shipment(yard: &str, d: i64, lot: &str, head: u32, kg: f64) -> Envelope {
    let event = Event::Shipment(Shipment {
        lot_id: lot.into(),
        head_count: head,
        buyer: "Tyson".into(),
        weight_per_head_kg: None,
        weight_kg: kg,
        price_minor: 1_000_000,
        currency: "USD".into(),
        eids: Vec::new(),
    });
    env(yard, d, event)
}

fn delivery(yard: &str, d: i64, pen: &str, kg: f64) -> Envelope {
    let event = Event::FeedDelivery(FeedDelivery {
        pen_id: pen.into(),
        ration_id: "R".into(),
        target_kg: kg,
        delivered_kg: kg,
        truck_id: "T1".into(),
        operator: "sam".into(),
    });
    env(yard, d, event)
}

/// Yard R: corn only (85 % DM, 20 c/kg), yardage 50 c/head/day.
/// - L0: 3 head, day 0 -> shipped day 30 (closed before the window: left out).
/// - L1: 10 head at 300 kg in P1 day 0; one dies day 50; 9 shipped day 100 at 4,500 kg.
///   Fed 9 × 1,000 kg as fed (days 10..90).
/// - L2: 5 head at 350 kg in P2 day 10; 5 shipped day 120 at 2,750 kg. Fed 10 × 500 kg.
/// - L3: 4 head in P3 day 200, still on feed (open: left out).
fn yard_r() -> Vec<Envelope> {
    let y = "yard-r";
    let eid = Eid::parse("982000000000001").unwrap();
    let mut events = vec![
        env(
            y,
            0,
            Event::YardageRate(YardageRate {
                per_head_per_day_minor: 50,
                currency: "USD".into(),
                lot_id: None,
            }),
        ),
        env(
            y,
            0,
            Event::Ration(Ration {
                ration_id: "R".into(),
                ingredients: vec![RationIngredient {
                    ingredient: "corn".into(),
                    inclusion_as_fed_pct: 100.0,
                    dry_matter_pct: 85.0,
                }],
            }),
        ),
        env(
            y,
            0,
            Event::FeedPurchase(FeedPurchase {
                ingredient: "corn".into(),
                supplier: "A".into(),
                origin: "Platte".into(),
                quantity_kg: 100_000.0,
                price_minor: 2_000_000,
                currency: "USD".into(),
                dry_matter_pct: 85.0,
            }),
        ),
        arrival(y, 0, "L0", 3, "P9", 900.0),
        shipment(y, 30, "L0", 3, 1_200.0),
        arrival(y, 0, "L1", 10, "P1", 3_000.0),
        env(
            y,
            0,
            Event::Placement(Placement {
                eid: eid.clone(),
                lot_id: "L1".into(),
                pen_id: "P1".into(),
                sex: None,
                breed: None,
            }),
        ),
        env(
            y,
            50,
            Event::Death(Death {
                eid,
                cause: "BRD".into(),
                lot_id: Some("L1".into()),
                pen_id: Some("P1".into()),
            }),
        ),
        shipment(y, 100, "L1", 9, 4_500.0),
        arrival(y, 10, "L2", 5, "P2", 1_750.0),
        shipment(y, 120, "L2", 5, 2_750.0),
        arrival(y, 200, "L3", 4, "P3", 1_200.0),
    ];
    events.extend((1..=9).map(|i| delivery(y, i * 10, "P1", 1_000.0)));
    events.extend((2..=11).map(|i| delivery(y, i * 10, "P2", 500.0)));
    events
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what}: none"));
    assert!((a - expected).abs() < 1e-6, "{what}: {a} != {expected}");
}

async fn kpis(client: &clickhouse::Client, yard: &str) -> YardKpis {
    dashboards::benchmarks::bands::own_kpis(client, yard)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_rollup_pools_a_yards_closed_lots_and_recomputes_only_yards_with_new_records() {
    let (db, client) = database("bench_rollup").await;
    let mut events = yard_r();
    events.push(arrival("yard-s", 5, "S1", 20, "P1", 6_000.0));
    store(&db, &events).await;
    let as_of = ms(400); // window: (day 35, day 400]
    let mut rollup = Rollup::new(client.clone(), Settings::default(), 86_400);
    let pass = rollup.pass(as_of).await.unwrap();
    assert_eq!((pass.yards, pass.refreshed), (2, 2));

    let r = kpis(&client, "yard-r").await;
    assert_eq!(
        (r.lots_closed, r.head_in, r.head_dead, r.head_shipped),
        (2, 15, 1, 14)
    );
    // Days on feed as closeouts publish them, over the head shipped: L1's 9 at 100 days, L2's
    // 5 at 110 (head-days per head placed would read 1,500 / 15 = 100).
    close(r.days_on_feed, (9.0 * 100.0 + 5.0 * 110.0) / 14.0, "DOF");
    close(r.death_loss_pct, 100.0 / 15.0, "death loss");
    // Gain: L1 4,500 − 9 × 300 = 1,800 over 900 live head-days; L2 2,750 − 1,750 = 1,000 over
    // 550. ADG = 2,800 / 1,450.
    close(r.adg_kg, 2_800.0 / 1_450.0, "ADG");
    // DM: (9,000 + 5,000) × 0.85 = 11,900 kg; F:G = 11,900 / 2,800 = 4.25.
    close(r.feed_to_gain_dm, 4.25, "F:G");
    // COG: feed 14,000 kg × 20 c = 280,000 + yardage 1,500 head-days × 50 c = 75,000; / 2,800 kg.
    close(r.cost_of_gain_per_kg_minor, 355_000.0 / 2_800.0, "COG");
    assert_eq!(r.currency, "USD");
    let s = kpis(&client, "yard-s").await;
    assert_eq!((s.lots_closed, s.adg_kg, s.death_loss_pct), (0, None, None));
    assert_eq!(s.currency, "");

    // Nothing new: nothing recomputed. A new record at yard S: only S.
    assert_eq!(rollup.pass(as_of + 60_000).await.unwrap().refreshed, 0);
    store(&db, &[delivery("yard-s", 6, "P1", 100.0)]).await;
    let pass = rollup.pass(as_of + 120_000).await.unwrap();
    assert_eq!((pass.yards, pass.refreshed), (2, 1));
    assert_eq!(
        kpis(&client, "yard-s").await.computed_at_ms,
        as_of + 120_000
    );
    assert_eq!(kpis(&client, "yard-r").await.computed_at_ms, as_of);
    // A day on, every yard is recomputed: the window moved. L1 and L2 are still in it.
    let pass = rollup.pass(as_of + DAY_MS).await.unwrap();
    assert_eq!(pass.refreshed, 2);
    assert_eq!(kpis(&client, "yard-r").await.lots_closed, 2);
    // 466 days on, L1 (closed day 100) has left the window; L2 (day 120) has not.
    let pass = rollup.pass(ms(466)).await.unwrap();
    assert_eq!(pass.refreshed, 2);
    let late = kpis(&client, "yard-r").await;
    assert_eq!((late.lots_closed, late.head_in), (1, 5));
    let rows: u64 = client
        .query("SELECT count() FROM yard_kpis FINAL")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(rows, 2, "one current row per yard");
}

fn shown(band: &Band) -> [f64; 5] {
    assert!(!band.hidden, "{band:?}");
    [band.p10, band.p25, band.p50, band.p75, band.p90].map(Option::unwrap)
}

fn measure<'a>(b: &'a Benchmarks, key: &str) -> &'a dashboards::benchmarks::MeasureBands {
    b.measures.iter().find(|m| m.measure.key == key).unwrap()
}

fn approx(actual: [f64; 5], expected: [f64; 5], what: &str) {
    let ok = actual
        .iter()
        .zip(expected)
        .all(|(a, e)| (a - e).abs() < 1e-9);
    assert!(ok, "{what}: {actual:?} != {expected:?}");
}

fn hidden(band: &Band, reason: Hidden) {
    assert_eq!(band, &Band::hidden(reason));
}

#[tokio::test]
async fn bands_interpolate_the_other_registered_yards_and_hide_sets_under_ten_or_one_yard_apart() {
    let (db, client) = database("bench_bands").await;
    store_yards(&db, &client).await;

    let b = benchmarks(&client, ME, AreaRule::Region).await.unwrap();
    assert_eq!(b.area.region.as_deref(), Some("US-NE"));
    assert!(b.area.registered);
    let adg = measure(&b, "adg_kg");
    assert_eq!(adg.own, Some(1.5));
    // US-NE without the caller: ne-01..ne-10, 1.0 1.1 … 1.9 (the spoofing yard's gateway
    // profile and the removed yard do not count). Type 7, h = 9q = 0.9, 2.25, 4.5, 6.75, 8.1,
    // the weights 0.9 and 0.1 kept at 0.75 and 0.25.
    assert_eq!(adg.area.yards, Some(10));
    approx(
        shown(&adg.area),
        [1.075, 1.225, 1.45, 1.675, 1.825],
        "US-NE ADG",
    );
    let all: Vec<f64> = yards().iter().map(|y| y.adg_kg).collect();
    for mark in shown(&adg.area).iter().chain(&shown(&adg.world)) {
        assert!(!all.contains(mark), "{mark} is a yard's own value");
    }
    // 1.5 between the median 1.45 and p75 1.675: 50 + 25 × 0.05 / 0.225.
    close(adg.area.own_percentile, 50.0 + 25.0 * 0.05 / 0.225, "rank");
    // World: the 25 other registered yards; h = 24q = 2.4, 6, 12, 18, 21.6 (whole positions
    // blended a quarter towards the next value).
    assert_eq!(adg.world.yards, Some(25));
    approx(
        shown(&adg.world),
        [1.108, 1.2325, 1.4325, 1.6775, 1.842],
        "world ADG",
    );

    // 100 km is the region's 10 yards again: the same band. 250 and 500 km add only the
    // target: one yard from the published region, so hidden, with nothing but why.
    let t100 = benchmarks(&client, ME, AreaRule::Within100Km)
        .await
        .unwrap();
    assert_eq!((t100.area.rule, t100.area.radius_km), ("radius", Some(100)));
    assert_eq!(measure(&t100, "adg_kg").area, adg.area);
    for rule in [AreaRule::Within250Km, AreaRule::Within500Km] {
        let t = benchmarks(&client, ME, rule).await.unwrap();
        for m in &t.measures {
            hidden(&m.area, Hidden::TooCloseToAnotherSet);
            assert_eq!(m.world, measure(&b, m.measure.key).world);
        }
    }

    // ks-01's region has 9 other yards (ks-02..ks-09 and the target): nothing published, not
    // even the count; its world is.
    let k = benchmarks(&client, "ks-01", AreaRule::Region)
        .await
        .unwrap();
    for m in &k.measures {
        hidden(&m.area, Hidden::TooFewPeers);
        assert_eq!(m.world.yards, Some(25), "{m:?}");
    }
    // A yard not in the registry (whatever its gateway says) sees nothing, nor does a
    // removed one.
    for id in [SPOOF, REMOVED] {
        let x = benchmarks(&client, id, AreaRule::Region).await.unwrap();
        assert!(!x.area.registered);
        for m in &x.measures {
            hidden(&m.area, Hidden::NotRegistered);
            hidden(&m.world, Hidden::NotRegistered);
        }
    }
}

#[tokio::test]
async fn the_running_pipeline_keeps_yard_kpis_current_from_events_sent_through_kafka() {
    let mut p = support::pipeline("bench_pipeline").await;
    p.config.benchmarks.refresh_secs = 1;
    let (shutdown, task) = support::start(&p);
    // Yard R moved so that its day 0 is 300 days ago: L0 (day 30), L1 (day 100) and L2
    // (day 120) closed inside the trailing 365 days; L3 is still open.
    let shift = (Utc::now() - Duration::days(300)) - at(0);
    let events: Vec<Envelope> = yard_r()
        .into_iter()
        .map(|mut e| {
            e.captured_at += shift;
            e
        })
        .collect();
    let messages = support::signed(&p, &events).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    support::produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(
        support::wait_for_rows(&p.db, "feed_deliveries", 19).await,
        19
    );
    // Every record stored (a batch notes its yards' changes after its last table), then the
    // facts made from all of them: a slow insert or recompute is waited for, not failed.
    let client = p.db.client();
    let noted = testkit::wait_until(std::time::Duration::from_secs(60), || {
        let client = client.clone();
        let all = events.len() as u64;
        async move {
            client
                .query("SELECT sum(records) FROM fact_changes WHERE feedlot_id = 'yard-r'")
                .fetch_one::<u64>()
                .await
                .is_ok_and(|n| n >= all)
        }
    })
    .await;
    assert!(noted, "the consumer stored every record of yard-r");
    support::wait_for_facts(&p.db, "yard-r").await;
    let found = testkit::wait_until(std::time::Duration::from_secs(60), || {
        let client = client.clone();
        async move {
            dashboards::benchmarks::bands::own_kpis(&client, "yard-r")
                .await
                .ok()
                .flatten()
                .is_some_and(|k| k.lots_closed == 3)
        }
    })
    .await;
    if !found {
        let now = u64::try_from(Utc::now().timestamp_millis()).unwrap();
        let report = dashboards::facts::yard_report(&client, "yard-r", now, &Settings::default())
            .await
            .unwrap();
        let lots: Vec<(&str, &str)> = report
            .lots
            .iter()
            .map(|l| (l.lot_id.as_str(), l.status))
            .collect();
        let own = dashboards::benchmarks::bands::own_kpis(&client, "yard-r").await;
        panic!(
            "the rollup wrote no row of yard-r with its 3 closed lots: {own:?}; the facts' lots {lots:?}"
        );
    }
    let r = kpis(&client, "yard-r").await;
    assert_eq!((r.head_in, r.head_dead, r.head_shipped), (18, 1, 17));
    close(r.death_loss_pct, 100.0 / 18.0, "death loss");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// The real `dashboards set-yard`: registers a yard (the bands then count it), refuses a bad
/// position by field, and `--remove` takes the yard out again.
#[tokio::test]
async fn set_yard_registers_a_yard_refuses_a_bad_position_by_name_and_removes_it() {
    let (db, client) = database("bench_set_yard").await;
    let env = [
        ("DASHBOARDS_CLICKHOUSE_URL", db.url.as_str()),
        ("DASHBOARDS_CLICKHOUSE_DATABASE", db.database.as_str()),
    ];
    let run = |args: &[&str]| {
        let mut all = vec!["set-yard", "--feedlot", "sandhills"];
        all.extend_from_slice(args);
        testkit::cli::run(env!("CARGO_BIN_EXE_dashboards"), "DASHBOARDS_", &all, &env)
    };
    let out = run(&[
        "--region",
        "US-NE",
        "--latitude-deg",
        "42.1",
        "--longitude-deg",
        "-100.5",
        "--by",
        "ops-anna",
    ]);
    let said = testkit::cli::text(&out.stdout);
    assert!(out.status.success(), "{}", testkit::cli::text(&out.stderr));
    assert!(said.contains("sandhills: region US-NE"), "{said}");
    let entry = dashboards::benchmarks::registry::get(&client, "sandhills")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            entry.region.as_str(),
            entry.latitude_deg,
            entry.longitude_deg,
            entry.peer
        ),
        ("US-NE", 42.1, -100.5, 1)
    );
    assert_eq!(entry.set_by, "ops-anna");
    let b = benchmarks(&client, "sandhills", AreaRule::Region)
        .await
        .unwrap();
    assert!(b.area.registered);

    let out = run(&[
        "--region",
        "US-NE",
        "--latitude-deg",
        "142",
        "--longitude-deg",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = testkit::cli::text(&out.stderr);
    assert!(err.contains("latitude_deg"), "{err}");

    let out = run(&["--remove"]);
    assert!(out.status.success(), "{}", testkit::cli::text(&out.stderr));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let b = benchmarks(&client, "sandhills", AreaRule::Region)
        .await
        .unwrap();
    assert!(!b.area.registered, "removed: {:?}", b.area);
}
