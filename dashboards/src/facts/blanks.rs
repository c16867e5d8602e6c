//! Blank rows: how a lot, pen, ingredient or feed source that a correction took away leaves
//! the day facts.
//!
//! A build writes rows only for what its replay holds. When a correction removes a lot (its
//! arrival voided, or moved to a later day), a pen that only that lot used, or an ingredient
//! or source whose only record was voided, its stored rows would stay and every page would go on
//! showing it. So a recompute from a day reads, for each of these tables, the keys with rows
//! (not blank) from that day on and the first and last such day, and writes a blank row,
//! newer, for each of those days the build made no row for. `FINAL` then keeps the blank row, and every reader
//! skips blank rows ([`DayFact::is_blank`]; in SQL [`DayFact::NOT_BLANK`], after `FINAL`).
//! A key already blanked has no row that is not blank, so it is blanked once.

use std::collections::{HashMap, HashSet};

use super::rows::{IngredientDayRow, LotDayRow, PenDayRow, SourceDayRow, YardFacts, date_text};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// The kg fed of a blank source row: below zero, which no source feeds (a source's row is
/// otherwise all zeros until it is fed from).
pub const BLANK_SOURCE_FED_KG: f64 = -1.0;

/// A key's first and last day with a stored row.
pub type Days = (u16, u16);

/// A day-fact row that can be blank: its table, key and the blank row's shape.
pub trait DayFact: Sized {
    /// The table.
    const TABLE: &'static str;
    /// The key's columns (with `feedlot_id` and `day`, the row's identity).
    const KEY: &'static [&'static str];
    /// A SQL condition true of a row that is not blank.
    const NOT_BLANK: &'static str;
    /// The row's key, its [`Self::KEY`] columns' values in order.
    fn key(&self) -> Vec<String>;
    /// The row's day.
    fn day(&self) -> u16;
    /// The blank row of `key` on `day`.
    fn blank(feedlot_id: &str, key: &[String], day: u16, version: u64) -> Self;
    /// Whether this is a blank row (what readers skip).
    fn is_blank(&self) -> bool;
}

/// Each key of `R`'s table with rows that are not blank from `from_day` on, with its first and
/// last such day.
pub async fn stored_from<R: DayFact>(
    client: &clickhouse::Client,
    feedlot_id: &str,
    from_day: u16,
) -> Result<HashMap<Vec<String>, Days>> {
    let rows: Vec<(Vec<String>, u16, u16)> = client
        .query(&format!(
            "SELECT [{key}], min(day), max(day) FROM {table} FINAL \
             WHERE feedlot_id = ? AND day >= ? AND {not_blank} GROUP BY {key}",
            key = R::KEY.join(", "),
            table = R::TABLE,
            not_blank = R::NOT_BLANK,
        ))
        .bind(feedlot_id)
        .bind(date_text(from_day))
        .fetch_all()
        .await?;
    Ok(rows
        .into_iter()
        .map(|(key, first, last)| (key, (first, last)))
        .collect())
}

/// Adds to `rows` (a build's, from `from_day`) a blank row, versioned `version`, for each of a
/// `stored` key's days on which the build made it no row.
pub fn add_blanks<R: DayFact>(
    rows: &mut Vec<R>,
    stored: &HashMap<Vec<String>, Days>,
    feedlot_id: &str,
    from_day: u16,
    version: u64,
) {
    if stored.is_empty() {
        return;
    }
    let made: HashSet<(Vec<String>, u16)> = rows.iter().map(|r| (r.key(), r.day())).collect();
    let mut keys: Vec<(&Vec<String>, &Days)> = stored.iter().collect();
    keys.sort();
    for (key, (first_day, last_day)) in keys {
        for day in from_day.max(*first_day)..=*last_day {
            if !made.contains(&(key.clone(), day)) {
                rows.push(R::blank(feedlot_id, key, day, version));
            }
        }
    }
}

/// The keys of each day-fact table with rows (not blank) from a recompute's first day on, and
/// the first and last such day of each.
#[derive(Debug, Default)]
pub struct Stored {
    lots: HashMap<Vec<String>, Days>,
    pens: HashMap<Vec<String>, Days>,
    ingredients: HashMap<Vec<String>, Days>,
    sources: HashMap<Vec<String>, Days>,
}

