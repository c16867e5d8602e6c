//! Feed costing: first in, first out (FIFO) per ingredient.
//!
//! Each purchase is a layer (kg, price per kg, supplier, origin). Feed delivered to a bunk uses
//! its ration's ingredients (delivered kg × inclusion as fed) and draws them from the oldest
//! layer first, so the price charged is the price of the purchases that supplied it, and the
//! cost by supplier and origin is what was actually fed. Feed used beyond what was bought is
//! charged at the ingredient's latest purchase price and reported as `unbought_kg` (a missing
//! purchase record); an ingredient never bought costs 0 and is reported the same way.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::records::PurchaseRecord;

/// Kg below which a layer counts as used up (float dust).
const EMPTY_KG: f64 = 1e-9;

#[derive(Debug, Clone)]
struct Layer {
    remaining_kg: f64,
    price_per_kg_minor: f64,
    source: usize,
}

#[derive(Debug, Clone, Default)]
struct Ingredient {
    layers: VecDeque<Layer>,
    last_price_per_kg_minor: Option<f64>,
    purchased_kg: f64,
    purchased_minor: f64,
    fed_kg: f64,
    fed_minor: f64,
    unbought_kg: f64,
}

/// Where fed feed came from, and what it cost.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SourceCost {
    /// The ingredient.
    pub ingredient: String,
    /// The supplier.
    pub supplier: String,
    /// The origin.
    pub origin: String,
    /// Fed from this source, kg as fed.
    pub fed_kg: f64,
    /// Its cost, minor units.
    pub fed_cost_minor: f64,
}

/// One ingredient's purchases and use.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct IngredientCost {
    /// The ingredient.
    pub ingredient: String,
    /// Bought, kg as fed.
    pub purchased_kg: f64,
    /// Paid, minor units.
    pub purchased_cost_minor: f64,
    /// Fed, kg as fed.
    pub fed_kg: f64,
    /// Cost of what was fed (FIFO), minor units.
    pub fed_cost_minor: f64,
    /// Bought and not yet fed, kg.
    pub on_hand_kg: f64,
    /// Fed without a purchase to draw from, kg.
    pub unbought_kg: f64,
    /// The price the next kg fed will be charged, per tonne as fed, minor units.
    pub current_price_per_tonne_minor: Option<f64>,
}

/// FIFO inventories of every ingredient of a yard.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    ingredients: HashMap<String, Ingredient>,
    sources: Vec<SourceCost>,
    source_index: HashMap<(String, String, String), usize>,
}

impl Inventory {
    /// Adds a purchase as a new layer at the back of its ingredient's queue.
    pub fn buy(&mut self, p: &PurchaseRecord) {
        if p.quantity_kg <= 0.0 {
            return;
        }
        let key = (p.ingredient.clone(), p.supplier.clone(), p.origin.clone());
        let next = self.sources.len();
        let source = *self.source_index.entry(key).or_insert(next);
        if source == next {
            self.sources.push(SourceCost {
                ingredient: p.ingredient.clone(),
                supplier: p.supplier.clone(),
                origin: p.origin.clone(),
                ..SourceCost::default()
            });
        }
        let price = p.price_minor as f64 / p.quantity_kg;
        let ing = self.ingredients.entry(p.ingredient.clone()).or_default();
        ing.layers.push_back(Layer {
            remaining_kg: p.quantity_kg,
            price_per_kg_minor: price,
            source,
        });
        ing.last_price_per_kg_minor = Some(price);
        ing.purchased_kg += p.quantity_kg;
        ing.purchased_minor += p.price_minor as f64;
    }

