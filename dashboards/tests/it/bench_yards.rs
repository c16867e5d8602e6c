//! Yards with known KPIs and registry entries, shared by the benchmark tests. The quantiles
//! the tests expect are worked out by hand from [`yards`].
#![allow(clippy::unwrap_used, dead_code)] // Test support: a failed unwrap is a failed test.

use chrono::{TimeZone, Utc};
use dashboards::benchmarks::{RegistryEntry, YardKpis};
use schemas::{Envelope, Event, YardProfile};

/// A database with the schema, and a client bound to it.
pub async fn database(test: &str) -> (testkit::ClickHouseDb, clickhouse::Client) {
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    let bound = client.with_database(&db.database);
    (db, bound)
}

/// Stores `envelopes` through ingest's own row types and insert (which notes each yard's change
/// in `fact_changes` for the facts worker).
pub async fn insert(db: &testkit::ClickHouseDb, envelopes: &[Envelope]) {
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    let mut rows = ingest::sink::Rows::default();
    for e in envelopes {
        rows.push(e);
    }
    ingest::sink::insert_rows(&client, &db.database, &rows)
        .await
        .unwrap();
}

/// [`insert`]s `envelopes`, then makes their yards' facts (what the facts worker of a running
/// `dashboards serve` would do next).
pub async fn store(db: &testkit::ClickHouseDb, envelopes: &[Envelope]) {
    insert(db, envelopes).await;
    let mut yards: Vec<String> = envelopes.iter().map(|e| e.feedlot_id.clone()).collect();
    yards.sort();
    yards.dedup();
    dashboards::facts::worker::rebuild(&db.client(), &yards)
        .await
        .unwrap();
}

