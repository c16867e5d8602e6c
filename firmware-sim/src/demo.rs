//! The demo yard: simulated chute devices on virtual serial cables drive a real local gateway.
//!
//! Runs on embedded defaults. The gateway forwards to the Kafka-protocol broker at
//! `DemoOptions::kafka_brokers` when one answers; otherwise every weighing waits in the
//! gateway's durable outbox and the demo says what is missing and how to start it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use edge::config::{DeviceConfig, DeviceRole};
use tokio_util::sync::CancellationToken;

use crate::cable::VirtualCable;
use crate::chute::{ChuteSetup, Pacing, run_chute};
use chrono::{NaiveTime, Utc};

use crate::herd::Animal;

/// How long the demo herd has been on feed when it goes through the chute today.
const DEMO_DAYS_ON_FEED: u32 = 60;

/// What the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Animals through the chute.
    pub animals: usize,
    /// Seed for the herd.
    pub seed: u64,
    /// The broker the gateway forwards to.
    pub kafka_brokers: String,
    /// Where the gateway keeps its outbox.
    pub data_dir: PathBuf,
    /// The yard's id.
    pub feedlot_id: String,
    /// Fast pacing (a fraction of a second an animal) instead of real time.
    pub fast: bool,
    /// ClickHouse for the pipeline (HTTP URL).
    pub clickhouse_url: String,
    /// Where the pipeline serves its pages.
    pub web_listen: String,
    /// Stop once the weighings are stored instead of serving the pages until Ctrl-C.
    pub exit_when_done: bool,
    /// Peer yards to generate (straight into Kafka) for the benchmarks, when the pipeline runs.
    pub peer_yards: usize,
    /// Where the gateway's embedded MQTT broker listens for the feed truck.
    pub mqtt_listen: String,
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
            peer_yards: 0,
            mqtt_listen: "127.0.0.1:1883".into(),
        }
    }
}

/// The demo's feed truck and its MQTT account.
const DEMO_TRUCK: &str = "T1";
const DEMO_TRUCK_PASSWORD: &str = "demo-truck-password";

/// Today's feeding: the truck mixes and delivers a finishing ration to the demo pens.
async fn feed_the_pens(
    options: &DemoOptions,
) -> Result<crate::devices::truck::TruckReport, crate::devices::truck::TruckError> {
    let (host, port) = options
        .mqtt_listen
        .rsplit_once(':')
        .unwrap_or(("127.0.0.1", "1883"));
    let setup = crate::devices::truck::TruckSetup {
        feedlot_id: options.feedlot_id.clone(),
        truck_id: DEMO_TRUCK.into(),
        host: host.into(),
        port: port.parse().unwrap_or(1883),
        credentials: Some((DEMO_TRUCK.into(), DEMO_TRUCK_PASSWORD.into())),
        operator: "demo-driver".into(),
        resend_after: Duration::from_secs(3),
    };
    let plan =
        crate::devices::truck::finishing_day(DEMO_PENS, options.animals.div_ceil(DEMO_PENS).max(1));
    let records = crate::devices::truck::records(&plan, &setup, &mut rand::rng());
    crate::devices::truck::run_truck(&setup, records, Duration::from_secs(30)).await
}

/// Pens the demo herd is spread over.
const DEMO_PENS: usize = 4;

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

