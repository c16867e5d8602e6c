//! A yard's feed plan: what each ingredient is needed for over the next days, from each pen's
//! intake over the recent days and the ration it is on now, split by that ration's formula
//! (see `docs/forecasts.md`, "Feed plan").

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analytics::records::RationRecord;
use crate::facts::blanks::without_blanks;
use crate::facts::rows::{DAY_MS, IngredientDayRow, PenDayRow, date_text, day_of, end_of};

/// A pen's recent feeding.
#[derive(Debug, Clone, PartialEq)]
pub struct PenIntake {
    /// The pen.
    pub pen_id: String,
    /// The ration last delivered to it.
    pub ration_id: String,
    /// Delivered over the recent days, kg as fed.
    pub as_fed_kg: f64,
    /// Its head-days over the same days.
    pub head_days: f64,
    /// Head in it now.
    pub head_now: i64,
}

/// One ingredient's need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngredientNeed {
    /// The ingredient.
    pub ingredient: String,
    /// Needed per day, kg as fed.
    pub per_day_kg: f64,
    /// Needed over the plan's days, kg as fed.
    pub need_kg: f64,
    /// Bought and not fed yet, kg.
    pub on_hand_kg: f64,
    /// Still to buy: need less on hand, kg (0 when covered).
    pub to_buy_kg: f64,
    /// What the next kg fed costs, minor units (None when never bought).
    pub price_per_kg_minor: Option<f64>,
    /// The need at that price, minor units.
    pub need_cost_minor: Option<f64>,
}

/// One ration's share of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RationNeed {
    /// The ration.
    pub ration_id: String,
    /// Head on it now (pens whose last delivery was it).
    pub head: i64,
    /// Their recent intake, kg as fed per head per day.
    pub per_head_day_kg: Option<f64>,
    /// Needed over the plan's days, kg as fed.
    pub need_kg: f64,
}

/// The yard's feed plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedPlan {
    /// The yard.
    pub feedlot_id: String,
    /// The moment planned from, ms since the epoch UTC.
    pub as_of_ms: u64,
    /// Days planned.
    pub days: u32,
    /// Days of deliveries the intake is measured over.
    pub recent_days: u32,
    /// Per ingredient, by name.
    pub ingredients: Vec<IngredientNeed>,
    /// Per ration, by id.
    pub rations: Vec<RationNeed>,
    /// Rations fed whose formula is unknown (their feed is in no ingredient).
    pub unknown_rations: Vec<String>,
}

