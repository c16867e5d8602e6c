//! How good the lot forecasts are (docs/forecasts.md): yards simulated by the herd model
//! (`firmware_sim::herd`), stored through ingest into ClickHouse with their daily facts; every
//! lot that closed is forecast from day 60 on feed (what the yard knew then) and the forecast
//! is set against its actual closeout: days on feed (head-weighted, as closeouts report it),
//! out weight per head and all-in cost of gain. Prints the error table
//! (`cargo test -p firmware-sim --test forecast_accuracy -- --nocapture`).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use chrono::NaiveDate;
use dashboards::analytics::Settings;
use dashboards::forecast::{ForecastOptions, lot_forecast};
use firmware_sim::herd::lots::TARGET_KG;
use firmware_sim::herd::{YardConfig, YardSim, envelopes};
use schemas::Sex;

const DAY_MS: u64 = 86_400_000;

/// The day forecasts are made, days on feed.
const FORECAST_DOF: u64 = 60;

/// What a feedlot accepts from a forecast made at day 60 (docs/forecasts.md, "Accuracy").
const MAX_DAYS_ERROR: f64 = 14.0;
const MAX_COG_ERROR_PCT: f64 = 10.0;
const MAX_OUT_WEIGHT_ERROR_PCT: f64 = 5.0;
/// Share of lots whose actual closeout must lie inside the forecast's range.
const MIN_IN_RANGE: f64 = 0.7;

/// One lot: forecast against actual.
struct Row {
    lot: String,
    sex: Sex,
    dof: (f64, f64, f64, f64),
    weight: (f64, f64),
    cog: (f64, f64, f64, f64),
    /// With each of [`OTHER_DECLINES`] assumed: (days on feed, cost of gain) expected.
    other: Vec<(f64, f64)>,
}

/// ADG declines (per day on feed) the forecasts are also made with, to show how much the
/// assumed shape of growth matters (the default is the herd model's own 0.0015).
const OTHER_DECLINES: [f64; 3] = [0.002, 0.001, 0.0];

/// One feed plan: (yard, day, ingredient, planned kg, actually fed kg) over the plan's days.
type PlanRow = (String, u32, String, f64, f64);

/// Days a feed plan covers.
const PLAN_DAYS: u32 = 14;
/// A plan's total (all ingredients) within this of what was fed, %.
const MAX_PLAN_TOTAL_ERROR_PCT: f64 = 10.0;
/// Each ingredient within this of what was fed, %, or (a minor ingredient) within
/// [`MAX_PLAN_SMALL_ERROR_PCT`] of the plan's total: a few hundred kg of hay either way.
const MAX_PLAN_ERROR_PCT: f64 = 15.0;
/// See [`MAX_PLAN_ERROR_PCT`].
const MAX_PLAN_SMALL_ERROR_PCT: f64 = 2.0;

/// The feed plan of `name` made on each of `plan_days` (00:00 UTC of the day after) against
/// what each ingredient's fed total grew by over the next [`PLAN_DAYS`].
async fn plans(
    client: &clickhouse::Client,
    name: &str,
    start_ms: u64,
    plan_days: &[u32],
) -> Vec<PlanRow> {
    let mut out = Vec::new();
    for &d in plan_days {
        let as_of = start_ms + u64::from(d + 1) * DAY_MS;
        let plan = dashboards::forecast::feed_plan(client, name, as_of, PLAN_DAYS, 7)
            .await
            .unwrap();
        let day = |n: u32| ((start_ms / DAY_MS) + u64::from(n)).to_string();
        let fed: Vec<(String, f64)> = client
            .query(
                "SELECT ingredient, argMax(fed_kg, day) - argMin(fed_kg, day) \
                 FROM ingredient_day_facts FINAL WHERE feedlot_id = ? \
                 AND toUInt32(day) >= ? AND toUInt32(day) <= ? GROUP BY ingredient",
            )
            .bind(name)
            .bind(day(d).parse::<u32>().unwrap())
            .bind(day(d + PLAN_DAYS).parse::<u32>().unwrap())
            .fetch_all()
            .await
            .unwrap();
        for need in plan.ingredients {
            let actual = fed
                .iter()
                .find(|(i, _)| *i == need.ingredient)
                .map(|f| f.1)
                .unwrap_or(0.0);
            out.push((name.to_owned(), d, need.ingredient, need.need_kg, actual));
        }
    }
    out
}

