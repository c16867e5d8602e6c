//! The demo yard: a few pens of cattle (the [`herd`](crate::herd) model) living in
//! accelerated time and driving a real local gateway.
//!
//! # Time
//!
//! The model starts [`HISTORY_DAYS`] before the demo's clock, so pens have lots at every stage
//! and some have shipped. The demo's clock ([`SimClock`]) starts `days_back` days ago and runs
//! `days_per_minute` simulated days per real minute until it reaches the present, then keeps
//! real time: the yard goes on living (feedings at 07:00 and 13:30 UTC, pulls, re-weighs).
//! Records reach the gateway as follows, each stamped with its simulated time:
//!
//! | records | before the clock | clock catching up | caught up (today) |
//! |---|---|---|---|
//! | manual (arrivals, placements, treatments, moves, deaths, shipments, purchases, rations, yardage) | outbox import | records API, `?occurred_at=` | records API |
//! | feed loads and deliveries | outbox import | the truck over MQTT, `recorded_at` | the truck over MQTT |
//! | chute tag reads and weighings | outbox import | outbox import | the simulated chute over virtual serial ports, in real time |
//!
//! The gateway stamps what its serial readers capture with its own clock, so a weighing from
//! a simulated past day cannot come through the chute: it is committed to the outbox as the
//! chute would have captured it then (deterministic ids, so a re-sent day is deduplicated).
//! When the clock catches up, today's chute runs `animals` head through the pseudo-terminal
//! chute in real time; later chute work (re-weighs) takes the same path.
//!
//! The demo saves its progress (`demo-state.json` beside the outbox), so a restart resumes
//! the same yard rather than re-sending days.
//!
//! # Services
//!
//! The pipeline (consumer and pages, in this process) needs a Kafka-protocol broker and
//! ClickHouse; when they do not answer the demo starts them with `scripts/services.sh` and
//! leaves them running ([`services`]). Peer yards ([`DEFAULT_PEER_YARDS`]) fill the benchmark
//! bands.

mod clock;
mod gateway;
mod services;
mod sinks;
mod state;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveTime, Utc};
use tokio_util::sync::CancellationToken;

pub use clock::SimClock;

use crate::cable::VirtualCable;
use crate::chute::{ChuteSetup, Pacing, run_chute};
use crate::devices::truck::TruckSetup;
use crate::herd::lots::Status;
use crate::herd::{Animal, Channel, SimEvent, YardConfig, YardSim};

/// Days the model runs before the demo's clock starts.
pub const HISTORY_DAYS: u32 = 330;

/// What the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Head through today's chute when the clock catches up.
    pub animals: usize,
    /// Seed for the yard.
    pub seed: u64,
    /// The broker the gateway forwards to.
    pub kafka_brokers: String,
    /// Where the gateway keeps its outbox (and the demo its progress).
    pub data_dir: PathBuf,
    /// The yard's id.
    pub feedlot_id: String,
    /// Fast chute pacing (a fraction of a second an animal) instead of real time.
    pub fast: bool,
    /// ClickHouse for the pipeline (HTTP URL).
    pub clickhouse_url: String,
    /// Where the pipeline serves its pages.
    pub web_listen: String,
    /// Stop once today's chute is done and the outbox drained, instead of living on.
    pub exit_when_done: bool,
    /// Peer yards to generate (straight into Kafka) for the benchmarks, when the pipeline runs.
    pub peer_yards: usize,
    /// Start the local services (`scripts/services.sh`) when they do not answer.
    pub start_services: bool,
    /// Where the gateway's embedded MQTT broker listens for the feed truck.
    pub mqtt_listen: String,
    /// Where the gateway's records API listens.
    pub records_listen: String,
    /// Simulated days per real minute while the clock catches up.
    pub days_per_minute: f64,
    /// How many days ago the demo's clock starts.
    pub days_back: u32,
    /// Home pens.
    pub pens: usize,
    /// Mean head per lot.
    pub head_per_lot: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            animals: 20,
            seed: 1,
            kafka_brokers: "127.0.0.1:9092".into(),
            data_dir: PathBuf::from(".data/demo-gateway"),
            feedlot_id: "demo-yard".into(),
            fast: false,
            clickhouse_url: "http://127.0.0.1:8123".into(),
            web_listen: "127.0.0.1:8080".into(),
            exit_when_done: false,
            peer_yards: DEFAULT_PEER_YARDS,
            start_services: true,
            mqtt_listen: "127.0.0.1:1883".into(),
            records_listen: "127.0.0.1:8090".into(),
            days_per_minute: 2.0,
            days_back: 14,
            pens: 4,
            head_per_lot: 25,
        }
    }
}

