//! How fast the benchmark bands answer over 100,000 yards (issue 12's size): `yard_kpis` (one
//! row per yard, as the rollup leaves it) and the registry `yard_registry` filled with generated
//! yards in 40 regions on three continents (realistic spreads: ADG, F:G, COG in three
//! currencies, death loss, DOF; some yards without closed lots or not registered), stored with
//! the crates' own row types.
//!
//! Timed `runs` times for one yard (the first registered one with closed lots from
//! `yard-00042` on), interleaved with a baseline measured in the same run (`SELECT count()
//! FROM yard_kpis FINAL`, the least any bands query pays): the bands query in process (region
//! and the 250 km tier) and the API and page over HTTP to the yard's user. Target: under 1 s
//! (the bench fails if a median is over it).
//!
//! ```text
//! cargo bench -p dashboards --bench bands              # 100,000 yards, 20 runs
//! cargo bench -p dashboards --bench bands -- --quick   # 1,000 yards, 5 runs (CI)
//! ```
//!
//! Env: `BANDS_YARDS`, `BANDS_RUNS`, `BANDS_SEED`, `BANDS_KEEP_DB=1`, `CLICKHOUSE_URL`.

#[path = "support/timing.rs"]
mod timing;

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use dashboards::benchmarks::{AreaRule, RegistryEntry, YardKpis, benchmarks};
use dashboards::config::{WebConfig, WebUserConfig};
use dashboards::web::{AppState, Auth, auth};
use ingest::config::ClickHouseConfig;
use timing::{Sample, table};

/// The bench's settings.
struct Options {
    yards: u32,
    runs: usize,
    seed: u64,
    keep_db: bool,
}

impl Options {
    fn from_env() -> anyhow::Result<Self> {
        let quick = std::env::args().any(|a| a == "--quick");
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(v) => v.parse().with_context(|| format!("{name}={v:?}")),
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            yards: u32::try_from(number("BANDS_YARDS", if quick { 1_000 } else { 100_000 })?)?,
            runs: usize::try_from(number("BANDS_RUNS", if quick { 5 } else { 20 })?)?,
            seed: number("BANDS_SEED", 2026)?,
            keep_db: std::env::var("BANDS_KEEP_DB").is_ok_and(|v| v == "1"),
        })
    }
}

/// SplitMix64: the same seed gives the same yards everywhere.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of four uniforms), mean `mean`, standard deviation `sd`.
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        mean + (s - 2.0) * sd * 3f64.sqrt()
    }
}

/// Region centres: (region, country, currency, latitude, longitude).
const REGIONS: [(&str, &str, &str, f64, f64); 8] = [
    ("US-NE", "US", "USD", 41.5, -99.5),
    ("US-KS", "US", "USD", 38.5, -98.5),
    ("US-TX", "US", "USD", 34.5, -101.5),
    ("US-CO", "US", "USD", 40.3, -104.0),
    ("AU-QLD", "AU", "AUD", -27.0, 151.0),
    ("AU-NSW", "AU", "AUD", -31.0, 148.0),
    ("BR-MT", "BR", "BRL", -13.0, -56.0),
    ("BR-GO", "BR", "BRL", -16.5, -49.5),
];

/// A yard's KPI row and registry entry (None for ~5 % not registered).
fn yard(i: u32, rng: &mut Rng, now_ms: u64) -> (YardKpis, Option<RegistryEntry>) {
    let id = format!("yard-{i:05}");
    // 40 regions: the 8 centres, each split in 5 sub-regions ~150 km apart.
    let r = (i as usize) % 40;
    let (region, _country, currency, lat, lon) = REGIONS[r / 5];
    let sub = (r % 5) as f64;
    let lat = lat + (sub - 2.0) * 1.3 + rng.normal(0.0, 0.4);
    let lon = lon + rng.normal(0.0, 0.6);
    let closed = rng.unit() > 0.03;
    let some = |v: f64| closed.then_some(v);
    let kpis = YardKpis {
        feedlot_id: id.clone(),
        as_of_ms: now_ms,
        lots_closed: if closed {
            1 + (rng.unit() * 60.0) as u32
        } else {
            0
        },
        head_in: if closed {
            200 + (rng.unit() * 40_000.0) as u64
        } else {
            0
        },
        head_dead: 0,
        head_shipped: 0,
        adg_kg: some(rng.normal(1.6, 0.18).max(0.6)),
        feed_to_gain_dm: some(rng.normal(6.1, 0.55).max(4.0)),
        cost_of_gain_per_kg_minor: some(rng.normal(230.0, 30.0).max(80.0)),
        currency: if closed {
            currency.into()
        } else {
            String::new()
        },
        death_loss_pct: some((rng.normal(0.0, 1.0).abs() * 1.2 + 0.4).min(8.0)),
        days_on_feed: some(rng.normal(165.0, 25.0).max(60.0)),
        computed_at_ms: now_ms,
    };
    let entry = (rng.unit() > 0.05).then(|| RegistryEntry {
        feedlot_id: id.clone(),
        region: format!("{region}-{}", r % 5),
        latitude_deg: lat.clamp(-89.0, 89.0),
        longitude_deg: lon.clamp(-179.0, 179.0),
        peer: 1,
        set_by: "bench".into(),
        set_at_ms: now_ms,
    });
    (kpis, entry)
}

