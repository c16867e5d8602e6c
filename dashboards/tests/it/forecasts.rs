//! Forecasts through the web (docs/forecasts.md): a generated yard's open lot forecast over its
//! weigh sessions (API, the lot page's section), a closed lot without one, the yard's feed plan
//! by ingredient (API, page, CSV in the user's units) and bad parameters refused naming them.
//! Accuracy against the herd model is `firmware-sim`'s `forecast_accuracy` test.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use serde_json::Value;

use crate::bench_yards::{database, store};
use crate::facts::big_yard;
use crate::two_yards::{bearer, get, site};

const TOKEN: &str = "forecast-token-0123456789-abcdef";

#[tokio::test]
async fn an_open_lot_is_forecast_over_its_weigh_sessions_and_the_yard_plans_its_feed() {
    let (db, client) = database("forecasts_web").await;
    let size = big_yard::Size {
        head: 800,
        days: 120,
        head_per_lot: 80,
    };
    let yard = big_yard::generate("gen-fc", size, 5);
    store(&db, &yard.events).await;
    let web = dashboards::config::WebConfig {
        users: vec![dashboards::config::WebUserConfig {
            name: "fc".into(),
            token_sha256: dashboards::web::auth::hash_token(TOKEN),
            feedlots: vec!["gen-fc".into()],
        }],
        ..Default::default()
    };
    let app = site(&client, &web);
    let auth = bearer(TOKEN);
    let h = [("authorization", auth.as_str())];
    let as_of = yard.end.format("%Y-%m-%dT%H:%M:%SZ");
    let lots: Value = serde_json::from_str(
        &get(
            &app,
            &format!("/api/feedlots/gen-fc/lots?as_of={as_of}"),
            &h,
        )
        .await
        .body,
    )
    .unwrap();
    let lots = lots.as_array().unwrap();
    // An open lot past its second re-weigh (days 19 and 39 of a 120-day yard).
    let open = lots
        .iter()
        .filter(|l| l["status"] == "open" && l["days_on_feed"].as_f64().unwrap() > 45.0)
        .max_by(|a, b| {
            a["days_on_feed"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["days_on_feed"].as_f64().unwrap())
        })
        .unwrap();
    let lot = open["lot_id"].as_str().unwrap();
    let reply = get(
        &app,
        &format!("/api/feedlots/gen-fc/lots/{lot}/forecast?as_of={as_of}&target_kg=600"),
        &h,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    let f = &answer["forecast"];
    assert_eq!(f["adg_source"], "weigh_sessions", "{answer}");
    assert_eq!(f["weigh_sessions"], 3, "{answer}");
    assert_eq!(f["target_live_weight_kg"], 600.0);
    // The generator's animals gain 1.2-1.9 kg/day.
    let adg = f["adg_fitted_kg"].as_f64().unwrap();
    assert!((1.3..=1.8).contains(&adg), "{adg}");
    let (fast, exp, slow) = (&f["fast"], &f["expected"], &f["slow"]);
    let days = |p: &Value| p["days_to_finish"].as_f64().unwrap();
    assert!(days(fast) < days(exp) && days(exp) < days(slow), "{f}");
    let weight_now = f["weight_now_kg"].as_f64().unwrap();
    let gain_per_day = (600.0 - weight_now) / days(exp);
    assert!((1.0..=1.9).contains(&gain_per_day), "{gain_per_day}");
    for p in [fast, exp, slow] {
        let dm = p["dry_matter_to_finish_kg"].as_f64().unwrap();
        let head = f["head_on_hand"].as_f64().unwrap();
        // ~13 kg as fed a head a day, about 60 % dry matter in the generator's rations.
        let per_head_day = dm / head / days(p);
        assert!((5.0..=13.0).contains(&per_head_day), "{per_head_day}");
        assert!(p["cost_of_gain_per_kg_minor"].as_f64().unwrap() > 0.0);
        assert!(p["breakeven_per_cwt_minor"].as_f64().unwrap() > 0.0);
    }
    // The same forecast the library makes.
    let direct = dashboards::forecast::lot_forecast(
        &client,
        "gen-fc",
        lot,
        answer["as_of_ms"].as_u64().unwrap(),
        &dashboards::analytics::Settings::default(),
        &dashboards::forecast::ForecastOptions {
            target_live_weight_kg: Some(600.0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut differ = Vec::new();
    crate::facts::differences(&serde_json::to_value(&direct).unwrap(), f, "", &mut differ);
    assert!(differ.is_empty(), "{differ:?}");

    // The lot's page shows it; a closed lot has none, and says so.
    let page = get(
        &app,
        &format!("/feedlots/gen-fc/lots/{lot}?as_of={as_of}"),
        &h,
    )
    .await;
    assert!(
        page.body.contains("<table id=\"forecast\">"),
        "{}",
        page.body
    );
    let closed = yard.totals.a_closed_lot.as_str();
    let reply = get(
        &app,
        &format!("/api/feedlots/gen-fc/lots/{closed}/forecast?as_of={as_of}"),
        &h,
    )
    .await;
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    assert!(answer["forecast"].is_null(), "{answer}");
    assert!(
        answer["unavailable"].as_str().unwrap().contains("closed"),
        "{answer}"
    );
    let unknown = get(&app, "/api/feedlots/gen-fc/lots/NOPE/forecast", &h).await;
    assert_eq!(unknown.status, 404);

    // Bad parameters are refused, naming the field.
    for (query, field) in [
        ("target_kg=heavy", "target_kg"),
        ("target_kg=5000", "target_kg"),
        ("as_of=yesterday", "as_of"),
    ] {
        let r = get(
            &app,
            &format!("/api/feedlots/gen-fc/lots/{lot}/forecast?{query}"),
            &h,
        )
        .await;
        assert_eq!(r.status, 400, "{query}");
        assert!(r.body.starts_with(field), "{query}: {}", r.body);
    }
    for query in ["days=0", "days=91", "days=two"] {
        let r = get(&app, &format!("/api/feedlots/gen-fc/feed-plan?{query}"), &h).await;
        assert_eq!(r.status, 400, "{query}");
        assert!(r.body.starts_with("days"), "{query}: {}", r.body);
    }

    // The feed plan: every ingredient of the rations, needs adding up to the rations' intake.
    let reply = get(
        &app,
        &format!("/api/feedlots/gen-fc/feed-plan?as_of={as_of}"),
        &h,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let plan: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(plan["days"], 14);
    let needs = plan["ingredients"].as_array().unwrap();
    let names: Vec<&str> = needs
        .iter()
        .map(|n| n["ingredient"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["corn", "hay", "silage", "supplement"]);
    let total: f64 = needs.iter().map(|n| n["need_kg"].as_f64().unwrap()).sum();
    let by_ration: f64 = plan["rations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["need_kg"].as_f64().unwrap())
        .sum();
    assert!(
        total > 0.0 && (total - by_ration).abs() < 1e-6 * total,
        "{plan}"
    );
    for r in plan["rations"].as_array().unwrap() {
        let kg = r["per_head_day_kg"].as_f64().unwrap();
        assert!((6.0..=14.0).contains(&kg), "{r}");
    }
    for n in needs {
        let (need, on_hand, to_buy) = (
            n["need_kg"].as_f64().unwrap(),
            n["on_hand_kg"].as_f64().unwrap(),
            n["to_buy_kg"].as_f64().unwrap(),
        );
        assert!((to_buy - (need - on_hand).max(0.0)).abs() < 1e-6, "{n}");
    }
    let csv = get(
        &app,
        &format!("/feedlots/gen-fc/feed-plan.csv?as_of={as_of}&days=7"),
        &h,
    )
    .await;
    assert!(
        csv.body
            .starts_with("ingredient,per_day_lb,need_lb,on_hand_lb,to_buy_lb,price_per_ton,"),
        "{}",
        csv.body
    );
    let page = get(
        &app,
        &format!("/feedlots/gen-fc/feed-plan?as_of={as_of}"),
        &h,
    )
    .await;
    assert!(
        page.body.contains("<table id=\"feed-plan\">"),
        "{}",
        page.body
    );
}
