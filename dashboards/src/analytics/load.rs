//! Loading one yard's records from ClickHouse: every table read through `FINAL` (each event
//! once) and its corrections ([`crate::queries::live`]), scoped to the feedlot and to records
//! captured up to the report's time. The queries run concurrently.

use super::records::{
    AnimalHealth, ArrivalRecord, DeathRecord, DeliveryRecord, LatestWeight, LotTreatmentRecord,
    MoveRecord, PlacementRecord, PurchaseRecord, RationRecord, ShipmentRecord, TreatmentRecord,
    WeighingRecord, YardRecords, YardageRecord,
};

type Result<T> = std::result::Result<T, clickhouse::error::Error>;

async fn rows<T>(
    client: &clickhouse::Client,
    sql: &str,
    feedlot: &str,
    as_of_ms: u64,
) -> Result<Vec<T>>
where
    T: clickhouse::RowOwned + clickhouse::RowRead,
{
    client
        .query(sql)
        .bind(feedlot)
        .bind(as_of_ms)
        .fetch_all::<T>()
        .await
}

/// The scope of every query: one yard, captured up to a moment.
const SCOPE: &str = "feedlot_id = ? AND captured_at_ms <= ?";

/// `table`'s records in the scope (and `more` conditions, or empty), as corrected
/// ([`crate::queries::live`]: voided left out, amended values) when the yard has corrections.
fn live(table: &str, more: &str, corrected: bool) -> String {
    crate::queries::live::source_if(table, &format!("{SCOPE}{more}"), corrected)
}

/// Every record of `feedlot` captured at or before `as_of_ms`, treatments and weights summed
/// per animal (what a report as of that moment needs).
pub async fn yard_records(
    client: &clickhouse::Client,
    feedlot: &str,
    as_of_ms: u64,
) -> Result<YardRecords> {
    let corrected = crate::queries::live::has_corrections(client, feedlot).await?;
    let live_treatments = live("treatments", " AND eid != ''", corrected);
    let live_weighings = live("weighings", "", corrected);
    let health = format!(
        "SELECT eid, sum(cost_minor) AS cost_minor, countIf(purpose = 'therapeutic') AS therapeutic \
         FROM {live_treatments} GROUP BY eid"
    );
    let weights = format!(
        "SELECT eid, argMax(weight_kg, captured_at_ms) AS weight_kg, max(captured_at_ms) AS at_ms \
         FROM {live_weighings} GROUP BY eid"
    );
    let (c, f, t) = (client, feedlot, as_of_ms);
    let (mut records, health, weights) = tokio::try_join!(
        herd_and_feed(c, f, t, corrected, ""),
        rows::<AnimalHealth>(c, &health, f, t),
        rows::<LatestWeight>(c, &weights, f, t),
    )?;
    records.health = health;
    records.weights = weights;
    Ok(records)
}

/// Every record of `feedlot`, with each treatment and weighing as given (what the facts
/// replay needs to follow them day by day).
pub async fn yard_history(client: &clickhouse::Client, feedlot: &str) -> Result<YardRecords> {
    yard_history_from(client, feedlot, 0).await
}

/// Like [`yard_history`], the records captured at or after `from_ms` only.
pub async fn yard_history_from(
    client: &clickhouse::Client,
    feedlot: &str,
    from_ms: u64,
) -> Result<YardRecords> {
    let corrected = crate::queries::live::has_corrections(client, feedlot).await?;
    let since = if from_ms == 0 {
        String::new()
    } else {
        format!(" AND captured_at_ms >= {from_ms}")
    };
    let live_treatments = live("treatments", &format!(" AND eid != ''{since}"), corrected);
    let live_weighings = live("weighings", &format!(" AND eid != ''{since}"), corrected);
    let treatments = format!(
        "SELECT eid, cost_minor, toUInt8(purpose = 'therapeutic') AS therapeutic, \
         captured_at_ms AS at_ms FROM {live_treatments}"
    );
    let weighings = format!("SELECT eid, weight_kg, captured_at_ms AS at_ms FROM {live_weighings}");
    let (c, f, t) = (client, feedlot, u64::MAX);
    let (mut records, treatments, weighings) = tokio::try_join!(
        herd_and_feed(c, f, t, corrected, &since),
        rows::<TreatmentRecord>(c, &treatments, f, t),
        rows::<WeighingRecord>(c, &weighings, f, t),
    )?;
    records.treatments = treatments;
    records.weighings = weighings;
    Ok(records)
}

