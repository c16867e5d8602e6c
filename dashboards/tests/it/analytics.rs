//! A small yard with known inputs, sent as wire events through Kafka and the pipeline into
//! ClickHouse; every lot, pen and feed measure is checked against values worked out by hand
//! here (the working is in the comments), including a death, an animal moved into another lot's
//! pen mid-feed, a whole-lot move, a ration reformulated mid-feed, FIFO-priced feed, and a
//! closed (shipped) lot.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use crate::support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::analytics::{KG_PER_CWT, LotMeasures, Settings, YardReport};
use schemas::{
    Arrival, Death, DoseUnit, Eid, Envelope, Event, FeedDelivery, FeedPurchase, PenMove, Placement,
    Ration, RationIngredient, Route, Shipment, Treatment, TreatmentPurpose, Weighing, Weight,
    YardageRate,
};

use support::*;

pub(crate) const YARD: &str = "yard-hand";

/// Day `d` of the test, at `h:m` UTC (day 0 = 2026-03-01).
fn at(d: i64, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap() + Duration::days(d)
}

fn eid(n: u32) -> Eid {
    Eid::parse(&format!("98200000000{n:04}")).unwrap()
}

fn env(when: DateTime<Utc>, event: Event) -> Envelope {
    Envelope::new(YARD, "gw-1", "office", when, event)
}

fn ration(when: DateTime<Utc>, corn_pct: f64) -> Envelope {
    let part = |name: &str, pct: f64, dm: f64| RationIngredient {
        ingredient: name.into(),
        inclusion_as_fed_pct: pct,
        dry_matter_pct: dm,
    };
    env(
        when,
        Event::Ration(Ration {
            ration_id: "R".into(),
            ingredients: vec![
                part("corn", corn_pct, 85.0),
                part("hay", 100.0 - corn_pct, 90.0),
            ],
        }),
    )
}

fn purchase(
    when: DateTime<Utc>,
    ingredient: &str,
    supplier: &str,
    kg: f64,
    minor: u64,
) -> Envelope {
    env(
        when,
        Event::FeedPurchase(FeedPurchase {
            ingredient: ingredient.into(),
            supplier: supplier.into(),
            origin: format!("{supplier} county"),
            quantity_kg: kg,
            price_minor: minor,
            currency: "USD".into(),
            dry_matter_pct: 88.0,
        }),
    )
}

fn arrival(lot: &str, head: u32, pen: &str, pay_kg: f64, shrink: f64, minor: u64) -> Envelope {
    env(
        at(0, 0, 0),
        Event::Arrival(Arrival {
            lot_id: lot.into(),
            head_count: head,
            origin: "Cherry County, NE".into(),
            source: None,
            pen_id: Some(pen.into()),
            pay_weight_kg: pay_kg,
            pay_weight_per_head_kg: None,
            shrink_pct: shrink,
            purchase_price_minor: minor,
            currency: "USD".into(),
        }),
    )
}

fn placement(n: u32, lot: &str, pen: &str) -> Envelope {
    env(
        at(0, 1, 0),
        Event::Placement(Placement {
            eid: eid(n),
            lot_id: lot.into(),
            pen_id: pen.into(),
            sex: None,
            breed: None,
        }),
    )
}

fn delivery(when: DateTime<Utc>, pen: &str, kg: f64) -> Envelope {
    env(
        when,
        Event::FeedDelivery(FeedDelivery {
            pen_id: pen.into(),
            ration_id: "R".into(),
            target_kg: kg,
            delivered_kg: kg,
            truck_id: "T1".into(),
            operator: "sam".into(),
        }),
    )
}

fn treatment(when: DateTime<Utc>, n: u32, purpose: TreatmentPurpose, minor: u64) -> Envelope {
    env(
        when,
        Event::Treatment(Treatment {
            eid: eid(n),
            purpose,
            product: "Draxxin".into(),
            dose: 5.0,
            dose_unit: DoseUnit::Ml,
            route: Route::Subcutaneous,
            product_lot: "X1".into(),
            withdrawal_days: 18,
            administered_by: "dr-lee".into(),
            diagnosis: None,
            booster_after_days: None,
            cost_minor: Some(minor),
            currency: Some("USD".into()),
        }),
    )
}

fn weighing(when: DateTime<Utc>, n: u32, kg: f64) -> Envelope {
    env(
        when,
        Event::Weighing(Weighing {
            eid: eid(n),
            weight: Weight::from_kg(kg),
            tag_read_event_id: None,
            gross_net: None,
        }),
    )
}

