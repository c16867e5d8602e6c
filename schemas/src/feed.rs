//! Feed: what the trucks mix and deliver, what the yard buys, and the rations it feeds.
//!
//! Weights are kg as fed; percentages are 0-100; money is in minor units (cents) of an ISO 4217
//! currency, so sums are exact.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{
    Checked, Reason, ValidationError, currency, non_empty, non_negative, not_empty_list, percent,
    positive,
};

/// How far from 100 % a ration's inclusion rates may sum (rounding on the ration sheet).
pub const INCLUSION_SUM_TOLERANCE_PCT: f64 = 0.5;

/// One ingredient added to a mixer load, as the truck's scale weighed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadIngredient {
    /// The ingredient's name as on the ration (e.g. `corn`).
    pub ingredient: String,
    /// Weight added, kg as fed.
    pub weight_kg: f64,
}

/// A mixer load: a batch of one ration mixed on a truck, ingredient by ingredient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedLoad {
    /// The ration mixed.
    pub ration_id: String,
    /// The truck's batch (load) number.
    pub batch_id: String,
    /// The truck or mixer wagon.
    pub truck_id: String,
    /// Who drove or mixed.
    pub operator: String,
    /// What went in, in loading order.
    pub ingredients: Vec<LoadIngredient>,
}

/// Feed dropped in one pen's bunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedDelivery {
    /// The pen fed.
    pub pen_id: String,
    /// The ration delivered.
    pub ration_id: String,
    /// The bunk call for this drop, kg as fed.
    pub target_kg: f64,
    /// What the truck's scale says was delivered, kg as fed.
    pub delivered_kg: f64,
    /// The truck.
    pub truck_id: String,
    /// Who drove.
    pub operator: String,
}

/// A purchase of one feed ingredient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedPurchase {
    /// The ingredient bought (as named on rations).
    pub ingredient: String,
    /// Who sold it.
    pub supplier: String,
    /// Where it was grown or made.
    pub origin: String,
    /// Quantity bought, kg as fed.
    pub quantity_kg: f64,
    /// Total price paid, in minor units of `currency` (cents).
    pub price_minor: u64,
    /// ISO 4217 code of `price_minor`, e.g. `USD`.
    pub currency: String,
    /// Dry matter of the ingredient as bought, % of as-fed weight (0-100).
    pub dry_matter_pct: f64,
}

/// One ingredient of a ration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RationIngredient {
    /// The ingredient's name.
    pub ingredient: String,
    /// Share of the ration, % of as-fed weight (0-100).
    pub inclusion_as_fed_pct: f64,
    /// The ingredient's dry matter, % of its as-fed weight (0-100).
    pub dry_matter_pct: f64,
}

/// A ration's formula, in effect from the envelope's `captured_at` until the next one with the
/// same `ration_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ration {
    /// The ration (as named on loads and deliveries).
    pub ration_id: String,
    /// Its ingredients; inclusion rates sum to 100 %.
    pub ingredients: Vec<RationIngredient>,
}

impl LoadIngredient {
    fn validate(&self) -> Checked {
        non_empty("ingredient", &self.ingredient)?;
        non_negative("weight_kg", self.weight_kg)
    }
}

impl FeedLoad {
    /// Checks ids and names are present, there is at least one ingredient, and no weight is
    /// negative.
    pub fn validate(&self) -> Checked {
        non_empty("ration_id", &self.ration_id)?;
        non_empty("batch_id", &self.batch_id)?;
        non_empty("truck_id", &self.truck_id)?;
        non_empty("operator", &self.operator)?;
        not_empty_list("ingredients", &self.ingredients)?;
        for (i, ingredient) in self.ingredients.iter().enumerate() {
            ingredient
                .validate()
                .map_err(|e| e.within("ingredients", i))?;
        }
        Ok(())
    }

    /// The load's total weight, kg as fed.
    pub fn total_kg(&self) -> f64 {
        self.ingredients.iter().map(|i| i.weight_kg).sum()
    }
}

impl FeedDelivery {
    /// Checks ids and names are present and weights are not negative.
    pub fn validate(&self) -> Checked {
        non_empty("pen_id", &self.pen_id)?;
        non_empty("ration_id", &self.ration_id)?;
        non_negative("target_kg", self.target_kg)?;
        non_negative("delivered_kg", self.delivered_kg)?;
        non_empty("truck_id", &self.truck_id)?;
        non_empty("operator", &self.operator)
    }
}

impl FeedPurchase {
    /// Checks names are present, the quantity is above zero, the currency is an ISO code and
    /// dry matter is a percentage above zero.
    pub fn validate(&self) -> Checked {
        non_empty("ingredient", &self.ingredient)?;
        non_empty("supplier", &self.supplier)?;
        non_empty("origin", &self.origin)?;
        positive("quantity_kg", self.quantity_kg)?;
        currency("currency", &self.currency)?;
        percent("dry_matter_pct", self.dry_matter_pct)?;
        positive("dry_matter_pct", self.dry_matter_pct)
    }
}