/// The records both need: lots, animals, moves, deaths, shipments, feed and rates (and the
/// `since` conditions, or empty).
async fn herd_and_feed(
    client: &clickhouse::Client,
    feedlot: &str,
    as_of_ms: u64,
    corrected: bool,
    since: &str,
) -> Result<YardRecords> {
    let [
        live_arrivals,
        live_placements,
        live_pen_moves,
        live_deaths,
        live_shipments,
        live_feed_deliveries,
        live_feed_purchases,
        live_rations,
        live_yardage_rates,
    ] = [
        "arrivals",
        "placements",
        "pen_moves",
        "deaths",
        "shipments",
        "feed_deliveries",
        "feed_purchases",
        "rations",
        "yardage_rates",
    ]
    .map(|table| live(table, since, corrected));
    let live_lot_treatments = live("treatments", &format!(" AND eid = ''{since}"), corrected);
    let arrivals = format!(
        "SELECT lot_id, head_count, origin, pen_id, pay_weight_kg, shrink_pct, \
         purchase_price_minor, currency, captured_at_ms AS at_ms FROM {live_arrivals}"
    );
    let placements =
        format!("SELECT eid, lot_id, pen_id, captured_at_ms AS at_ms FROM {live_placements}");
    let moves = format!(
        "SELECT eid, lot_id, head_count, from_pen_id, to_pen_id, captured_at_ms AS at_ms \
         FROM {live_pen_moves}"
    );
    let deaths = format!(
        "SELECT eid, lot_id, pen_id, head_count, captured_at_ms AS at_ms FROM {live_deaths}"
    );
    let lot_treatments = format!(
        "SELECT lot_id, pen_id, head_count, cost_minor, captured_at_ms AS at_ms \
         FROM {live_lot_treatments}"
    );
    let shipments = format!(
        "SELECT lot_id, head_count, weight_kg, price_minor, eids, captured_at_ms AS at_ms \
         FROM {live_shipments}"
    );
    let deliveries = format!(
        "SELECT pen_id, ration_id, delivered_kg, captured_at_ms AS at_ms \
         FROM {live_feed_deliveries}"
    );
    let purchases = format!(
        "SELECT ingredient, supplier, origin, quantity_kg, price_minor, captured_at_ms AS at_ms \
         FROM {live_feed_purchases}"
    );
    let rations = format!(
        "SELECT ration_id, ingredients, inclusion_as_fed_pct, dry_matter_pct, \
         captured_at_ms AS at_ms FROM {live_rations}"
    );
    let yardage = format!(
        "SELECT lot_id, per_head_per_day_minor, captured_at_ms AS at_ms \
         FROM {live_yardage_rates}"
    );
    let (c, f, t) = (client, feedlot, as_of_ms);
    let (arrivals, placements, moves, deaths, shipments, deliveries) = tokio::try_join!(
        rows::<ArrivalRecord>(c, &arrivals, f, t),
        rows::<PlacementRecord>(c, &placements, f, t),
        rows::<MoveRecord>(c, &moves, f, t),
        rows::<DeathRecord>(c, &deaths, f, t),
        rows::<ShipmentRecord>(c, &shipments, f, t),
        rows::<DeliveryRecord>(c, &deliveries, f, t),
    )?;
    let (purchases, rations, yardage, lot_treatments) = tokio::try_join!(
        rows::<PurchaseRecord>(c, &purchases, f, t),
        rows::<RationRecord>(c, &rations, f, t),
        rows::<YardageRecord>(c, &yardage, f, t),
        rows::<LotTreatmentRecord>(c, &lot_treatments, f, t),
    )?;
    Ok(YardRecords {
        arrivals,
        placements,
        moves,
        deaths,
        shipments,
        deliveries,
        purchases,
        rations,
        yardage,
        lot_treatments,
        ..YardRecords::default()
    })
}