impl Stored {
    /// What `feedlot_id` has stored from `from_day` on.
    pub async fn read(
        client: &clickhouse::Client,
        feedlot_id: &str,
        from_day: u16,
    ) -> Result<Self> {
        let (lots, pens, ingredients, sources) = tokio::try_join!(
            stored_from::<LotDayRow>(client, feedlot_id, from_day),
            stored_from::<PenDayRow>(client, feedlot_id, from_day),
            stored_from::<IngredientDayRow>(client, feedlot_id, from_day),
            stored_from::<SourceDayRow>(client, feedlot_id, from_day),
        )?;
        Ok(Self {
            lots,
            pens,
            ingredients,
            sources,
        })
    }

    /// Each stored lot's last day with a row (a build writes a closed lot's rows up to it).
    pub fn lots_until(&self) -> HashMap<String, u16> {
        self.lots
            .iter()
            .map(|(key, (_, last))| (key.concat(), *last))
            .collect()
    }

    /// Adds to `facts` (a build's from `from_day`) the blank rows, versioned `version`, of
    /// every stored key the build left out ([`add_blanks`]).
    pub fn add_blanks(&self, facts: &mut YardFacts, feedlot_id: &str, from_day: u16, version: u64) {
        add_blanks(&mut facts.lots, &self.lots, feedlot_id, from_day, version);
        add_blanks(&mut facts.pens, &self.pens, feedlot_id, from_day, version);
        add_blanks(
            &mut facts.ingredients,
            &self.ingredients,
            feedlot_id,
            from_day,
            version,
        );
        add_blanks(
            &mut facts.sources,
            &self.sources,
            feedlot_id,
            from_day,
            version,
        );
    }
}

/// `rows` without their blank rows.
pub fn without_blanks<R: DayFact>(mut rows: Vec<R>) -> Vec<R> {
    rows.retain(|r| !r.is_blank());
    rows
}

fn first(key: &[String]) -> String {
    key.first().cloned().unwrap_or_default()
}

impl DayFact for LotDayRow {
    const TABLE: &'static str = "lot_day_facts";
    const KEY: &'static [&'static str] = &["lot_id"];
    const NOT_BLANK: &'static str = "head_in > 0";

    fn key(&self) -> Vec<String> {
        vec![self.lot_id.clone()]
    }

    fn day(&self) -> u16 {
        self.day
    }

    fn blank(feedlot_id: &str, key: &[String], day: u16, version: u64) -> Self {
        LotDayRow {
            feedlot_id: feedlot_id.to_owned(),
            lot_id: first(key),
            day,
            through_ms: super::rows::end_of(day),
            version,
            ..LotDayRow::default()
        }
    }

    /// A lot's row always counts the head that arrived; a blank one has none.
    fn is_blank(&self) -> bool {
        self.head_in == 0
    }
}

impl DayFact for PenDayRow {
    const TABLE: &'static str = "pen_day_facts";
    const KEY: &'static [&'static str] = &["pen_id"];
    const NOT_BLANK: &'static str =
        "NOT (head_on_hand = 0 AND head_ms = 0 AND last_delivery_ms = 0)";

    fn key(&self) -> Vec<String> {
        vec![self.pen_id.clone()]
    }

    fn day(&self) -> u16 {
        self.day
    }

    fn blank(feedlot_id: &str, key: &[String], day: u16, version: u64) -> Self {
        PenDayRow {
            feedlot_id: feedlot_id.to_owned(),
            pen_id: first(key),
            day,
            through_ms: super::rows::end_of(day),
            head_on_hand: 0,
            lots: Vec::new(),
            lot_head: Vec::new(),
            head_ms: 0.0,
            as_fed_kg: 0.0,
            dry_matter_kg: 0.0,
            feed_minor: 0.0,
            last_delivery_ms: 0,
            version,
        }
    }

    /// A pen has a row once it held cattle (head-time, or head now) or was fed; a blank one
    /// has neither.
    fn is_blank(&self) -> bool {
        self.head_on_hand == 0 && self.head_ms == 0.0 && self.last_delivery_ms == 0
    }
}

