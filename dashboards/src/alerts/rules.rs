//! The rules: each reads one yard's facts or records as of a moment and names what needs
//! attention. Each alert's period is chosen so the same condition keeps its id (one alert)
//! and a new occurrence gets a new one (see `docs/alerts.md`).

use std::collections::HashMap;

use super::{Alert, AlertError, day_text, minute_text};
use crate::analytics::Settings;
use crate::config::RuleSettings;
use crate::facts::rows::{DAY_MS, date_text, day_of};

type Result<T> = std::result::Result<T, AlertError>;

/// Every enabled rule's alerts for `feedlot_id` as of `now_ms`.
pub async fn evaluate(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    analytics: &Settings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let places = placements(client, feedlot_id).await?;
    let mut out = Vec::new();
    if rules.enabled("booster_due") {
        out.extend(booster_due(client, feedlot_id, rules, &places, now_ms).await?);
    }
    if rules.enabled("pulled_twice") {
        out.extend(pulled_twice(client, feedlot_id, rules, &places, now_ms).await?);
    }
    if rules.enabled("ingredient_low") {
        out.extend(ingredient_low(client, feedlot_id, rules, now_ms).await?);
    }
    if rules.enabled("off_feed") {
        out.extend(off_feed(client, feedlot_id, rules, now_ms).await?);
    }
    let near_target_rules = ["near_target_weight", "withdrawal_on_shipment"];
    if near_target_rules.iter().any(|r| rules.enabled(r)) {
        let near = near_target(client, feedlot_id, rules, analytics, now_ms).await?;
        if rules.enabled("withdrawal_on_shipment") {
            // Planned shipments first; a lot near its target without an open plan keeps the
            // proxy check.
            let planned = super::planned::check(client, feedlot_id, rules, now_ms).await?;
            let lots: Vec<&str> = near
                .iter()
                .map(|a| a.subject.as_str())
                .filter(|lot| !planned.lots.contains(*lot))
                .collect();
            out.extend(planned.alerts);
            out.extend(withdrawal_on_shipment(client, feedlot_id, &lots, &places, now_ms).await?);
        }
        if rules.enabled("near_target_weight") {
            out.extend(near);
        }
    }
    if rules.enabled("gateway_silent") {
        out.extend(gateway_silent(client, feedlot_id, rules, now_ms).await?);
    }
    if rules.enabled("outbox_backlog") {
        out.extend(outbox_backlog(client, feedlot_id, rules, now_ms).await?);
    }
    Ok(out)
}