/// Runs the demo until the chute is done and the outbox has drained (or, offline, until the
/// chute is done), then shuts the gateway down.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let broker_up = reachable(&options.kafka_brokers).await;
    let clickhouse_up = reachable(http_authority(&options.clickhouse_url)).await;
    let shutdown = CancellationToken::new();
    let pipeline = if broker_up && clickhouse_up {
        let mut config = ingest::Config::default();
        config.kafka.brokers = options.kafka_brokers.clone();
        config.clickhouse.url = options.clickhouse_url.clone();
        config.web.listen = options.web_listen.clone();
        println!(
            "Pipeline: Kafka at {} → ClickHouse at {}",
            options.kafka_brokers, options.clickhouse_url
        );
        Some(tokio::spawn(ingest::run(config, shutdown.clone())))
    } else {
        if broker_up {
            println!(
                "No ClickHouse at {}: weighings reach Kafka but are not stored or shown.\n  \
                 To run the whole pipeline: bash scripts/services.sh, then run this demo again.",
                options.clickhouse_url
            );
        }
        None
    };
    if !broker_up {
        println!(
            "No Kafka-protocol broker at {}: the gateway will keep every weighing in its outbox \
             ({}) and forward it when a broker appears.\n  To run the whole pipeline: \
             bash scripts/services.sh, then run this demo again.",
            options.kafka_brokers,
            options.data_dir.display()
        );
    }
    let reader_cable = VirtualCable::new().context("virtual RFID reader cable")?;
    let scale_cable = VirtualCable::new().context("virtual scale cable")?;
    let mut config = edge::Config {
        feedlot_id: options.feedlot_id.clone(),
        gateway_id: "demo-gateway".into(),
        data_dir: options.data_dir.clone(),
        devices: vec![
            DeviceConfig::new("rfid-1", &reader_cable.port_path, DeviceRole::Rfid),
            DeviceConfig::new("scale-1", &scale_cable.port_path, DeviceRole::Scale),
        ],
        ..edge::Config::default()
    };
    config.kafka.brokers = options.kafka_brokers.clone();
    // Feed trucks talk to the gateway's embedded MQTT broker with their own account.
    config.mqtt.embedded = true;
    config.mqtt.listen = options.mqtt_listen.clone();
    config
        .mqtt
        .users
        .insert(DEMO_TRUCK.into(), DEMO_TRUCK_PASSWORD.into());
    println!(
        "Gateway reading RFID on {} and the scale on {}",
        reader_cable.port_path.display(),
        scale_cable.port_path.display()
    );
    let gateway = edge::Gateway::start(config, shutdown.clone()).await?;
    // Let the gateway open its ports before the first animal walks in.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The demo herd was placed DEMO_DAYS_ON_FEED days ago (today's date, so a re-run the same
    // day re-sends identical history, deduplicated) and weighed on arrival and at day 30; today
    // it goes through the chute again at its grown weight.
    let herd = crate::loadgen::herd_with_curves(options.animals, options.seed, 1.75);
    if pipeline.is_some() {
        let today = Utc::now().date_naive().and_time(NaiveTime::MIN).and_utc();
        let history = crate::loadgen::History {
            feedlot_id: &options.feedlot_id,
            gateway_id: "demo-gateway",
            placed: today - chrono::Duration::days(DEMO_DAYS_ON_FEED.into()),
            weigh_days: vec![0, 30],
        };
        let events = crate::loadgen::herd_history(&history, &herd);
        let sent =
            crate::loadgen::send(&options.kafka_brokers, "feedlot.events.v1", &events).await?;
        println!(
            "History: {sent} events from arrival ({DEMO_DAYS_ON_FEED} days ago) and the day-30 re-weigh."
        );
    }
    let herd: Vec<Animal> = herd
        .into_iter()
        .map(|(animal, curve)| Animal {
            weight_kg: curve.weight_kg(DEMO_DAYS_ON_FEED.into()),
            ..animal
        })
        .collect();
    let setup = ChuteSetup {
        pacing: if options.fast {
            Pacing::fast()
        } else {
            Pacing::realistic()
        },
        ..ChuteSetup::default()
    };
    let mut reader = reader_cable.device_end()?;
    let mut scale = scale_cable.device_end()?;
    println!("Running {} head through the chute…", herd.len());
    let (sent, trucks) = tokio::join!(
        run_chute(&mut reader, &mut scale, &herd, setup),
        feed_the_pens(&options)
    );
    let sent = sent?;
    match trucks {
        Ok(report) => println!(
            "Feed truck {DEMO_TRUCK}: {} loads and deliveries confirmed captured by the gateway.",
            report.captured.len()
        ),
        Err(e) => println!("Feed truck {DEMO_TRUCK}: {e}"),
    }
    for w in &sent {
        println!("  {}  {:>7.1} {:?}", w.eid, w.weight.value, w.weight.unit);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut depth = gateway.outbox_depth().await?;
    if broker_up {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while depth > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            depth = gateway.outbox_depth().await?;
        }
    }
    println!(
        "{} weighings presented; {depth} event(s) still in the gateway outbox{}.",
        sent.len(),
        if broker_up {
            ""
        } else {
            " waiting for a broker"
        }
    );
    if let Some(pipeline) = pipeline {
        if options.peer_yards > 0 {
            let load = crate::loadgen::LoadOptions {
                yards: options.peer_yards,
                head_per_yard: 100,
                kafka_brokers: options.kafka_brokers.clone(),
                seed: options.seed + 1_000,
                ..Default::default()
            };
            let report = crate::loadgen::run(&load).await?;
            println!(
                "{} peer yards sent {} events for the benchmarks.",
                options.peer_yards, report.events
            );
        }
        let first = sent.first().map(|w| w.eid.to_string()).unwrap_or_default();
        println!(
            "Pages: http://{}/feedlots/{}/animals/{first} (JSON under /api/…)",
            options.web_listen, options.feedlot_id
        );
        if !options.exit_when_done {
            println!("Serving the pages; press Ctrl-C to stop.");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = shutdown.cancelled() => {}
            }
        } else {
            // Give the pipeline a batch window to store the last events.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        shutdown.cancel();
        pipeline.await??;
    }
    shutdown.cancel();
    gateway.wait().await?;
    Ok(())
}
