//! Writing a yard's facts, and what the worker needs to know before it does: how far each
//! yard's facts are made.

use std::collections::HashMap;

use ingest::sink::insert_table;

use super::animals::{AnimalFactRow, YardGainsRow};
use super::rows::{FactStateRow, YardFacts};
use super::stays::StayRow;

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

/// A recompute's rows beside the day facts: the animals it rewrote, their stays and the
/// yard's gains.
pub struct AnimalRows<'a> {
    /// `animal_facts` rows.
    pub animals: &'a [AnimalFactRow],
    /// `animal_stays` rows.
    pub stays: &'a [StayRow],
    /// The `yard_gains` row, when it changed.
    pub gains: Option<&'a YardGainsRow>,
}

/// Stores `facts`, the animals' rows and then `state` (so a yard's state never claims rows not
/// yet stored).
pub async fn write(
    client: &clickhouse::Client,
    facts: &YardFacts,
    animal_rows: AnimalRows<'_>,
    state: &FactStateRow,
) -> Result<()> {
    let AnimalRows {
        animals,
        stays,
        gains,
    } = animal_rows;
    insert_table(client, "lot_day_facts", &facts.lots).await?;
    insert_table(client, "pen_day_facts", &facts.pens).await?;
    insert_table(client, "ingredient_day_facts", &facts.ingredients).await?;
    insert_table(client, "feed_source_day_facts", &facts.sources).await?;
    insert_table(client, "yard_day_facts", &facts.yard).await?;
    insert_table(client, "lot_mark_facts", &facts.marks).await?;
    insert_table(client, "animal_facts", animals).await?;
    insert_table(client, "animal_stays", stays).await?;
    if let Some(gains) = gains {
        insert_table(client, "yard_gains", std::slice::from_ref(gains)).await?;
    }
    insert_table(client, "fact_state", std::slice::from_ref(state)).await
}

/// How far the facts of each of `feedlots` are made (yards without facts are left out).
pub async fn states(
    client: &clickhouse::Client,
    feedlots: &[String],
) -> Result<HashMap<String, FactStateRow>> {
    if feedlots.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<FactStateRow> = client
        .query(
            "SELECT ?fields FROM fact_state FINAL WHERE has(?, feedlot_id) \
             ORDER BY feedlot_id",
        )
        .bind(feedlots)
        .fetch_all()
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.feedlot_id.clone(), r))
        .collect())
}