/// A test yard.
#[derive(Debug, Clone)]
pub struct Yard {
    /// Its id.
    pub id: String,
    /// Its registry entry: (region, latitude, longitude); None = not registered.
    pub registry: Option<(&'static str, f64, f64)>,
    /// ADG, kg/day.
    pub adg_kg: f64,
    /// Cost of gain, USD minor units per kg.
    pub cog: f64,
}

/// The caller of most tests: US-NE at 42.00 N, 100.00 W.
pub const ME: &str = "ne-00";
/// 200 km south of [`ME`], registered in US-KS: the one yard the 250 km tier adds to
/// [`ME`]'s region (the differencing attack's target).
pub const TARGET: &str = "target";
/// Sends a gateway profile placing it next to [`ME`] in US-NE, but is not in the registry.
pub const SPOOF: &str = "spoof";
/// Registered next to [`ME`] in US-NE, then taken out of the benchmarks.
pub const REMOVED: &str = "removed";

fn yard(id: String, registry: Option<(&'static str, f64, f64)>, adg_kg: f64, cog: f64) -> Yard {
    Yard {
        id,
        registry,
        adg_kg,
        cog,
    }
}

/// The yards:
/// - [`ME`] (ADG 1.50, COG 100) and ne-01..ne-10 in US-NE within ~35 km of it, ADG 1.00,
///   1.10, …, 1.90 and COG 91, 92, …, 100;
/// - [`TARGET`], US-KS, 200 km south (ADG 2.50, COG 150);
/// - ks-01..ks-09, US-KS, ~700 km south-east (ADG 1.07, 1.17, …, COG 121..129);
/// - tx-01..tx-05, US-TX, ~1,100 km south (ADG 1.12, 1.22, …, COG 111..115);
/// - [`SPOOF`] and [`REMOVED`] (ADG 9.99 and 8.88), peers of nobody.
///
/// So [`ME`]'s region and 100 km tier are the same 10 yards; the 250 and 500 km tiers add
/// [`TARGET`] alone; the world has 25 other peers. ks-01's region has 9 others.
pub fn yards() -> Vec<Yard> {
    let mut out = vec![yard(ME.into(), Some(("US-NE", 42.0, -100.0)), 1.5, 100.0)];
    for i in 1..=10 {
        let (lat, lon) = (
            41.85 + f64::from(i % 4) * 0.1,
            -100.2 + f64::from(i / 4) * 0.15,
        );
        out.push(yard(
            format!("ne-{i:02}"),
            Some(("US-NE", lat, lon)),
            1.0 + f64::from(i - 1) * 0.1,
            90.0 + f64::from(i),
        ));
    }
    out.push(yard(
        TARGET.into(),
        Some(("US-KS", 40.2, -100.0)),
        2.5,
        150.0,
    ));
    for i in 1..=9 {
        let (lat, lon) = (
            37.0 + f64::from(i % 3) * 0.2,
            -95.0 - f64::from(i / 3) * 0.2,
        );
        out.push(yard(
            format!("ks-{i:02}"),
            Some(("US-KS", lat, lon)),
            0.97 + f64::from(i) * 0.1,
            120.0 + f64::from(i),
        ));
    }
    for i in 1..=5 {
        out.push(yard(
            format!("tx-{i:02}"),
            Some(("US-TX", 32.0, -100.0 + f64::from(i) * 0.1)),
            1.02 + f64::from(i) * 0.1,
            110.0 + f64::from(i),
        ));
    }
    out.push(yard(SPOOF.into(), None, 9.99, 999.0));
    out.push(yard(
        REMOVED.into(),
        Some(("US-NE", 42.01, -100.01)),
        8.88,
        888.0,
    ));
    out
}

/// A yard's display name; must never reach another yard.
pub fn name(id: &str) -> String {
    format!("Secret Feeders {id}")
}

/// A KPI row for `id` with `adg_kg`, computed at `computed_at_ms`; the other measures vary
/// with `i` so every yard has every measure.
pub fn kpis(id: &str, i: usize, adg_kg: f64, cog: f64, computed_at_ms: u64) -> YardKpis {
    YardKpis {
        feedlot_id: id.to_string(),
        as_of_ms: 1_790_000_000_000,
        lots_closed: 3,
        head_in: 300,
        head_dead: 3,
        head_shipped: 297,
        adg_kg: Some(adg_kg),
        feed_to_gain_dm: Some(5.0 + i as f64 * 0.1),
        cost_of_gain_per_kg_minor: Some(cog),
        currency: "USD".into(),
        death_loss_pct: Some(1.0 + i as f64 * 0.05),
        days_on_feed: Some(150.0 + i as f64),
        computed_at_ms,
    }
}

/// Stores [`yards`]: a KPI row each, the registry entries, a gateway profile for every yard
/// (each claiming US-NE next to [`ME`]: the bands must ignore them), and [`REMOVED`]'s later
/// removal.
pub async fn store_yards(db: &testkit::ClickHouseDb, client: &clickhouse::Client) {
    let all = yards();
    let rows: Vec<YardKpis> = all
        .iter()
        .enumerate()
        .map(|(i, y)| kpis(&y.id, i, y.adg_kg, y.cog, 1_790_000_000_000))
        .collect();
    dashboards::benchmarks::rollup::insert(client, &rows)
        .await
        .unwrap();
    let mut entries: Vec<RegistryEntry> = all
        .iter()
        .filter_map(|y| {
            y.registry.map(|(region, lat, lon)| RegistryEntry {
                feedlot_id: y.id.clone(),
                region: region.into(),
                latitude_deg: lat,
                longitude_deg: lon,
                peer: 1,
                set_by: "test".into(),
                set_at_ms: 1,
            })
        })
        .collect();
    entries.push(RegistryEntry {
        feedlot_id: REMOVED.into(),
        region: String::new(),
        latitude_deg: 0.0,
        longitude_deg: 0.0,
        peer: 0,
        set_by: "test".into(),
        set_at_ms: 2,
    });
    dashboards::benchmarks::registry::set(client, &entries)
        .await
        .unwrap();
    let profiles: Vec<Envelope> = all
        .iter()
        .map(|y| {
            Envelope::new(
                &y.id,
                "gw",
                "config",
                Utc.with_ymd_and_hms(2026, 9, 2, 0, 0, 0).unwrap(),
                Event::YardProfile(YardProfile {
                    name: name(&y.id),
                    region: "US-NE".into(),
                    country: "US".into(),
                    latitude: 42.0,
                    longitude: -100.0,
                    capacity_head: Some(10_000),
                }),
            )
        })
        .collect();
    store(db, &profiles).await;
}