/// Peer yards by default: ten in each of the rings [`crate::loadgen::peer_position`] lays
/// around the demo yard (within 100 km, 100-250 km, 250-500 km), so the region, world and
/// every radius tier have at least ten other yards and differ from each other by ten or by
/// none: every band publishes (docs/benchmarks-bands.md, publication rule).
pub const DEFAULT_PEER_YARDS: usize = 30;
/// Head per peer yard: one pen, so the peers' history stays small (~2,900 events a yard).
const PEER_HEAD: usize = 30;
/// How often the demo's pages recompute the benchmark rollup, seconds: peers arrive while
/// the demo runs, and the bands should show within a minute rather than the default five.
const DEMO_ROLLUP_SECS: u64 = 20;

/// The demo's feed truck and its MQTT account.
const DEMO_TRUCK: &str = "T1";
const DEMO_TRUCK_PASSWORD: &str = "demo-truck-password";
/// The gateway the demo runs.
const GATEWAY_ID: &str = "demo-gateway";

/// `host:port` of an `http://host:port/...` URL.
fn http_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Whether something accepts TCP connections at `addr` (first of a comma-separated list).
async fn reachable(addr: &str) -> bool {
    let first = addr.split(',').next().unwrap_or(addr).trim().to_owned();
    matches!(
        tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(first)
        )
        .await,
        Ok(Ok(_))
    )
}

/// Midnight (UTC) starting `at`'s day.
fn midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// A loopback address with a port free right now.
fn free_local_addr() -> Option<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
    Some(listener.local_addr().ok()?.to_string())
}

