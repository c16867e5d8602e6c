//! A yard's report as of any moment, read from its facts: per lot, pen, ingredient and source
//! the last row on or before the moment's day, its head-time and yardage carried from the
//! row's day end to the moment at its head on hand (see `docs/facts.md`, "As of"). No records
//! are replayed.

use std::collections::HashMap;

use super::blanks::{DayFact, without_blanks};
use super::rows::{
    DAY_MS, IngredientDayRow, LotDayRow, PenDayRow, SourceDayRow, YardDayRow, day_of, end_of,
};
use crate::analytics::inventory::{IngredientCost, SourceCost};
use crate::analytics::ledger::Reweighed;
use crate::analytics::lots::{LotTotals, measure};
use crate::analytics::records::RationRecord;
use crate::analytics::{PenMeasures, Settings, YardReport, feed};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// The last row of each key of `R`'s table on or before `day`, for `feedlot_id`, blank rows
/// left out (what a correction took away, [`super::blanks`]): first each key's last day (two
/// key columns read), then only those rows merged (`FINAL`) and sent, 3-5× less
/// work than ordering every row on or before the day and keeping one a key (`LIMIT 1 BY`), the
/// same rows. A plain `IN`, so ClickHouse narrows the merged rows by the table's key (a
/// `GLOBAL IN` set cannot: 2-7× slower on the 50,000-head bench yard); on a cluster
/// `distributed_product_mode = 'local'` runs the subquery on each shard's own table, which
/// holds all of the yard's rows (tables are sharded by yard), where a plain `IN` over a
/// `Distributed` table would be refused.
async fn latest<R>(client: &clickhouse::Client, feedlot_id: &str, day: u16) -> Result<Vec<R>>
where
    R: clickhouse::RowOwned + clickhouse::RowRead + DayFact,
{
    let (table, key) = (R::TABLE, R::KEY.join(", "));
    let rows = client
        .query(&format!(
            "SELECT ?fields FROM {table} FINAL WHERE feedlot_id = ? AND ({key}, day) IN \
             (SELECT {key}, max(day) FROM {table} WHERE feedlot_id = ? AND day <= ? \
             GROUP BY {key}) ORDER BY {key}"
        ))
        .with_setting("distributed_product_mode", "local")
        .bind(feedlot_id)
        .bind(feedlot_id)
        .bind(super::rows::date_text(day))
        .fetch_all()
        .await?;
    Ok(without_blanks(rows))
}

/// `feedlot_id`'s report as of `as_of_ms`, from its facts.
pub async fn yard_report(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
    settings: &Settings,
) -> Result<YardReport> {
    let day = day_of(as_of_ms);
    let c = client;
    let (lots, pens, ingredients, sources, rations, (unallocated_kg, warnings)) = tokio::try_join!(
        latest::<LotDayRow>(c, feedlot_id, day),
        latest::<PenDayRow>(c, feedlot_id, day),
        latest::<IngredientDayRow>(c, feedlot_id, day),
        latest::<SourceDayRow>(c, feedlot_id, day),
        rations_of(c, feedlot_id, end_of(day)),
        yard_of(c, feedlot_id, day),
    )?;
    let prices: HashMap<String, Option<f64>> = ingredients
        .iter()
        .map(|i| (i.ingredient.clone(), i.price_per_kg_minor))
        .collect();
    let feed = feed::feed_report_of(
        ingredients.iter().map(ingredient_cost).collect(),
        sources.iter().map(source_cost).collect(),
        rations.iter(),
        |name| prices.get(name).copied().flatten(),
        unallocated_kg,
    );
    Ok(YardReport {
        feedlot_id: feedlot_id.to_owned(),
        as_of_ms,
        lots: lots
            .iter()
            .map(|row| measure(&lot_totals(row, as_of_ms), as_of_ms, settings))
            .collect(),
        pens: pens.iter().map(|row| pen_measures(row, as_of_ms)).collect(),
        feed,
        warnings,
    })
}

/// Every day's row of `feedlot_id`'s lot `lot_id` up to `as_of_ms`'s day, oldest first (none
/// for a lot a correction took away; blank days left out).
pub async fn lot_days(
    client: &clickhouse::Client,
    feedlot_id: &str,
    lot_id: &str,
    as_of_ms: u64,
) -> Result<Vec<LotDayRow>> {
    let rows = client
        .query(
            "SELECT ?fields FROM lot_day_facts FINAL \
             WHERE feedlot_id = ? AND lot_id = ? AND day <= ? ORDER BY day",
        )
        .bind(feedlot_id)
        .bind(lot_id)
        .bind(super::rows::date_text(day_of(as_of_ms)))
        .fetch_all()
        .await?;
    Ok(without_blanks(rows))
}