    /// Feeds `kg` of `ingredient`, oldest purchases first; returns the cost in minor units.
    pub fn feed(&mut self, ingredient: &str, kg: f64) -> f64 {
        let ing = self.ingredients.entry(ingredient.to_owned()).or_default();
        let mut left = kg;
        let mut cost = 0.0;
        while left > EMPTY_KG {
            let Some(layer) = ing.layers.front_mut() else {
                break;
            };
            let take = left.min(layer.remaining_kg);
            let part = take * layer.price_per_kg_minor;
            cost += part;
            let source = &mut self.sources[layer.source];
            source.fed_kg += take;
            source.fed_cost_minor += part;
            layer.remaining_kg -= take;
            left -= take;
            if layer.remaining_kg <= EMPTY_KG {
                ing.layers.pop_front();
            }
        }
        if left > EMPTY_KG {
            ing.unbought_kg += left;
            cost += left * ing.last_price_per_kg_minor.unwrap_or(0.0);
        }
        ing.fed_kg += kg;
        ing.fed_minor += cost;
        cost
    }

    /// The price per kg the next kg of `ingredient` would be charged (its oldest layer, else its
    /// latest purchase), minor units.
    pub fn price_per_kg_minor(&self, ingredient: &str) -> Option<f64> {
        let ing = self.ingredients.get(ingredient)?;
        ing.layers
            .front()
            .map(|l| l.price_per_kg_minor)
            .or(ing.last_price_per_kg_minor)
    }

    /// Every ingredient's purchases and use, by name.
    pub fn ingredients(&self) -> Vec<IngredientCost> {
        let sorted: BTreeMap<_, _> = self.ingredients.iter().collect();
        sorted
            .into_iter()
            .map(|(name, ing)| IngredientCost {
                ingredient: name.clone(),
                purchased_kg: ing.purchased_kg,
                purchased_cost_minor: ing.purchased_minor,
                fed_kg: ing.fed_kg,
                fed_cost_minor: ing.fed_minor,
                on_hand_kg: ing.layers.iter().map(|l| l.remaining_kg).sum(),
                unbought_kg: ing.unbought_kg,
                current_price_per_tonne_minor: self.price_per_kg_minor(name).map(|p| p * 1000.0),
            })
            .collect()
    }

    /// Fed feed by ingredient, supplier and origin.
    pub fn sources(&self) -> Vec<SourceCost> {
        let mut all = self.sources.clone();
        all.sort_by(|a, b| {
            (&a.ingredient, &a.supplier, &a.origin).cmp(&(&b.ingredient, &b.supplier, &b.origin))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase(ingredient: &str, supplier: &str, kg: f64, minor: u64) -> PurchaseRecord {
        PurchaseRecord {
            ingredient: ingredient.into(),
            supplier: supplier.into(),
            origin: "NE".into(),
            quantity_kg: kg,
            price_minor: minor,
            at_ms: 0,
        }
    }

    #[test]
    fn feed_draws_the_oldest_purchase_first_then_the_next() {
        let mut inv = Inventory::default();
        inv.buy(&purchase("corn", "A", 10_000.0, 200_000)); // $200/t
        inv.buy(&purchase("corn", "B", 10_000.0, 250_000)); // $250/t
        assert_eq!(inv.feed("corn", 12_000.0), 200_000.0 + 2_000.0 * 25.0);
        assert_eq!(inv.price_per_kg_minor("corn"), Some(25.0));
        let by_source = inv.sources();
        assert_eq!(by_source[0].fed_kg, 10_000.0);
        assert_eq!(by_source[1].fed_cost_minor, 50_000.0);
        let corn = &inv.ingredients()[0];
        assert_eq!((corn.on_hand_kg, corn.unbought_kg), (8_000.0, 0.0));
    }

    #[test]
    fn feed_beyond_purchases_is_charged_at_the_last_price_and_reported() {
        let mut inv = Inventory::default();
        inv.buy(&purchase("hay", "A", 1_000.0, 15_000));
        assert_eq!(inv.feed("hay", 1_500.0), 15_000.0 + 500.0 * 15.0);
        assert_eq!(inv.ingredients()[0].unbought_kg, 500.0);
        assert_eq!(inv.feed("salt", 10.0), 0.0, "never bought: no price");
        assert_eq!(inv.ingredients()[1].unbought_kg, 10.0);
    }
}
