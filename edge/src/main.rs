//! `edge`: the feedlot gateway binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;
use edge::config::{ConfigError, DeviceRole, ENV_OVERRIDES};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Log levels when `RUST_LOG` is unset. rumqttd logs every device that disconnects or drops
/// its connection at ERROR from its per-connection code (`rumqttd::server::broker`), which on a
/// yard with trucks going in and out of Wi-Fi range is routine: that module is silenced and
/// the rest of rumqttd (router: connection limits, protocol errors) kept at WARN. A broker
/// that fails to listen is reported by the gateway itself ("not answering after 5 s").
const DEFAULT_LOG_FILTER: &str = "info,rumqttd=warn,rumqttd::server::broker=off";

/// Exit code: the gateway failed while running (e.g. the outbox cannot be opened).
const RUNTIME_ERROR: u8 = 1;
/// Exit code: bad arguments (clap's own code).
const USAGE_ERROR: u8 = 2;
/// Exit code: the configuration cannot be used; the message names the field.
const BAD_CONFIG: u8 = 3;
/// Every exit code and its meaning: `--help` prints this list, `README.md` copies it.
const EXIT_CODES: [(u8, &str); 4] = [
    (
        0,
        "success (run: stopped by Ctrl-C or SIGTERM after a clean shutdown)",
    ),
    (
        RUNTIME_ERROR,
        "runtime error (e.g. the outbox cannot be opened)",
    ),
    (
        USAGE_ERROR,
        "usage error: unknown subcommand or bad argument",
    ),
    (BAD_CONFIG, "bad configuration: the message names the field"),
];

/// Real invocations, shown at the end of `--help`.
const EXAMPLES: &str = "\
Examples:
  edge print-config > edge.toml                 # the commented defaults, to edit
  edge check-config --config edge.toml          # file + EDGE_* overrides; opens no device
  edge check-device --format rice_lake lines.txt  # what each sample line would give
  edge check-device -f sma --port /dev/ttyUSB1 --baud 9600 --seconds 10
  edge check-device -c edge.toml --device scale-1 --seconds 30  # its port, format and poll
  edge keygen --config /etc/feedlot/edge.toml   # make/print the gateway key, to enrol in the cloud
  edge run --config /etc/feedlot/edge.toml
  EDGE_KAFKA_BROKERS=kafka-1:9092 EDGE_DATA_DIR=/var/lib/edge edge run -c edge.toml
  edge completions bash > /etc/bash_completion.d/edge
";