impl Ration {
    /// Checks the ration has ingredients, each named once with percentages in 0-100, and that
    /// inclusion rates sum to 100 % (within [`INCLUSION_SUM_TOLERANCE_PCT`]).
    pub fn validate(&self) -> Checked {
        non_empty("ration_id", &self.ration_id)?;
        not_empty_list("ingredients", &self.ingredients)?;
        let mut seen = std::collections::BTreeSet::new();
        for (i, ingredient) in self.ingredients.iter().enumerate() {
            let within = |e: ValidationError| e.within("ingredients", i);
            non_empty("ingredient", &ingredient.ingredient).map_err(within)?;
            percent("inclusion_as_fed_pct", ingredient.inclusion_as_fed_pct).map_err(within)?;
            percent("dry_matter_pct", ingredient.dry_matter_pct).map_err(within)?;
            if !seen.insert(ingredient.ingredient.trim()) {
                return Err(within(ValidationError::new(
                    "ingredient",
                    Reason::Duplicate(ingredient.ingredient.clone()),
                )));
            }
        }
        let sum: f64 = self
            .ingredients
            .iter()
            .map(|i| i.inclusion_as_fed_pct)
            .sum();
        if (sum - 100.0).abs() > INCLUSION_SUM_TOLERANCE_PCT {
            return Err(ValidationError::new(
                "ingredients.inclusion_as_fed_pct",
                Reason::InclusionSum {
                    sum,
                    tolerance: INCLUSION_SUM_TOLERANCE_PCT,
                },
            ));
        }
        Ok(())
    }

    /// The ration's dry matter, % of as-fed weight: the inclusion-weighted ingredient dry matter.
    pub fn dry_matter_pct(&self) -> f64 {
        self.ingredients
            .iter()
            .map(|i| i.inclusion_as_fed_pct * i.dry_matter_pct / 100.0)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load() -> FeedLoad {
        FeedLoad {
            ration_id: "finisher".into(),
            batch_id: "T7-1".into(),
            truck_id: "T7".into(),
            operator: "sam".into(),
            ingredients: vec![
                LoadIngredient {
                    ingredient: "corn".into(),
                    weight_kg: 3200.0,
                },
                LoadIngredient {
                    ingredient: "silage".into(),
                    weight_kg: 800.0,
                },
            ],
        }
    }

    fn ration() -> Ration {
        let ingredient = |name: &str, inclusion: f64, dm: f64| RationIngredient {
            ingredient: name.into(),
            inclusion_as_fed_pct: inclusion,
            dry_matter_pct: dm,
        };
        Ration {
            ration_id: "finisher".into(),
            ingredients: vec![
                ingredient("corn", 70.0, 86.0),
                ingredient("silage", 20.0, 35.0),
                ingredient("supplement", 10.0, 90.0),
            ],
        }
    }

    #[test]
    fn a_load_with_a_negative_ingredient_weight_names_that_ingredient() {
        assert!(load().validate().is_ok());
        assert_eq!(load().total_kg(), 4000.0);
        let mut bad = load();
        bad.ingredients[1].weight_kg = -5.0;
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "ingredients[1].weight_kg");
        assert_eq!(err.reason, Reason::Negative(-5.0));
    }

    #[test]
    fn a_load_needs_a_batch_and_at_least_one_ingredient() {
        let mut bad = load();
        bad.batch_id = " ".into();
        assert_eq!(bad.validate().unwrap_err().field, "batch_id");
        let mut bad = load();
        bad.ingredients.clear();
        assert_eq!(bad.validate().unwrap_err().reason, Reason::EmptyList);
    }

    #[test]
    fn a_delivery_may_be_zero_but_not_negative() {
        let mut d = FeedDelivery {
            pen_id: "P12".into(),
            ration_id: "finisher".into(),
            target_kg: 4200.0,
            delivered_kg: 0.0,
            truck_id: "T7".into(),
            operator: "sam".into(),
        };
        assert!(d.validate().is_ok());
        d.target_kg = -1.0;
        assert_eq!(d.validate().unwrap_err().field, "target_kg");
        d.target_kg = 1.0;
        d.pen_id.clear();
        assert_eq!(d.validate().unwrap_err().field, "pen_id");
    }

    #[test]
    fn a_purchase_needs_an_iso_currency_and_a_dry_matter_percentage() {
        let mut p = FeedPurchase {
            ingredient: "corn".into(),
            supplier: "Co-op".into(),
            origin: "Hall County, NE".into(),
            quantity_kg: 25_000.0,
            price_minor: 480_000,
            currency: "USD".into(),
            dry_matter_pct: 86.0,
        };
        assert!(p.validate().is_ok());
        p.dry_matter_pct = 186.0;
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "field `dry_matter_pct`: must be a percentage between 0 and 100 (found 186)"
        );
        p.dry_matter_pct = 86.0;
        p.currency = "dollars".into();
        assert_eq!(p.validate().unwrap_err().field, "currency");
        p.currency = "USD".into();
        p.quantity_kg = 0.0;
        assert_eq!(p.validate().unwrap_err().field, "quantity_kg");
    }

    #[test]
    fn ration_inclusions_must_sum_to_about_one_hundred_percent() {
        assert!(ration().validate().is_ok());
        assert!((ration().dry_matter_pct() - 76.2).abs() < 1e-9);
        let mut nearly = ration();
        nearly.ingredients[0].inclusion_as_fed_pct = 70.4;
        assert!(nearly.validate().is_ok(), "rounding on the sheet is fine");
        let mut bad = ration();
        bad.ingredients[0].inclusion_as_fed_pct = 60.0;
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "ingredients.inclusion_as_fed_pct");
        assert!(matches!(err.reason, Reason::InclusionSum { sum, .. } if sum == 90.0));
    }

    #[test]
    fn a_ration_names_each_ingredient_once_with_percentages_in_range() {
        let mut dup = ration();
        dup.ingredients[2].ingredient = "corn".into();
        let err = dup.validate().unwrap_err();
        assert_eq!(err.field, "ingredients[2].ingredient");
        let mut over = ration();
        over.ingredients[1].dry_matter_pct = 135.0;
        assert_eq!(
            over.validate().unwrap_err().field,
            "ingredients[1].dry_matter_pct"
        );
    }
}
