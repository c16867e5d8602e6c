//! Twelve yards' KPI rows and profiles with known values, shared by the benchmark tests. The
//! quantiles the tests expect are worked out by hand from this table.
#![allow(clippy::unwrap_used, dead_code)] // Test support: a failed unwrap is a failed test.

use chrono::{TimeZone, Utc};
use dashboards::benchmarks::YardKpis;
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

/// Stores `envelopes` through ingest's own row types and insert.
pub async fn store(db: &testkit::ClickHouseDb, envelopes: &[Envelope]) {
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

/// A test yard: (id, region, latitude, longitude, ADG, COG, currency).
pub type Yard = (
    &'static str,
    Option<&'static str>,
    f64,
    f64,
    Option<f64>,
    f64,
    &'static str,
);

/// The yards: (id, region, latitude, longitude, ADG, COG, currency). `None` region = no profile sent.
/// NE yards lie within ~40 km of ne-1 (42.00 N, 100.00 W); ks-1 and ks-2 ~200 km south of it,
/// ks-3 and ks-4 ~600 km south-east.
pub const YARDS: [Yard; 12] = [
    (
        "ne-1",
        Some("US-NE"),
        42.00,
        -100.00,
        Some(1.50),
        100.0,
        "USD",
    ),
    (
        "ne-2",
        Some("US-NE"),
        42.20,
        -100.10,
        Some(1.90),
        120.0,
        "USD",
    ),
    (
        "ne-3",
        Some("US-NE"),
        41.90,
        -100.30,
        Some(1.30),
        90.0,
        "USD",
    ),
    (
        "ne-4",
        Some("US-NE"),
        42.10,
        -99.80,
        Some(2.20),
        130.0,
        "USD",
    ),
    (
        "ne-5",
        Some("US-NE"),
        41.80,
        -99.90,
        Some(1.70),
        110.0,
        "USD",
    ),
    (
        "ne-6",
        Some("US-NE"),
        42.30,
        -100.20,
        Some(1.10),
        150.0,
        "AUD",
    ),
    (
        "ks-1",
        Some("US-KS"),
        40.20,
        -100.00,
        Some(2.00),
        105.0,
        "USD",
    ),
    (
        "ks-2",
        Some("US-KS"),
        40.30,
        -100.20,
        Some(1.40),
        95.0,
        "USD",
    ),
    (
        "ks-3",
        Some("US-KS"),
        37.00,
        -95.00,
        Some(1.60),
        140.0,
        "USD",
    ),
    (
        "ks-4",
        Some("US-KS"),
        37.20,
        -95.30,
        Some(2.10),
        125.0,
        "USD",
    ),
    ("x-1", None, 0.0, 0.0, Some(1.20), 160.0, "AUD"),
    ("x-2", None, 0.0, 0.0, None, 115.0, "USD"),
];

/// A yard's display name; must never reach another yard.
pub fn name(id: &str) -> String {
    format!("Secret Feeders {id}")
}

/// Stores [`YARDS`]: a KPI row each and, where they have one, a profile. ks-2 first reported
/// itself in US-NE, then moved to US-KS (the later profile must win).
pub async fn store_yards(db: &testkit::ClickHouseDb, client: &clickhouse::Client) {
    let rows: Vec<YardKpis> = YARDS
        .iter()
        .enumerate()
        .map(|(i, (id, _, _, _, adg, cog, currency))| YardKpis {
            feedlot_id: id.to_string(),
            as_of_ms: 1_790_000_000_000,
            lots_closed: 3,
            head_in: 300,
            head_dead: 3,
            head_shipped: 297,
            adg_kg: *adg,
            feed_to_gain_dm: Some(5.0 + i as f64 * 0.1),
            cost_of_gain_per_kg_minor: Some(*cog),
            currency: currency.to_string(),
            death_loss_pct: Some(1.0),
            days_on_feed: Some(150.0 + i as f64),
            computed_at_ms: 1_790_000_000_000,
        })
        .collect();
    dashboards::benchmarks::rollup::insert(client, &rows)
        .await
        .unwrap();
    let profile = |id: &str, region: &str, lat: f64, lon: f64, day: u32| {
        Envelope::new(
            id,
            "gw",
            "config",
            Utc.with_ymd_and_hms(2026, 9, day, 0, 0, 0).unwrap(),
            Event::YardProfile(YardProfile {
                name: name(id),
                region: region.into(),
                country: "US".into(),
                latitude: lat,
                longitude: lon,
                capacity_head: Some(10_000),
            }),
        )
    };
    let mut profiles: Vec<Envelope> = YARDS
        .iter()
        .filter_map(|(id, region, lat, lon, ..)| region.map(|r| profile(id, r, *lat, *lon, 2)))
        .collect();
    profiles.push(profile("ks-2", "US-NE", 42.0, -100.0, 1));
    store(db, &profiles).await;
}