/// The feedlot gateway: chute devices in, durable outbox, Kafka out.
#[derive(Debug, Parser)]
#[command(name = "edge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway until Ctrl-C or SIGTERM.
    Run {
        /// TOML config file; without it the embedded defaults are used (see `print-config`).
        #[arg(long, short, env = "EDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the commented example config (equal to the defaults).
    PrintConfig,
    /// Load the config as `run` would (file, then `EDGE_*` variables), validate it and print
    /// `ok`, or name the bad field and exit with code 3. Opens no device, file or connection.
    CheckConfig {
        /// TOML config file; without it the embedded defaults are checked.
        #[arg(long, short, env = "EDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Read a device's sample lines from a file or stdin, framed as the serial port frames
    /// them, and print per line what the gateway would capture: the tag, the weight (unit,
    /// gross/net, stable or motion), nothing, or why the line is refused. A live port
    /// (`--port` or `--device`) is read as the gateway reads it, each line printed as it
    /// arrives, the device's poll command (if any) written on its interval.
    #[command(group(clap::ArgGroup::new("live").args(["port", "device"]).multiple(true)))]
    CheckDevice {
        /// The row of the format table the device would name in `devices[].format`
        /// (e.g. `rice_lake`, `allflex`, a `[[scale.shapes]]` row); with `--device`, the
        /// device's own format unless given.
        #[arg(long, short, required_unless_present = "device")]
        format: Option<String>,
        /// The device's role; needed only when the format names rows of two tables.
        #[arg(long, value_parser = ["rfid", "scale", "combined"])]
        role: Option<String>,
        /// TOML config file whose own rows are added (and their samples checked).
        #[arg(long, short, env = "EDGE_CONFIG")]
        config: Option<PathBuf>,
        /// The sample lines; `-` or nothing reads stdin.
        #[arg(conflicts_with = "live")]
        input: Option<PathBuf>,
        /// Read a live serial port instead, printing each line as it is read.
        #[arg(long)]
        port: Option<PathBuf>,
        /// Read the config's device with this `device_id` live: its port (unless `--port`),
        /// baud rate (unless `--baud`), role, format (unless `--format`), idle gap and poll.
        #[arg(long)]
        device: Option<String>,
        /// The port's line speed (8N1); default the device's, else 9600.
        #[arg(long, requires = "live")]
        baud: Option<u32>,
        /// How long to read the port.
        #[arg(long, default_value_t = 10, requires = "live")]
        seconds: u64,
    },
    /// Print the gateway's public key and key id, generating its key pair first when the data
    /// directory has none (`<data_dir>/gateway.key`, mode 0600; `run` does the same on first
    /// start). The cloud stores this gateway's events only once the public key is enrolled:
    /// the line printed last is the `ingest gateways enroll` command to run there.
    Keygen {
        /// TOML config file (for `data_dir`, `gateway_id`, `feedlot_id`).
        #[arg(long, short, env = "EDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print a completion script for a shell to stdout.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// The command line, with the examples and exit codes appended to `--help`.
fn command() -> clap::Command {
    let codes: String = EXIT_CODES
        .iter()
        .map(|(code, meaning)| format!("  {code:<3} {meaning}\n"))
        .collect();
    Cli::command().after_help(format!("{EXAMPLES}\nExit codes:\n{codes}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches())
        .unwrap_or_else(|e| e.format(&mut command()).exit());
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:?}");
            let bad_config = error.chain().any(|e| e.is::<ConfigError>());
            ExitCode::from(if bad_config {
                BAD_CONFIG
            } else {
                RUNTIME_ERROR
            })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::PrintConfig => {
            print!("{}", edge::config::EXAMPLE_TOML);
            Ok(())
        }
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "edge", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("writing the completion script")
        }
        Command::CheckDevice {
            format,
            role,
            config,
            input,
            port,
            device,
            baud,
            seconds,
        } => {
            let config = edge::Config::load(config.as_deref()).context("loading config")?;
            let role = match role.as_deref() {
                Some("rfid") => Some(DeviceRole::Rfid),
                Some("scale") => Some(DeviceRole::Scale),
                Some("combined") => Some(DeviceRole::Combined),
                _ => None,
            };
            let live = Live {
                port,
                device,
                baud,
                seconds,
            };
            if live.port.is_some() || live.device.is_some() {
                return check_live(&config, format.as_deref(), role, live).await;
            }
            let bytes = read_input(input.as_deref())?;
            let format = format.context("--format is needed without --device")?;
            check_device(&config, &format, role, &bytes)
        }
        Command::Keygen { config } => {
            let config = edge::Config::load(config.as_deref()).context("loading config")?;
            let (key, made) = edge::identity::load_or_create(&config.data_dir)
                .context("reading or making the gateway key")?;
            let path = edge::identity::key_path(&config.data_dir);
            let public = key.public_key().to_base64();
            println!(
                "{} {}",
                if made { "generated" } else { "existing" },
                path.display()
            );
            println!("gateway_id: {}", config.gateway_id);
            println!("key_id: {}", key.key_id());
            println!("public_key: {public}");
            println!(
                "enrol it: ingest gateways enroll --gateway {} --feedlot {} --public-key {public}",
                config.gateway_id, config.feedlot_id
            );
            Ok(())
        }
        Command::CheckConfig { config: path } => {
            let config = edge::Config::load(path.as_deref()).context("loading config")?;
            println!("{}", check_summary(path.as_deref(), &config));
            Ok(())
        }
        Command::Run { config } => {
            // Colours only on a terminal: piped logs (systemd, tests) stay plain `key=value`.
            tracing_subscriber::fmt()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .with_env_filter(
                    EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER)),
                )
                .init();
            let config = edge::Config::load(config.as_deref()).context("loading config")?;
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            edge::run(config, shutdown).await.context("gateway failed")
        }
    }
}

