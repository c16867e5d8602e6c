//! The feed report: ingredients bought and fed, fed feed by supplier and origin, and what each
//! ration costs now per tonne as fed and per tonne of dry matter.

use serde::Serialize;

use super::inventory::{IngredientCost, SourceCost};
use super::ledger::Ledger;
use super::records::RationRecord;

/// One ingredient of a ration, priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RationPart {
    /// The ingredient.
    pub ingredient: String,
    /// Inclusion, % as fed.
    pub inclusion_as_fed_pct: f64,
    /// Its price now (FIFO: the next kg fed), per tonne as fed, minor units.
    pub price_per_tonne_minor: Option<f64>,
}

/// What a ration costs now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RationCost {
    /// The ration.
    pub ration_id: String,
    /// Its dry matter, %.
    pub dry_matter_pct: f64,
    /// Cost per tonne as fed, minor units (None while an ingredient was never bought).
    pub cost_per_tonne_as_fed_minor: Option<f64>,
    /// Cost per tonne of dry matter, minor units.
    pub cost_per_tonne_dm_minor: Option<f64>,
    /// Its ingredients, priced.
    pub ingredients: Vec<RationPart>,
}

/// Feed bought, fed and costed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedReport {
    /// By ingredient.
    pub ingredients: Vec<IngredientCost>,
    /// Fed feed by ingredient, supplier and origin.
    pub sources: Vec<SourceCost>,
    /// Each ration's current formula, priced.
    pub rations: Vec<RationCost>,
    /// Feed dropped in pens with no cattle, kg as fed.
    pub unallocated_kg: f64,
}

/// The feed report of a replayed yard.
pub fn feed_report(ledger: &Ledger) -> FeedReport {
    feed_report_of(
        ledger.inventory.ingredients(),
        ledger.inventory.sources(),
        ledger.rations.values(),
        |name| ledger.inventory.price_per_kg_minor(name),
        ledger.unallocated_kg,
    )
}

/// The feed report of ingredients and sources as they stand, the rations' current formulas and
/// each ingredient's current price per kg (`price_per_kg_minor`).
pub fn feed_report_of<'a>(
    ingredients: Vec<IngredientCost>,
    sources: Vec<SourceCost>,
    rations: impl Iterator<Item = &'a RationRecord>,
    price_per_kg_minor: impl Fn(&str) -> Option<f64>,
    unallocated_kg: f64,
) -> FeedReport {
    let mut rations: Vec<RationCost> = rations
        .map(|r| {
            let ingredients: Vec<RationPart> = r
                .ingredients
                .iter()
                .zip(&r.inclusion_as_fed_pct)
                .map(|(name, pct)| RationPart {
                    ingredient: name.clone(),
                    inclusion_as_fed_pct: *pct,
                    price_per_tonne_minor: price_per_kg_minor(name).map(|p| p * 1000.0),
                })
                .collect();
            let as_fed: Option<f64> = ingredients
                .iter()
                .map(|p| {
                    p.price_per_tonne_minor
                        .map(|t| t * p.inclusion_as_fed_pct / 100.0)
                })
                .sum();
            RationCost {
                ration_id: r.ration_id.clone(),
                dry_matter_pct: r.dry_matter_pct,
                cost_per_tonne_as_fed_minor: as_fed,
                cost_per_tonne_dm_minor: as_fed
                    .filter(|_| r.dry_matter_pct > 0.0)
                    .map(|c| c * 100.0 / r.dry_matter_pct),
                ingredients,
            }
        })
        .collect();
    rations.sort_by(|a, b| a.ration_id.cmp(&b.ration_id));
    FeedReport {
        ingredients,
        sources,
        rations,
        unallocated_kg,
    }
}
