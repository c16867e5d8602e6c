//! `edge`: the feedlot gateway binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Log levels when `RUST_LOG` is unset. rumqttd logs every device that disconnects or drops
/// its connection at ERROR from its per-connection code (`rumqttd::server::broker`), which on a
/// yard with trucks going in and out of Wi-Fi range is routine: that module is silenced and
/// the rest of rumqttd (router: connection limits, protocol errors) kept at WARN. A broker
/// that fails to listen is reported by the gateway itself ("not answering after 5 s").
const DEFAULT_LOG_FILTER: &str = "info,rumqttd=warn,rumqttd::server::broker=off";

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::PrintConfig => {
            print!("{}", edge::config::EXAMPLE_TOML);
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