/// The yard: lot L1 (4 head, P1) and L2 (2 head, P2) arrive on day 0; 50 c/head/day yardage.
fn yard() -> Vec<Envelope> {
    let mut events = vec![
        env(
            at(0, 0, 0),
            Event::YardageRate(YardageRate {
                per_head_per_day_minor: 50,
                currency: "USD".into(),
                lot_id: None,
            }),
        ),
        // Ration R v1: 60% corn (85% DM) + 40% hay (90% DM) = 87% DM.
        ration(at(0, 0, 0), 60.0),
        // Corn: 100 kg from A at 20 c/kg, then 10 t from B at 25 c/kg. Hay: 15 c/kg.
        purchase(at(0, 0, 0), "corn", "A", 100.0, 2_000),
        purchase(at(0, 0, 1), "corn", "B", 10_000.0, 250_000),
        purchase(at(0, 0, 0), "hay", "C", 10_000.0, 150_000),
        // L1: 1,200 kg pay (300/hd) after a 4% shrink, $4,000. L2: 700 kg (350/hd), no shrink, $700.
        arrival("L1", 4, "P1", 1_200.0, 4.0, 400_000),
        arrival("L2", 2, "P2", 700.0, 0.0, 70_000),
        placement(1, "L1", "P1"),
        placement(2, "L1", "P1"),
        placement(3, "L1", "P1"),
        placement(4, "L1", "P1"),
        placement(5, "L2", "P2"),
        placement(6, "L2", "P2"),
        treatment(at(0, 2, 0), 5, TreatmentPurpose::Vaccination, 500),
        delivery(at(1, 12, 0), "P1", 40.0),
        delivery(at(1, 12, 10), "P2", 20.0),
        treatment(at(3, 9, 0), 1, TreatmentPurpose::Therapeutic, 2_000),
        // Day 5: E4 (L1) goes into P2, with L2.
        env(
            at(5, 0, 0),
            Event::PenMove(PenMove {
                eid: Some(eid(4)),
                lot_id: None,
                head_count: None,
                from_pen_id: "P1".into(),
                to_pen_id: "P2".into(),
            }),
        ),
        treatment(at(6, 9, 0), 3, TreatmentPurpose::Therapeutic, 3_000),
        // Day 8: E3 (L1) dies in P1.
        env(
            at(8, 0, 0),
            Event::Death(Death {
                eid: eid(3),
                cause: "BRD".into(),
                lot_id: Some("L1".into()),
                pen_id: Some("P1".into()),
            }),
        ),
        // Day 10: R reformulated: 80% corn + 20% hay = 68 + 18 = 86% DM.
        ration(at(10, 0, 0), 80.0),
        delivery(at(11, 12, 0), "P1", 50.0),
        delivery(at(11, 12, 10), "P2", 25.0),
        // Day 15: all of L2 moves P2 -> P3, leaving E4 alone in P2.
        env(
            at(15, 0, 0),
            Event::PenMove(PenMove {
                eid: None,
                lot_id: Some("L2".into()),
                head_count: None,
                from_pen_id: "P2".into(),
                to_pen_id: "P3".into(),
            }),
        ),
        delivery(at(16, 12, 0), "P1", 45.0),
        delivery(at(16, 12, 10), "P2", 10.0),
        delivery(at(16, 12, 20), "P3", 30.0),
        // Day 19: L1's live head on the scale (full weights).
        weighing(at(19, 8, 0), 1, 330.0),
        weighing(at(19, 8, 0), 2, 340.0),
        weighing(at(19, 8, 0), 4, 320.0),
        // Day 20: L2 ships, 800 kg pay, $1,600.
        env(
            at(20, 0, 0),
            Event::Shipment(Shipment {
                lot_id: "L2".into(),
                head_count: 2,
                buyer: "Tyson".into(),
                weight_per_head_kg: None,
                weight_kg: 800.0,
                price_minor: 160_000,
                currency: "USD".into(),
                eids: vec![eid(5), eid(6)],
            }),
        ),
    ];
    // Earlier in-weights on the chute, superseded by day 19's.
    events.push(weighing(at(0, 1, 30), 1, 312.0));
    events
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: got {actual}, worked out {expected}"
    );
}

fn some(actual: Option<f64>, expected: f64, what: &str) {
    close(
        actual.unwrap_or_else(|| panic!("{what} missing")),
        expected,
        what,
    );
}

fn lot<'a>(report: &'a YardReport, id: &str) -> &'a LotMeasures {
    report.lots.iter().find(|l| l.lot_id == id).unwrap()
}