/// Runs the demo: the yard's history, then its life in accelerated and then real time, until
/// Ctrl-C (or, with `exit_when_done`, today's chute and a drained outbox).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    // The gateway refuses truck records stamped more than 366 days ago.
    anyhow::ensure!(
        options.days_back <= 365,
        "--days-back {} is more than a year: the gateway refuses truck records that old",
        options.days_back
    );
    anyhow::ensure!(
        options.days_per_minute > 0.0,
        "--speed must be above 0 days a minute"
    );
    let mut broker_up = reachable(&options.kafka_brokers).await;
    let mut clickhouse_up = reachable(http_authority(&options.clickhouse_url)).await;
    let mut services_note = None;
    let mut started_services = None;
    match services::plan(
        broker_up,
        clickhouse_up,
        options.start_services,
        &options.kafka_brokers,
        http_authority(&options.clickhouse_url),
        services::script().as_deref(),
    ) {
        services::Plan::Ready => {}
        services::Plan::Start {
            script,
            missing,
            kafka_port,
            clickhouse_port,
        } => {
            let answers = || async {
                reachable(&options.kafka_brokers).await
                    && reachable(http_authority(&options.clickhouse_url)).await
            };
            match services::start(&script, &missing, kafka_port, clickhouse_port, answers).await {
                Ok(()) => started_services = Some(script),
                Err(error) => {
                    services_note = Some(format!(
                        "Could not start the services: {error}.\n  Running the gateway only; fix that and run this demo again."
                    ));
                }
            }
            broker_up = reachable(&options.kafka_brokers).await;
            clickhouse_up = reachable(http_authority(&options.clickhouse_url)).await;
        }
        services::Plan::GatewayOnly { reason } => services_note = Some(reason),
    }
    let shutdown = CancellationToken::new();
    let mut web_token =
        Some(dashboards::web::auth::generate_token().context("a token for the pages")?);
    let mut sign_in = None;
    // Where the peer yards' gateway keys are enrolled (the demo's ClickHouse, when it runs).
    let mut registry = None;
    let pipeline = if broker_up && clickhouse_up {
        let mut config = ingest::Config::default();
        // INGEST_CLICKHOUSE_DATABASE and the other INGEST_* settings apply, as for
        // `ingest consume`.
        config
            .apply_env(|name| std::env::var(name).ok())
            .context("an INGEST_* variable")?;
        config.kafka.brokers = options.kafka_brokers.clone();
        config.clickhouse.url = options.clickhouse_url.clone();
        // The consumer's /metrics on a free port unless INGEST_OPS_LISTEN names one, so two
        // demos (or a demo beside `ingest consume`) do not collide.
        if std::env::var_os("INGEST_OPS_LISTEN").is_none() {
            config.ops.listen = free_local_addr().unwrap_or(config.ops.listen);
        }
        // The pages read the database the consumer writes, unless DASHBOARDS_CLICKHOUSE_*
        // says otherwise; the other DASHBOARDS_* settings apply, as for `dashboards serve`.
        let mut pages = dashboards::Config {
            clickhouse: config.clickhouse.clone(),
            ..Default::default()
        };
        pages.apply_env(|name| std::env::var(name).ok());
        pages
            .web
            .load_users_file()
            .context("the users file named by DASHBOARDS_WEB_USERS_FILE")?;
        pages.web.listen = options.web_listen.clone();
        // The demo serves plain HTTP on loopback: a `Secure` cookie would never come back.
        pages.web.secure_cookie = false;
        // Peers arrive while the demo runs: recompute the rollup often so the bands show soon.
        pages.benchmarks.refresh_secs = pages.benchmarks.refresh_secs.min(DEMO_ROLLUP_SECS);
        if pages.web.session_secret.is_empty() {
            // A key the printed login links and the pages share.
            pages.web.session_secret =
                dashboards::web::auth::generate_token().context("a session key")?;
        }
        match &web_token {
            // The pages serve only known users: a demo user for this yard, token printed below.
            Some(token) if pages.web.users.is_empty() && pages.web.users_file.is_none() => {
                pages.web.users.push(dashboards::config::WebUserConfig {
                    name: "demo".into(),
                    token_sha256: dashboards::web::auth::hash_token(token),
                    feedlots: vec![options.feedlot_id.clone()],
                });
            }
            _ => web_token = None,
        }
        println!(
            "Pipeline: Kafka at {} → ClickHouse at {} (consumer metrics on http://{}/metrics)",
            options.kafka_brokers, options.clickhouse_url, config.ops.listen
        );
        sign_in = match &web_token {
            Some(_) => Some(dashboards::web::Auth::from_config(&pages.web)?),
            None => None,
        };
        print_pages(&options, web_token.as_deref(), sign_in.as_ref());
        enroll_demo_gateway(&config.clickhouse, &options).await?;
        registry = Some(config.clickhouse.clone());
        tokio::spawn(register_benchmarks(
            config.clickhouse.clone(),
            options.clone(),
            shutdown.clone(),
        ));
        Some(crate::pipeline::spawn(config, pages, shutdown.clone()))
    } else {
        let missing = match (broker_up, clickhouse_up) {
            (true, _) => format!(
                "No ClickHouse at {}: records reach Kafka but are not stored or shown.",
                options.clickhouse_url
            ),
            _ => format!(
                "No Kafka-protocol broker at {}: the gateway keeps every record in its outbox ({}) and forwards it when a broker appears.",
                options.kafka_brokers,
                options.data_dir.display()
            ),
        };
        match services_note {
            Some(note) => println!("{missing}\n  {note}"),
            None => println!("{missing}"),
        }
        None
    };
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("create {}", options.data_dir.display()))?;
    let reader_cable = VirtualCable::new().context("virtual RFID reader cable")?;
    let scale_cable = VirtualCable::new().context("virtual scale cable")?;
    let token = uuid::Uuid::now_v7().simple().to_string();
    let config = gateway::config(&options, &reader_cable, &scale_cable, &token);
    println!(
        "Gateway: RFID on {}, scale on {}, feed truck on MQTT {}, records API on http://{}",
        reader_cable.port_path.display(),
        scale_cable.port_path.display(),
        options.mqtt_listen,
        options.records_listen
    );
    let gateway = edge::Gateway::start(config, shutdown.clone()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let peers = (pipeline.is_some() && options.peer_yards > 0).then(|| {
        let load = crate::loadgen::LoadOptions {
            yards: options.peer_yards,
            head_per_yard: PEER_HEAD,
            days: 400,
            kafka_brokers: options.kafka_brokers.clone(),
            seed: options.seed + 1_000,
            registry: registry.clone(),
            ..Default::default()
        };
        tokio::spawn(async move { crate::loadgen::run(&load).await })
    });

    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            println!("\nCtrl-C: stopping the yard…");
            on_signal.cancel();
        }
    });
    let yard = Yard {
        office: sinks::Office::new(&options.records_listen, &token),
        truck: gateway::truck_setup(&options),
        reader: reader_cable.device_end()?,
        scale: scale_cable.device_end()?,
        outbox: gateway.outbox(),
        options: options.clone(),
    };
    let lived = yard.live(&stop).await;

    if let Some(peers) = peers.filter(|p| {
        if stop.is_cancelled() && !p.is_finished() {
            p.abort();
            println!("Peer yards: stopped before they were all sent.");
            return false;
        }
        true
    }) {
        match peers.await? {
            Ok(report) => println!(
                "{} peer yards (region {}) sent {} events for the benchmarks.",
                options.peer_yards,
                crate::loadgen::PEER_REGION,
                report.events
            ),
            Err(e) => println!("Peer yards: {e}"),
        }
    }
    let mut depth = gateway.outbox_depth().await?;
    if broker_up {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while depth > 0 && tokio::time::Instant::now() < deadline && !stop.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            depth = gateway.outbox_depth().await?;
        }
    }
    println!(
        "{depth} event(s) still in the gateway outbox{}.",
        if broker_up {
            ""
        } else {
            " waiting for a broker"
        }
    );
    if let Some(pipeline) = pipeline {
        print_pages(&options, web_token.as_deref(), sign_in.as_ref());
        // Give the pipeline a batch window to store the last events.
        tokio::time::sleep(Duration::from_secs(2)).await;
        shutdown.cancel();
        pipeline.await??;
    }
    shutdown.cancel();
    gateway.wait().await?;
    if let Some(script) = started_services {
        println!(
            "ClickHouse and tansu keep running for the next run; stop them with: bash {} stop",
            script.display()
        );
    }
    lived
}

