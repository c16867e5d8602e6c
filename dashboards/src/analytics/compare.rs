//! A lot against the other lots of its yard: for each headline measure, its rank (1 = best,
//! with lower-is-better measures ranked low to high), how many lots have the measure, and the
//! yard's median. Only lots of one yard are compared here; other yards are seen only through
//! the anonymous benchmark bands (`crate::benchmarks`).

use serde::Serialize;

use super::LotMeasures;

/// One measure compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotStanding {
    /// The measure's key (as in the lots table: `adg`, `fg`, `cog_cwt`, ...).
    pub key: &'static str,
    /// Its label, with unit.
    pub label: &'static str,
    /// Whether a lower value is better (F:G, cost of gain, death loss).
    pub lower_is_better: bool,
    /// This lot's value (none when the lot has no value yet, e.g. no gain before a re-weigh).
    pub value: Option<f64>,
    /// Its rank among the lots that have a value, 1 = best; ties share the better rank.
    pub rank: Option<usize>,
    /// Lots of the yard with a value for this measure.
    pub lots: usize,
    /// The median of those lots' values.
    pub yard_median: Option<f64>,
}

/// A measure compared between lots: key, label, lower is better, value.
type Measure = (
    &'static str,
    &'static str,
    bool,
    fn(&LotMeasures) -> Option<f64>,
);

const MEASURES: &[Measure] = &[
    ("adg", "ADG kg/d (deads out)", false, |l| l.adg_deads_out_kg),
    ("dmi", "DMI kg/hd/d", false, |l| l.dmi_kg),
    ("fg", "F:G (DM)", true, |l| l.feed_to_gain_dm),
    ("cog_cwt", "COG minor/cwt (all-in)", true, |l| {
        l.cost_of_gain_per_cwt_minor
    }),
    ("cost_head", "Total minor/hd", true, |l| {
        l.total_cost_per_head_minor
    }),
    ("death_loss", "Death loss %", true, |l| {
        Some(l.death_loss_pct)
    }),
    ("dof", "DOF", false, |l| Some(l.days_on_feed)),
];

/// The measures in money (minor units of the lot's currency), compared within one currency.
const MONEY_KEYS: [&str; 2] = ["cog_cwt", "cost_head"];

impl LotStanding {
    /// Whether the measure is money, in minor units of the lot's currency.
    pub fn is_money(&self) -> bool {
        MONEY_KEYS.contains(&self.key)
    }
}

/// The median of `sorted` (ascending), none when empty.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// `lot` against every lot in `yard` (itself included) in one currency: money measures
/// compare only lots priced in `lot`'s currency.
pub fn standing(lot: &LotMeasures, yard: &[LotMeasures]) -> Vec<LotStanding> {
    MEASURES
        .iter()
        .map(|&(key, label, lower_is_better, value_of)| {
            let money = MONEY_KEYS.contains(&key);
            let mut values: Vec<f64> = yard
                .iter()
                .filter(|l| !money || l.currency == lot.currency)
                .filter_map(value_of)
                .filter(|v| v.is_finite())
                .collect();
            values.sort_by(f64::total_cmp);
            let value = value_of(lot).filter(|v| v.is_finite());
            let rank = value.map(|v| {
                let better = if lower_is_better {
                    values.partition_point(|x| *x < v)
                } else {
                    values.len() - values.partition_point(|x| *x <= v)
                };
                better + 1
            });
            LotStanding {
                key,
                label,
                lower_is_better,
                value,
                rank,
                lots: values.len(),
                yard_median: median(&values),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

    use super::*;

    fn lot(id: &str, adg: Option<f64>, fg: Option<f64>, death_loss_pct: f64) -> LotMeasures {
        LotMeasures {
            lot_id: id.into(),
            adg_deads_out_kg: adg,
            feed_to_gain_dm: fg,
            death_loss_pct,
            currency: "USD".into(),
            ..LotMeasures::default()
        }
    }

    fn get<'a>(s: &'a [LotStanding], key: &str) -> &'a LotStanding {
        s.iter().find(|m| m.key == key).unwrap()
    }

    #[test]
    fn higher_adg_ranks_first_and_lower_fg_and_death_loss_rank_first() {
        let yard = vec![
            lot("A", Some(1.5), Some(6.5), 2.0),
            lot("B", Some(1.8), Some(5.9), 0.5),
            lot("C", Some(1.6), None, 1.0),
            lot("D", None, None, 1.0),
        ];
        let a = standing(&yard[0], &yard);
        assert_eq!(get(&a, "adg").rank, Some(3));
        assert_eq!(get(&a, "adg").lots, 3, "D has no ADG yet");
        assert_eq!(get(&a, "adg").yard_median, Some(1.6));
        assert_eq!(get(&a, "fg").rank, Some(2));
        assert_eq!(get(&a, "fg").yard_median, Some(6.2));
        assert_eq!(get(&a, "death_loss").rank, Some(4));
        let b = standing(&yard[1], &yard);
        assert_eq!(get(&b, "adg").rank, Some(1));
        assert_eq!(get(&b, "fg").rank, Some(1));
        assert_eq!(get(&b, "death_loss").rank, Some(1));
        let c = standing(&yard[2], &yard);
        assert_eq!(
            get(&c, "death_loss").rank,
            Some(2),
            "ties share the better rank"
        );
        let d = standing(&yard[3], &yard);
        assert_eq!(get(&d, "adg").rank, None);
        assert_eq!(get(&d, "death_loss").rank, Some(2));
    }

    #[test]
    fn money_is_compared_only_within_the_lots_currency() {
        let mut usd = lot("A", None, None, 0.0);
        usd.cost_of_gain_per_cwt_minor = Some(10_000.0);
        let mut aud = lot("B", None, None, 0.0);
        aud.currency = "AUD".into();
        aud.cost_of_gain_per_cwt_minor = Some(5_000.0);
        let s = standing(&usd, &[usd.clone(), aud]);
        assert_eq!(get(&s, "cog_cwt").lots, 1);
        assert_eq!(get(&s, "cog_cwt").rank, Some(1));
    }
}
