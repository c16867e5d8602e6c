//! Corrections (docs/corrections.md) over a real ClickHouse: a weighing amended and a treatment
//! voided after the facts were made. The correction's arrival makes the facts worker recompute
//! the yard; the animal's page and API, the herd's facts and the lot's medicine follow the
//! corrected records; the originals stay stored; the animal's and lot's pages list who changed
//! what, when, from which value to which, and why.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboards::web::{AppState, app};
use schemas::{
    Arrival, Correction, CorrectionAction, Death, DoseUnit, Eid, Envelope, Event, PenMove,
    Placement, Route, Treatment, TreatmentPurpose, Weighing, Weight,
};

use crate::bench_yards::{database, insert};
use crate::facts::{settle, worker};
use crate::support;

const YARD: &str = "yard-fix";
const EID: &str = "982000000004242";

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 6, 0, 0).unwrap() + Duration::days(d)
}

fn env(when: DateTime<Utc>, device: &str, event: Event) -> Envelope {
    Envelope::new(YARD, "gw-1", device, when, event)
}

fn weighing(d: i64, kg: f64) -> Envelope {
    env(
        day(d),
        "scale-1",
        Event::Weighing(Weighing {
            eid: Eid::parse(EID).unwrap(),
            weight: Weight::from_kg(kg),
            tag_read_event_id: None,
            gross_net: None,
        }),
    )
}

fn treatment(d: i64, product: &str, cost_minor: u64) -> Envelope {
    env(
        day(d),
        "api:dr-lee",
        Event::Treatment(Treatment {
            eid: Eid::parse(EID).unwrap(),
            purpose: TreatmentPurpose::Therapeutic,
            product: product.into(),
            dose: 8.5,
            dose_unit: DoseUnit::Ml,
            route: Route::Subcutaneous,
            product_lot: "DX-1".into(),
            withdrawal_days: 18,
            administered_by: "dr-lee".into(),
            diagnosis: Some("BRD".into()),
            booster_after_days: None,
            cost_minor: Some(cost_minor),
            currency: Some("USD".into()),
        }),
    )
}

/// Lot L1 of one head arrives in pen P1 the hour before day 0.
fn arrived() -> Envelope {
    env(
        day(0) - Duration::hours(1),
        "api:kim",
        Event::Arrival(Arrival {
            lot_id: "L1".into(),
            head_count: 1,
            origin: "NE".into(),
            source: None,
            pen_id: Some("P1".into()),
            pay_weight_kg: 350.0,
            pay_weight_per_head_kg: None,
            shrink_pct: 0.0,
            purchase_price_minor: 100_000,
            currency: "USD".into(),
        }),
    )
}

/// `eid` tagged into lot L1, pen P1, half an hour before day 0.
fn placed(eid: &str) -> Envelope {
    env(
        day(0) - Duration::minutes(30),
        "api:kim",
        Event::Placement(Placement {
            eid: Eid::parse(eid).unwrap(),
            lot_id: "L1".into(),
            pen_id: "P1".into(),
            sex: None,
            breed: None,
        }),
    )
}

/// The yard's herd read from `animal_facts`, checked equal to the summary made from the
/// weighings.
async fn herd_equal_to_summary(
    client: &clickhouse::Client,
) -> Vec<dashboards::queries::AnimalSummary> {
    let herd = dashboards::facts::animals::herd(client, YARD)
        .await
        .unwrap();
    let summary = dashboards::queries::herd_summary(client, YARD)
        .await
        .unwrap();
    assert_eq!(
        herd, summary,
        "the herd from the facts and from the weighings"
    );
    herd
}

fn correction(d: i64, who: &str, fix: Correction) -> Envelope {
    env(day(d), who, Event::Correction(fix))
}

fn fix(target: &Envelope, kind: &str, action: CorrectionAction, reason: &str) -> Correction {
    Correction {
        corrects_event_id: target.event_id,
        record_kind: kind.into(),
        action,
        reason: reason.into(),
        weight_kg: None,
        product: None,
        dose: None,
        withdrawal_days: None,
        cause: None,
        delivered_kg: None,
        planned_date: None,
        head_count: None,
    }
}

