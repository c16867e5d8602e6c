//! The bands query: for one yard, its own KPIs and, per measure, the p10/p25/p50/p75/p90 of
//! the other yards in one of a fixed set of areas (its region, or within 100, 250 or 500 km)
//! and in the world. Only aggregates of other yards leave this module: never an id, a name or
//! a row, and no count or mark over fewer than [`MIN_PEERS`] other yards
//! (`docs/benchmarks-bands.md`, "Anonymity").
//!
//! Yards are placed by the cloud's registry ([`super::registry`]) only; a yard not in it is
//! nobody's peer and sees no bands.

use serde::{Deserialize, Serialize};

use super::kpis::YardKpis;
use super::registry::{RegistryEntry, get as registry_entry};

/// Fewest other yards (the caller never counts) a set needs before anything of it — count,
/// marks or rank — is published.
pub const MIN_PEERS: u64 = 10;

/// The radius tiers, km: the only distances an area can be formed by.
pub const RADII_KM: [u32; 3] = [100, 250, 500];

/// The quantile levels of a band, in order.
pub const LEVELS: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

/// The interpolation weight between two neighbouring values is kept within
/// [`MIN_WEIGHT`, 1 − `MIN_WEIGHT`], so a mark is never one yard's value (unless two tie).
pub const MIN_WEIGHT: f64 = 0.25;

/// Which yards form the caller's area: one of a fixed set, never an arbitrary distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaRule {
    /// Yards registered in the caller's region (the default).
    Region,
    /// Yards registered within 100 km of the caller (great circle).
    Within100Km,
    /// Within 250 km.
    Within250Km,
    /// Within 500 km.
    Within500Km,
}

impl AreaRule {
    /// The tier for `radius_km`, if it is one of [`RADII_KM`] exactly.
    pub fn from_radius_km(radius_km: f64) -> Option<Self> {
        [Self::Within100Km, Self::Within250Km, Self::Within500Km]
            .into_iter()
            .find(|r| r.radius_km().is_some_and(|km| f64::from(km) == radius_km))
    }

    /// The tier's radius, km (None for the region).
    pub fn radius_km(self) -> Option<u32> {
        match self {
            Self::Region => None,
            Self::Within100Km => Some(RADII_KM[0]),
            Self::Within250Km => Some(RADII_KM[1]),
            Self::Within500Km => Some(RADII_KM[2]),
        }
    }

    /// The index of the tier's set in [`SETS`].
    fn set(self) -> usize {
        match self {
            Self::Region => REGION,
            Self::Within100Km => R100,
            Self::Within250Km => R250,
            Self::Within500Km => R500,
        }
    }
}

/// The sets a caller can be compared with, in publication priority: the region and the world
/// (the default page) first, then the radius tiers from the smallest.
const SETS: [&str; 5] = ["region", "world", "100 km", "250 km", "500 km"];
const REGION: usize = 0;
const WORLD: usize = 1;
const R100: usize = 2;
const R250: usize = 3;
const R500: usize = 4;
/// One benchmarked measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    /// Its key (the `yard_kpis` column).
    pub key: &'static str,
    /// What the page calls it.
    pub label: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Whether a lower value is better (F:G, COG, death loss).
    pub lower_is_better: bool,
}

/// The measures, in the order of the bands query's `arrayJoin` index (1-based).
pub const MEASURES: [Measure; 5] = [
    Measure {
        key: "adg_kg",
        label: "ADG (deads out)",
        unit: "kg/day",
        lower_is_better: false,
    },
    Measure {
        key: "feed_to_gain_dm",
        label: "F:G (dry matter)",
        unit: "kg DM/kg",
        lower_is_better: true,
    },
    Measure {
        key: "cost_of_gain_per_kg_minor",
        label: "Cost of gain (all-in)",
        unit: "minor units/kg",
        lower_is_better: true,
    },
    Measure {
        key: "death_loss_pct",
        label: "Death loss",
        unit: "%",
        lower_is_better: true,
    },
    Measure {
        key: "days_on_feed",
        label: "Days on feed",
        unit: "days",
        lower_is_better: false,
    },
];

