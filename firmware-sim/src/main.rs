//! `firmware-sim`: simulated chute devices and the demo yard.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;
use firmware_sim::bench;
use firmware_sim::chute::{ChuteSetup, Pacing, run_chute};
use firmware_sim::demo::{self, DemoOptions};
use firmware_sim::devices::faults::Faults;
use firmware_sim::devices::rfid::ReaderFormat;
use firmware_sim::devices::scale::IndicatorFormat;
use firmware_sim::herd::arrivals;
use firmware_sim::loadgen;
use firmware_sim::port::open_port;
use schemas::WeightUnit;

/// Exit code: the simulation failed (e.g. a serial port cannot be opened).
const RUNTIME_ERROR: u8 = 1;
/// Exit code: bad arguments (clap's own code).
const USAGE_ERROR: u8 = 2;
/// Every exit code and its meaning: `--help` prints this list, `README.md` copies it.
const EXIT_CODES: [(u8, &str); 3] = [
    (0, "success"),
    (
        RUNTIME_ERROR,
        "runtime error (e.g. a serial port cannot be opened)",
    ),
    (
        USAGE_ERROR,
        "usage error: unknown subcommand or bad argument",
    ),
];

/// Real invocations, shown at the end of `--help`.
const EXAMPLES: &str = "\
Examples:
  firmware-sim demo                               # the demo yard, 2 simulated days a minute
  firmware-sim demo --fast --exit-when-done       # quickly through today's chute, then stop
  firmware-sim chute --reader /dev/pts/3 --scale /dev/pts/5 --animals 5 --fast
  firmware-sim loadgen --yards 10 --days 60 --kafka-brokers 127.0.0.1:9092
  firmware-sim bench --only outbox
  firmware-sim completions fish > ~/.config/fish/completions/firmware-sim.fish
";

/// The command line, with the examples and exit codes appended to `--help`.
fn command() -> clap::Command {
    let codes: String = EXIT_CODES
        .iter()
        .map(|(code, meaning)| format!("  {code:<3} {meaning}\n"))
        .collect();
    Cli::command().after_help(format!("{EXAMPLES}\nExit codes:\n{codes}"))
}