/// The hand-worked yard stored through the pipeline, which keeps running (and serving its
/// pages) until the returned token is cancelled.
pub(crate) struct Stored {
    pub(crate) p: Pipeline,
    pub(crate) report: YardReport,
    pub(crate) shutdown: tokio_util::sync::CancellationToken,
    pub(crate) task: support::Task,
}

pub(crate) async fn stored_yard(test: &str) -> Stored {
    let mut p = pipeline(test).await;
    allow(&mut p.config, &[YARD]);
    let (shutdown, task) = start(&p);
    let events = yard();
    let mut messages = signed(&p, &events).await;
    // Every event twice, as a redelivery would: the measures must not change.
    messages.extend(messages.clone());
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    produce(&p.broker.bootstrap, &messages).await;
    assert_eq!(wait_for_rows(&p.db, "shipments", 1).await, 1);
    assert_eq!(wait_for_rows(&p.db, "weighings", 4).await, 4);
    assert_eq!(wait_for_rows(&p.db, "feed_deliveries", 7).await, 7);
    // The running dashboards' facts worker makes the yard's facts; the report is read from them,
    // and is the replay's at every day's end and at the report's moment.
    wait_for_facts(&p.db, YARD).await;
    let client = p.db.client();
    for moment in (0..=21).map(|d| at(d + 1, 0, 0) - Duration::milliseconds(1)) {
        let (facts, replayed) = crate::facts::both(&client, YARD, moment).await;
        crate::facts::assert_same(&facts, &replayed, &format!("as of {moment}"));
    }
    let (report, replayed) = crate::facts::both(&client, YARD, at(20, 12, 0)).await;
    crate::facts::assert_same(&report, &replayed, "as of day 20 12:00");
    Stored {
        p,
        report,
        shutdown,
        task,
    }
}

pub(crate) const AS_OF: &str = "2026-03-21T12:00:00Z";