/// Each animal's latest lot and pen.
async fn placements(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<HashMap<String, (String, String)>> {
    let rows: Vec<(String, String, String)> = client
        .query(
            "SELECT eid, argMax(lot_id, captured_at_ms), argMax(pen_id, captured_at_ms) \
             FROM placements FINAL WHERE feedlot_id = ? GROUP BY eid",
        )
        .bind(feedlot_id)
        .fetch_all()
        .await?;
    Ok(rows.into_iter().map(|(e, l, p)| (e, (l, p))).collect())
}

/// `animal 982… (lot L, pen P)`.
/// Treatments where `conditions` hold, as corrected ([`crate::queries::live`]).
fn live_treatments(conditions: &str) -> String {
    crate::queries::live::source("treatments", conditions)
}

fn animal(eid: &str, places: &HashMap<String, (String, String)>) -> String {
    match places.get(eid) {
        Some((lot, pen)) => format!("animal {eid} (lot {lot}, pen {pen})"),
        None => format!("animal {eid}"),
    }
}

fn animal_link(feedlot_id: &str, eid: &str) -> String {
    format!("/feedlots/{feedlot_id}/animals/{eid}")
}

/// `booster_due`: an animal given a product with a booster interval and not given it again,
/// due within `booster_due_within_days` (or overdue). One alert per animal, product and due
/// day.
async fn booster_due(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    places: &HashMap<String, (String, String)>,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let horizon_ms = now_ms + u64::from(rules.booster_due_within_days) * DAY_MS;
    let rows: Vec<(String, String, u64)> = client
        .query(&format!(
            "SELECT eid, product, primed_ms + toUInt64(after_days) * 86400000 AS due_ms FROM (\
               SELECT eid, product, maxIf(captured_at_ms, booster_after_days > 0) AS primed_ms, \
                 argMaxIf(booster_after_days, captured_at_ms, booster_after_days > 0) AS after_days, \
                 max(captured_at_ms) AS last_ms \
               FROM {} GROUP BY eid, product) \
             WHERE primed_ms > 0 AND last_ms = primed_ms AND due_ms <= ? ORDER BY eid, product",
            live_treatments("feedlot_id = ?")
        ))
        .bind(feedlot_id)
        .bind(horizon_ms)
        .fetch_all()
        .await?;
    Ok(rows
        .into_iter()
        .map(|(eid, product, due_ms)| {
            let due = day_text(due_ms);
            let when = if due_ms < now_ms {
                "overdue since"
            } else {
                "due"
            };
            Alert::new(
                feedlot_id,
                "booster_due",
                &format!("{eid}/{product}"),
                &due,
                format!(
                    "Booster of {product} {when} {due} for {}",
                    animal(&eid, places)
                ),
                format!("The booster of {product} is due {due} (UTC)."),
                animal_link(feedlot_id, &eid),
            )
        })
        .collect())
}

/// `pulled_twice`: an animal treated for sickness (`therapeutic`) again within
/// `pulled_twice_within_days` of its previous pull, the later pull in that window of now. One
/// alert per repeat pull (its day).
async fn pulled_twice(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    places: &HashMap<String, (String, String)>,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let window_ms = u64::from(rules.pulled_twice_within_days) * DAY_MS;
    #[derive(serde::Deserialize, clickhouse::Row)]
    struct Pulls {
        eid: String,
        times: Vec<u64>,
        diagnoses: Vec<String>,
    }
    let rows: Vec<Pulls> = client
        .query(&format!(
            "SELECT eid, groupArray(captured_at_ms) AS times, groupArray(diagnosis) AS diagnoses \
             FROM (\
               SELECT eid, captured_at_ms, diagnosis FROM {} ORDER BY eid, captured_at_ms) \
             GROUP BY eid HAVING count() >= 2 ORDER BY eid",
            live_treatments("feedlot_id = ? AND purpose = 'therapeutic'")
        ))
        .bind(feedlot_id)
        .fetch_all()
        .await?;
    let mut out = Vec::new();
    for Pulls {
        eid,
        times,
        diagnoses,
    } in rows
    {
        for i in 1..times.len() {
            let (before, at) = (times[i - 1], times[i]);
            if at.saturating_sub(before) > window_ms || now_ms.saturating_sub(at) > window_ms {
                continue;
            }
            let days = at.saturating_sub(before) as f64 / DAY_MS as f64;
            let diagnosis = diagnoses.get(i).map(String::as_str).unwrap_or("");
            out.push(Alert::new(
                feedlot_id,
                "pulled_twice",
                &eid,
                &day_text(at),
                format!("Pulled again: {}", animal(&eid, places)),
                format!(
                    "Treated for sickness on {} and again on {} ({days:.1} days apart){}.",
                    day_text(before),
                    day_text(at),
                    if diagnosis.is_empty() {
                        String::new()
                    } else {
                        format!("; diagnosis: {diagnosis}")
                    }
                ),
                animal_link(feedlot_id, &eid),
            ));
        }
    }
    Ok(out)
}

/// `ingredient_low`: an ingredient whose stock on hand lasts fewer than `ingredient_low_days`
/// at its average use over the last 7 days (from `ingredient_day_facts`). One alert per
/// ingredient until more is bought (the period is the kg bought so far).
async fn ingredient_low(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let today = day_of(now_ms);
    let rows: Vec<(String, f64, f64, f64, f64)> = client
        .query(
            "SELECT ingredient, argMax(on_hand_kg, day), argMax(fed_kg, day), \
               argMax(purchased_kg, day), argMaxIf(fed_kg, day, day <= ?) \
             FROM ingredient_day_facts FINAL WHERE feedlot_id = ? AND day <= ? \
             GROUP BY ingredient ORDER BY ingredient",
        )
        .bind(date_text(today.saturating_sub(7)))
        .bind(feedlot_id)
        .bind(date_text(today))
        .fetch_all()
        .await?;
    let mut out = Vec::new();
    for (ingredient, on_hand_kg, fed_kg, purchased_kg, fed_week_ago_kg) in rows {
        let per_day_kg = (fed_kg - fed_week_ago_kg) / 7.0;
        if per_day_kg <= 0.0 {
            continue;
        }
        let days_left = on_hand_kg.max(0.0) / per_day_kg;
        if days_left >= rules.ingredient_low_days {
            continue;
        }
        out.push(Alert::new(
            feedlot_id,
            "ingredient_low",
            &ingredient,
            &format!("bought-{purchased_kg:.0}kg"),
            format!("Running low on {ingredient}: {days_left:.1} days left"),
            format!(
                "{on_hand_kg:.0} kg of {ingredient} on hand; {per_day_kg:.0} kg fed per day over \
                 the last 7 days."
            ),
            format!("/feedlots/{feedlot_id}/feed"),
        ));
    }
    Ok(out)
}

/// `off_feed`: an open lot whose as-fed intake per head on the last full day (yesterday, UTC)
/// fell `off_feed_drop_pct` below its average of the 7 days before. One alert per lot and day.
async fn off_feed(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let yesterday = day_of(now_ms).saturating_sub(1);
    let first = yesterday.saturating_sub(8);
    let rows: Vec<(String, u16, f64, i64)> = client
        .query(
            "SELECT lot_id, day, as_fed_kg, head_on_hand FROM lot_day_facts FINAL \
             WHERE feedlot_id = ? AND day >= ? AND day <= ? AND closed_ms = 0 AND head_in > 0 \
             ORDER BY lot_id, day",
        )
        .bind(feedlot_id)
        .bind(date_text(first))
        .bind(date_text(yesterday))
        .fetch_all()
        .await?;
    let mut by_lot: HashMap<String, Vec<(u16, f64, i64)>> = HashMap::new();
    for (lot, day, as_fed, head) in rows {
        by_lot.entry(lot).or_default().push((day, as_fed, head));
    }
    let mut out = Vec::new();
    let mut lots: Vec<_> = by_lot.into_iter().collect();
    lots.sort_by(|a, b| a.0.cmp(&b.0));
    for (lot, days) in lots {
        // Intake per head of each day with the day before it on record.
        let daily: Vec<(u16, f64)> = days
            .windows(2)
            .filter(|w| w[1].0 == w[0].0 + 1 && w[1].2 > 0)
            .map(|w| (w[1].0, (w[1].1 - w[0].1) / w[1].2 as f64))
            .collect();
        let Some(&(last_day, last)) = daily.last() else {
            continue;
        };
        if last_day != yesterday || daily.len() < 4 {
            continue;
        }
        let before: Vec<f64> = daily[..daily.len() - 1].iter().map(|d| d.1).collect();
        let average = before.iter().sum::<f64>() / before.len() as f64;
        if average <= 0.0 || last >= average * (1.0 - rules.off_feed_drop_pct / 100.0) {
            continue;
        }
        let drop_pct = (1.0 - last / average) * 100.0;
        let day = date_text(last_day);
        out.push(Alert::new(
            feedlot_id,
            "off_feed",
            &lot,
            &day,
            format!("Lot {lot} off feed: intake down {drop_pct:.0}% on {day}"),
            format!(
                "{last:.1} kg as fed per head on {day} against {average:.1} kg per head a day \
                 over the {} days before.",
                before.len()
            ),
            format!("/feedlots/{feedlot_id}/lots/{lot}"),
        ));
    }
    Ok(out)
}

/// `near_target_weight`: an open lot whose projected pay weight per head is within
/// `near_target_within_kg` of `analytics.target_sale_weight_kg` (or past it). One alert per
/// lot.
async fn near_target(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    analytics: &Settings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let report = crate::facts::yard_report(client, feedlot_id, now_ms, analytics).await?;
    let target_kg = analytics.target_sale_weight_kg;
    Ok(report
        .lots
        .iter()
        .filter(|l| l.closed_at_ms.is_none() && l.head_on_hand > 0)
        .filter_map(|l| {
            let kg = l.current_weight_kg?;
            (kg >= target_kg - rules.near_target_within_kg).then(|| {
                Alert::new(
                    feedlot_id,
                    "near_target_weight",
                    &l.lot_id,
                    "target",
                    format!(
                        "Lot {} near its target weight: {kg:.0} kg per head",
                        l.lot_id
                    ),
                    format!(
                        "Projected pay weight {kg:.0} kg per head against a target of \
                         {target_kg:.0} kg; {} head on hand.",
                        l.head_on_hand
                    ),
                    format!("/feedlots/{feedlot_id}/lots/{}", l.lot_id),
                )
            })
        })
        .collect())
}

/// `withdrawal_on_shipment` for a lot without an open planned shipment ([`super::planned`]):
/// a lot about to ship (near its target weight, as `near_target_weight` finds) holding
/// animals whose meat withdrawal has not ended (the latest dose's `withdrawal_days` after
/// it). One alert per lot and the day the last of them clears (a new dose makes a new one).
async fn withdrawal_on_shipment(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lots: &[&str],
    places: &HashMap<String, (String, String)>,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    if lots.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, u64)> = client
        .query(&format!(
            "SELECT eid, max(captured_at_ms + toUInt64(withdrawal_days) * 86400000) AS clear_ms \
             FROM {} WHERE withdrawal_days > 0 GROUP BY eid HAVING clear_ms > ? ORDER BY eid",
            live_treatments("feedlot_id = ?")
        ))
        .bind(feedlot_id)
        .bind(now_ms)
        .fetch_all()
        .await?;
    let mut by_lot: std::collections::BTreeMap<&str, Vec<(String, u64)>> = Default::default();
    for (eid, clear_ms) in rows {
        if let Some((lot, _)) = places.get(&eid)
            && let Some(lot) = lots.iter().find(|l| **l == lot.as_str())
        {
            by_lot.entry(lot).or_default().push((eid, clear_ms));
        }
    }
    Ok(by_lot
        .into_iter()
        .map(|(lot, animals)| {
            let clear = animals.iter().map(|a| a.1).max().unwrap_or(now_ms);
            let eids: Vec<String> = animals
                .iter()
                .map(|(e, c)| format!("{e} (until {})", day_text(*c)))
                .collect();
            Alert::new(
                feedlot_id,
                "withdrawal_on_shipment",
                lot,
                &day_text(clear),
                format!(
                    "Lot {lot} near shipment with {} animal(s) in withdrawal until {}",
                    animals.len(),
                    day_text(clear)
                ),
                format!(
                    "Do not ship for slaughter before withdrawal ends: {}.",
                    eids.join(", ")
                ),
                format!("/feedlots/{feedlot_id}/lots/{lot}"),
            )
        })
        .collect())
}

