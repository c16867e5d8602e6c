//! The bands query: for one yard, its own KPIs and, per measure, the p10/p25/p50/p75/p90 of
//! the yards in its area and in the world, with how many yards contributed and where the yard
//! ranks. Only aggregates of other yards leave this module: never an id, a name or a row.

use serde::{Deserialize, Serialize};

use super::kpis::YardKpis;

/// Fewest contributing yards a band needs to be shown; a smaller one is returned hidden.
pub const MIN_YARDS: u64 = 5;

/// The quantile levels of a band, in order.
pub const LEVELS: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

/// Which yards form the caller's area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AreaRule {
    /// Yards whose profile has the caller's `region` (the default).
    Region,
    /// Yards whose profile places them within this many km of the caller (great circle).
    RadiusKm(f64),
}

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

/// A set of yards' quantiles for one measure; numbers only when at least [`MIN_YARDS`] yards
/// contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Yards with a value for the measure in this set (the caller included when it has one).
    pub yards: u64,
    /// Fewer than [`MIN_YARDS`] yards: no numbers are given.
    pub hidden: bool,
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
    /// The caller's percentile rank in the set: 100 × (yards below + ½ yards equal) / yards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_percentile: Option<f64>,
}

impl Band {
    fn new(quantiles: &[f64], yards: u64, below: u64, equal: u64, own: Option<f64>) -> Self {
        if yards < MIN_YARDS || quantiles.len() != LEVELS.len() {
            return Self {
                yards,
                hidden: true,
                p10: None,
                p25: None,
                p50: None,
                p75: None,
                p90: None,
                own_percentile: None,
            };
        }
        Self {
            yards,
            hidden: false,
            p10: Some(quantiles[0]),
            p25: Some(quantiles[1]),
            p50: Some(quantiles[2]),
            p75: Some(quantiles[3]),
            p90: Some(quantiles[4]),
            own_percentile: own.map(|_| 100.0 * (below as f64 + 0.5 * equal as f64) / yards as f64),
        }
    }
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
    /// The caller's area.
    pub area: Band,
    /// Every yard.
    pub world: Band,
}

/// How the caller's area was formed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaInfo {
    /// `region` or `radius`.
    pub rule: &'static str,
    /// The caller's region (from its own profile).
    pub region: Option<String>,
    /// The radius, km, when the rule is `radius`.
    pub radius_km: Option<f64>,
    /// False when the caller has sent no profile: it then has no area.
    pub profile_known: bool,
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