/// Index of the cost-of-gain measure in [`MEASURES`] (compared within one currency only).
const COG: usize = 2;

/// Why a band is published without numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hidden {
    /// Fewer than [`MIN_PEERS`] other yards have a value for the measure in the set.
    TooFewPeers,
    /// The set differs from a set already published to this yard by fewer than
    /// [`MIN_PEERS`] yards (but not by none): comparing the two would single those yards out.
    TooCloseToAnotherSet,
    /// The caller is not in the benchmark registry: it is compared with nobody.
    NotRegistered,
}

impl Hidden {
    /// What the page says.
    pub fn note(self) -> String {
        match self {
            Self::TooFewPeers => format!("hidden: fewer than {MIN_PEERS} other yards"),
            Self::TooCloseToAnotherSet => format!(
                "hidden: differs from another area shown to you by fewer than {MIN_PEERS} yards"
            ),
            Self::NotRegistered => "hidden: your yard is not in the benchmark registry".into(),
        }
    }
}

/// Other yards' quantiles for one measure in one set; when hidden, nothing but why (no count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Nothing of the set is published.
    pub hidden: bool,
    /// Why, when hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Hidden>,
    /// Other yards with a value for the measure in the set (at least [`MIN_PEERS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yards: Option<u64>,
    /// 10th percentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p10: Option<f64>,
    /// 25th percentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p25: Option<f64>,
    /// Median.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 75th percentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p75: Option<f64>,
    /// 90th percentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// The caller's percentile rank read off the marks above (linear between them, 10 below
    /// p10 and 90 above p90): a function of the published marks only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_percentile: Option<f64>,
}

impl Band {
    /// A band with nothing but `reason`.
    pub fn hidden(reason: Hidden) -> Self {
        Self {
            hidden: true,
            reason: Some(reason),
            yards: None,
            p10: None,
            p25: None,
            p50: None,
            p75: None,
            p90: None,
            own_percentile: None,
        }
    }

    /// The band of `sorted` (other yards' values, ascending), published or hidden as
    /// `published` says.
    fn of(sorted: &[f64], published: Result<(), Hidden>, own: Option<f64>) -> Self {
        let marks = LEVELS.map(|q| quantile(sorted, q));
        match (published, marks) {
            (Err(reason), _) => Self::hidden(reason),
            (Ok(()), [Some(p10), Some(p25), Some(p50), Some(p75), Some(p90)]) => {
                let marks = [p10, p25, p50, p75, p90];
                Self {
                    hidden: false,
                    reason: None,
                    yards: Some(sorted.len() as u64),
                    p10: Some(p10),
                    p25: Some(p25),
                    p50: Some(p50),
                    p75: Some(p75),
                    p90: Some(p90),
                    own_percentile: own.map(|v| rank_from_marks(&marks, v)),
                }
            }
            (Ok(()), _) => Self::hidden(Hidden::TooFewPeers),
        }
    }
}

/// The `q` quantile of `sorted` (ascending): R's type 7 — position h = (n − 1)·q between
/// the order statistics x⌊h⌋ and x⌊h⌋+1 (0-based) — with the weight of the upper one kept
/// within [[`MIN_WEIGHT`], 1 − [`MIN_WEIGHT`]], so the mark is a blend of two neighbouring
/// values and never one yard's own (unless they tie). None for an empty slice.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    let last = n.checked_sub(1)?;
    if last == 0 {
        return sorted.first().copied();
    }
    let h = (last as f64 * q.clamp(0.0, 1.0)).min(last as f64 - MIN_WEIGHT);
    // h ≥ 0 and < last, so both positions are in range.
    let lo = (h.floor() as usize).min(last - 1);
    let weight = (h - lo as f64).clamp(MIN_WEIGHT, 1.0 - MIN_WEIGHT);
    Some(sorted[lo] + weight * (sorted[lo + 1] - sorted[lo]))
}

