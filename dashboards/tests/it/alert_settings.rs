//! A yard's alert settings page (docs/alerts.md, "Settings") over real ClickHouse: a user of
//! the yard raises the off-feed threshold, turns a rule off and names an email recipient on the
//! page; the alerts worker's next round follows them (the yard's records are the alerts test's,
//! which make every rule fire), the page shows what is in use and who changed it, and bad
//! values are refused naming the field, saving nothing.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use dashboards::config::{AlertsConfig, WebConfig, WebUserConfig};
use dashboards::web::auth::Auth;
use dashboards::web::{AppState, app};
use serde_json::Value;

use crate::alerts::{ALERTS, YARD, now_ms, seeded, worker};
use crate::two_yards::{get, send};

const TOKEN: &str = "alert-settings-token-0123456789";

fn site(client: &clickhouse::Client, alerts: &AlertsConfig) -> axum::Router {
    let web = WebConfig {
        users: vec![WebUserConfig {
            name: "carol".into(),
            token_sha256: dashboards::web::auth::hash_token(TOKEN),
            feedlots: vec![YARD.into()],
        }],
        ..WebConfig::default()
    };
    app(AppState::new(client.clone())
        .with_auth(Auth::from_config(&web).unwrap())
        .with_alerts(alerts.clone()))
}

/// The text of the cell `class` in the table row marked `data-{key}="{value}"`.
fn cell(page: &str, key: &str, value: &str, class: &str) -> String {
    let row = page
        .split(&format!(r#"data-{key}="{value}""#))
        .nth(1)
        .unwrap_or_else(|| panic!("no row {key}={value} in {page}"));
    let row = row.split("</tr>").next().unwrap();
    let cell = row
        .split(&format!(r#"<td class="{class}">"#))
        .nth(1)
        .unwrap_or_else(|| panic!("no .{class} in row {key}={value}: {row}"));
    cell.split("</td>").next().unwrap().trim().to_owned()
}

/// The rows of the Changes table, as text without tags.
fn history_rows(page: &str) -> Vec<String> {
    let table = page
        .split(r#"<table id="history">"#)
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let body = table.split("<tbody>").nth(1).unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in row.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

#[tokio::test]
async fn a_user_changes_the_yards_alert_settings_on_the_page_and_the_next_round_follows_them() {
    let (_db, client) = seeded("alert_settings").await;
    let config = AlertsConfig {
        smtp_url: "smtp://127.0.0.1:2525".into(),
        ..AlertsConfig::default()
    };
    let site = site(&client, &config);
    let auth = format!("Bearer {TOKEN}");
    let headers = [("authorization", auth.as_str())];
    let path = format!("/feedlots/{YARD}/alerts/settings");

    // Before: every rule on, the defaults in use, no changes.
    let before = get(&site, &path, &headers).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(
        cell(&before.body, "setting", "off_feed_drop_pct", "in-use"),
        "20"
    );
    assert_eq!(cell(&before.body, "rule", "pulled_twice", "in-use"), "on");
    assert!(history_rows(&before.body).is_empty());

    // A bad value is refused naming the field, and saves nothing.
    let form = [
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let mut ticked: Vec<String> = dashboards::config::RULES
        .iter()
        .filter(|r| **r != "pulled_twice")
        .map(|r| format!("rule.{r}=on"))
        .collect();
    ticked.push("form=alert-settings".into());
    let body = |extra: &str| format!("{}&{extra}", ticked.join("&"));
    let bad = send(
        &site,
        "POST",
        &path,
        &form,
        &body("off_feed_drop_pct=lots&emails="),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("off_feed_drop_pct"), "{}", bad.body);
    let bad = send(
        &site,
        "POST",
        &path,
        &form,
        &body("off_feed_drop_pct=80&emails=the+manager"),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.starts_with("emails:"), "{}", bad.body);

    // Saved from the page: off feed only at an 80% drop (the yard's is 70%), no pulled-twice
    // alerts, emails to the manager.
    let saved = send(
        &site,
        "POST",
        &path,
        &form,
        &body("off_feed_drop_pct=80&gateway_silent_minutes=&emails=manager%40alert-yard.example"),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.header(axum::http::header::LOCATION), path);

    let after = get(&site, &path, &headers).await;
    assert_eq!(
        cell(&after.body, "setting", "off_feed_drop_pct", "in-use"),
        "80"
    );
    assert_eq!(
        cell(&after.body, "setting", "off_feed_drop_pct", "default"),
        "20"
    );
    assert_eq!(
        cell(&after.body, "setting", "gateway_silent_minutes", "in-use"),
        "60",
        "a blank field keeps the default"
    );
    assert_eq!(cell(&after.body, "rule", "pulled_twice", "in-use"), "off");
    assert_eq!(cell(&after.body, "rule", "off_feed", "in-use"), "on");
    let history = history_rows(&after.body);
    assert_eq!(history.len(), 1, "the refused posts saved nothing");
    assert!(
        history[0].contains("carol") && history[0].contains("off_feed_drop_pct = 80"),
        "{history:?}"
    );

    // The worker's round follows them: neither off_feed nor pulled_twice, and each alert has
    // an email delivery to the yard's recipient.
    let mut w = worker(&client, config.clone());
    let round = w.round(now_ms()).await.unwrap();
    assert_eq!(round.raised, ALERTS - 2, "{round:?}");
    let rules: Vec<String> = client
        .query("SELECT rule FROM alerts FINAL WHERE feedlot_id = ? ORDER BY rule")
        .bind(YARD)
        .fetch_all()
        .await
        .unwrap();
    assert!(
        !rules.iter().any(|r| r == "off_feed" || r == "pulled_twice"),
        "{rules:?}"
    );
    let targets: Vec<String> = client
        .query(
            "SELECT DISTINCT target FROM alert_deliveries FINAL \
             WHERE feedlot_id = ? AND channel = 'email'",
        )
        .bind(YARD)
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(targets, ["manager@alert-yard.example"]);

    // The API: the same view as JSON; an unknown setting is refused by name; a save by JSON.
    let api = format!("/api/feedlots/{YARD}/alerts/settings");
    let view = get(&site, &api, &headers).await;
    assert_eq!(view.status, 200);
    let view: Value = serde_json::from_str(&view.body).unwrap();
    assert_eq!(view["in_use"]["off_feed_drop_pct"], 80.0);
    assert_eq!(view["defaults"]["off_feed_drop_pct"], 20.0);
    assert_eq!(view["history"][0]["set_by"], "carol");
    let json = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let unknown = send(&site, "POST", &api, &json, r#"{"off_feed_pct": 10}"#).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("off_feed_pct"), "{}", unknown.body);
    let webhook = send(
        &site,
        "POST",
        &api,
        &json,
        r#"{"webhook_url": "http://127.0.0.1:8123/?query=DROP", "webhook_secret": "0123456789abcdef0"}"#,
    )
    .await;
    assert_eq!(webhook.status, 400, "only the operator sets a webhook");
    assert!(webhook.body.starts_with("webhook_url:"), "{}", webhook.body);
    let put = send(
        &site,
        "POST",
        &api,
        &json,
        r#"{"off_feed_drop_pct": 50, "disabled": []}"#,
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let put: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(put["in_use"]["off_feed_drop_pct"], 50.0);
    assert_eq!(put["in_use"]["emails"], serde_json::json!([]));
    assert_eq!(put["history"].as_array().unwrap().len(), 2);

    // Now the 70% drop is an alert again, and the pull too.
    let round = w.round(now_ms()).await.unwrap();
    assert_eq!(round.raised, 2, "{round:?}");
}