async fn yard(
    name: &str,
    seed: u64,
    pens: usize,
    head: usize,
    days: u32,
) -> (Vec<Row>, Vec<PlanRow>) {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut sim = YardSim::new(YardConfig::new(pens, head, seed, start));
    let mut events = Vec::new();
    for _ in 0..days {
        events.extend(sim.step().1);
    }
    let db = testkit::ClickHouseDb::create(name).await.unwrap();
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    let mut rows = ingest::sink::Rows::default();
    for e in envelopes(&events, name, "gw-1", seed) {
        rows.push(&e);
    }
    ingest::sink::insert_rows(&client, &db.database, &rows)
        .await
        .unwrap();
    let client = db.client();
    dashboards::facts::worker::rebuild(&client, &[name.to_owned()])
        .await
        .unwrap();
    let end_ms = start
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis() as u64
        + u64::from(days) * DAY_MS;
    // The sim's shipments record scale weights, so the yard sells at its finish weight.
    let settings = Settings {
        target_sale_weight_kg: TARGET_KG.0,
        target_live_weight_kg: TARGET_KG.0,
        ..Settings::default()
    };
    let report = dashboards::facts::yard_report(&client, name, end_ms, &settings)
        .await
        .unwrap();
    let mut out = Vec::new();
    for closed in report.lots.iter().filter(|l| l.status == "closed") {
        let lot = sim
            .lots()
            .iter()
            .find(|l| l.lot_id == closed.lot_id)
            .unwrap();
        // The yard's target for the lot: its sex class's finish weight.
        let target = if lot.sex == Sex::Steer {
            TARGET_KG.0
        } else {
            TARGET_KG.1
        };
        let options = ForecastOptions {
            target_live_weight_kg: Some(target),
            ..ForecastOptions::default()
        };
        let arrival_day = closed.arrived_at_ms / DAY_MS;
        let as_of = (arrival_day + FORECAST_DOF + 1) * DAY_MS - 1;
        let f = lot_forecast(&client, name, &closed.lot_id, as_of, &settings, &options)
            .await
            .unwrap();
        let mut other = Vec::new();
        for k in OTHER_DECLINES {
            let options = ForecastOptions {
                adg_decline_per_day: k,
                ..options.clone()
            };
            let g = lot_forecast(&client, name, &closed.lot_id, as_of, &settings, &options)
                .await
                .unwrap();
            other.push((
                g.expected.days_on_feed_at_out,
                g.expected.cost_of_gain_per_kg_minor.unwrap(),
            ));
        }
        out.push(Row {
            lot: closed.lot_id.clone(),
            sex: lot.sex,
            dof: (
                f.expected.days_on_feed_at_out,
                f.fast.days_on_feed_at_out,
                f.slow.days_on_feed_at_out,
                closed.days_on_feed,
            ),
            weight: (f.sale_weight_kg, closed.current_weight_kg.unwrap()),
            cog: (
                f.expected.cost_of_gain_per_kg_minor.unwrap(),
                f.fast.cost_of_gain_per_kg_minor.unwrap(),
                f.slow.cost_of_gain_per_kg_minor.unwrap(),
                closed.cost_of_gain_per_kg_minor.unwrap(),
            ),
            other,
        });
    }
    let start_ms = start
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis() as u64;
    let plan_days: Vec<u32> = (150..days - PLAN_DAYS).step_by(50).collect();
    (out, plans(&client, name, start_ms, &plan_days).await)
}