#[tokio::test]
async fn every_lot_pen_and_feed_measure_matches_the_hand_worked_yard() {
    let stored = stored_yard("analytics_hand_yard").await;
    stored.shutdown.cancel();
    stored.task.await.unwrap().unwrap();
    let report = stored.report;
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    // Feed, FIFO. Each delivery splits as corn/hay by R's inclusion at the time:
    //   d1  P1 40 kg (v1 60/40): corn 24 (A, 20c) + hay 16 (15c) = 480 + 240 = 720
    //   d1  P2 20 kg:            corn 12 (A)      + hay 8        = 240 + 120 = 360
    //   d11 P1 50 kg (v2 80/20): corn 40 (A)      + hay 10       = 800 + 150 = 950
    //   d11 P2 25 kg:            corn 20 (A: the last 20) + hay 5 = 400 + 75 = 475
    //   d16 P1 45 kg:            corn 36 = A's last 4 at 20c + 32 of B at 25c = 80 + 800,
    //                            + hay 9 = 135                              -> 1,015
    //   d16 P2 10 kg:            corn 8 (B) + hay 2 = 200 + 30 = 230
    //   d16 P3 30 kg:            corn 24 (B) + hay 6 = 600 + 90 = 690
    // (A had 100 kg; 24 + 12 + 40 + 20 = 96 were used before day 16, so 4 kg were left.)
    //
    // Head by pen: P1 = L1×4 until day 5, ×3 until day 8 (death), ×2 after.
    //              P2 = L2×2 until day 5, L2×2 + L1×1 until day 15, L1×1 after.
    //              P3 = L2×2 from day 15 until shipping on day 20.
    // L1 gets: 40 + 50 + 25/3 (a third of P2 on day 11) + 45 + 10 kg as fed,
    //          cost 720 + 950 + 475/3 + 1,015 + 230.
    // L2 gets: 20 + 50/3 + 30 kg, cost 360 + 950/3 + 690.
    let l1 = lot(&report, "L1");
    let l2 = lot(&report, "L2");
    close(
        l1.as_fed_kg,
        40.0 + 50.0 + 25.0 / 3.0 + 45.0 + 10.0,
        "L1 as fed",
    );
    close(l2.as_fed_kg, 20.0 + 50.0 / 3.0 + 30.0, "L2 as fed");
    let l1_feed = 720.0 + 950.0 + 475.0 / 3.0 + 1_015.0 + 230.0;
    let l2_feed = 360.0 + 950.0 / 3.0 + 690.0;
    close(l1.feed_cost_minor, l1_feed, "L1 feed cost");
    close(l2.feed_cost_minor, l2_feed, "L2 feed cost");
    // Dry matter: v1 is 87% DM (day 1), v2 86% (days 11 and 16).
    let l1_dm = 40.0 * 0.87 + (50.0 + 25.0 / 3.0 + 45.0 + 10.0) * 0.86;
    let l2_dm = 20.0 * 0.87 + (50.0 / 3.0 + 30.0) * 0.86;
    close(l1.dry_matter_kg, l1_dm, "L1 DM");
    close(l2.dry_matter_kg, l2_dm, "L2 DM");

    // Head-days to day 20 12:00. L1: 4 × 8 days + 3 × 12.5 days = 69.5 (E3's 8 days included);
    // deads out: 61.5. L2: 2 × 20 = 40, closed at shipping.
    assert_eq!(
        (l1.head_in, l1.head_dead, l1.head_shipped, l1.head_on_hand),
        (4, 1, 0, 3)
    );
    assert_eq!(
        (l2.head_in, l2.head_dead, l2.head_shipped, l2.head_on_hand),
        (2, 0, 2, 0)
    );
    assert_eq!((l1.status, l2.status), ("open", "closed"));
    assert_eq!(
        l2.closed_at_ms,
        Some(at(20, 0, 0).timestamp_millis() as u64)
    );
    close(l1.head_days, 69.5, "L1 head-days");
    close(l2.head_days, 40.0, "L2 head-days");
    // Days on feed: L1 is open, on feed since day 0 (20.5 days); L2 closed, its 2 head shipped
    // after 20 days each. Head-days per head placed keep their own name.
    close(l1.days_on_feed, 20.5, "L1 DOF");
    close(l2.days_on_feed, 20.0, "L2 DOF");
    close(
        l1.head_days_per_head_in,
        69.5 / 4.0,
        "L1 head-days per head in",
    );
    assert_eq!(l1.pens, ["P1", "P2"]);

    // Gain, pay basis. L1 is open: its 3 live head were re-weighed on day 19 08:00 at 330, 340,
    // 320 full, less the arrival's 4% shrink: 316.8, 326.4, 307.2 = 950.4 kg against 300 kg in
    // each, 50.4 kg over 3 × 19⅓ days since arrival: a measured ADG of 50.4 / 58. Carried to
    // day 20 12:00 (1⅙ days later) at that ADG: gain = 50.4 + ADG × 3 × 1⅙.
    let measured_adg = 50.4 / (3.0 * (19.0 + 8.0 / 24.0));
    let since_weighing = 1.0 + 4.0 / 24.0;
    let l1_gain = 330.0 * 0.96 * 3.0 - 900.0 + measured_adg * 3.0 * since_weighing;
    some(l1.gain_kg, l1_gain, "L1 gain");
    some(l2.gain_kg, 100.0, "L2 gain");
    some(
        l1.current_weight_kg,
        330.0 * 0.96 + measured_adg * since_weighing,
        "L1 weight now",
    );
    some(l2.current_weight_kg, 400.0, "L2 out weight");
    close(l1.live_head_days, 61.5, "L1 live head-days");
    some(l1.adg_deads_out_kg, l1_gain / 61.5, "L1 ADG deads out");
    some(
        l1.adg_deads_out_kg,
        measured_adg,
        "carried forward at the measured ADG",
    );
    some(l1.adg_deads_in_kg, l1_gain / 69.5, "L1 ADG deads in");
    some(l2.adg_deads_out_kg, 100.0 / 40.0, "L2 ADG");
    some(l1.dmi_kg, l1_dm / 69.5, "L1 DMI");
    some(l2.dmi_kg, l2_dm / 40.0, "L2 DMI");
    some(l1.feed_to_gain_dm, l1_dm / l1_gain, "L1 F:G");
    some(l2.feed_to_gain_dm, l2_dm / 100.0, "L2 F:G");
    some(
        l2.feed_cost_per_head_day_minor,
        l2_feed / 40.0,
        "L2 feed $/hd/d",
    );

    // Costs. Yardage 50c × head-days; medicine: L1 E1 $20 + E3 $30, L2 E5's $5 vaccination.
    close(l1.yardage_minor, 69.5 * 50.0, "L1 yardage");
    close(l2.yardage_minor, 40.0 * 50.0, "L2 yardage");
    close(l1.medicine_minor, 5_000.0, "L1 medicine");
    close(l2.medicine_minor, 500.0, "L2 medicine");
    let l2_total = 70_000.0 + l2_feed + 2_000.0 + 500.0;
    close(l2.total_cost_minor, l2_total, "L2 total cost");
    some(l2.total_cost_per_head_minor, l2_total / 2.0, "L2 cost/head");
    some(
        l2.feed_cost_of_gain_per_kg_minor,
        l2_feed / 100.0,
        "L2 feed COG",
    );
    let l2_cog = (l2_feed + 2_000.0 + 500.0) / 100.0;
    some(l2.cost_of_gain_per_kg_minor, l2_cog, "L2 COG");
    some(
        l2.cost_of_gain_per_cwt_minor,
        l2_cog * KG_PER_CWT,
        "L2 COG/cwt",
    );
    // Breakeven: cost per live head over the sale weight (L2: its 400 kg out; L1: the target).
    some(
        l2.breakeven_per_kg_minor,
        l2_total / 2.0 / 400.0,
        "L2 breakeven",
    );
    let l1_total = 400_000.0 + l1_feed + 69.5 * 50.0 + 5_000.0;
    some(
        l1.breakeven_per_kg_minor,
        l1_total / 3.0 / Settings::default().target_sale_weight_kg,
        "L1 breakeven",
    );
    some(l2.profit_minor, 160_000.0 - l2_total, "L2 profit");
    assert_eq!(l1.profit_minor, None, "an open lot has no closeout profit");
    close(l1.death_loss_pct, 25.0, "L1 death loss");
    close(l1.pull_rate_pct, 50.0, "L1 pull rate (E1, E3)");
    close(l2.pull_rate_pct, 0.0, "a vaccination is not a pull");

    // Pens. P2: L2×2 for 5 days, 3 head for 10, E4 alone for 5.5 = 45.5 head-days;
    // 20 + 25 + 10 = 55 kg as fed.
    let p2 = report.pens.iter().find(|p| p.pen_id == "P2").unwrap();
    close(p2.head_days, 10.0 + 30.0 + 5.5, "P2 head-days");
    close(p2.as_fed_kg, 55.0, "P2 as fed");
    assert_eq!(p2.lots, [("L1".to_owned(), 1)]);
    let p3 = report.pens.iter().find(|p| p.pen_id == "P3").unwrap();
    assert_eq!(p3.head_on_hand, 0, "L2 shipped out of P3");

    // Feed report: corn fed 164 kg = all 100 of A ($20) + 64 of B ($16); hay 56 kg ($8.40).
    let corn = report
        .feed
        .ingredients
        .iter()
        .find(|i| i.ingredient == "corn")
        .unwrap();
    close(corn.fed_kg, 164.0, "corn fed");
    close(corn.fed_cost_minor, 2_000.0 + 64.0 * 25.0, "corn cost");
    close(corn.on_hand_kg, 10_000.0 - 64.0, "corn on hand");
    let from_b = report
        .feed
        .sources
        .iter()
        .find(|s| s.supplier == "B")
        .unwrap();
    assert_eq!(from_b.origin, "B county");
    close(from_b.fed_kg, 64.0, "corn from B");
    // R now (v2): 80% corn at B's $250/t + 20% hay at $150/t = $230/t as fed; / 0.86 per t DM.
    let r = &report.feed.rations[0];
    some(r.cost_per_tonne_as_fed_minor, 23_000.0, "R $/t as fed");
    some(r.cost_per_tonne_dm_minor, 23_000.0 / 0.86, "R $/t DM");
}