async fn get(url: &str) -> String {
    let response = support::authed().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_amended_weighing_and_a_voided_treatment_change_the_pages_and_facts_and_are_listed() {
    let (db, client) = database("corrections_animal").await;
    let wrong = weighing(0, 450.0);
    let mistaken = treatment(5, "Draxxin", 5_000);
    let records = vec![
        arrived(),
        placed(EID),
        wrong.clone(),
        weighing(30, 380.0),
        mistaken.clone(),
        treatment(10, "Excede", 1_000),
    ];
    insert(&db, &records).await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);
    let herd = dashboards::facts::animals::herd(&client, YARD)
        .await
        .unwrap();
    assert_eq!(herd[0].first_kg, 450.0, "before: the wrong weight");

    // The corrections arrive: the scale was not zeroed (the animal weighed 350 kg), and the
    // first treatment was given to another animal.
    let mut amend = fix(
        &wrong,
        "weighing",
        CorrectionAction::Amend,
        "scale not zeroed",
    );
    amend.weight_kg = Some(350.0);
    let void = fix(
        &mistaken,
        "treatment",
        CorrectionAction::Void,
        "given to the animal beside it",
    );
    insert(
        &db,
        &[
            correction(31, "api:kim", amend),
            correction(32, "api:dr-lee", void),
        ],
    )
    .await;
    assert_eq!(
        settle(&mut worker).await,
        1,
        "a correction makes its yard's facts recomputed"
    );

    // Nothing is deleted.
    assert_eq!(
        support::count(
            &db,
            "SELECT count() FROM weighings FINAL WHERE weight_kg = 450"
        )
        .await,
        1
    );
    assert_eq!(
        support::count(&db, "SELECT count() FROM treatments FINAL").await,
        2
    );

    // The herd's facts and its summary from the records: the amended first weight, 1 kg/day.
    let herd = herd_equal_to_summary(&client).await;
    assert_eq!((herd[0].first_kg, herd[0].last_kg), (350.0, 380.0));
    assert!(
        (herd[0].adg_kg_per_day.unwrap() - 1.0).abs() < 1e-9,
        "{herd:?}"
    );

    // The lot's medicine: the voided treatment no longer counts, from the facts as from the
    // records.
    let at = Utc::now();
    let (facts, replayed) = crate::facts::both(&client, YARD, at).await;
    crate::facts::assert_same(&facts, &replayed, "after the corrections");
    assert_eq!(facts.lots[0].medicine_minor, 1_000.0);

    // The animal's page and API.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(client.clone()).with_auth(support::test_auth(&[YARD])));
    let _server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let json: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/api/feedlots/{YARD}/animals/{EID}")).await)
            .unwrap();
    assert_eq!(json["weighings"][0]["weight_kg"], 350.0);
    assert_eq!(json["weighings"][0]["displayed_unit"], "kg");
    assert!((json["adg_kg_per_day"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let treatments = json["treatments"].as_array().unwrap();
    assert_eq!(treatments.len(), 1, "{treatments:?}");
    assert_eq!(treatments[0]["product"], "Excede");

    let page = get(&format!("{base}/feedlots/{YARD}/animals/{EID}")).await;
    assert!(
        !page.contains("Draxxin"),
        "the voided treatment is not listed"
    );
    let changes = &page[page.find("<table id=\"changes\"").expect("a Changes table")..];
    assert_eq!(changes.matches("<tr data-record").count(), 2, "{changes}");
    let first = &changes[changes.find("<tr data-record").unwrap()..];
    for shown in [
        "2026-10-02 06:00 UTC",
        "kim",
        "weighing of 2026-09-01 06:00 UTC",
        &wrong.event_id.to_string(),
        "amend",
        "weight_kg: 450 -&gt; 350",
        "scale not zeroed",
    ] {
        assert!(first.contains(shown), "{shown:?} in {first}");
    }
    let second = &first[first[1..].find("<tr data-record").unwrap() + 1..];
    for shown in [
        "2026-10-03 06:00 UTC",
        "dr-lee",
        "treatment of 2026-09-06 06:00 UTC",
        "void",
        "counted -&gt; void",
        "given to the animal beside it",
    ] {
        assert!(second.contains(shown), "{shown:?} in {second}");
    }

    // The lot's page lists the same changes.
    let lot = get(&format!("{base}/feedlots/{YARD}/lots/L1")).await;
    let lot_changes = &lot[lot.find("<table id=\"changes\"").expect("a Changes table")..];
    assert_eq!(lot_changes.matches("<tr data-record").count(), 2);
    assert!(lot_changes.contains("weight_kg: 450 -&gt; 350"));
}

#[tokio::test]
async fn an_animal_whose_only_weighing_is_voided_leaves_the_herd_and_its_lot() {
    let (db, client) = database("corrections_unweighed").await;
    // The scale read the tag of the animal beside the one on it.
    let beside = "982000000004243";
    let misread = env(
        day(30),
        "scale-1",
        Event::Weighing(Weighing {
            eid: Eid::parse(beside).unwrap(),
            weight: Weight::from_kg(381.0),
            tag_read_event_id: None,
            gross_net: None,
        }),
    );
    let records = vec![
        arrived(),
        placed(EID),
        placed(beside),
        weighing(0, 350.0),
        weighing(30, 380.0),
        misread.clone(),
    ];
    insert(&db, &records).await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);
    let eids = |herd: &[dashboards::queries::AnimalSummary]| -> Vec<String> {
        herd.iter().map(|a| a.eid.clone()).collect()
    };
    let herd = dashboards::facts::animals::herd(&client, YARD)
        .await
        .unwrap();
    assert_eq!(eids(&herd), [EID, beside], "before: both weighed");

    let void = fix(
        &misread,
        "weighing",
        CorrectionAction::Void,
        "the tag of the animal beside it",
    );
    insert(&db, &[correction(31, "api:kim", void)]).await;
    assert_eq!(settle(&mut worker).await, 1);

    // The herd from the facts, as from the weighings: the animal beside has no weighing left.
    let herd = herd_equal_to_summary(&client).await;
    assert_eq!(eids(&herd), [EID]);
    let lot = dashboards::facts::animals::lot_herd(&client, YARD, "L1")
        .await
        .unwrap();
    assert_eq!(eids(&lot), [EID], "the lot's weighed animals");
    assert_eq!(lot[0].adg_rank, Some(1), "ranked among the weighed alone");
    assert_eq!(
        support::count(
            &db,
            &format!(
                "SELECT length(adg_kg_per_day) FROM yard_gains FINAL WHERE feedlot_id = '{YARD}'"
            )
        )
        .await,
        1,
        "the yard's gains"
    );
}

/// The animal's JSON report and its ICAR ADE export through a served app.
/// Who is in each pen at the end of `day(d)`, as the pens page reads it (`animal_stays`)
/// once the facts worker has recomputed the yard from its first day (as it does for a
/// correction).
async fn pens_on(
    client: &clickhouse::Client,
    d: i64,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let now = dashboards::facts::worker::server_now(client).await.unwrap();
    dashboards::facts::recompute(client, YARD, Some(0), now)
        .await
        .unwrap();
    let ms = u64::try_from(day(d).timestamp_millis()).unwrap();
    dashboards::facts::stays::pens_at(
        client,
        YARD,
        dashboards::queries::whereabouts::end_of_day_ms(ms),
    )
    .await
    .unwrap()
}

async fn animal_json(client: &clickhouse::Client) -> (serde_json::Value, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(client.clone()).with_auth(support::test_auth(&[YARD])));
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let animal = format!("{base}/api/feedlots/{YARD}/animals/{EID}");
    let json = serde_json::from_str(&get(&animal).await).unwrap();
    let ade = get(&format!("{animal}/ade")).await;
    server.abort();
    (json, ade)
}

#[tokio::test]
async fn a_voided_move_and_a_voided_death_leave_the_animal_alive_in_its_pen_and_unexported() {
    let (db, client) = database("corrections_whereabouts").await;
    let moved = env(
        day(3),
        "api:sam",
        Event::PenMove(PenMove {
            eid: Some(Eid::parse(EID).unwrap()),
            lot_id: None,
            head_count: None,
            from_pen_id: "P1".into(),
            to_pen_id: "P9".into(),
        }),
    );
    let died = env(
        day(10),
        "api:sam",
        Event::Death(Death {
            eid: Eid::parse(EID).unwrap(),
            cause: "bloat".into(),
            lot_id: None,
            pen_id: None,
        }),
    );
    let placed = env(
        day(0),
        "api:kim",
        Event::Placement(Placement {
            eid: Eid::parse(EID).unwrap(),
            lot_id: "L1".into(),
            pen_id: "P1".into(),
            sex: None,
            breed: None,
        }),
    );
    insert(&db, &[placed, moved.clone(), died.clone()]).await;
    let (before, ade) = animal_json(&client).await;
    assert_eq!(before["whereabouts"]["pen_id"], "P9", "{before}");
    assert!(before["whereabouts"]["died_at_ms"].as_u64().unwrap() > 0);
    assert!(ade.contains("icarMovementDeathEventResource"), "{ade}");
    let in_pen =
        |pen: &str| std::collections::BTreeMap::from([(pen.to_owned(), vec![EID.to_owned()])]);
    assert_eq!(pens_on(&client, 5).await, in_pen("P9"), "moved on day 3");
    assert!(pens_on(&client, 10).await.is_empty(), "dead on day 10");

    // The move and the death were its pen mate's.
    insert(
        &db,
        &[
            correction(
                11,
                "api:sam",
                fix(
                    &moved,
                    "pen_move",
                    CorrectionAction::Void,
                    "its pen mate moved",
                ),
            ),
            correction(
                11,
                "api:sam",
                fix(&died, "death", CorrectionAction::Void, "its pen mate died"),
            ),
        ],
    )
    .await;
    let (after, ade) = animal_json(&client).await;
    assert!(
        !ade.contains("icarMovementDeathEventResource"),
        "the ADE export leaves the voided death out: {ade}"
    );
    assert_eq!(after["whereabouts"]["pen_id"], "P1", "{after}");
    assert_eq!(after["whereabouts"]["died_at_ms"], 0, "{after}");
    assert_eq!(after["pens"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(
        pens_on(&client, 5).await,
        in_pen("P1"),
        "the pens page: never moved"
    );
    assert_eq!(pens_on(&client, 10).await, in_pen("P1"), "nor dead");

    // A shipment of the lot entered by mistake and voided: the lot's changes list it beside
    // its animal's voided move and death.
    let shipped = env(
        day(12),
        "api:kim",
        Event::Shipment(schemas::Shipment {
            lot_id: "L1".into(),
            head_count: 1,
            buyer: "Packer A".into(),
            weight_kg: 610.0,
            weight_per_head_kg: None,
            price_minor: 150_000,
            currency: "USD".into(),
            eids: Vec::new(),
        }),
    );
    insert(&db, std::slice::from_ref(&shipped)).await;
    insert(
        &db,
        &[correction(
            13,
            "api:kim",
            fix(
                &shipped,
                "shipment",
                CorrectionAction::Void,
                "the truck never left",
            ),
        )],
    )
    .await;
    let changes = dashboards::queries::changes::lot_changes(&client, YARD, "L1")
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.record_kind.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("pen_move", "its pen mate moved"),
            ("death", "its pen mate died"),
            ("shipment", "the truck never left"),
        ]
    );
}

/// A lot's arrival entered at the wrong yard, and a load of hay bought for it, both voided
/// after the facts were made: the lot, the pen only it used and the hay leave the yard's
/// report, the lot's days and marks and the analysts' views, as a replay of the corrected
/// records has them; the lot that stays is unchanged.
#[tokio::test]
async fn a_voided_arrival_takes_its_lot_and_its_pen_out_of_the_facts_and_the_views() {
    let (db, client) = database("corrections_arrival").await;
    let wrong = env(
        day(2),
        "api:kim",
        Event::Arrival(Arrival {
            lot_id: "L2".into(),
            head_count: 40,
            origin: "KS".into(),
            source: None,
            pen_id: Some("P2".into()),
            pay_weight_kg: 14_000.0,
            pay_weight_per_head_kg: None,
            shrink_pct: 0.0,
            purchase_price_minor: 4_000_000,
            currency: "USD".into(),
        }),
    );
    let hay = env(
        day(2),
        "api:kim",
        Event::FeedPurchase(schemas::FeedPurchase {
            ingredient: "hay".into(),
            supplier: "Ranch B".into(),
            origin: "Custer County".into(),
            quantity_kg: 5_000.0,
            price_minor: 60_000,
            currency: "USD".into(),
            dry_matter_pct: 88.0,
        }),
    );
    insert(
        &db,
        &[
            arrived(),
            placed(EID),
            weighing(0, 350.0),
            wrong.clone(),
            hay.clone(),
        ],
    )
    .await;
    let mut worker = worker(&client);
    assert_eq!(settle(&mut worker).await, 1);
    let now = Utc::now();
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap();
    let settings = dashboards::analytics::Settings::default();
    let (before, _) = crate::facts::both(&client, YARD, now).await;
    let lots = |r: &dashboards::analytics::YardReport| -> Vec<String> {
        r.lots.iter().map(|l| l.lot_id.clone()).collect()
    };
    let pens = |r: &dashboards::analytics::YardReport| -> Vec<String> {
        r.pens.iter().map(|p| p.pen_id.clone()).collect()
    };
    assert_eq!(lots(&before), ["L1", "L2"]);
    assert_eq!(pens(&before), ["P1", "P2"]);
    let in_view = |view: &str| {
        format!("SELECT count() FROM {view} WHERE feedlot_id = '{YARD}' AND lot_id = 'L2'")
    };
    assert!(support::count(&db, &in_view("lot_day_measures")).await > 60);

    insert(
        &db,
        &[
            correction(
                3,
                "api:kim",
                fix(
                    &wrong,
                    "arrival",
                    CorrectionAction::Void,
                    "another yard's lot",
                ),
            ),
            correction(
                3,
                "api:kim",
                fix(
                    &hay,
                    "feed_purchase",
                    CorrectionAction::Void,
                    "another yard's hay",
                ),
            ),
        ],
    )
    .await;
    assert_eq!(settle(&mut worker).await, 1);

    let (facts, replayed) = crate::facts::both(&client, YARD, now).await;
    crate::facts::assert_same(&facts, &replayed, "after the voids");
    assert_eq!(lots(&facts), ["L1"], "the lots");
    assert_eq!(pens(&facts), ["P1"], "the pens: P2 held only L2");
    let bought: Vec<&str> = facts
        .feed
        .ingredients
        .iter()
        .map(|i| i.ingredient.as_str())
        .collect();
    assert!(!bought.contains(&"hay"), "the feed: {bought:?}");
    assert_eq!(before.lots[0], facts.lots[0], "L1 unchanged");
    // As of a day in the lot's stay, too.
    let (facts, replayed) = crate::facts::both(&client, YARD, day(20)).await;
    crate::facts::assert_same(&facts, &replayed, "as of day 20");
    assert_eq!(lots(&facts), ["L1"]);

    // The lot's page reads no days and no marks of it; the views have none of its rows.
    let days = dashboards::facts::read::lot_days(&client, YARD, "L2", now_ms)
        .await
        .unwrap();
    assert!(days.is_empty(), "{} days of L2", days.len());
    let marks = dashboards::facts::read::by_days_on_feed(&client, YARD, now_ms, &settings)
        .await
        .unwrap();
    assert!(marks.iter().all(|m| m.lot_id == "L1"), "{marks:?}");
    assert_eq!(support::count(&db, &in_view("lot_day_measures")).await, 0);
    assert_eq!(
        support::count(
            &db,
            &format!(
                "SELECT count() FROM pen_day_measures WHERE feedlot_id = '{YARD}' AND pen_id = 'P2'"
            )
        )
        .await,
        0
    );
    assert!(support::count(&db, &in_view("lot_day_measures").replace("L2", "L1")).await > 60);

    // Blanked once: a later recompute from the first day writes L1's rows again and no blank
    // row of L2 (its newest version stays the voids' recompute's).
    let newest = |lot: &str| {
        format!(
            "SELECT max(version) FROM lot_day_facts WHERE feedlot_id = '{YARD}' AND lot_id = '{lot}'"
        )
    };
    let (l1, l2) = (
        support::count(&db, &newest("L1")).await,
        support::count(&db, &newest("L2")).await,
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let at = dashboards::facts::worker::server_now(&client)
        .await
        .unwrap();
    dashboards::facts::recompute(&client, YARD, Some(0), at)
        .await
        .unwrap();
    assert!(
        support::count(&db, &newest("L1")).await > l1,
        "L1 rewritten"
    );
    assert_eq!(
        support::count(&db, &newest("L2")).await,
        l2,
        "L2 not blanked again"
    );
}