/// The caller's percentile rank read off the published marks: the level where `own` meets
/// them, linear between two marks, the mean level of marks it equals, and 10 or 90 beyond
/// the outer marks (the rank there is not published).
pub fn rank_from_marks(marks: &[f64; 5], own: f64) -> f64 {
    let levels = LEVELS.map(|l| l * 100.0);
    let equal: Vec<f64> = (0..5)
        .filter(|&i| marks[i] == own)
        .map(|i| levels[i])
        .collect();
    if !equal.is_empty() {
        return equal.iter().sum::<f64>() / equal.len() as f64;
    }
    if own < marks[0] {
        return levels[0];
    }
    if own > marks[4] {
        return levels[4];
    }
    for i in 0..4 {
        if marks[i] < own && own < marks[i + 1] {
            let t = (own - marks[i]) / (marks[i + 1] - marks[i]);
            return levels[i] + t * (levels[i + 1] - levels[i]);
        }
    }
    levels[2]
}

/// The publication rule over one measure's sets, in [`SETS`] priority: a set is published
/// when it has at least [`MIN_PEERS`] yards and, against every set already published, each
/// one-sided difference (yards in one and not the other) is either empty or at least
/// [`MIN_PEERS`] yards. `sizes[i]` is the size of set i, `common[i][j]` that of i ∩ j.
fn publication(sizes: &[u64; 5], common: &[[u64; 5]; 5]) -> [Result<(), Hidden>; 5] {
    let mut out = [Err(Hidden::TooFewPeers); 5];
    let mut published: Vec<usize> = Vec::new();
    for i in 0..SETS.len() {
        if sizes[i] < MIN_PEERS {
            continue;
        }
        let singles_out = |d: u64| d != 0 && d < MIN_PEERS;
        let close = published.iter().any(|&j| {
            let both = common[i][j];
            singles_out(sizes[i].saturating_sub(both)) || singles_out(sizes[j].saturating_sub(both))
        });
        if close {
            out[i] = Err(Hidden::TooCloseToAnotherSet);
        } else {
            out[i] = Ok(());
            published.push(i);
        }
    }
    out
}

/// One measure's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureBands {
    /// The measure.
    #[serde(flatten)]
    pub measure: Measure,
    /// The caller's own value, if it has one.
    pub own: Option<f64>,
    /// The currency compared in (cost of gain only: the caller's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The caller's area (the tier asked for).
    pub area: Band,
    /// Every registered yard.
    pub world: Band,
}

/// How the caller's area was formed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaInfo {
    /// `region` or `radius`.
    pub rule: &'static str,
    /// The caller's region (from the registry).
    pub region: Option<String>,
    /// The radius tier, km, when the rule is `radius`.
    pub radius_km: Option<u32>,
    /// False when the caller is not in the benchmark registry: it then has no bands.
    pub registered: bool,
}

/// Everything the benchmarks page shows to one yard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmarks {
    /// The caller's yard.
    pub feedlot_id: String,
    /// The caller's own KPIs row (None before the rollup has computed one).
    pub own: Option<YardKpis>,
    /// Its area.
    pub area: AreaInfo,
    /// One entry per measure, in [`MEASURES`] order.
    pub measures: Vec<MeasureBands>,
}

/// Per measure: the other yards' values in each set (sorted) and the region's overlap with
/// each radius tier. Values stay in this module.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct SetsRow {
    m: u8,
    region_s: Vec<f64>,
    world_s: Vec<f64>,
    r100_s: Vec<f64>,
    r250_s: Vec<f64>,
    r500_s: Vec<f64>,
    region_r100: u64,
    region_r250: u64,
    region_r500: u64,
}

impl SetsRow {
    fn sets(&self) -> [&[f64]; 5] {
        [
            &self.region_s,
            &self.world_s,
            &self.r100_s,
            &self.r250_s,
            &self.r500_s,
        ]
    }

