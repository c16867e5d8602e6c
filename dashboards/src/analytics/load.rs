//! Loading one yard's records from ClickHouse: every table read through `FINAL` (each event
//! once), scoped to the feedlot and to records captured up to the report's time. The queries
//! run concurrently.

use super::records::{
    AnimalHealth, ArrivalRecord, DeathRecord, DeliveryRecord, LatestWeight, MoveRecord,
    PlacementRecord, PurchaseRecord, RationRecord, ShipmentRecord, YardRecords, YardageRecord,
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

/// Every record of `feedlot` captured at or before `as_of_ms`.
pub async fn yard_records(
    client: &clickhouse::Client,
    feedlot: &str,
    as_of_ms: u64,
) -> Result<YardRecords> {
    let scope = "WHERE feedlot_id = ? AND captured_at_ms <= ?";
    let arrivals = format!(
        "SELECT lot_id, head_count, origin, pen_id, pay_weight_kg, shrink_pct, \
         purchase_price_minor, currency, captured_at_ms AS at_ms FROM arrivals FINAL {scope}"
    );
    let placements = format!(
        "SELECT eid, lot_id, pen_id, captured_at_ms AS at_ms FROM placements FINAL {scope}"
    );
    let moves = format!(
        "SELECT eid, lot_id, head_count, from_pen_id, to_pen_id, captured_at_ms AS at_ms \
         FROM pen_moves FINAL {scope}"
    );
    let deaths =
        format!("SELECT eid, lot_id, pen_id, captured_at_ms AS at_ms FROM deaths FINAL {scope}");
    let shipments = format!(
        "SELECT lot_id, head_count, weight_kg, price_minor, eids, captured_at_ms AS at_ms \
         FROM shipments FINAL {scope}"
    );
    let deliveries = format!(
        "SELECT pen_id, ration_id, delivered_kg, captured_at_ms AS at_ms \
         FROM feed_deliveries FINAL {scope}"
    );
    let purchases = format!(
        "SELECT ingredient, supplier, origin, quantity_kg, price_minor, captured_at_ms AS at_ms \
         FROM feed_purchases FINAL {scope}"
    );
    let rations = format!(
        "SELECT ration_id, ingredients, inclusion_as_fed_pct, dry_matter_pct, \
         captured_at_ms AS at_ms FROM rations FINAL {scope}"
    );
    let yardage = format!(
        "SELECT lot_id, per_head_per_day_minor, captured_at_ms AS at_ms \
         FROM yardage_rates FINAL {scope}"
    );
    let health = format!(
        "SELECT eid, sum(cost_minor) AS cost_minor, countIf(purpose = 'therapeutic') AS therapeutic \
         FROM treatments FINAL {scope} GROUP BY eid"
    );
    let weights = format!(
        "SELECT eid, argMax(weight_kg, captured_at_ms) AS weight_kg, max(captured_at_ms) AS at_ms \
         FROM weighings FINAL {scope} GROUP BY eid"
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
    let (purchases, rations, yardage, health, weights) = tokio::try_join!(
        rows::<PurchaseRecord>(c, &purchases, f, t),
        rows::<RationRecord>(c, &rations, f, t),
        rows::<YardageRecord>(c, &yardage, f, t),
        rows::<AnimalHealth>(c, &health, f, t),
        rows::<LatestWeight>(c, &weights, f, t),
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
        health,
        weights,
    })
}
