//! How fast the yard's dashboards answer on a big yard: by default 50,000 head and a year of
//! daily feeding (see `support/big_yard`), stored straight into a fresh ClickHouse database
//! with ingest's own rows and `insert_rows`, served by the dashboards' router on a real socket to a
//! user with a bearer token.
//!
//! Each dashboard's API (and one lot's page) is timed `runs` times, interleaved with a
//! baseline measured in the same run: the one query every dashboard pays at least, counting
//! and summing the yard's deliveries through `FINAL`. The report-backed dashboards are timed
//! twice: at an `as_of` no request asked for yet (the report is loaded and replayed) and at
//! one asked for before (served from the 30 s report cache, `dashboards::web` report.rs). Every
//! dashboard is also timed without `as_of` (the default view, "now") on a yard in use: the
//! background warmer (`dashboards::web::warm`, as `dashboards serve` starts it) remakes its report as
//! each 30 s window starts and reloads its herd summary, so no request waits for either.
//! Reported: median and p95 and the median's ratio to the baseline's, plus where a report's
//! time goes (load, replay, the herd summary behind the animals and lot pages).
//!
//! ```text
//! cargo bench -p dashboards --bench dashboards              # 50,000 head, 365 days, 20 runs
//! cargo bench -p dashboards --bench dashboards -- --quick   # 2,000 head, 120 days, 5 runs (CI)
//! ```
//!
//! Env: `DASHBOARDS_QUICK=1` (same as `--quick`), `DASHBOARDS_RUNS`, `DASHBOARDS_SEED`,
//! `DASHBOARDS_KEEP_DB=1` (keep the database), `CLICKHOUSE_URL`.

mod support;

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use dashboards::analytics::Settings;
use dashboards::config::{WebConfig, WebUserConfig};
use dashboards::web::{AppState, Auth, auth};
use ingest::config::ClickHouseConfig;
use ingest::sink::Rows;
use support::big_yard::{self, BigYard, Size};
use support::timing::{Sample, table};
use tokio_util::sync::CancellationToken;

/// The tables the yard's records land in.
const TABLES: [&str; 14] = [
    "weighings",
    "tag_reads",
    "feed_loads",
    "feed_deliveries",
    "treatments",
    "arrivals",
    "pen_moves",
    "deaths",
    "shipments",
    "feed_purchases",
    "rations",
    "yardage_rates",
    "placements",
    "yard_profiles",
];

/// The bench's settings, from the command line and env.
struct Options {
    size: Size,
    runs: usize,
    seed: u64,
    keep_db: bool,
}

impl Options {
    fn from_env() -> anyhow::Result<Self> {
        let quick = std::env::args().any(|a| a == "--quick")
            || std::env::var("DASHBOARDS_QUICK").is_ok_and(|v| v == "1");
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .with_context(|| format!("{name}={v:?}: not a number")),
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            size: if quick { Size::quick() } else { Size::full() },
            runs: usize::try_from(number("DASHBOARDS_RUNS", if quick { 5 } else { 20 })?)?,
            seed: number("DASHBOARDS_SEED", 2026)?,
            keep_db: std::env::var("DASHBOARDS_KEEP_DB").is_ok_and(|v| v == "1"),
        })
    }
}

/// Stores every event of `yard` in `database`, 50,000 events an insert, then merges each
/// table (`OPTIMIZE .. FINAL`): the state of a yard whose background merges have caught up.
async fn store(client: &clickhouse::Client, database: &str, yard: &BigYard) -> anyhow::Result<()> {
    for chunk in yard.events.chunks(50_000) {
        let mut rows = Rows::default();
        for envelope in chunk {
            rows.push(envelope);
        }
        ingest::sink::insert_rows(client, database, &rows).await?;
    }
    for table in TABLES {
        client
            .query(&format!("OPTIMIZE TABLE {database}.{table} FINAL"))
            .execute()
            .await?;
    }
    Ok(())
}