/// Tables a gateway's records and status reports land in (each with `gateway_id` and
/// `ingested_at`): a gateway that reports its status is heard from.
const GATEWAY_TABLES: [&str; 9] = [
    "weighings",
    "tag_reads",
    "treatments",
    "feed_deliveries",
    "feed_loads",
    "arrivals",
    "placements",
    "pen_moves",
    "gateway_status",
];

/// `gateway_silent`: a gateway heard from in the last 7 days but not for
/// `gateway_silent_minutes`. One alert per silence (its period is the last record's time).
async fn gateway_silent(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let union = GATEWAY_TABLES
        .iter()
        .map(|t| {
            format!(
                "SELECT gateway_id, toUInt64(max(ingested_at)) * 1000 AS at_ms FROM {t} \
                 WHERE feedlot_id = ? AND ingested_at >= now() - 604800 \
                 GROUP BY gateway_id"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut query = client.query(&format!(
        "SELECT gateway_id, max(at_ms) FROM ({union}) WHERE gateway_id != '' \
         GROUP BY gateway_id ORDER BY gateway_id"
    ));
    for _ in GATEWAY_TABLES {
        query = query.bind(feedlot_id);
    }
    let rows: Vec<(String, u64)> = query.fetch_all().await?;
    let silent_ms = u64::from(rules.gateway_silent_minutes) * 60_000;
    Ok(rows
        .into_iter()
        .filter(|(_, at)| now_ms.saturating_sub(*at) >= silent_ms)
        .map(|(gateway, at)| {
            let minutes = now_ms.saturating_sub(at) / 60_000;
            Alert::new(
                feedlot_id,
                "gateway_silent",
                &gateway,
                &at.to_string(),
                format!("Gateway {gateway} silent for {minutes} minutes"),
                format!(
                    "No record from gateway {gateway} since {} (UTC): check its power, network \
                     and outbox.",
                    minute_text(at)
                ),
                format!("/feedlots/{feedlot_id}/alerts"),
            )
        })
        .collect())
}

/// Each gateway's latest status report of the last day and its last report of an empty outbox.
#[derive(Debug, serde::Deserialize, clickhouse::Row)]
struct OutboxReport {
    gateway_id: String,
    reported_ms: u64,
    interval_secs: u32,
    outbox_pending: u64,
    oldest_pending_ms: u64,
    dead_lettered: u64,
    last_empty_ms: u64,
}

/// `outbox_backlog`: a gateway that still reports (its latest `gateway_status` is no older than
/// three of its intervals, or 10 minutes) says the oldest record waiting in its outbox was
/// stored `outbox_backlog_minutes` ago or more: the yard's records are late although the
/// gateway is up (a slow uplink, a stuck forwarder). One alert per backlog: its period is the
/// gateway's last report of an empty outbox before it, which stays the same while the backlog
/// drains.
async fn outbox_backlog(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rules: &RuleSettings,
    now_ms: u64,
) -> Result<Vec<Alert>> {
    let reports: Vec<OutboxReport> = client
        .query(
            // Columns by position; no alias repeats a column name (an aggregate named like a
            // column it reads is an aggregate inside another for ClickHouse).
            "SELECT gateway_id, max(captured_at_ms), argMax(interval_secs, captured_at_ms), \
             argMax(outbox_pending, captured_at_ms), argMax(oldest_pending_ms, captured_at_ms), \
             argMax(dead_lettered, captured_at_ms), maxIf(captured_at_ms, outbox_pending = 0) \
             FROM gateway_status WHERE feedlot_id = ? AND captured_at_ms >= ? \
             GROUP BY gateway_id ORDER BY gateway_id",
        )
        .bind(feedlot_id)
        .bind(now_ms.saturating_sub(DAY_MS))
        .fetch_all()
        .await?;
    let backlog_ms = u64::from(rules.outbox_backlog_minutes) * 60_000;
    Ok(reports
        .into_iter()
        .filter(|r| {
            let fresh_ms = (u64::from(r.interval_secs) * 3_000).max(600_000);
            now_ms.saturating_sub(r.reported_ms) <= fresh_ms
                && r.outbox_pending > 0
                && r.oldest_pending_ms > 0
                && now_ms.saturating_sub(r.oldest_pending_ms) >= backlog_ms
        })
        .map(|r| {
            let minutes = now_ms.saturating_sub(r.oldest_pending_ms) / 60_000;
            let gateway = &r.gateway_id;
            Alert::new(
                feedlot_id,
                "outbox_backlog",
                gateway,
                &r.last_empty_ms.to_string(),
                format!(
                    "Gateway {gateway} outbox backing up: {} records waiting, the oldest for \
                     {minutes} minutes",
                    r.outbox_pending
                ),
                format!(
                    "Gateway {gateway} is heard from but its records are not reaching the cloud: \
                     the oldest waiting was stored at {} (UTC). Check its uplink and its log. \
                     {} records dead-lettered on the gateway in all.",
                    minute_text(r.oldest_pending_ms),
                    r.dead_lettered
                ),
                format!("/feedlots/{feedlot_id}/alerts"),
            )
        })
        .collect())
}