impl DayFact for IngredientDayRow {
    const TABLE: &'static str = "ingredient_day_facts";
    const KEY: &'static [&'static str] = &["ingredient"];
    const NOT_BLANK: &'static str = "NOT (purchased_kg = 0 AND fed_kg = 0 AND unbought_kg = 0)";

    fn key(&self) -> Vec<String> {
        vec![self.ingredient.clone()]
    }

    fn day(&self) -> u16 {
        self.day
    }

    fn blank(feedlot_id: &str, key: &[String], day: u16, version: u64) -> Self {
        IngredientDayRow {
            feedlot_id: feedlot_id.to_owned(),
            ingredient: first(key),
            day,
            purchased_kg: 0.0,
            purchased_minor: 0.0,
            fed_kg: 0.0,
            fed_minor: 0.0,
            on_hand_kg: 0.0,
            unbought_kg: 0.0,
            price_per_kg_minor: None,
            version,
        }
    }

    /// An ingredient has a row once bought or fed; a blank one has neither.
    fn is_blank(&self) -> bool {
        self.purchased_kg == 0.0 && self.fed_kg == 0.0 && self.unbought_kg == 0.0
    }
}

impl DayFact for SourceDayRow {
    const TABLE: &'static str = "feed_source_day_facts";
    const KEY: &'static [&'static str] = &["ingredient", "supplier", "origin"];
    const NOT_BLANK: &'static str = "fed_kg >= 0";

    fn key(&self) -> Vec<String> {
        vec![
            self.ingredient.clone(),
            self.supplier.clone(),
            self.origin.clone(),
        ]
    }

    fn day(&self) -> u16 {
        self.day
    }

    fn blank(feedlot_id: &str, key: &[String], day: u16, version: u64) -> Self {
        let part = |i: usize| key.get(i).cloned().unwrap_or_default();
        SourceDayRow {
            feedlot_id: feedlot_id.to_owned(),
            ingredient: part(0),
            supplier: part(1),
            origin: part(2),
            day,
            fed_kg: BLANK_SOURCE_FED_KG,
            fed_minor: 0.0,
            version,
        }
    }

    /// A source has a row once bought from, fed from or not; a blank one has fed
    /// [`BLANK_SOURCE_FED_KG`], which no source does.
    fn is_blank(&self) -> bool {
        self.fed_kg < 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(id: &str, day: u16) -> LotDayRow {
        LotDayRow {
            lot_id: id.into(),
            day,
            head_in: 10,
            ..LotDayRow::default()
        }
    }

    #[test]
    fn a_stored_key_gets_a_blank_row_on_each_day_the_build_made_none() {
        // From day 10: L1 is still in the build from day 12; L2 and L4 are gone; L3 has rows
        // on every day.
        let mut rows = vec![lot("L1", 12), lot("L3", 10), lot("L3", 11), lot("L3", 12)];
        let stored = HashMap::from([
            (vec!["L1".to_owned()], (9, 12)),
            (vec!["L2".to_owned()], (10, 11)),
            (vec!["L3".to_owned()], (10, 12)),
            (vec!["L4".to_owned()], (11, 11)),
        ]);
        add_blanks(&mut rows, &stored, "y", 10, 7);
        let blanks: Vec<(String, u16, u64)> = rows
            .iter()
            .filter(|r| r.is_blank())
            .map(|r| (r.lot_id.clone(), r.day, r.version))
            .collect();
        assert_eq!(
            blanks,
            [
                ("L1".to_owned(), 10, 7),
                ("L1".to_owned(), 11, 7),
                ("L2".to_owned(), 10, 7),
                ("L2".to_owned(), 11, 7),
                ("L4".to_owned(), 11, 7)
            ]
        );
        assert_eq!(without_blanks(rows).len(), 4, "the build's rows stay");
    }

    #[test]
    fn a_blank_row_of_each_table_reads_as_blank_and_keeps_its_key() {
        let key = ["corn".to_owned(), "Acme".to_owned(), "NE".to_owned()];
        let source = SourceDayRow::blank("y", &key, 5, 1);
        assert!(source.is_blank());
        assert_eq!(source.key(), key);
        let pen = PenDayRow::blank("y", &key[..1], 5, 1);
        assert!(pen.is_blank() && pen.pen_id == "corn");
        assert!(IngredientDayRow::blank("y", &key[..1], 5, 1).is_blank());
        assert!(LotDayRow::blank("y", &key[..1], 5, 1).is_blank());
        assert!(!lot("L1", 5).is_blank());
        let bought_not_fed = SourceDayRow {
            fed_kg: 0.0,
            ..source
        };
        assert!(
            !bought_not_fed.is_blank(),
            "a source bought and not yet fed"
        );
    }
}