/// Serves the dashboards' router on a free loopback port to one user of `feedlot_id`, with the
/// dashboard warmer running beside it; returns the base URL.
async fn serve(
    client: clickhouse::Client,
    feedlot_id: &str,
    token: &str,
) -> anyhow::Result<String> {
    let mut web = WebConfig::default();
    web.users.push(WebUserConfig {
        name: "bench".into(),
        token_sha256: auth::hash_token(token),
        feedlots: vec![feedlot_id.to_owned()],
    });
    let state = AppState::new(client).with_auth(Auth::from_config(&web)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let warmer = dashboards::web::warm::run(state.clone(), CancellationToken::new());
    tokio::spawn(warmer);
    tokio::spawn(async move { axum::serve(listener, dashboards::web::app(state)).await });
    Ok(base)
}

/// GETs `url` as the user and reads the whole body; its size, bytes, when the status is 200.
async fn get(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<usize> {
    let response = http.get(url).bearer_auth(token).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body.len())
}

/// The dashboards agree with what was generated: every lot, head in, deaths, shipments, and
/// every kg delivered.
async fn check(
    http: &reqwest::Client,
    base: &str,
    f: &str,
    as_of: &str,
    token: &str,
    yard: &BigYard,
) -> anyhow::Result<()> {
    let t = &yard.totals;
    let lots: Vec<serde_json::Value> = http
        .get(format!("{base}/api/feedlots/{f}/lots?as_of={as_of}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let sum = |key: &str| lots.iter().filter_map(|l| l[key].as_u64()).sum::<u64>();
    ensure!(lots.len() == t.lots, "lots: {} of {}", lots.len(), t.lots);
    ensure!(
        sum("head_in") == t.head_in,
        "head in: {} of {}",
        sum("head_in"),
        t.head_in
    );
    ensure!(
        sum("head_dead") == t.dead,
        "dead: {} of {}",
        sum("head_dead"),
        t.dead
    );
    ensure!(
        sum("head_shipped") == t.shipped,
        "shipped: {} of {}",
        sum("head_shipped"),
        t.shipped
    );
    let closed = lots.iter().filter(|l| l["status"] == "closed").count();
    ensure!(
        closed == t.closed_lots,
        "closed lots: {closed} of {}",
        t.closed_lots
    );
    let pens: Vec<serde_json::Value> = http
        .get(format!("{base}/api/feedlots/{f}/pens?as_of={as_of}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let fed: f64 = pens.iter().filter_map(|p| p["as_fed_kg"].as_f64()).sum();
    ensure!(
        (fed - t.delivered_kg).abs() <= 1e-6 * t.delivered_kg,
        "fed {fed} kg of {} kg delivered",
        t.delivered_kg
    );
    Ok(())
}

async fn clickhouse_version(client: &clickhouse::Client) -> String {
    client
        .query("SELECT version()")
        .fetch_one::<String>()
        .await
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ram_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpus} CPUs, {ram_gib:.0} GiB RAM")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = Options::from_env()?;
    let feedlot = "bench-yard";
    let started = Instant::now();
    let yard = big_yard::generate(feedlot, opts.size, opts.seed);
    let t = &yard.totals;
    println!(
        "yard {} (seed {}) {} to {}: {} lots ({} closed), {} head in, {} dead, {} shipped, {} pulls, \
         {} deliveries ({:.0} t), {} weighings, {} events; generated in {:.1} s",
        yard.feedlot_id,
        opts.seed,
        yard.start.date_naive(),
        yard.end.date_naive(),
        t.lots,
        t.closed_lots,
        t.head_in,
        t.dead,
        t.shipped,
        t.pulls,
        t.deliveries,
        t.delivered_kg / 1e3,
        t.weighings,
        t.events,
        started.elapsed().as_secs_f64()
    );

    let db = testkit::ClickHouseDb::create("bench_dashboards").await?;
    let config = ClickHouseConfig {
        url: db.url.clone(),
        database: db.database.clone(),
        ..ClickHouseConfig::default()
    };
    let server = ingest::sink::client(&config);
    ingest::schema::migrate(&server, &db.database).await?;
    let started = Instant::now();
    store(&server, &db.database, &yard).await?;
    println!(
        "stored in {} in {:.1} s",
        db.database,
        started.elapsed().as_secs_f64()
    );
    let client = server.clone().with_database(&db.database);

    let token = "bench-token-0123456789abcdef";
    let base = serve(client.clone(), feedlot, token).await?;
    let http = reqwest::Client::new();
    let as_of = yard.end.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let as_of_ms = u64::try_from(yard.end.timestamp_millis())?;
    check(&http, &base, feedlot, &as_of, token, &yard).await?;

    let lot = &t.a_closed_lot;
    // (name, path and query before `as_of=`, served from the report cache when repeated)
    let targets = [
        (
            "GET /api/…/lots",
            format!("/api/feedlots/{feedlot}/lots?"),
            true,
        ),
        (
            "GET /api/…/pens",
            format!("/api/feedlots/{feedlot}/pens?"),
            true,
        ),
        (
            "GET /api/…/feed",
            format!("/api/feedlots/{feedlot}/feed?"),
            true,
        ),
        (
            "GET /api/…/animals",
            format!("/api/feedlots/{feedlot}/animals?"),
            false,
        ),
        (
            "GET /feedlots/…/animals (page 1)",
            format!("/feedlots/{feedlot}/animals?"),
            false,
        ),
        (
            "GET /feedlots/…/lots/{lot} (page)",
            format!("/feedlots/{feedlot}/lots/{lot}?"),
            true,
        ),
    ];
    let baseline_sql = "SELECT count(), sum(delivered_kg) FROM feed_deliveries FINAL \
                        WHERE feedlot_id = ? AND captured_at_ms <= ?";
    let mut baseline = Sample::new("baseline: count+sum deliveries FINAL");
    let mut cold: Vec<Sample> = targets
        .iter()
        .map(|(n, _, cached)| {
            Sample::new(if *cached {
                format!("{n}, new as_of")
            } else {
                (*n).to_owned()
            })
        })
        .collect();
    let mut warm: Vec<Sample> = targets
        .iter()
        .filter(|(_, _, cached)| *cached)
        .map(|(n, _, _)| Sample::new(format!("{n}, cached")))
        .collect();
    let mut in_use: Vec<Sample> = targets
        .iter()
        .map(|(n, _, _)| Sample::new(format!("{n}, no as_of, yard in use")))
        .collect();
    let mut load = Sample::new("in-process: load::yard_records");
    let mut replay = Sample::new("in-process: analytics::report (replay)");
    let mut herd = Sample::new("in-process: queries::herd_summary");
    let warmup = 2;
    let mut moment = 0i64;
    for run in 0..warmup + opts.runs {
        let keep = run >= warmup;
        let mut b = Sample::new("");
        let (count, _kg) = b
            .time(
                client
                    .query(baseline_sql)
                    .bind(feedlot)
                    .bind(as_of_ms)
                    .fetch_one::<(u64, f64)>(),
            )
            .await?;
        ensure!(
            count == t.deliveries,
            "baseline counted {count} deliveries of {}",
            t.deliveries
        );
        let mut parts = vec![b];
        for (_, path, _) in &targets {
            // A moment no request asked for yet (seconds before the end: the same records), so
            // the report is loaded and replayed again.
            moment += 1;
            let fresh = (yard.end - chrono::Duration::seconds(moment)).format("%Y-%m-%dT%H:%M:%SZ");
            let mut s = Sample::new("");
            s.time(get(&http, &format!("{base}{path}as_of={fresh}"), token))
                .await?;
            parts.push(s);
        }
        let mut cached = Vec::new();
        for (_, path, _) in targets.iter().filter(|(_, _, c)| *c) {
            let mut s = Sample::new("");
            s.time(get(&http, &format!("{base}{path}as_of={as_of}"), token))
                .await?;
            cached.push(s);
        }
        let mut now = Vec::new();
        for (_, path, _) in &targets {
            let mut s = Sample::new("");
            s.time(get(&http, &format!("{base}{path}"), token)).await?;
            now.push(s);
        }
        let mut l = Sample::new("");
        let records = l
            .time(dashboards::analytics::load::yard_records(
                &client, feedlot, as_of_ms,
            ))
            .await?;
        let mut r = Sample::new("");
        r.time(async {
            dashboards::analytics::report(feedlot, &records, as_of_ms, &Settings::default())
        })
        .await;
        let mut h = Sample::new("");
        h.time(dashboards::queries::herd_summary(&client, feedlot))
            .await?;
        if keep {
            baseline.runs.append(&mut parts[0].runs);
            for (sample, part) in cold.iter_mut().zip(&parts[1..]) {
                sample.runs.extend(&part.runs);
            }
            for (sample, part) in warm.iter_mut().zip(&cached) {
                sample.runs.extend(&part.runs);
            }
            for (sample, part) in in_use.iter_mut().zip(&now) {
                sample.runs.extend(&part.runs);
            }
            load.runs.extend(l.runs);
            replay.runs.extend(r.runs);
            herd.runs.extend(h.runs);
        }
    }
    let mut samples = cold;
    samples.extend(warm);
    samples.extend(in_use);
    samples.extend([load, replay, herd]);

    println!();
    println!(
        "machine: {}; ClickHouse {}; {} head, {} days, {} deliveries; {} runs after {warmup} warm-up",
        machine(),
        clickhouse_version(&client).await,
        t.head_in,
        opts.size.days,
        t.deliveries,
        opts.runs
    );
    println!();
    print!("{}", table(&baseline, &samples));
    if !opts.keep_db {
        server
            .query(&format!("DROP DATABASE {}", db.database))
            .execute()
            .await?;
    }
    Ok(())
}