#[derive(Debug, clickhouse::Row, Deserialize)]
struct OwnProfile {
    region: String,
    latitude: f64,
    longitude: f64,
    profiles: u64,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct StatsRow {
    m: u8,
    area_q: Vec<f64>,
    area_n: u64,
    area_below: u64,
    area_equal: u64,
    world_q: Vec<f64>,
    world_n: u64,
    world_below: u64,
    world_equal: u64,
}

/// The latest profile of every yard, one row each (`has_profile` = 1).
const PROFILES: &str = "SELECT feedlot_id, argMax(region, captured_at_ms) AS region, \
    argMax(latitude, captured_at_ms) AS latitude, argMax(longitude, captured_at_ms) AS longitude, \
    toUInt8(1) AS has_profile FROM yard_profiles FINAL GROUP BY feedlot_id";

fn literal(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:?}"),
        _ => "nan".into(),
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

/// `feedlot_id`'s benchmarks: its KPIs and the area and world bands, each measure compared
/// over the yards that have a value for it (cost of gain: in the caller's currency only).
/// Quantiles are ClickHouse's `quantilesExact`: the value at sorted position ⌊q·n⌋ (0-based,
/// at most n−1) of the n contributing values, no interpolation.
pub async fn benchmarks(
    client: &clickhouse::Client,
    feedlot_id: &str,
    rule: AreaRule,
) -> Result<Benchmarks, clickhouse::error::Error> {
    let own = own_kpis(client, feedlot_id).await?;
    let profile = client
        .query(
            "SELECT argMax(region, captured_at_ms), argMax(latitude, captured_at_ms), \
             argMax(longitude, captured_at_ms), count() FROM yard_profiles FINAL WHERE feedlot_id = ?",
        )
        .bind(feedlot_id)
        .fetch_one::<OwnProfile>()
        .await?;
    let known = profile.profiles > 0;
    let area_sql = match (known, rule) {
        (false, _) => "0",
        (true, AreaRule::Region) => "has_profile = 1 AND region = ?",
        (true, AreaRule::RadiusKm(_)) => {
            "has_profile = 1 AND greatCircleDistance(toFloat64(?), toFloat64(?), longitude, latitude) <= toFloat64(?)"
        }
    };
    let owns: Vec<String> = (0..MEASURES.len())
        .map(|i| literal(own.as_ref().and_then(|k| value(k, i))))
        .collect();
    let columns: Vec<&str> = MEASURES.iter().map(|m| m.key).collect();
    let levels: Vec<String> = LEVELS.iter().map(|l| l.to_string()).collect();
    let q = format!("quantilesExactIf({})", levels.join(", "));
    let sql = format!(
        "SELECT m, \
           {q}(x, ok AND in_area) AS area_q, countIf(ok AND in_area) AS area_n, \
           countIf(ok AND in_area AND x < own) AS area_below, \
           countIf(ok AND in_area AND x = own) AS area_equal, \
           {q}(x, ok) AS world_q, countIf(ok) AS world_n, \
           countIf(ok AND x < own) AS world_below, countIf(ok AND x = own) AS world_equal \
         FROM (SELECT arrayJoin([1, 2, 3, 4, 5]) AS m, arrayElement([{cols}], m) AS v, \
                 assumeNotNull(v) AS x, \
                 arrayElement([{owns}], m) AS own, \
                 isNotNull(v) AND (m != {cog} OR currency = ?) AS ok, \
                 ({area_sql}) AS in_area \
               FROM yard_kpis FINAL ANY LEFT JOIN ({PROFILES}) USING feedlot_id) \
         GROUP BY m ORDER BY m",
        cols = columns.join(", "),
        owns = owns.join(", "),
        cog = COG + 1,
    );
    let currency = own.as_ref().map(|k| k.currency.clone()).unwrap_or_default();
    let mut query = client.query(&sql).bind(&currency);
    match (known, rule) {
        (false, _) => {}
        (true, AreaRule::Region) => query = query.bind(&profile.region),
        (true, AreaRule::RadiusKm(km)) => {
            query = query
                .bind(profile.longitude)
                .bind(profile.latitude)
                .bind(km * 1000.0);
        }
    }
    let rows = query.fetch_all::<StatsRow>().await?;
    let measures = MEASURES
        .iter()
        .enumerate()
        .map(|(i, measure)| {
            let own_value = own.as_ref().and_then(|k| value(k, i));
            let row = rows.iter().find(|r| usize::from(r.m) == i + 1);
            let area = match row {
                Some(r) => Band::new(&r.area_q, r.area_n, r.area_below, r.area_equal, own_value),
                None => Band::new(&[], 0, 0, 0, own_value),
            };
            let world = match row {
                Some(r) => Band::new(
                    &r.world_q,
                    r.world_n,
                    r.world_below,
                    r.world_equal,
                    own_value,
                ),
                None => Band::new(&[], 0, 0, 0, own_value),
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
                AreaRule::RadiusKm(_) => "radius",
            },
            region: known.then(|| profile.region.clone()),
            radius_km: match rule {
                AreaRule::RadiusKm(km) => Some(km),
                AreaRule::Region => None,
            },
            profile_known: known,
        },
        measures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_of_fewer_than_five_yards_has_no_numbers() {
        let q = [1.0, 2.0, 3.0, 4.0, 5.0];
        let hidden = Band::new(&q, 4, 1, 1, Some(2.0));
        assert!(hidden.hidden && hidden.p50.is_none() && hidden.own_percentile.is_none());
        let json = serde_json::to_string(&hidden).unwrap();
        assert_eq!(json, r#"{"yards":4,"hidden":true}"#);
        let shown = Band::new(&q, 5, 1, 1, Some(2.0));
        assert_eq!((shown.p10, shown.p90), (Some(1.0), Some(5.0)));
        assert_eq!(shown.own_percentile, Some(30.0));
        assert_eq!(Band::new(&q, 5, 1, 1, None).own_percentile, None);
    }

    #[test]
    fn an_own_value_is_inlined_as_a_float_literal_or_nan() {
        assert_eq!(literal(Some(1.0)), "1.0");
        assert_eq!(literal(Some(1.25e-7)), "1.25e-7");
        assert_eq!(literal(None), "nan");
        assert_eq!(literal(Some(f64::INFINITY)), "nan");
    }
}
