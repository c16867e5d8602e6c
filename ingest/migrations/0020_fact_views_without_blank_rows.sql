-- The lot-day and pen-day views of migration 7 again, without blank rows. A lot, pen,
-- ingredient or feed source that a correction took away (its arrival voided, say) keeps its
-- stored days as blank rows, newer, that every reader skips (docs/facts.md, "Blank rows";
-- dashboards/src/facts/blanks.rs). A blank lot row has `head_in` 0; a blank pen row no head,
-- no head-time and no delivery. The condition is applied after FINAL has kept each day's
-- newest row (neither 18.16 nor current ClickHouse moves a WHERE to PREWHERE with FINAL by
-- default), so a lot taken away has no rows here. `closeouts` reads `lot_day_measures` by name
-- and follows.

DROP TABLE IF EXISTS lot_day_measures;

CREATE VIEW IF NOT EXISTS lot_day_measures AS
SELECT
    feedlot_id,
    lot_id,
    day,
    through_ms,
    if(closed_ms > 0, 'closed', 'open') AS status,
    origin,
    currency,
    pens,
    arrived_ms AS arrived_at_ms,
    if(closed_ms > 0, closed_ms, NULL) AS closed_at_ms,
    head_in,
    head_on_hand,
    head_dead,
    head_shipped,
    head_pulled,
    head_ms / 86400000 AS head_days,
    (head_ms - dead_ms) / 86400000 AS live_head_days,
    if(closed_ms > 0,
        if(head_shipped > 0,
            shipped_ms / 86400000 / head_shipped,
            (greatest(toFloat64(closed_ms), toFloat64(arrived_ms)) - toFloat64(arrived_ms)) / 86400000),
        (greatest(toFloat64(through_ms), toFloat64(arrived_ms)) - toFloat64(arrived_ms)) / 86400000)
        AS days_on_feed,
    head_days / head_in AS head_days_per_head_in,
    in_pay_kg / head_in AS in_weight_kg,
    greatest(toFloat64(head_in) - toFloat64(head_dead), 0.) AS live_head,
    greatest(toFloat64(head_on_hand), 0.) AS on_hand_head,
    if(in_full_kg > 0, in_pay_kg / in_full_kg, 1.) AS pay_of_full,
    (pay_of_full * reweighed_full_kg - reweighed_head * in_weight_kg
        + (out_pay_kg - in_weight_kg * head_shipped)) AS measured_gain_kg,
    reweighed_days + shipped_ms / 86400000 AS measured_head_days,
    if(abs(measured_head_days) > 1e-12 AND isFinite(measured_gain_kg),
        measured_gain_kg / measured_head_days, NULL) AS measured_adg_kg,
    if(on_hand_head = 0, 0.,
        if(reweighed_head = 0, NULL,
            (pay_of_full * reweighed_full_kg + measured_adg_kg * (reweighed_head
                * (greatest(toFloat64(through_ms), toFloat64(arrived_ms)) - toFloat64(arrived_ms))
                / 86400000 - reweighed_days)) / reweighed_head * on_hand_head))
        AS on_hand_pay_kg,
    out_pay_kg + on_hand_pay_kg - in_weight_kg * live_head AS gain_kg,
    if(abs(on_hand_head + head_shipped) > 1e-12 AND isFinite(on_hand_pay_kg + out_pay_kg),
        (on_hand_pay_kg + out_pay_kg) / (on_hand_head + head_shipped), NULL) AS current_weight_kg,
    if(abs(live_head_days) > 1e-12 AND isFinite(gain_kg), gain_kg / live_head_days, NULL)
        AS adg_deads_out_kg,
    if(abs(head_days) > 1e-12 AND isFinite(gain_kg), gain_kg / head_days, NULL)
        AS adg_deads_in_kg,
    as_fed_kg,
    dry_matter_kg,
    if(abs(head_days) > 1e-12 AND isFinite(dry_matter_kg), dry_matter_kg / head_days, NULL)
        AS dmi_kg,
    if(abs(head_days) > 1e-12 AND isFinite(as_fed_kg), as_fed_kg / head_days, NULL)
        AS as_fed_intake_kg,
    if(abs(gain_kg) > 1e-12 AND isFinite(dry_matter_kg), dry_matter_kg / gain_kg, NULL)
        AS feed_to_gain_dm,
    if(abs(gain_kg) > 1e-12 AND isFinite(as_fed_kg), as_fed_kg / gain_kg, NULL)
        AS feed_to_gain_as_fed,
    feed_minor AS feed_cost_minor,
    if(abs(head_days) > 1e-12 AND isFinite(feed_minor), feed_minor / head_days, NULL)
        AS feed_cost_per_head_day_minor,
    yardage_minor,
    medicine_minor,
    purchase_minor,
    purchase_minor + feed_minor + yardage_minor + medicine_minor AS total_cost_minor,
    if(abs(live_head) > 1e-12 AND isFinite(total_cost_minor), total_cost_minor / live_head, NULL)
        AS total_cost_per_head_minor,
    if(abs(gain_kg) > 1e-12 AND isFinite(feed_minor), feed_minor / gain_kg, NULL)
        AS feed_cost_of_gain_per_kg_minor,
    if(abs(gain_kg) > 1e-12 AND isFinite(feed_minor + yardage_minor + medicine_minor),
        (feed_minor + yardage_minor + medicine_minor) / gain_kg, NULL)
        AS cost_of_gain_per_kg_minor,
    feed_cost_of_gain_per_kg_minor * (100 * 0.45359237) AS feed_cost_of_gain_per_cwt_minor,
    cost_of_gain_per_kg_minor * (100 * 0.45359237) AS cost_of_gain_per_cwt_minor,
    if(closed_ms > 0 AND head_shipped > 0, out_pay_kg / head_shipped, 635.) AS sale_weight_kg,
    if(abs(sale_weight_kg) > 1e-12 AND isFinite(total_cost_per_head_minor),
        total_cost_per_head_minor / sale_weight_kg, NULL) AS breakeven_per_kg_minor,
    breakeven_per_kg_minor * (100 * 0.45359237) AS breakeven_per_cwt_minor,
    100 * head_dead / head_in AS death_loss_pct,
    100 * head_pulled / head_in AS pull_rate_pct,
    revenue_minor,
    if(closed_ms > 0, revenue_minor - total_cost_minor, NULL) AS profit_minor,
    if(head_shipped > 0 AND isFinite(profit_minor), profit_minor / head_shipped, NULL)
        AS profit_per_head_minor,
    day_head_in,
    day_head_dead,
    day_head_shipped,
    day_head_pulled
FROM lot_day_facts FINAL
WHERE head_in > 0;

DROP TABLE IF EXISTS pen_day_measures;

CREATE VIEW IF NOT EXISTS pen_day_measures AS
SELECT
    feedlot_id,
    pen_id,
    day,
    through_ms,
    head_on_hand,
    lots,
    lot_head,
    head_ms / 86400000 AS head_days,
    as_fed_kg,
    dry_matter_kg,
    if(head_days > 1e-9, dry_matter_kg / head_days, NULL) AS dmi_kg,
    feed_minor,
    if(head_days > 1e-9, feed_minor / head_days, NULL) AS feed_cost_per_head_day_minor,
    last_delivery_ms
FROM pen_day_facts FINAL
WHERE NOT (head_on_hand = 0 AND head_ms = 0 AND last_delivery_ms = 0);