/// One lot at a mark of days on feed (every 30 days, [`super::marks::MARK_DAYS`]: the end of
/// the day 30, 60, ... days after the day it arrived).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DofMark {
    /// The lot.
    pub lot_id: String,
    /// The mark, days after the day the lot arrived.
    pub days_on_feed: u32,
    /// The moment the measures are taken (that day's end), ms since the epoch UTC.
    pub at_ms: u64,
    /// Head on feed then.
    pub head_on_hand: i64,
    /// Total cost (cattle, feed, yardage, medicine) per live head then, minor units.
    pub cost_per_head_minor: Option<f64>,
    /// Feed, yardage and medicine per live head then (the cost of feeding), minor units.
    pub feeding_cost_per_head_minor: Option<f64>,
    /// All-in cost of gain then, minor units per kg (None before a re-weigh gives a gain).
    pub cost_of_gain_per_kg_minor: Option<f64>,
    /// ISO 4217 code of the money.
    pub currency: String,
}

/// Every lot of `feedlot_id` at each mark of days on feed up to `as_of_ms`'s day, by lot then
/// mark: the lot's measures at the end of the day 30, 60, ... days after its arrival day, from
/// that day's fact row (kept in `lot_mark_facts`, [`super::marks`]).
pub async fn by_days_on_feed(
    client: &clickhouse::Client,
    feedlot_id: &str,
    as_of_ms: u64,
    settings: &Settings,
) -> Result<Vec<DofMark>> {
    let rows: Vec<LotDayRow> = client
        .query(
            "SELECT ?fields FROM lot_mark_facts FINAL \
             WHERE feedlot_id = ? AND day <= ? AND head_in > 0 ORDER BY lot_id, day",
        )
        .bind(feedlot_id)
        .bind(super::rows::date_text(day_of(as_of_ms)))
        .fetch_all()
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let at = row.through_ms;
            let m = measure(&lot_totals(row, at), at, settings);
            let live = f64::from(m.head_in.saturating_sub(m.head_dead));
            let feeding = m.feed_cost_minor + m.yardage_minor + m.medicine_minor;
            DofMark {
                lot_id: m.lot_id.clone(),
                days_on_feed: u32::from(row.day)
                    .saturating_sub(u32::try_from(row.arrived_ms / DAY_MS).unwrap_or(0)),
                at_ms: at,
                head_on_hand: m.head_on_hand,
                cost_per_head_minor: m.total_cost_per_head_minor,
                feeding_cost_per_head_minor: (live > 0.0).then(|| feeding / live),
                cost_of_gain_per_kg_minor: m.cost_of_gain_per_kg_minor,
                currency: m.currency,
            }
        })
        .collect())
}

/// A series over time: (ms since the epoch UTC, value).
pub type Series = Vec<(u64, f64)>;

/// A lot's daily series from its day rows: (day end ms, weight now per head kg, pay basis,
/// when known) and (day end ms, dry-matter intake that day kg per head).
pub fn lot_series(rows: &[LotDayRow], settings: &Settings) -> (Series, Series) {
    let weight = rows
        .iter()
        .filter_map(|row| {
            let at = row.through_ms;
            measure(&lot_totals(row, at), at, settings)
                .current_weight_kg
                .map(|kg| (at, kg))
        })
        .collect();
    let intake = rows
        .windows(2)
        .filter_map(|pair| {
            let head_days = (pair[1].head_ms - pair[0].head_ms) / DAY_MS as f64;
            (head_days > 1e-9).then(|| {
                (
                    pair[1].through_ms,
                    (pair[1].dry_matter_kg - pair[0].dry_matter_kg) / head_days,
                )
            })
        })
        .collect();
    (weight, intake)
}

/// Ms from a row's day end to `as_of_ms` (negative within the row's day).
fn carried_ms(through_ms: u64, as_of_ms: u64) -> f64 {
    as_of_ms as f64 - through_ms as f64
}