/// GETs `url` as the user; its body, when the status is 200.
async fn get(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<String> {
    let response = http.get(url).bearer_auth(token).send().await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("{url}: {status}: {body}");
    }
    Ok(body)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = Options::from_env()?;
    let mut rng = Rng(opts.seed);
    let now_ms = 1_790_000_000_000;
    let (rows, entries): (Vec<YardKpis>, Vec<Option<RegistryEntry>>) =
        (0..opts.yards).map(|i| yard(i, &mut rng, now_ms)).unzip();
    // The bands' yard: the first registered yard with closed lots from yard-00042 on.
    let me = rows
        .iter()
        .zip(&entries)
        .skip(42)
        .find(|(r, e)| r.adg_kg.is_some() && e.is_some())
        .map(|(r, _)| r.feedlot_id.clone())
        .context("no registered yard with closed lots")?;
    let me = me.as_str();
    let peers_with_adg = rows
        .iter()
        .zip(&entries)
        .filter(|(r, e)| r.adg_kg.is_some() && e.is_some() && r.feedlot_id != me)
        .count() as u64;
    let entries: Vec<RegistryEntry> = entries.into_iter().flatten().collect();

    let db = testkit::ClickHouseDb::create("bench_bands").await?;
    let config = ClickHouseConfig {
        url: db.url.clone(),
        database: db.database.clone(),
        ..ClickHouseConfig::default()
    };
    let server = ingest::sink::client(&config);
    ingest::schema::migrate(&server, &db.database).await?;
    let client = server.clone().with_database(&db.database);
    let started = Instant::now();
    dashboards::benchmarks::rollup::insert(&client, &rows).await?;
    dashboards::benchmarks::registry::set(&client, &entries).await?;
    for t in ["yard_kpis", "yard_registry"] {
        client
            .query(&format!("OPTIMIZE TABLE {t} FINAL"))
            .execute()
            .await?;
    }
    println!(
        "{} yards ({} registered, seed {}) stored in {} in {:.1} s",
        rows.len(),
        entries.len(),
        opts.seed,
        db.database,
        started.elapsed().as_secs_f64()
    );

    let token = "bench-token-0123456789abcdef";
    let mut web = WebConfig::default();
    web.users.push(WebUserConfig {
        name: "bench".into(),
        token_sha256: auth::hash_token(token),
        feedlots: vec![me.to_owned()],
    });
    let state = AppState::new(client.clone()).with_auth(Auth::from_config(&web)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, dashboards::web::app(state)).await });
    let http = reqwest::Client::new();

    // The answer is real: every other registered yard with an ADG is in the world band.
    let b = benchmarks(&client, me, AreaRule::Region).await?;
    ensure!(
        b.measures[0].world.yards == Some(peers_with_adg),
        "world ADG over {:?} yards",
        b.measures[0].world.yards
    );
    ensure!(!b.measures[0].area.hidden, "{me}'s area is shown");
    println!(
        "{me}: area {:?} other yards, world {:?} (ADG)",
        b.measures[0].area.yards, b.measures[0].world.yards
    );

    let urls = [
        (
            "GET /api/…/benchmarks (region)",
            format!("{base}/api/feedlots/{me}/benchmarks"),
        ),
        (
            "GET /api/…/benchmarks?radius_km=250",
            format!("{base}/api/feedlots/{me}/benchmarks?radius_km=250"),
        ),
        (
            "GET /feedlots/…/benchmarks (page)",
            format!("{base}/feedlots/{me}/benchmarks"),
        ),
    ];
    let mut baseline = Sample::new("baseline: SELECT count() FROM yard_kpis FINAL");
    let mut region = Sample::new("in-process: bands, region");
    let mut radius = Sample::new("in-process: bands, 250 km");
    let mut http_samples: Vec<Sample> = urls.iter().map(|(n, _)| Sample::new(*n)).collect();
    let warmup = 2;
    for run in 0..warmup + opts.runs {
        let keep = run >= warmup;
        let mut parts = [Sample::new(""), Sample::new(""), Sample::new("")];
        let n = parts[0]
            .time(
                client
                    .query("SELECT count() FROM yard_kpis FINAL")
                    .fetch_one::<u64>(),
            )
            .await?;
        ensure!(n == u64::from(opts.yards), "baseline counted {n}");
        parts[1]
            .time(benchmarks(&client, me, AreaRule::Region))
            .await?;
        parts[2]
            .time(benchmarks(&client, me, AreaRule::Within250Km))
            .await?;
        let mut h: Vec<Sample> = urls.iter().map(|_| Sample::new("")).collect();
        for (s, (_, url)) in h.iter_mut().zip(&urls) {
            s.time(get(&http, url, token)).await?;
        }
        if keep {
            baseline.runs.extend(&parts[0].runs);
            region.runs.extend(&parts[1].runs);
            radius.runs.extend(&parts[2].runs);
            for (all, one) in http_samples.iter_mut().zip(&h) {
                all.runs.extend(&one.runs);
            }
        }
    }
    let version = client
        .query("SELECT version()")
        .fetch_one::<String>()
        .await?;
    println!(
        "\nmachine: {} CPUs; ClickHouse {version}; {} yards; {} runs after {warmup} warm-up\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        opts.yards,
        opts.runs
    );
    let mut samples = vec![region, radius];
    samples.extend(http_samples);
    print!("{}", table(&baseline, &samples));
    if !opts.keep_db {
        server
            .query(&format!("DROP DATABASE {}", db.database))
            .execute()
            .await?;
    }
    let worst = samples.iter().map(Sample::median_ms).fold(0.0, f64::max);
    ensure!(
        worst < 1000.0,
        "slowest median {worst:.0} ms is over the 1 s target"
    );
    Ok(())
}
