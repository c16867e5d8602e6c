//! `dashboards`: the web pages, JSON API and benchmark bands over what `ingest` stored.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dashboards::Config;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    version,
    about = "The feedlot pages, JSON API and benchmark bands over ClickHouse"
)]
struct Cli {
    /// Config file (TOML); defaults apply without one. See `dashboards print-config`.
    #[arg(long, global = true, env = "DASHBOARDS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Wait for ClickHouse and the schema, then serve the pages, the API and the benchmark
    /// rollup until Ctrl-C or SIGTERM. Never migrates (`ingest migrate` does).
    Serve,
    /// Print the commented example configuration.
    PrintConfig,
    /// Print the SHA-256 of a web user's token, read from stdin, for `[[web.users]]
    /// token_sha256`; `--generate` makes a new random token and prints both.
    HashToken {
        /// Make a new token (32 random bytes, hex) instead of reading one.
        #[arg(long)]
        generate: bool,
    },
}

/// Shortest token `hash-token` accepts: a token is the user's whole credential.
const MIN_TOKEN_CHARS: usize = 20;

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
    match cli.command {
        Command::PrintConfig => {
            print!("{}", dashboards::config::EXAMPLE_TOML);
            Ok(())
        }
        Command::HashToken { generate } => hash_token(generate),
        Command::Serve => {
            let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
            warn_about_web_users(&config);
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("stopping");
                stop.cancel();
            });
            dashboards::serve(config, shutdown).await?;
            Ok(())
        }
    }
}

/// `dashboards hash-token`: one line on stdout, the hash (after the token with `--generate`).
fn hash_token(generate: bool) -> anyhow::Result<()> {
    let token = if generate {
        dashboards::web::auth::generate_token().context("no OS randomness")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the token from stdin")?;
        line.trim().to_owned()
    };
    if token.chars().count() < MIN_TOKEN_CHARS {
        anyhow::bail!("a token needs at least {MIN_TOKEN_CHARS} characters; try --generate");
    }
    let hash = dashboards::web::auth::hash_token(&token);
    if generate {
        println!("# Give the token to the user; put only token_sha256 in [[web.users]].");
        println!("token = \"{token}\"");
        println!("token_sha256 = \"{hash}\"");
    } else {
        println!("{hash}");
    }
    Ok(())
}

/// Says loudly when nobody can read the pages, or sessions will not survive a restart.
fn warn_about_web_users(config: &Config) {
    let users = &config.web.users;
    if users.is_empty() {
        tracing::warn!(
            "NO WEB USERS CONFIGURED: every feedlot page and API answers 401. Add [[web.users]] \
             (or DASHBOARDS_WEB_USERS_FILE); `dashboards hash-token --generate` makes a token"
        );
        return;
    }
    if config.web.session_secret.is_empty() {
        tracing::warn!(
            "web.session_secret is empty: browser sessions end when this process stops and work \
             only on this replica (set DASHBOARDS_WEB_SESSION_SECRET)"
        );
    }
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    tracing::info!(?names, "web users");
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