/// A lot's totals as of `as_of_ms`: its row's, with head-time and yardage carried to then.
pub fn lot_totals(row: &LotDayRow, as_of_ms: u64) -> LotTotals {
    let head = row.head_on_hand.max(0) as f64;
    let head_ms = head * carried_ms(row.through_ms, as_of_ms);
    LotTotals {
        lot_id: row.lot_id.clone(),
        origin: row.origin.clone(),
        currency: row.currency.clone(),
        pens: row.pens.clone(),
        arrived_ms: row.arrived_ms,
        closed_ms: (row.closed_ms > 0).then_some(row.closed_ms),
        head_in: row.head_in,
        in_pay_kg: row.in_pay_kg,
        in_full_kg: row.in_full_kg,
        purchase_minor: row.purchase_minor,
        on_hand: row.head_on_hand,
        head_ms: row.head_ms + head_ms,
        dead_ms: row.dead_ms,
        dead: row.head_dead,
        shipped: row.head_shipped,
        shipped_ms: row.shipped_ms,
        out_kg: row.out_pay_kg,
        revenue_minor: row.revenue_minor,
        as_fed_kg: row.as_fed_kg,
        dm_kg: row.dry_matter_kg,
        feed_minor: row.feed_minor,
        yardage_minor: row.yardage_minor + head_ms / DAY_MS as f64 * row.yardage_rate_minor,
        medicine_minor: row.medicine_minor,
        pulled: row.head_pulled,
        reweighed: Reweighed {
            head: row.reweighed_head,
            full_kg: row.reweighed_full_kg,
            days_since_arrival: row.reweighed_days,
        },
    }
}

fn pen_measures(row: &PenDayRow, as_of_ms: u64) -> PenMeasures {
    let head = row.head_on_hand.max(0) as f64;
    let head_days = (row.head_ms + head * carried_ms(row.through_ms, as_of_ms)) / DAY_MS as f64;
    let per_day = |x: f64| (head_days > 1e-9).then(|| x / head_days);
    PenMeasures {
        pen_id: row.pen_id.clone(),
        head_on_hand: row.head_on_hand,
        lots: row
            .lots
            .iter()
            .cloned()
            .zip(row.lot_head.iter().copied())
            .collect(),
        head_days,
        as_fed_kg: row.as_fed_kg,
        dry_matter_kg: row.dry_matter_kg,
        dmi_kg: per_day(row.dry_matter_kg),
        feed_cost_minor: row.feed_minor,
        feed_cost_per_head_day_minor: per_day(row.feed_minor),
        last_delivery_at_ms: (row.last_delivery_ms > 0).then_some(row.last_delivery_ms),
    }
}

fn ingredient_cost(row: &IngredientDayRow) -> IngredientCost {
    IngredientCost {
        ingredient: row.ingredient.clone(),
        purchased_kg: row.purchased_kg,
        purchased_cost_minor: row.purchased_minor,
        fed_kg: row.fed_kg,
        fed_cost_minor: row.fed_minor,
        on_hand_kg: row.on_hand_kg,
        unbought_kg: row.unbought_kg,
        current_price_per_tonne_minor: row.price_per_kg_minor.map(|p| p * 1000.0),
    }
}

fn source_cost(row: &SourceDayRow) -> SourceCost {
    SourceCost {
        ingredient: row.ingredient.clone(),
        supplier: row.supplier.clone(),
        origin: row.origin.clone(),
        fed_kg: row.fed_kg,
        fed_cost_minor: row.fed_minor,
    }
}

/// Each ration's formula in effect before `before_ms` (its latest).
pub(crate) async fn rations_of(
    client: &clickhouse::Client,
    feedlot_id: &str,
    before_ms: u64,
) -> Result<Vec<RationRecord>> {
    client
        .query(
            "SELECT ration_id, ingredients, inclusion_as_fed_pct, dry_matter_pct, \
             captured_at_ms AS at_ms FROM rations FINAL \
             WHERE feedlot_id = ? AND captured_at_ms < ? \
             ORDER BY ration_id, captured_at_ms DESC LIMIT 1 BY ration_id",
        )
        .bind(feedlot_id)
        .bind(before_ms)
        .fetch_all()
        .await
}

/// Feed dropped in empty pens as of `day`, and every warning up to it.
async fn yard_of(
    client: &clickhouse::Client,
    feedlot_id: &str,
    day: u16,
) -> Result<(f64, Vec<String>)> {
    let rows: Vec<YardDayRow> = client
        .query(
            "SELECT ?fields FROM yard_day_facts FINAL \
             WHERE feedlot_id = ? AND day <= ? ORDER BY day",
        )
        .bind(feedlot_id)
        .bind(super::rows::date_text(day))
        .fetch_all()
        .await?;
    let unallocated = rows.last().map(|r| r.unallocated_kg).unwrap_or(0.0);
    Ok((
        unallocated,
        rows.into_iter().flat_map(|r| r.warnings).collect(),
    ))
}
