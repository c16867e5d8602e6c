//! Benchmark bands over real ClickHouse: the rollup pools a yard's closed lots (built from wire
//! events) into its KPI row and recomputes only yards with new records, and runs inside
//! `dashboards serve` beside the consumer on events sent through Kafka; the bands are
//! ClickHouse's `quantilesExact` over the contributing yards (value at sorted position ⌊q·n⌋,
//! 0-based), worked out by hand below; an area under 5 yards is hidden; region vs radius.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::bench_yards;
use crate::support;

use bench_yards::{database, store, store_yards};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::analytics::Settings;
use dashboards::benchmarks::{AreaRule, Band, Benchmarks, Rollup, YardKpis, benchmarks};
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
    // Head-days: L1 9 × 100 + 1 × 50 = 950, L2 5 × 110 = 550; DOF = 1,500 / 15.
    close(r.days_on_feed, 100.0, "DOF");
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

#[tokio::test]
async fn bands_are_the_exact_quantiles_of_the_contributing_yards_by_region_and_radius() {
    let (db, client) = database("bench_bands").await;
    store_yards(&db, &client).await;

    let b = benchmarks(&client, "ne-1", AreaRule::Region).await.unwrap();
    assert_eq!(b.area.region.as_deref(), Some("US-NE"));
    let adg = measure(&b, "adg_kg");
    assert_eq!(adg.own, Some(1.5));
    // World ADG: 11 yards (x-2 has none): 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.9 2.0 2.1 2.2;
    // positions ⌊q·11⌋ = 1, 2, 5, 8, 9.
    assert_eq!(adg.world.yards, 11);
    approx(shown(&adg.world), [1.2, 1.3, 1.6, 2.0, 2.1], "world ADG");
    // ne-1 at 1.5: 4 below, 1 equal -> 100 × 4.5 / 11.
    close(adg.world.own_percentile, 450.0 / 11.0, "world percentile");
    // US-NE: ne-1..ne-6 (ks-2's older US-NE profile does not count): 1.1 1.3 1.5 1.7 1.9 2.2;
    // positions ⌊q·6⌋ = 0, 1, 3, 4, 5.
    assert_eq!(adg.area.yards, 6);
    approx(shown(&adg.area), [1.1, 1.3, 1.7, 1.9, 2.2], "US-NE ADG");
    close(adg.area.own_percentile, 250.0 / 6.0, "area percentile");
    // COG among USD yards only. World: 90 95 100 105 110 115 120 125 130 140 (10 yards;
    // positions 1, 2, 5, 7, 9). US-NE: ne-1..ne-5 (ne-6 is AUD): exactly 5, so shown.
    let cog = measure(&b, "cost_of_gain_per_kg_minor");
    assert_eq!(cog.currency.as_deref(), Some("USD"));
    assert_eq!((cog.world.yards, cog.area.yards), (10, 5));
    approx(
        shown(&cog.world),
        [95.0, 100.0, 115.0, 125.0, 140.0],
        "world COG",
    );
    approx(
        shown(&cog.area),
        [90.0, 100.0, 110.0, 120.0, 130.0],
        "US-NE COG",
    );

    // Within 300 km of ne-1: the six NE yards and ks-1, ks-2 (~200 km):
    // 1.1 1.3 1.4 1.5 1.7 1.9 2.0 2.2; positions ⌊q·8⌋ = 0, 2, 4, 6, 7.
    let r = benchmarks(&client, "ne-1", AreaRule::RadiusKm(300.0))
        .await
        .unwrap();
    let adg = measure(&r, "adg_kg");
    assert_eq!((r.area.rule, r.area.radius_km), ("radius", Some(300.0)));
    assert_eq!(adg.area.yards, 8);
    approx(shown(&adg.area), [1.1, 1.4, 1.7, 2.0, 2.2], "300 km ADG");
    assert_eq!(shown(&adg.world), shown(&measure(&b, "adg_kg").world));

    // ks-1's region has 4 yards: hidden, no numbers; the world still shows.
    let k = benchmarks(&client, "ks-1", AreaRule::Region).await.unwrap();
    for m in &k.measures {
        assert!(m.area.hidden && m.area.yards == 4, "{m:?}");
        assert!(m.area.p10.is_none() && m.area.p50.is_none() && m.area.own_percentile.is_none());
        assert!(!m.world.hidden, "{m:?}");
    }
    // A yard that sent no profile has no area, only the world.
    let x = benchmarks(&client, "x-1", AreaRule::Region).await.unwrap();
    assert!(!x.area.profile_known);
    assert!(measure(&x, "adg_kg").area.hidden);
    // x-1's COG is in AUD: compared with the one other AUD yard, so the world band is hidden.
    let x_cog = measure(&x, "cost_of_gain_per_kg_minor");
    assert_eq!((x_cog.world.yards, x_cog.world.hidden), (2, true));
}

#[tokio::test]
async fn the_running_pipeline_keeps_yard_kpis_current_from_events_sent_through_kafka() {
    let mut p = support::pipeline("bench_pipeline").await;
    p.config.benchmarks.refresh_secs = 1;
    let (shutdown, task) = support::start(&p);
    // Yard R moved so that its day 0 is 300 days ago: L0 (day 30), L1 (day 100) and L2
    // (day 120) closed inside the trailing 365 days; L3 is still open.
    let shift = (Utc::now() - Duration::days(300)) - at(0);
    let messages: Vec<(String, Vec<u8>)> = yard_r()
        .into_iter()
        .map(|mut e| {
            e.captured_at += shift;
            (e.feedlot_id.clone(), schemas::encode(&e))
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    support::produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(
        support::wait_for_rows(&p.db, "feed_deliveries", 19).await,
        19
    );
    let client = p.db.client();
    let found = testkit::wait_until(std::time::Duration::from_secs(30), || {
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
    assert!(
        found,
        "the rollup wrote yard-r's row with its 3 closed lots"
    );
    let r = kpis(&client, "yard-r").await;
    assert_eq!((r.head_in, r.head_dead, r.head_shipped), (18, 1, 17));
    close(r.death_loss_pct, 100.0 / 18.0, "death loss");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