/// The plan over `days` from the pens' recent `intake`, the `rations` in effect and the
/// ingredients' stock (`ingredients`, their latest day rows).
pub fn plan(
    intake: &[PenIntake],
    rations: &[RationRecord],
    ingredients: &[IngredientDayRow],
    days: u32,
) -> (Vec<IngredientNeed>, Vec<RationNeed>, Vec<String>) {
    let days_f = f64::from(days);
    let mut by_ration: BTreeMap<&str, (i64, f64, f64)> = BTreeMap::new();
    for pen in intake
        .iter()
        .filter(|p| p.head_now > 0 && p.head_days > 0.0)
    {
        let entry = by_ration.entry(pen.ration_id.as_str()).or_default();
        let per_head_day = pen.as_fed_kg / pen.head_days;
        entry.0 += pen.head_now;
        entry.1 += per_head_day * pen.head_now as f64;
        entry.2 += pen.as_fed_kg;
    }
    let mut per_day: BTreeMap<String, f64> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut ration_needs = Vec::new();
    for (ration_id, (head, kg_per_day, _)) in &by_ration {
        ration_needs.push(RationNeed {
            ration_id: (*ration_id).to_owned(),
            head: *head,
            per_head_day_kg: (*head > 0).then(|| kg_per_day / *head as f64),
            need_kg: kg_per_day * days_f,
        });
        match rations.iter().find(|r| r.ration_id == *ration_id) {
            Some(r) => {
                let total: f64 = r.inclusion_as_fed_pct.iter().sum();
                for (ing, pct) in r.ingredients.iter().zip(&r.inclusion_as_fed_pct) {
                    if total > 0.0 {
                        *per_day.entry(ing.clone()).or_default() += kg_per_day * pct / total;
                    }
                }
            }
            None => unknown.push((*ration_id).to_owned()),
        }
    }
    let needs = per_day
        .into_iter()
        .map(|(ingredient, kg)| {
            let stock = ingredients.iter().find(|i| i.ingredient == ingredient);
            let on_hand = stock.map(|s| s.on_hand_kg).unwrap_or(0.0);
            let price = stock.and_then(|s| s.price_per_kg_minor);
            let need = kg * days_f;
            IngredientNeed {
                per_day_kg: kg,
                need_kg: need,
                on_hand_kg: on_hand,
                to_buy_kg: (need - on_hand).max(0.0),
                price_per_kg_minor: price,
                need_cost_minor: price.map(|p| p * need),
                ingredient,
            }
        })
        .collect();
    (needs, ration_needs, unknown)
}

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// Each pen's deliveries, ration and head-days over the `recent_days` full days before
/// `as_of_ms`'s day, and its head now.
async fn pen_intake(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
    recent_days: u32,
) -> Result<Vec<PenIntake>> {
    let today = day_of(as_of_ms);
    let last = today.saturating_sub(1);
    let before = last.saturating_sub(u16::try_from(recent_days).unwrap_or(u16::MAX));
    let delivered: Vec<(String, String, f64)> = client
        .query(&format!(
            "SELECT pen_id, argMax(ration_id, captured_at_ms), sum(delivered_kg) \
             FROM {} GROUP BY pen_id ORDER BY pen_id",
            crate::queries::live::source(
                "feed_deliveries",
                "feedlot_id = ? AND captured_at_ms >= ? AND captured_at_ms < ?"
            )
        ))
        .bind(feedlot_id)
        .bind(end_of(before))
        .bind(end_of(last))
        .fetch_all()
        .await?;
    let pens: Vec<PenDayRow> = client
        .query(
            "SELECT ?fields FROM pen_day_facts FINAL WHERE feedlot_id = ? \
             AND day >= ? AND day <= ? ORDER BY pen_id, day",
        )
        .bind(feedlot_id)
        .bind(date_text(before))
        .bind(date_text(today))
        .fetch_all()
        .await?;
    let pens = without_blanks(pens);
    let head_ms_on = |pen: &str, day: u16| {
        pens.iter()
            .find(|r| r.pen_id == pen && r.day == day)
            .map(|r| r.head_ms)
    };
    Ok(delivered
        .into_iter()
        .map(|(pen_id, ration_id, as_fed_kg)| {
            let head_ms = head_ms_on(&pen_id, last).unwrap_or(0.0)
                - head_ms_on(&pen_id, before).unwrap_or(0.0);
            let head_now = pens
                .iter()
                .rfind(|r| r.pen_id == pen_id)
                .map(|r| r.head_on_hand)
                .unwrap_or(0);
            PenIntake {
                head_days: head_ms / DAY_MS as f64,
                head_now,
                pen_id,
                ration_id,
                as_fed_kg,
            }
        })
        .collect())
}