/// The demo yard's position (as its gateway profile says); the peer yards lie around it.
const DEMO_POSITION_DEG: (f64, f64) = crate::loadgen::DEMO_POSITION_DEG;

/// Registers the demo yard and its peer yards in the benchmark registry (what an operator
/// does with `dashboards set-yard`: the bands never trust a gateway's own profile), once the
/// pipeline has created the table; retries for up to two minutes.
async fn register_benchmarks(
    clickhouse: ingest::config::ClickHouseConfig,
    options: DemoOptions,
    shutdown: CancellationToken,
) {
    let client = ingest::sink::client(&clickhouse).with_database(&clickhouse.database);
    let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    let entry = |feedlot_id: String, (latitude_deg, longitude_deg): (f64, f64)| {
        dashboards::benchmarks::RegistryEntry {
            feedlot_id,
            region: crate::loadgen::PEER_REGION.into(),
            latitude_deg,
            longitude_deg,
            peer: 1,
            set_by: "firmware-sim demo".into(),
            set_at_ms: now_ms,
        }
    };
    let mut entries = vec![entry(options.feedlot_id.clone(), DEMO_POSITION_DEG)];
    entries.extend(
        (0..options.peer_yards)
            .map(|i| entry(crate::loadgen::peer_id(i), crate::loadgen::peer_position(i))),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match dashboards::benchmarks::registry::set(&client, &entries).await {
            Ok(()) => {
                tracing::info!(
                    yards = entries.len(),
                    "demo yards registered for the benchmarks"
                );
                return;
            }
            Err(error) if tokio::time::Instant::now() >= deadline => {
                println!("Benchmark registry: {error} (the benchmarks page will be empty)");
                return;
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Where the pages are and how to sign in: a fresh one-time login link (never the token in a
/// URL) signed with the pages' key, and the token for the API.
fn print_pages(options: &DemoOptions, token: Option<&str>, auth: Option<&dashboards::web::Auth>) {
    let lots = format!("/feedlots/{}/lots", options.feedlot_id);
    let link = auth.and_then(|a| a.login_link("demo", 60, &lots).ok());
    let (Some(token), Some(link)) = (token, link) else {
        println!(
            "Pages: http://{}/feedlots/{}/lots (users from the DASHBOARDS_WEB_* settings)",
            options.web_listen, options.feedlot_id
        );
        return;
    };
    println!(
        "Pages (open this link within the hour to sign in, once): http://{web}{link}\n\
         (lots, animals, pens, feed, benchmarks); JSON: curl -H 'Authorization: Bearer {token}' \
         http://{web}/api/feedlots/{yard}/lots",
        web = options.web_listen,
        yard = options.feedlot_id
    );
}

/// Makes (or reads) the demo gateway's key in its data directory and enrols it for the demo
/// yard, as an operator does with `edge keygen` and `ingest gateways enroll`: the consumer
/// stores only events signed by an enrolled key.
async fn enroll_demo_gateway(
    clickhouse: &ingest::config::ClickHouseConfig,
    options: &DemoOptions,
) -> anyhow::Result<()> {
    crate::pipeline::enroll_gateway(
        clickhouse,
        &options.data_dir,
        GATEWAY_ID,
        std::slice::from_ref(&options.feedlot_id),
    )
    .await
}

/// The demo yard's connections to the gateway.
struct Yard {
    office: sinks::Office,
    truck: TruckSetup,
    reader: tokio::fs::File,
    scale: tokio::fs::File,
    outbox: std::sync::Arc<edge::outbox::Outbox>,
    options: DemoOptions,
}

mod live;

/// Today's chute: the `n` heaviest head on feed.
fn todays_chute(sim: &YardSim, n: usize) -> Vec<Animal> {
    let mut on_feed: Vec<Animal> = sim
        .animals()
        .iter()
        .filter(|a| a.status == Status::OnFeed)
        .map(|a| Animal {
            eid: a.eid.clone(),
            weight_kg: a.weight_kg,
        })
        .collect();
    on_feed.sort_by(|a, b| b.weight_kg.total_cmp(&a.weight_kg));
    on_feed.truncate(n);
    on_feed
}

/// The chute pacing for `options`.
fn pacing(options: &DemoOptions) -> ChuteSetup {
    ChuteSetup {
        pacing: if options.fast {
            Pacing::fast()
        } else {
            Pacing::realistic()
        },
        ..ChuteSetup::default()
    }
}

/// Runs `animals` through the virtual chute and prints what the scale showed.
async fn chute_pass(yard: &mut Yard, animals: &[Animal]) -> anyhow::Result<usize> {
    let sent = run_chute(
        &mut yard.reader,
        &mut yard.scale,
        animals,
        pacing(&yard.options),
    )
    .await?;
    for w in &sent {
        println!(
            "    chute  {}  {:>7.1} {:?}",
            w.eid, w.weight.value, w.weight.unit
        );
    }
    Ok(sent.len())
}

/// The animals a batch of chute records weighs.
fn chute_animals(events: &[SimEvent]) -> Vec<Animal> {
    events
        .iter()
        .filter(|e| e.channel == Channel::Chute)
        .filter_map(|e| match &e.event {
            schemas::Event::Weighing(w) => Some(Animal {
                eid: w.eid.clone(),
                weight_kg: w.weight.kg(),
            }),
            _ => None,
        })
        .collect()
}

/// A queue of the current simulated day's records.
type DayQueue = VecDeque<SimEvent>;

/// The model for `options`, starting `model_start`.
fn yard_sim(options: &DemoOptions, model_start: chrono::NaiveDate) -> YardSim {
    YardSim::new(YardConfig::new(
        options.pens,
        options.head_per_lot,
        options.seed,
        model_start,
    ))
}
