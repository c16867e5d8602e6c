//! Weights with their unit, as the scale reported them.

use serde::{Deserialize, Serialize};

/// Pounds per kilogram, exact by the international definition of the pound (0.45359237 kg).
pub const KG_PER_LB: f64 = 0.453_592_37;

/// The unit a scale indicator reported a weight in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeightUnit {
    /// Kilograms.
    Kg,
    /// Pounds (avoirdupois).
    Lb,
}

/// A weight as displayed by the indicator: a value and its unit. Convert with [`Weight::kg`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Weight {
    /// The number shown on the indicator.
    pub value: f64,
    /// The unit of `value`.
    pub unit: WeightUnit,
}

impl Weight {
    /// A weight in kilograms.
    pub fn from_kg(value: f64) -> Self {
        Self {
            value,
            unit: WeightUnit::Kg,
        }
    }

    /// A weight in pounds.
    pub fn from_lb(value: f64) -> Self {
        Self {
            value,
            unit: WeightUnit::Lb,
        }
    }

    /// The weight in kilograms.
    pub fn kg(&self) -> f64 {
        match self.unit {
            WeightUnit::Kg => self.value,
            WeightUnit::Lb => self.value * KG_PER_LB,
        }
    }

    /// The weight in pounds.
    pub fn lb(&self) -> f64 {
        match self.unit {
            WeightUnit::Kg => self.value / KG_PER_LB,
            WeightUnit::Lb => self.value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_convert_to_kilograms() {
        let w = Weight::from_lb(1234.0);
        assert!((w.kg() - 559.732_98).abs() < 1e-4);
        assert!((Weight::from_kg(100.0).lb() - 220.462_26).abs() < 1e-4);
    }
}