#[derive(Parser)]
#[command(version, about = "Simulated feedlot devices and the demo yard")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Unit {
    Kg,
    Lb,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo yard: a few pens of cattle living in accelerated time, driving a local
    /// gateway (and the pipeline when a broker and ClickHouse are reachable).
    Demo {
        /// Head through today's chute when the yard's clock reaches today.
        #[arg(long, default_value_t = 20)]
        animals: usize,
        /// Yard seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Kafka-protocol broker for the gateway.
        #[arg(long, env = "EDGE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
        kafka_brokers: String,
        /// Simulated days per real minute until the yard's clock reaches today.
        #[arg(long, default_value_t = 2.0)]
        speed: f64,
        /// Much faster: 60 days a minute, and a fraction of a second per animal in the chute.
        #[arg(long)]
        fast: bool,
        /// How many days ago the yard's clock starts.
        #[arg(long, default_value_t = 14)]
        days_back: u32,
        /// Home pens.
        #[arg(long, default_value_t = 4)]
        pens: usize,
        /// Mean head per lot.
        #[arg(long, default_value_t = 25)]
        head_per_lot: usize,
        /// Where the gateway's records API listens.
        #[arg(long, default_value = "127.0.0.1:8090")]
        records_listen: String,
        /// Where the gateway's embedded MQTT broker listens for the feed truck.
        #[arg(long, default_value = "127.0.0.1:1883")]
        mqtt_listen: String,
        /// Where the gateway keeps its outbox and the demo its progress.
        #[arg(long, default_value = ".data/demo-gateway")]
        data_dir: PathBuf,
        /// ClickHouse HTTP URL for the pipeline.
        #[arg(
            long,
            env = "INGEST_CLICKHOUSE_URL",
            default_value = "http://127.0.0.1:8123"
        )]
        clickhouse_url: String,
        /// Where the pipeline serves its pages.
        #[arg(long, default_value = "127.0.0.1:8080")]
        web_listen: String,
        /// Exit once today's chute is done and the outbox drained, instead of living on.
        #[arg(long)]
        exit_when_done: bool,
        /// Anonymous peer yards to generate (straight into Kafka) for the benchmark bands; the
        /// default 30 lie in three rings around the yard so every band shows. 0: none.
        #[arg(long, default_value_t = demo::DEFAULT_PEER_YARDS)]
        yards: usize,
        /// Do not start the local services (scripts/services.sh) when the broker or ClickHouse
        /// does not answer: run the gateway only, keeping records in its outbox.
        #[arg(long)]
        no_services: bool,
    },
    /// Many yards' events straight into Kafka (pipeline load and benchmark population).
    Loadgen {
        /// Yards.
        #[arg(long, default_value_t = 100)]
        yards: usize,
        /// Head per yard once its pens are full (pens of up to 100).
        #[arg(long, default_value_t = 200)]
        head: usize,
        /// Days of history per yard (lots ship from ~150 days and close after ~250).
        #[arg(long, default_value_t = 400)]
        days: u32,
        /// Kafka-protocol broker.
        #[arg(long, env = "EDGE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
        kafka_brokers: String,
        /// Topic.
        #[arg(long, default_value = "feedlot.events.v1")]
        topic: String,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// ClickHouse to enrol each simulated gateway's key in (the `ingest gateways`
        /// registry), so the consumer stores their signed events. Unset: events go unsigned.
        #[arg(long, env = "INGEST_CLICKHOUSE_URL")]
        clickhouse_url: Option<String>,
        /// The registry's database.
        #[arg(long, env = "INGEST_CLICKHOUSE_DATABASE", default_value = "feedlot")]
        clickhouse_database: String,
    },
    /// Benchmarks: each part against a bare-library baseline in the same run (docs/benchmarks.md).
    Bench {
        /// Only this pair: outbox, forwarder or ingest.
        #[arg(long)]
        only: Option<String>,
        #[command(flatten)]
        options: BenchArgs,
    },
    /// One benchmark case in this process (used by `bench`; prints one JSON line).
    #[command(hide = true)]
    BenchCase {
        /// The case, e.g. `outbox.gateway`.
        case: String,
        #[command(flatten)]
        options: BenchArgs,
    },
    /// The gateway's embedded MQTT broker alone until killed (used by `bench`'s mqtt pair, so
    /// the broker's memory is measured apart from its load).
    #[command(hide = true)]
    BenchBroker {
        /// Where it listens, `host:port`.
        #[arg(long)]
        listen: String,
    },
    /// Pass simulated animals through a chute whose reader and scale are on serial ports.
    Chute {
        /// The RFID reader's serial port (device side).
        #[arg(long)]
        reader: PathBuf,
        /// The scale indicator's serial port (device side).
        #[arg(long)]
        scale: PathBuf,
        /// Head through the chute.
        #[arg(long, default_value_t = 10)]
        animals: usize,
        /// Herd seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Indicator unit.
        #[arg(long, value_enum, default_value_t = Unit::Lb)]
        unit: Unit,
        /// Reader line format.
        #[arg(long, value_enum, default_value_t = ReaderFormat::Allflex)]
        reader_format: ReaderFormat,
        /// Indicator protocol (the gateway's scale `format` must match: rice_lake, tru_test,
        /// sma). A Tru-Test shows kg whatever `--unit` says.
        #[arg(long, value_enum, default_value_t = IndicatorFormat::RiceLake)]
        indicator: IndicatorFormat,
        /// A fraction of a second per animal instead of real time.
        #[arg(long)]
        fast: bool,
        /// Serial speed.
        #[arg(long, default_value_t = 9600)]
        baud_rate: u32,
        /// Inject garbled lines and dropped bytes between the real ones.
        #[arg(long)]
        faults: bool,
    },
    /// Print a completion script for a shell to stdout.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Events per case.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Kafka-protocol broker.
    #[arg(long, env = "EDGE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    /// ClickHouse HTTP URL.
    #[arg(
        long,
        env = "INGEST_CLICKHOUSE_URL",
        default_value = "http://127.0.0.1:8123"
    )]
    clickhouse_url: String,
    /// The ClickHouse cluster the `consumer` pair writes through (`--clickhouse-url` then lists
    /// its servers, comma-separated); none: one server.
    #[arg(long, env = "INGEST_CLICKHOUSE_CLUSTER")]
    clickhouse_cluster: Option<String>,
    /// The MQTT broker an `mqtt.*` case loads (`bench` starts one per case and sets this).
    #[arg(long, hide = true)]
    mqtt_broker: Option<String>,
}