fn within(x: f64, a: f64, b: f64) -> bool {
    x >= a.min(b) && x <= a.max(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_forecast_at_day_60_close_out_within_a_feedlots_tolerance() {
    let (mut rows, mut plans) = yard("forecast_accuracy_a", 5, 10, 50, 440).await;
    let (more, more_plans) = yard("forecast_accuracy_b", 9, 10, 50, 440).await;
    rows.extend(more);
    plans.extend(more_plans);
    assert!(rows.len() >= 12, "{} closed lots", rows.len());
    println!(
        "lot          sex     DOF fc [range]     actual  err   out kg fc actual err%   COG ¢/kg fc [range]    actual err%"
    );
    let (mut days_abs, mut cog_abs, mut weight_abs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut days_bias, mut cog_bias) = (0.0, 0.0);
    let (mut dof_in, mut cog_in) = (0, 0);
    for r in &rows {
        let days_err = r.dof.0 - r.dof.3;
        let weight_err = 100.0 * (r.weight.0 - r.weight.1) / r.weight.1;
        let cog_err = 100.0 * (r.cog.0 - r.cog.3) / r.cog.3;
        dof_in += usize::from(within(r.dof.3, r.dof.1, r.dof.2));
        cog_in += usize::from(within(r.cog.3, r.cog.1, r.cog.2));
        println!(
            "{:<12} {:<7} {:>5.0} [{:>3.0}-{:>3.0}] {:>6.0} {:>+5.0}   {:>6.0} {:>6.0} {:>+5.1}   {:>6.0} [{:>4.0}-{:>4.0}] {:>6.0} {:>+5.1}",
            r.lot,
            format!("{:?}", r.sex),
            r.dof.0,
            r.dof.1,
            r.dof.2,
            r.dof.3,
            days_err,
            r.weight.0,
            r.weight.1,
            weight_err,
            r.cog.0,
            r.cog.1,
            r.cog.2,
            r.cog.3,
            cog_err
        );
        days_abs.push(days_err.abs());
        weight_abs.push(weight_err.abs());
        cog_abs.push(cog_err.abs());
        days_bias += days_err;
        cog_bias += cog_err;
    }
    let n = rows.len() as f64;
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "{} lots: out date |err| mean {:.1} d, max {:.1} d, bias {:+.1} d; out weight |err| mean \
         {:.1} %, max {:.1} %; COG |err| mean {:.1} %, max {:.1} %, bias {:+.1} %; actual in \
         range: DOF {}/{}, COG {}/{}",
        rows.len(),
        mean(&days_abs),
        max(&days_abs),
        days_bias / n,
        mean(&weight_abs),
        max(&weight_abs),
        mean(&cog_abs),
        max(&cog_abs),
        cog_bias / n,
        dof_in,
        rows.len(),
        cog_in,
        rows.len()
    );
    for (i, k) in OTHER_DECLINES.iter().enumerate() {
        let days: Vec<f64> = rows
            .iter()
            .map(|r| (r.other[i].0 - r.dof.3).abs())
            .collect();
        let cog: Vec<f64> = rows
            .iter()
            .map(|r| 100.0 * ((r.other[i].1 - r.cog.3) / r.cog.3).abs())
            .collect();
        println!(
            "assuming an ADG decline of {k} a day instead: out date |err| mean {:.1} d, max {:.1} \
             d; COG |err| mean {:.1} %, max {:.1} %",
            mean(&days),
            max(&days),
            mean(&cog),
            max(&cog)
        );
    }
    println!("\nfeed plan (14 days)          ingredient             planned kg   fed kg   err%");
    let (mut plan_abs, mut total_abs, mut off) = (Vec::new(), Vec::new(), Vec::new());
    let mut totals: std::collections::BTreeMap<(&str, u32), (f64, f64)> = Default::default();
    for (yard, day, _, planned, fed) in &plans {
        let t = totals.entry((yard.as_str(), *day)).or_default();
        t.0 += planned;
        t.1 += fed;
    }
    for (yard, day, ingredient, planned, fed) in &plans {
        let err = 100.0 * (planned - fed) / fed;
        let of_total = 100.0 * (planned - fed) / totals[&(yard.as_str(), *day)].1;
        plan_abs.push(err.abs());
        if err.abs() > MAX_PLAN_ERROR_PCT && of_total.abs() > MAX_PLAN_SMALL_ERROR_PCT {
            off.push(format!("{yard} day {day} {ingredient}"));
        }
        println!(
            "{yard:<22} day {day:>3}  {ingredient:<22} {planned:>10.0} {fed:>8.0} {err:>+6.1} ({of_total:+.1} of all)"
        );
    }
    for ((yard, day), (planned, fed)) in &totals {
        let err = 100.0 * (planned - fed) / fed;
        total_abs.push(err.abs());
        println!(
            "{yard:<22} day {day:>3}  all ingredients        {planned:>10.0} {fed:>8.0} {err:>+6.1}"
        );
    }
    println!(
        "{} plans of {} ingredient needs: total |err| mean {:.1} %, max {:.1} %; per ingredient \
         |err| mean {:.1} %, max {:.1} %",
        totals.len(),
        plans.len(),
        mean(&total_abs),
        max(&total_abs),
        mean(&plan_abs),
        max(&plan_abs)
    );
    assert!(totals.len() >= 10, "{} plans", totals.len());
    assert!(
        max(&total_abs) <= MAX_PLAN_TOTAL_ERROR_PCT,
        "feed plan totals"
    );
    assert!(off.is_empty(), "feed plan: {off:?}");
    assert!(max(&days_abs) <= MAX_DAYS_ERROR, "out date");
    assert!(max(&weight_abs) <= MAX_OUT_WEIGHT_ERROR_PCT, "out weight");
    assert!(max(&cog_abs) <= MAX_COG_ERROR_PCT, "cost of gain");
    assert!(dof_in as f64 >= MIN_IN_RANGE * n, "days on feed in range");
    assert!(cog_in as f64 >= MIN_IN_RANGE * n, "cost of gain in range");
}