/// The `<svg id="{id}">` element of `page`.
fn svg(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}: {page}"));
    let end = start + page[start..].find("</svg>").unwrap();
    page[start..end].to_owned()
}

/// The value of `chart`'s point at `ms`.
fn point(chart: &str, ms: i64) -> f64 {
    let at = format!("data-ms=\"{ms}\" data-value=\"");
    let from = chart
        .find(&at)
        .unwrap_or_else(|| panic!("no point at {ms}: {chart}"))
        + at.len();
    chart[from..from + chart[from..].find('"').unwrap()]
        .parse()
        .unwrap()
}

/// Sets the test user's units (`us` or `metric`) as the switch on every page does.
pub(crate) async fn set_units(base: &str, units: &str) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/settings/units"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "referer",
            format!("{base}/feedlots/{YARD}/lots?as_of={AS_OF}"),
        )
        .body(format!("units={units}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "units {units}");
    assert_eq!(
        response.headers()["location"],
        format!("/feedlots/{YARD}/lots?as_of={AS_OF}"),
        "back to the page the switch was on"
    );
}

pub(crate) async fn get_text(url: &str) -> (u16, String) {
    let response = authed().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_lot_pen_and_feed_dashboards_show_the_api_numbers_with_csv_and_charts() {
    let stored = stored_yard("analytics_dashboards").await;
    let base = format!("http://{}", stored.p.config.web.listen);
    // The figures below are read in metric units (the user's choice, kept per user); the same
    // pages in US units are checked after.
    set_units(&base, "metric").await;

    // The JSON API is the report.
    let api: serde_json::Value = authed()
        .get(format!(
            "{base}/api/feedlots/{YARD}/lots?as_of={AS_OF}&sort=adg"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lots = api.as_array().unwrap();
    assert_eq!(lots.len(), 2);
    assert_eq!(lots[0]["lot_id"], "L2", "sorted by ADG, best first");
    let expected = serde_json::to_value(&stored.report.lots).unwrap();
    let l1 = expected
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot_id"] == "L1")
        .unwrap();
    for (key, want) in l1.as_object().unwrap() {
        let got = &lots[1][key];
        match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => close(g, w, key),
            _ => assert_eq!(got, want, "{key}"),
        }
    }

    // The page shows the same numbers and draws the cost breakdown.
    let (status, page) = get_text(&format!("{base}/feedlots/{YARD}/lots?as_of={AS_OF}")).await;
    assert_eq!(status, 200);
    let adg = format!("{:.2}", lots[0]["adg_deads_out_kg"].as_f64().unwrap());
    assert!(
        page.contains(&format!("<td data-key=\"adg\">{adg}</td>")),
        "{page}"
    );
    assert_eq!(
        page.matches("class=\"part\"").count(),
        8,
        "4 cost parts × 2 lots"
    );

    // CSV: a header of column keys and a row per lot with the same values.
    let (_, csv) = get_text(&format!(
        "{base}/feedlots/{YARD}/lots.csv?as_of={AS_OF}&sort=lot&order=asc"
    ))
    .await;
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[0].starts_with("lot,status,head_in,dead,shipped,on_feed,dof"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("L2,closed,2,0,2,0,20.00,20.00,350,400,2.500,"),
        "{csv}"
    );

    // The closeout of the shipped lot, with its profit, and its animals ranked in the lot.
    let (status, closeout) =
        get_text(&format!("{base}/feedlots/{YARD}/lots/L2?as_of={AS_OF}")).await;
    assert_eq!(status, 200);
    assert!(closeout.contains("Closeout: lot L2"), "{closeout}");
    let profit = format!("{:.2}", lots[0]["profit_minor"].as_f64().unwrap() / 100.0);
    assert!(closeout.contains(&profit), "profit {profit}: {closeout}");
    let (status, _) = get_text(&format!("{base}/feedlots/{YARD}/lots/NOPE")).await;
    assert_eq!(status, 404);

    // Lot against lot: L1's standing among the yard's two lots.
    let standing: serde_json::Value = authed()
        .get(format!(
            "{base}/api/feedlots/{YARD}/lots/L1/standing?as_of={AS_OF}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let measure = |key: &str| {
        standing
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .unwrap_or_else(|| panic!("{key}: {standing}"))
            .clone()
    };
    let l1_adg = lots[1]["adg_deads_out_kg"].as_f64().unwrap();
    let adg = measure("adg");
    assert_eq!(
        (adg["rank"].as_u64(), adg["lots"].as_u64()),
        (Some(2), Some(2)),
        "L2 gained 2.5 kg/d"
    );
    close(
        adg["yard_median"].as_f64().unwrap(),
        (l1_adg + 2.5) / 2.0,
        "median ADG",
    );
    let dead = measure("death_loss");
    assert_eq!(
        dead["rank"].as_u64(),
        Some(2),
        "25 % is worse than L2's 0 %"
    );
    assert_eq!(dead["lower_is_better"], true);
    let (_, l1_page) = get_text(&format!("{base}/feedlots/{YARD}/lots/L1?as_of={AS_OF}")).await;
    assert!(l1_page.contains("<table id=\"standing\">"), "{l1_page}");
    assert!(
        l1_page.contains("<td class=\"rank\">2 of 2</td>"),
        "{l1_page}"
    );
    // Its charts, dated, in the user's units (metric here). Intake on day 1 (ending 2026-03-03
    // 00:00 UTC): 40 kg as fed at 87 % DM over L1's 4 head = 8.7 kg DM per head.
    let intake = svg(&l1_page, "lot-intake");
    let day1_end = at(2, 0, 0).timestamp_millis();
    close(point(&intake, day1_end), 8.7, "L1 DMI on day 1");
    assert!(
        intake.contains(">2026-03-03<") && intake.contains(">2026-03-22<"),
        "{intake}"
    );
    assert!(intake.contains(" kg/hd/d<"), "{intake}");
    // Weight: from the day-19 re-weigh on, at each day's end (2 days to day 20).
    let weight = svg(&l1_page, "lot-weight");
    assert_eq!(weight.matches("class=\"point\"").count(), 2, "{weight}");
    let (_, lot_animals) = get_text(&format!("{base}/feedlots/{YARD}/lots/L1/animals.csv")).await;
    assert_eq!(
        lot_animals.lines().count(),
        1 + 3,
        "E1, E2, E4 were weighed: {lot_animals}"
    );
    assert!(
        lot_animals.lines().nth(1).unwrap().contains(",L1,1,"),
        "{lot_animals}"
    );

    // Pens and feed.
    let pens: serde_json::Value = authed()
        .get(format!("{base}/api/feedlots/{YARD}/pens?as_of={AS_OF}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pens.as_array().unwrap().len(), 3);
    let (_, pens_csv) = get_text(&format!(
        "{base}/feedlots/{YARD}/pens.csv?as_of={AS_OF}&sort=pen&order=asc"
    ))
    .await;
    assert!(
        pens_csv
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("P2,1,L1 (1),45.50,55,"),
        "{pens_csv}"
    );
    let (_, feed) = get_text(&format!("{base}/feedlots/{YARD}/feed?as_of={AS_OF}")).await;
    assert!(feed.contains("B county"), "{feed}");
    let (_, sources) = get_text(&format!(
        "{base}/feedlots/{YARD}/feed/sources.csv?as_of={AS_OF}&sort=supplier&order=asc"
    ))
    .await;
    assert_eq!(
        sources.lines().nth(2).unwrap(),
        "corn,B,B county,64,16.000",
        "{sources}"
    );
    let (status, _) = get_text(&format!("{base}/feedlots/{YARD}/feed/secrets.csv")).await;
    assert_eq!(status, 404);

    // The same user switched to US units: pounds and $/cwt on the pages and in the CSV, the
    // JSON unchanged (kg).
    set_units(&base, "us").await;
    let (_, page) = get_text(&format!("{base}/feedlots/{YARD}/lots?as_of={AS_OF}")).await;
    let adg_lb = lots[0]["adg_deads_out_kg"].as_f64().unwrap() / schemas::weight::KG_PER_LB;
    assert!(
        page.contains(&format!("<td data-key=\"adg\">{adg_lb:.2}</td>")),
        "{page}"
    );
    assert!(
        page.contains("ADG lb/d (deads out)") && page.contains("COG $/cwt"),
        "{page}"
    );
    assert!(
        page.contains("data-units=\"us\""),
        "the switch shows the units"
    );
    let (_, csv) = get_text(&format!(
        "{base}/feedlots/{YARD}/lots.csv?as_of={AS_OF}&sort=lot&order=asc"
    ))
    .await;
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(",in_weight_lb,now_weight_lb,adg_lb,")
            && header.contains(",cog_per_cwt,")
            && header.contains(",breakeven_per_cwt,"),
        "{header}"
    );
    // L2: 350 kg in = 771.6 lb, 400 kg out = 881.8 lb, ADG 2.5 kg/d = 5.512 lb/d.
    assert!(
        csv.lines()
            .nth(2)
            .unwrap()
            .starts_with("L2,closed,2,0,2,0,20.00,20.00,772,882,5.512,"),
        "{csv}"
    );
    let (_, lot_page) = get_text(&format!("{base}/feedlots/{YARD}/lots/L2?as_of={AS_OF}")).await;
    assert!(
        lot_page.contains("881.8") || lot_page.contains("882 lb"),
        "{lot_page}"
    );
    let api: serde_json::Value = authed()
        .get(format!(
            "{base}/api/feedlots/{YARD}/lots?as_of={AS_OF}&sort=adg"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api[0]["adg_deads_out_kg"], lots[0]["adg_deads_out_kg"],
        "JSON stays kg"
    );
    set_units(&base, "metric").await;
    let (status, body) =
        get_text(&format!("{base}/api/feedlots/{YARD}/lots?as_of=yesterday")).await;
    assert_eq!((status, body.contains("as_of")), (400, true));

    // Only the caller's yard: no token, 401; another yard's lots, pens and feed, 403.
    for path in ["lots", "pens", "feed", "lots/L1"] {
        let open = reqwest::get(format!("{base}/api/feedlots/{YARD}/{path}"))
            .await
            .unwrap();
        assert_eq!(open.status().as_u16(), 401, "{path} without a token");
        let other = authed()
            .get(format!("{base}/api/feedlots/yard-other/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status().as_u16(), 403, "{path} of another yard");
    }

    // Animals: lot, pen after moves, status, treatments and withdrawal, projection.
    let animal = |n: u32| {
        let url = format!("{base}/api/feedlots/{YARD}/animals/{}", eid(n));
        async move {
            authed()
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let e1 = animal(1).await;
    assert_eq!(e1["status"], "on feed");
    assert_eq!(e1["whereabouts"]["lot_id"], "L1");
    assert_eq!(e1["whereabouts"]["pen_id"], "P1");
    assert_eq!(e1["treatments"].as_array().unwrap().len(), 1);
    // Treated on day 3 with 18 days' withdrawal: clear from day 21 (it is later than that now).
    let day21 = (at(3, 9, 0) + Duration::days(18)).timestamp_millis();
    assert_eq!(e1["withdrawal_until_ms"].as_i64(), Some(day21));
    assert_eq!(e1["withdrawal_clear"], true);
    // 312 -> 330 kg from day 0 01:30 to day 19 08:00; 661.5 kg target at that trend.
    let period_days = (at(19, 8, 0) - at(0, 1, 30)).num_milliseconds() as f64 / 86_400_000.0;
    close(
        e1["last_period_adg_kg_per_day"].as_f64().unwrap(),
        18.0 / period_days,
        "E1 ADG",
    );
    let eta = at(19, 8, 0).timestamp_millis() as f64
        + (661.5 - 330.0) / (18.0 / period_days) * 86_400_000.0;
    close(
        e1["projected_target_at_ms"].as_f64().unwrap(),
        eta,
        "E1 projected date",
    );
    assert_eq!(
        animal(4).await["whereabouts"]["pen_id"],
        "P2",
        "moved on day 5"
    );
    assert_eq!(animal(3).await["status"], "dead");
    assert_eq!(animal(5).await["status"], "shipped");
    let (_, e3_page) = get_text(&format!("{base}/feedlots/{YARD}/animals/{}", eid(3))).await;
    assert!(
        e3_page.contains("<strong id=\"status\">dead</strong>"),
        "{e3_page}"
    );
    assert!(e3_page.contains("<table id=\"treatments\">"), "{e3_page}");
    // An animal's tables as CSV: E1's two weighings (312 kg on day 0, 330 on day 19) and
    // its $20 treatment.
    let (status, weighings) = get_text(&format!(
        "{base}/feedlots/{YARD}/animals/{}/weighings.csv",
        eid(1)
    ))
    .await;
    assert_eq!(status, 200);
    let rows: Vec<&str> = weighings.lines().collect();
    assert_eq!(rows.len(), 3, "{weighings}");
    assert!(
        rows[0].starts_with("captured_at_utc,captured_at_ms,weight_kg"),
        "{weighings}"
    );
    assert!(rows[1].contains(",312.00,"), "{weighings}");
    assert!(rows[2].contains(",330.00,"), "{weighings}");
    let (_, treatments) = get_text(&format!(
        "{base}/feedlots/{YARD}/animals/{}/treatments.csv",
        eid(1)
    ))
    .await;
    let rows: Vec<&str> = treatments.lines().collect();
    assert_eq!(rows.len(), 2, "{treatments}");
    assert!(rows[1].contains(",therapeutic,Draxxin,"), "{treatments}");
    assert!(rows[1].ends_with(",18,20.00,USD"), "{treatments}");
    let (status, _) = get_text(&format!(
        "{base}/feedlots/{YARD}/animals/{}/secrets.csv",
        eid(1)
    ))
    .await;
    assert_eq!(status, 404);
    let other = authed()
        .get(format!(
            "{base}/feedlots/yard-other/animals/{}/weighings.csv",
            eid(1)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 403, "another yard's animal");

    // In a browser: the page renders the API's numbers and the chart.
    let dom = testkit::browser::dump_dom(&magic_link(
        &base,
        &format!("/feedlots/{YARD}/lots?as_of={AS_OF}"),
    ))
    .await
    .unwrap();
    for lot in lots {
        let id = lot["lot_id"].as_str().unwrap();
        let dof = format!("{:.1}", lot["days_on_feed"].as_f64().unwrap());
        let at = dom
            .find(&format!(">{id}</a>"))
            .unwrap_or_else(|| panic!("{id}: {dom}"));
        assert!(
            dom[at..].contains(&format!("<td data-key=\"dof\">{dof}</td>")),
            "{id} DOF {dof}"
        );
    }
    assert!(
        dom.contains("<svg id=\"cost-breakdown\""),
        "chart drawn: {dom}"
    );

    stored.shutdown.cancel();
    stored.task.await.unwrap().unwrap();
}
