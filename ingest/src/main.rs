//! `ingest`: the Kafka → ClickHouse consumer. (The pages are the `dashboards` binary.)

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ingest::Config;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(version, about = "Feedlot events from Kafka into ClickHouse")]
struct Cli {
    /// Config file (TOML); defaults apply without one. See `ingest print-config`.
    #[arg(long, global = true, env = "INGEST_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create topics, migrate, and consume until Ctrl-C or SIGTERM, serving `/metrics` and
    /// `/healthz` on `[ops] listen`.
    Consume,
    /// Apply pending ClickHouse migrations and exit.
    Migrate,
    /// Print the commented example configuration.
    PrintConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // Colour codes only on a terminal, not in log files or the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    if let Command::PrintConfig = cli.command {
        print!("{}", ingest::config::EXAMPLE_TOML);
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command {
        Command::Migrate => {
            let client = ingest::sink::client(&config.clickhouse);
            let applied = ingest::schema::migrate_on(
                &client,
                &config.clickhouse.database,
                config.clickhouse.cluster(),
            )
            .await?;
            println!("applied migrations: {applied:?}");
        }
        Command::Consume => {
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("stopping");
                stop.cancel();
            });
            ingest::run_consumer(config, shutdown).await?;
        }
        Command::PrintConfig => {}
    }
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