/// `feedlot_id`'s feed plan for the `days` after `as_of_ms`, from the last `recent_days`
/// days of deliveries.
pub async fn feed_plan(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
    days: u32,
    recent_days: u32,
) -> Result<FeedPlan> {
    let intake = pen_intake(client, feedlot_id, as_of_ms, recent_days).await?;
    let rations = crate::facts::read::rations_of(client, feedlot_id, as_of_ms + 1).await?;
    let stock: Vec<IngredientDayRow> = client
        .query(
            "SELECT ?fields FROM ingredient_day_facts FINAL WHERE feedlot_id = ? AND day <= ? \
             ORDER BY ingredient, day DESC LIMIT 1 BY ingredient",
        )
        .bind(feedlot_id)
        .bind(date_text(day_of(as_of_ms)))
        .fetch_all()
        .await?;
    let stock = without_blanks(stock);
    let (ingredients, rations, unknown_rations) = plan(&intake, &rations, &stock, days);
    tracing::debug!(feedlot_id, days, pens = intake.len(), "feed plan");
    Ok(FeedPlan {
        feedlot_id: feedlot_id.to_owned(),
        as_of_ms,
        days,
        recent_days,
        ingredients,
        rations,
        unknown_rations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ration(id: &str, parts: &[(&str, f64)]) -> RationRecord {
        RationRecord {
            ration_id: id.into(),
            ingredients: parts.iter().map(|p| p.0.to_owned()).collect(),
            inclusion_as_fed_pct: parts.iter().map(|p| p.1).collect(),
            dry_matter_pct: 80.0,
            at_ms: 0,
        }
    }

    fn pen(id: &str, ration: &str, kg: f64, head_days: f64, head_now: i64) -> PenIntake {
        PenIntake {
            pen_id: id.into(),
            ration_id: ration.into(),
            as_fed_kg: kg,
            head_days,
            head_now,
        }
    }

    fn stock(ingredient: &str, on_hand_kg: f64, price: Option<f64>) -> IngredientDayRow {
        IngredientDayRow {
            feedlot_id: "Y".into(),
            ingredient: ingredient.into(),
            day: 0,
            purchased_kg: 0.0,
            purchased_minor: 0.0,
            fed_kg: 0.0,
            fed_minor: 0.0,
            on_hand_kg,
            unbought_kg: 0.0,
            price_per_kg_minor: price,
            version: 1,
        }
    }

    #[test]
    fn each_pens_intake_now_is_split_by_its_rations_formula() {
        let rations = [
            ration("fin", &[("corn", 70.0), ("silage", 30.0)]),
            ration("start", &[("hay", 50.0), ("corn", 50.0)]),
        ];
        let intake = [
            // 10 kg a head a day, 100 head now (was 90): 1,000 kg/day of "fin".
            pen("P1", "fin", 6_300.0, 630.0, 100),
            // 8 kg a head a day, 50 head: 400 kg/day of "start".
            pen("P2", "start", 2_800.0, 350.0, 50),
            // Emptied: nothing ahead.
            pen("P3", "fin", 700.0, 70.0, 0),
            pen("P4", "mystery", 100.0, 10.0, 5),
        ];
        let stock = [
            stock("corn", 5_000.0, Some(25.0)),
            stock("hay", 9_000.0, None),
        ];
        let (needs, by_ration, unknown) = plan(&intake, &rations, &stock, 14);
        let get = |name: &str| needs.iter().find(|n| n.ingredient == name).unwrap();
        let corn = get("corn");
        assert!((corn.per_day_kg - (700.0 + 200.0)).abs() < 1e-9, "{corn:?}");
        assert!((corn.need_kg - 900.0 * 14.0).abs() < 1e-9);
        assert!((corn.to_buy_kg - (12_600.0 - 5_000.0)).abs() < 1e-9);
        assert_eq!(corn.need_cost_minor, Some(12_600.0 * 25.0));
        assert!((get("silage").need_kg - 300.0 * 14.0).abs() < 1e-9);
        let hay = get("hay");
        assert_eq!((hay.to_buy_kg, hay.need_cost_minor), (0.0, None));
        assert_eq!(unknown, vec!["mystery".to_owned()]);
        let fin = by_ration.iter().find(|r| r.ration_id == "fin").unwrap();
        assert_eq!(fin.head, 100);
        assert!((fin.per_head_day_kg.unwrap() - 10.0).abs() < 1e-9);
    }
}
