//! Feed rows: `feed_loads`, `feed_deliveries`, `feed_purchases` and `rations`.

use schemas::{FeedDelivery, FeedLoad, FeedPurchase, Ration};

use super::{Meta, event_row, row};

event_row! {
    /// A row of `feed_loads`: one mixer load, its ingredients as parallel arrays.
    FeedLoadRow {
        /// The ration mixed.
        ration_id: String,
        /// The truck's batch number.
        batch_id: String,
        /// The truck.
        truck_id: String,
        /// Who drove.
        operator: String,
        /// Ingredient names, in loading order.
        ingredients: Vec<String>,
        /// Each ingredient's weight, kg as fed (same order as `ingredients`).
        ingredient_weights_kg: Vec<f64>,
        /// The load's total, kg as fed.
        total_kg: f64,
    }
}

event_row! {
    /// A row of `feed_deliveries`.
    FeedDeliveryRow {
        /// The pen fed.
        pen_id: String,
        /// The ration delivered.
        ration_id: String,
        /// The bunk call, kg as fed.
        target_kg: f64,
        /// Delivered, kg as fed.
        delivered_kg: f64,
        /// The truck.
        truck_id: String,
        /// Who drove.
        operator: String,
    }
}

event_row! {
    /// A row of `feed_purchases`.
    FeedPurchaseRow {
        /// The ingredient bought.
        ingredient: String,
        /// Who sold it.
        supplier: String,
        /// Where it came from.
        origin: String,
        /// Quantity, kg as fed.
        quantity_kg: f64,
        /// Total price, minor units of `currency`.
        price_minor: u64,
        /// ISO 4217 code.
        currency: String,
        /// Dry matter, % of as-fed weight.
        dry_matter_pct: f64,
    }
}

event_row! {
    /// A row of `rations`: a formula, its ingredients as parallel arrays.
    RationRow {
        /// The ration.
        ration_id: String,
        /// Ingredient names.
        ingredients: Vec<String>,
        /// Each ingredient's inclusion, % of as-fed weight.
        inclusion_as_fed_pct: Vec<f64>,
        /// Each ingredient's dry matter, % of its as-fed weight.
        ingredient_dry_matter_pct: Vec<f64>,
        /// The ration's dry matter, % of as-fed weight (inclusion-weighted).
        dry_matter_pct: f64,
    }
}

impl FeedLoadRow {
    pub(super) fn new(m: &Meta, l: &FeedLoad) -> Self {
        row!(FeedLoadRow, m, {
            ration_id: l.ration_id.clone(),
            batch_id: l.batch_id.clone(),
            truck_id: l.truck_id.clone(),
            operator: l.operator.clone(),
            ingredients: l.ingredients.iter().map(|i| i.ingredient.clone()).collect(),
            ingredient_weights_kg: l.ingredients.iter().map(|i| i.weight_kg).collect(),
            total_kg: l.total_kg(),
        })
    }
}

impl FeedDeliveryRow {
    pub(super) fn new(m: &Meta, d: &FeedDelivery) -> Self {
        row!(FeedDeliveryRow, m, {
            pen_id: d.pen_id.clone(),
            ration_id: d.ration_id.clone(),
            target_kg: d.target_kg,
            delivered_kg: d.delivered_kg,
            truck_id: d.truck_id.clone(),
            operator: d.operator.clone(),
        })
    }
}

impl FeedPurchaseRow {
    pub(super) fn new(m: &Meta, p: &FeedPurchase) -> Self {
        row!(FeedPurchaseRow, m, {
            ingredient: p.ingredient.clone(),
            supplier: p.supplier.clone(),
            origin: p.origin.clone(),
            quantity_kg: p.quantity_kg,
            price_minor: p.price_minor,
            currency: p.currency.clone(),
            dry_matter_pct: p.dry_matter_pct,
        })
    }
}

impl RationRow {
    pub(super) fn new(m: &Meta, r: &Ration) -> Self {
        row!(RationRow, m, {
            ration_id: r.ration_id.clone(),
            ingredients: r.ingredients.iter().map(|i| i.ingredient.clone()).collect(),
            inclusion_as_fed_pct: r.ingredients.iter().map(|i| i.inclusion_as_fed_pct).collect(),
            ingredient_dry_matter_pct: r.ingredients.iter().map(|i| i.dry_matter_pct).collect(),
            dry_matter_pct: r.dry_matter_pct(),
        })
    }
}