/// `check-device`: one line of output per framed input line.
fn check_device(
    config: &edge::Config,
    format: &str,
    role: Option<DeviceRole>,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let (_, parser) =
        edge::readers::check::device_parser(config, role, format).context("choosing the format")?;
    let mut out = std::io::stdout().lock();
    for line in edge::readers::check::check_lines(&parser, bytes) {
        writeln!(out, "{line}").context("writing the output")?;
    }
    Ok(())
}

/// `check-device`'s live-port arguments.
struct Live {
    port: Option<PathBuf>,
    device: Option<String>,
    baud: Option<u32>,
    seconds: u64,
}

/// `check-device --port` / `--device`: reads the port for the given seconds, printing (and
/// flushing) each line as it is read; a configured device's poll is written on its interval.
async fn check_live(
    config: &edge::Config,
    format: Option<&str>,
    role: Option<DeviceRole>,
    live: Live,
) -> anyhow::Result<()> {
    use edge::readers::check::{PortCheck, check_port, configured_device, device_parser};
    let configured = match &live.device {
        Some(id) => Some(configured_device(config, id).context("choosing the device")?),
        None => None,
    };
    let device = configured.as_ref().map(|(device, _)| *device);
    let parser = match (configured, format) {
        (Some((_, parser)), None) => parser,
        (configured, Some(format)) => {
            let role = role.or(configured.map(|(d, _)| d.role));
            device_parser(config, role, format)
                .context("choosing the format")?
                .1
        }
        (None, None) => anyhow::bail!("--format is needed without --device"),
    };
    let path = match (live.port, device) {
        (Some(port), _) => port,
        (None, Some(device)) => device.path.clone(),
        (None, None) => anyhow::bail!("--port is needed without --device"),
    };
    let check = PortCheck {
        baud_rate: live.baud.or(device.map(|d| d.baud_rate)).unwrap_or(9600),
        duration: std::time::Duration::from_secs(live.seconds),
        idle_gap: std::time::Duration::from_millis(
            device.map_or(edge::readers::serial::DEFAULT_IDLE_GAP_MS, |d| {
                d.idle_gap_ms
            }),
        ),
        poll: device.and_then(|d| d.poll.as_ref()).map(|p| p.to_poll()),
        path,
    };
    let mut stdout = std::io::stdout();
    check_port(parser, &check, |line| {
        writeln!(stdout, "{line}")?;
        stdout.flush()
    })
    .await
    .with_context(|| format!("checking {}", check.path.display()))
}

/// The bytes of `check-device`'s input file, or of stdin for `-` or none.
fn read_input(input: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    match input {
        Some(path) if path != Path::new("-") => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading stdin")?;
            Ok(bytes)
        }
    }
}

/// `check-config`'s line: `ok`, the file, the fields the environment overrode, the devices.
fn check_summary(path: Option<&Path>, config: &edge::Config) -> String {
    let source = match path {
        Some(path) => path.display().to_string(),
        None => "no file, the defaults".into(),
    };
    let overridden: Vec<String> = ENV_OVERRIDES
        .iter()
        .filter(|(var, _)| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
        .map(|(var, field)| format!("{field} ({var})"))
        .collect();
    let mut line = format!("ok: {source}");
    if !overridden.is_empty() {
        line += &format!("; from the environment: {}", overridden.join(", "));
    }
    line += &format!(
        "; gateway {} of feedlot {}, {} device(s)",
        config.gateway_id,
        config.feedlot_id,
        config.devices.len()
    );
    line
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the gateway");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested; finishing the commit and delivery in flight");
    shutdown.cancel();
}