    /// Set sizes and pairwise intersections: every set lies in the world, the radius tiers
    /// nest, and the region's overlap with each tier is counted.
    fn sizes(&self) -> ([u64; 5], [[u64; 5]; 5]) {
        let sizes = self.sets().map(|s| s.len() as u64);
        let common = std::array::from_fn(|i| {
            std::array::from_fn(|j| match (i.min(j), i.max(j)) {
                (a, b) if a == b => sizes[a],
                (REGION, WORLD) => sizes[REGION],
                (WORLD, b) => sizes[b],
                (REGION, R100) => self.region_r100,
                (REGION, R250) => self.region_r250,
                (REGION, _) => self.region_r500,
                // Two radius tiers: the smaller lies in the larger.
                (a, b) => sizes[a].min(sizes[b]),
            })
        });
        (sizes, common)
    }
}

fn value(kpis: &YardKpis, i: usize) -> Option<f64> {
    match i {
        0 => kpis.adg_kg,
        1 => kpis.feed_to_gain_dm,
        2 => kpis.cost_of_gain_per_kg_minor,
        3 => kpis.death_loss_pct,
        _ => kpis.days_on_feed,
    }
}

/// The caller's own KPIs row, if the rollup has computed one.
pub async fn own_kpis(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<Option<YardKpis>, clickhouse::error::Error> {
    client
        .query("SELECT ?fields FROM yard_kpis FINAL WHERE feedlot_id = ? LIMIT 1")
        .bind(feedlot_id)
        .fetch_optional::<YardKpis>()
        .await
}

/// The other registered peers' values per measure and set, for `me`.
async fn sets(
    client: &clickhouse::Client,
    me: &RegistryEntry,
    currency: &str,
) -> Result<Vec<SetsRow>, clickhouse::error::Error> {
    let columns: Vec<&str> = MEASURES.iter().map(|m| m.key).collect();
    let within = |km: u32| format!("d_m <= {}", f64::from(km) * 1000.0);
    let sorted = |cond: &str| format!("arraySort(groupArrayIf(x, peer AND {cond}))");
    let sql = format!(
        "SELECT m, {region} AS region_s, {world} AS world_s, {r100} AS r100_s, \
           {r250} AS r250_s, {r500} AS r500_s, \
           countIf(peer AND in_region AND {w100}) AS region_r100, \
           countIf(peer AND in_region AND {w250}) AS region_r250, \
           countIf(peer AND in_region AND {w500}) AS region_r500 \
         FROM (SELECT arrayJoin([1, 2, 3, 4, 5]) AS m, arrayElement([{cols}], m) AS v, \
                 assumeNotNull(v) AS x, \
                 isNotNull(v) AND (m != {cog} OR currency = ?) AND feedlot_id != ? AS peer, \
                 region = ? AS in_region, \
                 greatCircleDistance(toFloat64(?), toFloat64(?), longitude_deg, latitude_deg) AS d_m \
               FROM yard_kpis FINAL ANY INNER JOIN \
                 (SELECT feedlot_id, region, latitude_deg, longitude_deg \
                  FROM yard_registry FINAL WHERE peer = 1) AS registry USING feedlot_id) \
         GROUP BY m ORDER BY m",
        region = sorted("in_region"),
        world = sorted("1"),
        r100 = sorted(&within(RADII_KM[0])),
        r250 = sorted(&within(RADII_KM[1])),
        r500 = sorted(&within(RADII_KM[2])),
        w100 = within(RADII_KM[0]),
        w250 = within(RADII_KM[1]),
        w500 = within(RADII_KM[2]),
        cols = columns.join(", "),
        cog = COG + 1,
    );
    client
        .query(&sql)
        .bind(currency)
        .bind(&me.feedlot_id)
        .bind(&me.region)
        .bind(me.longitude_deg)
        .bind(me.latitude_deg)
        .fetch_all::<SetsRow>()
        .await
}

/// `feedlot_id`'s benchmarks: its KPIs and, per measure, the bands of the other registered
/// yards in the area `rule` names and in the world (cost of gain: in the caller's currency
/// only). Each band is published or hidden by [`publication`] over all five sets the caller
/// can ask for, whichever it asked for, so asking for another tier never reveals more. A
/// caller not in the registry gets no bands.
pub async fn benchmarks(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rule: AreaRule,
) -> Result<Benchmarks, clickhouse::error::Error> {
    let own = own_kpis(client, feedlot_id).await?;
    let me = registry_entry(client, feedlot_id)
        .await?
        .filter(|e| e.peer == 1);
    let currency = own.as_ref().map(|k| k.currency.clone()).unwrap_or_default();
    let rows = match &me {
        Some(me) => sets(client, me, &currency).await?,
        None => Vec::new(),
    };
    let measures = MEASURES
        .iter()
        .enumerate()
        .map(|(i, measure)| {
            let own_value = own.as_ref().and_then(|k| value(k, i));
            let row = rows.iter().find(|r| usize::from(r.m) == i + 1);
            let (area, world) = match (&me, row) {
                (None, _) => (
                    Band::hidden(Hidden::NotRegistered),
                    Band::hidden(Hidden::NotRegistered),
                ),
                (Some(_), None) => (
                    Band::hidden(Hidden::TooFewPeers),
                    Band::hidden(Hidden::TooFewPeers),
                ),
                (Some(_), Some(r)) => {
                    let (sizes, common) = r.sizes();
                    let rule_out = publication(&sizes, &common);
                    let sets = r.sets();
                    let set = rule.set();
                    (
                        Band::of(sets[set], rule_out[set], own_value),
                        Band::of(sets[WORLD], rule_out[WORLD], own_value),
                    )
                }
            };
            MeasureBands {
                measure: *measure,
                own: own_value,
                currency: (i == COG)
                    .then(|| currency.clone())
                    .filter(|c| !c.is_empty()),
                area,
                world,
            }
        })
        .collect();
    Ok(Benchmarks {
        feedlot_id: feedlot_id.to_owned(),
        own,
        area: AreaInfo {
            rule: match rule {
                AreaRule::Region => "region",
                _ => "radius",
            },
            region: me.as_ref().map(|m| m.region.clone()),
            radius_km: rule.radius_km(),
            registered: me.is_some(),
        },
        measures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_blend_two_neighbours_and_never_equal_one_value() {
        let ten: Vec<f64> = (0..10).map(|i| 1.0 + f64::from(i) / 10.0).collect();
        // Type 7 over 10 values: h = 0.9, 2.25, 4.5, 6.75, 8.1; the weights 0.9 and 0.1 are
        // kept at 0.75 and 0.25.
        let marks = LEVELS.map(|q| quantile(&ten, q).unwrap());
        let expected = [1.075, 1.225, 1.45, 1.675, 1.825];
        for (m, e) in marks.iter().zip(expected) {
            assert!((m - e).abs() < 1e-9, "{marks:?}");
        }
        // 11 values: type 7 would put p10, p50 and p90 on order statistics (h = 1, 5, 9);
        // the weight is kept at a quarter instead.
        let eleven: Vec<f64> = (0..11).map(f64::from).collect();
        for n in 10..60 {
            let values: Vec<f64> = (0..n).map(|i| f64::from(i) * 3.0).collect();
            for q in LEVELS {
                let m = quantile(&values, q).unwrap();
                assert!(!values.contains(&m), "n {n}, q {q}: {m} is a value");
            }
        }
        assert_eq!(quantile(&eleven, 0.1), Some(1.25));
        assert_eq!(quantile(&eleven, 0.5), Some(5.25));
        assert_eq!(quantile(&eleven, 0.9), Some(9.25));
        // Ties give the tied value; marks never decrease.
        assert_eq!(quantile(&[2.0; 12], 0.5), Some(2.0));
        let marks = LEVELS.map(|q| quantile(&eleven, q).unwrap());
        assert!(marks.windows(2).all(|w| w[0] <= w[1]), "{marks:?}");
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_rank_is_read_off_the_published_marks() {
        let marks = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(rank_from_marks(&marks, 0.5), 10.0);
        assert_eq!(rank_from_marks(&marks, 9.0), 90.0);
        assert_eq!(rank_from_marks(&marks, 2.5), 37.5);
        assert_eq!(rank_from_marks(&marks, 3.0), 50.0);
        assert_eq!(rank_from_marks(&[1.0, 2.0, 2.0, 2.0, 5.0], 2.0), 50.0);
    }

    fn nested(sizes: [u64; 5], region_in: [u64; 3]) -> [Result<(), Hidden>; 5] {
        let row = SetsRow {
            m: 1,
            region_s: vec![0.0; sizes[0] as usize],
            world_s: vec![0.0; sizes[1] as usize],
            r100_s: vec![0.0; sizes[2] as usize],
            r250_s: vec![0.0; sizes[3] as usize],
            r500_s: vec![0.0; sizes[4] as usize],
            region_r100: region_in[0],
            region_r250: region_in[1],
            region_r500: region_in[2],
        };
        let (s, c) = row.sizes();
        publication(&s, &c)
    }

    #[test]
    fn a_set_one_yard_away_from_a_published_one_is_hidden_and_equal_sets_are_not() {
        use Hidden::*;
        // Region = 100 km (10 yards); 250 km = those + 1: hidden; 500 km = 250 km + 10 and
        // the world 19 more: shown.
        let out = nested([10, 40, 10, 11, 21], [10, 10, 10]);
        assert_eq!(
            out,
            [Ok(()), Ok(()), Ok(()), Err(TooCloseToAnotherSet), Ok(())]
        );
        // The world only 9 more than the 500 km tier: the world (higher priority) is shown and
        // the tier hidden.
        let out = nested([10, 30, 10, 11, 21], [10, 10, 10]);
        assert_eq!(out[WORLD], Ok(()));
        assert_eq!(out[R500], Err(TooCloseToAnotherSet));
        // Fewer than 10 others: hidden whatever else.
        let out = nested([9, 35, 5, 9, 30], [5, 9, 9]);
        assert_eq!(out[REGION], Err(TooFewPeers));
        assert_eq!(out[R100], Err(TooFewPeers));
        assert_eq!(out[WORLD], Ok(()));
        assert_eq!(out[R500], Err(TooCloseToAnotherSet));
        // A region of 12 and a 100 km tier of 12 sharing 11: each has one yard the other
        // lacks: the tier is hidden; the larger tiers are far enough from everything.
        let out = nested([12, 50, 12, 30, 40], [11, 12, 12]);
        assert_eq!(
            out,
            [Ok(()), Ok(()), Err(TooCloseToAnotherSet), Ok(()), Ok(())]
        );
    }

    #[test]
    fn a_hidden_band_carries_no_count_and_no_numbers() {
        let values: Vec<f64> = (0..9).map(f64::from).collect();
        let hidden = Band::of(&values, Err(Hidden::TooFewPeers), Some(2.0));
        let json = serde_json::to_string(&hidden).unwrap();
        assert_eq!(json, r#"{"hidden":true,"reason":"too_few_peers"}"#);
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let shown = Band::of(&values, Ok(()), Some(4.5));
        assert_eq!((shown.yards, shown.own_percentile), (Some(10), Some(50.0)));
    }

    #[test]
    fn only_the_fixed_radii_are_tiers() {
        assert_eq!(AreaRule::from_radius_km(250.0), Some(AreaRule::Within250Km));
        assert_eq!(AreaRule::from_radius_km(300.0), None);
        assert_eq!(AreaRule::from_radius_km(100.5), None);
        assert_eq!(AreaRule::Within500Km.radius_km(), Some(500));
    }
}
