//! The fact tables' rows (`ingest/migrations/0006_facts.sql`, documented in `docs/facts.md`),
//! one struct per table with its columns in table order.

use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// The UTC day of `at_ms` (days since 1970-01-01, ClickHouse's `Date`).
pub fn day_of(at_ms: u64) -> u16 {
    u16::try_from(at_ms / DAY_MS).unwrap_or(u16::MAX)
}

/// The end of `day` (the next day's 00:00 UTC), ms since the epoch.
pub fn end_of(day: u16) -> u64 {
    (u64::from(day) + 1) * DAY_MS
}

/// `day` as ClickHouse compares it with a `Date` column: `'YYYY-MM-DD'` (18.16 refuses a
/// `Date` against a number).
pub fn date_text(day: u16) -> String {
    chrono::DateTime::from_timestamp(i64::from(day) * 86_400, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A lot's running totals at a day's end (`lot_day_facts`; its rows at marks of days on feed
/// also in `lot_mark_facts`, [`super::marks`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct LotDayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The lot.
    pub lot_id: String,
    /// The day (days since the epoch).
    pub day: u16,
    /// When the totals are taken: the day's end.
    pub through_ms: u64,
    /// Where its cattle came from.
    pub origin: String,
    /// ISO 4217 code of its money.
    pub currency: String,
    /// Pens holding it at the day's end.
    pub pens: Vec<String>,
    /// First arrival.
    pub arrived_ms: u64,
    /// When the last head left; 0 while open.
    pub closed_ms: u64,
    /// Head placed.
    pub head_in: u32,
    /// Pay weight in, kg in all.
    pub in_pay_kg: f64,
    /// Full weight in, kg in all.
    pub in_full_kg: f64,
    /// Purchase cost.
    pub purchase_minor: f64,
    /// Head on hand.
    pub head_on_hand: i64,
    /// Head-time, deads in, head·ms.
    pub head_ms: f64,
    /// Dead head's time from arrival to death, head·ms.
    pub dead_ms: f64,
    /// Deaths.
    pub head_dead: u32,
    /// Head shipped.
    pub head_shipped: u32,
    /// Shipped head's time from arrival to shipment, head·ms.
    pub shipped_ms: f64,
    /// Pay weight shipped, kg in all.
    pub out_pay_kg: f64,
    /// Sale revenue.
    pub revenue_minor: f64,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter, kg.
    pub dry_matter_kg: f64,
    /// Feed cost.
    pub feed_minor: f64,
    /// Yardage charged.
    pub yardage_minor: f64,
    /// The yardage rate in effect, per head per day.
    pub yardage_rate_minor: f64,
    /// Medicine given.
    pub medicine_minor: f64,
    /// Animals treated for sickness at least once.
    pub head_pulled: u32,
    /// Re-weighed head on hand.
    pub reweighed_head: u32,
    /// Their latest full weights, kg, summed.
    pub reweighed_full_kg: f64,
    /// Days from arrival to those weighings, summed.
    pub reweighed_days: f64,
    /// Head arrived this day.
    pub day_head_in: u32,
    /// Head dead this day.
    pub day_head_dead: u32,
    /// Head shipped this day.
    pub day_head_shipped: u32,
    /// Head first pulled this day.
    pub day_head_pulled: u32,
    /// The facts' version.
    pub version: u64,
}

/// A pen at a day's end (`pen_day_facts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct PenDayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The pen.
    pub pen_id: String,
    /// The day.
    pub day: u16,
    /// When the totals are taken: the day's end.
    pub through_ms: u64,
    /// Head in it.
    pub head_on_hand: i64,
    /// Lots in it.
    pub lots: Vec<String>,
    /// Their head (same order).
    pub lot_head: Vec<i64>,
    /// Head-time, head·ms.
    pub head_ms: f64,
    /// Feed delivered, kg as fed.
    pub as_fed_kg: f64,
    /// Dry matter, kg.
    pub dry_matter_kg: f64,
    /// Feed cost.
    pub feed_minor: f64,
    /// The latest delivery, 0 for none.
    pub last_delivery_ms: u64,
    /// The facts' version.
    pub version: u64,
}

/// An ingredient's purchases and use at a day's end (`ingredient_day_facts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct IngredientDayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The ingredient.
    pub ingredient: String,
    /// The day.
    pub day: u16,
    /// Bought, kg.
    pub purchased_kg: f64,
    /// Paid.
    pub purchased_minor: f64,
    /// Fed, kg.
    pub fed_kg: f64,
    /// Cost of what was fed (FIFO).
    pub fed_minor: f64,
    /// Bought and not fed, kg.
    pub on_hand_kg: f64,
    /// Fed beyond purchases, kg.
    pub unbought_kg: f64,
    /// What the next kg fed costs, per kg.
    pub price_per_kg_minor: Option<f64>,
    /// The facts' version.
    pub version: u64,
}

/// What was fed from one source at a day's end (`feed_source_day_facts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct SourceDayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The ingredient.
    pub ingredient: String,
    /// The supplier.
    pub supplier: String,
    /// The origin.
    pub origin: String,
    /// The day.
    pub day: u16,
    /// Fed from it, kg as fed.
    pub fed_kg: f64,
    /// Its cost.
    pub fed_minor: f64,
    /// The facts' version.
    pub version: u64,
}

/// The yard at a day's end (`yard_day_facts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct YardDayRow {
    /// The yard.
    pub feedlot_id: String,
    /// The day.
    pub day: u16,
    /// Feed dropped in empty pens, kg, running total.
    pub unallocated_kg: f64,
    /// The day's warnings.
    pub warnings: Vec<String>,
    /// The facts' version.
    pub version: u64,
}

/// How far a yard's facts are made (`fact_state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct FactStateRow {
    /// The yard.
    pub feedlot_id: String,
    /// Changes recorded at or before this second (since the epoch) are in.
    pub through_recorded_at: u32,
    /// The last day with facts.
    pub through_day: u16,
    /// When the worker finished, ms since the epoch.
    pub computed_at_ms: u64,
    /// The facts' version.
    pub version: u64,
}

/// One yard's facts over a range of days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct YardFacts {
    /// Lot-days.
    pub lots: Vec<LotDayRow>,
    /// Pen-days.
    pub pens: Vec<PenDayRow>,
    /// Ingredient-days.
    pub ingredients: Vec<IngredientDayRow>,
    /// Source-days.
    pub sources: Vec<SourceDayRow>,
    /// Yard-days.
    pub yard: Vec<YardDayRow>,
    /// Lot-days at marks of days on feed, and blank rows for marks no longer ones
    /// ([`super::marks::mark_rows`]; the worker adds them after the build).
    pub marks: Vec<LotDayRow>,
}

impl YardFacts {
    /// Rows in all.
    pub fn len(&self) -> usize {
        self.lots.len()
            + self.pens.len()
            + self.ingredients.len()
            + self.sources.len()
            + self.yard.len()
            + self.marks.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