impl BenchArgs {
    fn options(self) -> bench::CaseOptions {
        bench::CaseOptions {
            events: self.events,
            kafka_brokers: self.kafka_brokers,
            clickhouse_url: self.clickhouse_url,
            clickhouse_cluster: self.clickhouse_cluster,
            mqtt_broker: self.mqtt_broker,
        }
    }
}

/// Peak RSS of this process or of any child it waited for (e.g. `clickhouse-client`), KiB.
fn peak_rss_with_children_kib() -> u64 {
    use nix::sys::resource::{UsageWho, getrusage};
    let children = getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss())
        .unwrap_or(0);
    bench::peak_rss_kib().max(u64::try_from(children).unwrap_or(0))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "warn,rdkafka=off,librdkafka=off,rumqttd=off,firmware_sim=info".into()
            }),
        )
        // Colour codes only on a terminal, not when piped to a file or another program.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::from_arg_matches(&command().get_matches())
        .unwrap_or_else(|e| e.format(&mut command()).exit());
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:?}");
            ExitCode::from(RUNTIME_ERROR)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "firmware-sim", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("writing the completion script")
        }
        Command::Demo {
            animals,
            seed,
            kafka_brokers,
            speed,
            fast,
            days_back,
            pens,
            head_per_lot,
            records_listen,
            mqtt_listen,
            data_dir,
            clickhouse_url,
            web_listen,
            exit_when_done,
            yards,
            no_services,
        } => {
            demo::run(DemoOptions {
                animals,
                seed,
                kafka_brokers,
                fast,
                days_per_minute: if fast { speed.max(60.0) } else { speed },
                days_back,
                pens,
                head_per_lot,
                records_listen,
                mqtt_listen,
                data_dir,
                clickhouse_url,
                web_listen,
                exit_when_done,
                peer_yards: yards,
                start_services: !no_services,
                feedlot_id: DemoOptions::default().feedlot_id,
            })
            .await
        }
        Command::Loadgen {
            yards,
            head,
            days,
            kafka_brokers,
            topic,
            seed,
            clickhouse_url,
            clickhouse_database,
        } => {
            let registry = clickhouse_url.map(|url| ingest::config::ClickHouseConfig {
                url,
                database: clickhouse_database,
                ..Default::default()
            });
            let options = loadgen::LoadOptions {
                yards,
                head_per_yard: head,
                days,
                kafka_brokers,
                topic,
                seed,
                registry,
            };
            let report = loadgen::run(&options).await?;
            println!(
                "sent {} events from {yards} yards in {:.2} s ({:.0} events/s)",
                report.events,
                report.seconds,
                report.events as f64 / report.seconds.max(1e-9)
            );
            Ok(())
        }
        Command::Bench { only, options } => bench::run_pairs(only.as_deref(), &options.options()),
        Command::BenchCase { case, options } => {
            let (events, seconds) = bench::run_case(&case, &options.options()).await?;
            println!(
                "{}",
                serde_json::json!({"case": case, "events": events, "seconds": seconds, "peak_rss_kib": peak_rss_with_children_kib()})
            );
            Ok(())
        }
        Command::BenchBroker { listen } => bench::serve_embedded_broker(&listen).await,
        Command::Chute {
            reader,
            scale,
            animals,
            seed,
            unit,
            reader_format,
            indicator,
            fast,
            baud_rate,
            faults,
        } => {
            let mut reader_port = open_port(&reader, baud_rate)
                .with_context(|| format!("open {}", reader.display()))?;
            let mut scale_port = open_port(&scale, baud_rate)
                .with_context(|| format!("open {}", scale.display()))?;
            let shown = indicator.unit(match unit {
                Unit::Kg => WeightUnit::Kg,
                Unit::Lb => WeightUnit::Lb,
            });
            let setup = ChuteSetup {
                reader_format,
                indicator,
                unit: shown,
                graduation: match shown {
                    WeightUnit::Kg => 0.5,
                    WeightUnit::Lb => 1.0,
                },
                faults: if faults {
                    Faults::some(seed)
                } else {
                    Faults::default()
                },
                pacing: if fast {
                    Pacing::fast()
                } else {
                    Pacing::realistic()
                },
            };
            let sent = run_chute(
                &mut reader_port,
                &mut scale_port,
                &arrivals(animals, seed),
                setup,
            )
            .await?;
            for w in sent {
                println!(
                    "{} {} {:?} stable at {}",
                    w.eid, w.weight.value, w.weight.unit, w.stable_sent_at
                );
            }
            Ok(())
        }
    }
}
