//! `ingest`: the Kafka → ClickHouse consumer. (The pages are the `dashboards` binary.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;
use ingest::Config;
use ingest::config::{ConfigError, ENV_OVERRIDES};
use tokio_util::sync::CancellationToken;

/// Exit code: consuming, migrating or writing output failed.
const RUNTIME_ERROR: u8 = 1;
/// Exit code: bad arguments (clap's own code).
const USAGE_ERROR: u8 = 2;
/// Exit code: the configuration cannot be used; the message names the field.
const BAD_CONFIG: u8 = 3;
/// Every exit code and its meaning: `--help` prints this list, `README.md` copies it.
const EXIT_CODES: [(u8, &str); 5] = [
    (0, "success"),
    (
        RUNTIME_ERROR,
        "runtime error (e.g. a migration ClickHouse refused)",
    ),
    (
        USAGE_ERROR,
        "usage error: unknown subcommand or bad argument",
    ),
    (BAD_CONFIG, "bad configuration: the message names the field"),
    (
        ingest::consumer::FAULT_EXIT_CODE,
        "test only: crash injected by INGEST_FAULT_EXIT_BEFORE_COMMIT",
    ),
];

/// Real invocations, shown at the end of `--help`.
const EXAMPLES: &str = "\
Examples:
  ingest print-config > ingest.toml             # the commented defaults, to edit
  ingest --config ingest.toml check-config      # file + INGEST_* overrides; connects to nothing
  ingest --config ingest.toml migrate           # apply pending ClickHouse migrations
  ingest gateways enroll --gateway gw-1 --feedlot yard-7 --public-key @gw-1.pub  # see gateways --help
  ingest --config cluster.toml copy-from --address old-ch:9000   # single server -> cluster
  INGEST_KAFKA_BROKERS=kafka-1:9092 ingest --config /etc/feedlot/ingest.toml consume
  ingest completions bash > /etc/bash_completion.d/ingest
";

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
    /// Copy every table of an old single-server database into this configuration's
    /// ClickHouse (a cluster, after `migrate`), server-side through `remote()`; a table
    /// already copied is skipped, a partly copied one named. See docs/cluster.md.
    CopyFrom {
        /// The old server's native TCP address, as the cluster's servers reach it.
        #[arg(long, value_name = "HOST:PORT")]
        address: String,
        /// The old database.
        #[arg(long, default_value = "feedlot")]
        database: String,
        /// The user on the old server.
        #[arg(long, default_value = "default")]
        user: String,
        /// Its password (from the environment, never the command line).
        #[arg(
            long,
            env = "INGEST_COPY_SOURCE_PASSWORD",
            hide_env_values = true,
            default_value = ""
        )]
        password: String,
    },
    /// The registry of gateways and the keys that may sign their feedlots' events (docs/
    /// security.md, "Gateway identity"). Consumers read changes within `security.
    /// registry_refresh_ms` (and at once for a key they do not know); no restart.
    #[command(subcommand)]
    Gateways(GatewaysCommand),
    /// Print the commented example configuration.
    PrintConfig,
    /// Load the configuration as `consume` would (file, then `INGEST_*` variables), validate
    /// it and print `ok`, or name the bad field and exit with code 3. Connects to nothing.
    CheckConfig,
    /// Print a completion script for a shell to stdout.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// `ingest gateways ...`.
#[derive(Subcommand)]
enum GatewaysCommand {
    /// Enrol a gateway's public key for one or more feedlots (as printed by `edge keygen` on
    /// the gateway). Enrolling a key again adds feedlots and re-activates it.
    #[command(after_help = "\
Examples:
  ingest gateways enroll --gateway gw-north --feedlot yard-7 --public-key bG9uZy1iYXNlNjQta2V5...
  ingest gateways enroll --gateway gw-north --feedlot yard-7 --feedlot yard-8 --public-key @gw-north.pub")]
    Enroll {
        /// The gateway id (its `gateway_id` config).
        #[arg(long)]
        gateway: String,
        /// A feedlot the key may write; repeat for several.
        #[arg(long = "feedlot", required = true)]
        feedlots: Vec<String>,
        /// The Ed25519 public key, standard base64, or `@FILE` holding it.
        #[arg(long, value_name = "BASE64|@FILE")]
        public_key: String,
        /// Who is making the change (kept in the registry).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
    /// Give a gateway a new key (after `edge keygen` made one): the new key may write every
    /// feedlot of the gateway's active keys at once; the old keys are still accepted until
    /// `--old-valid-for` has passed (for the outbox signed with them to drain), then refused.
    /// `revoke` ends them sooner.
    #[command(after_help = "\
Examples:
  ingest gateways rotate --gateway gw-north --public-key @gw-north-new.pub
  ingest gateways rotate --gateway gw-north --public-key bmV3LWtleQ... --old-valid-for 0h   # stolen: no overlap")]
    Rotate {
        /// The gateway id.
        #[arg(long)]
        gateway: String,
        /// The new public key, standard base64, or `@FILE` holding it.
        #[arg(long, value_name = "BASE64|@FILE")]
        public_key: String,
        /// How long the old keys stay valid, in hours (`24h` or `24`).
        #[arg(long, default_value = "24h", value_parser = parse_hours)]
        old_valid_for: u64,
        /// Who is making the change.
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
    /// Revoke one key of a gateway, or all of them: its events are refused (dead-lettered as
    /// `key revoked`) from the consumers' next registry read on, whenever they were signed.
    #[command(after_help = "\
Examples:
  ingest gateways revoke --gateway gw-north --key-id 3f2a9c0d1e4b5a67   # one key
  ingest gateways revoke --gateway gw-north                          # the whole gateway")]
    Revoke {
        /// The gateway id.
        #[arg(long)]
        gateway: String,
        /// The key to revoke (see `list`); every key of the gateway without it.
        #[arg(long)]
        key_id: Option<String>,
        /// Who is making the change.
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
    /// Print every gateway, key and feedlot of the registry with its status.
    #[command(after_help = "\
Examples:
  ingest --config /etc/feedlot/ingest.toml gateways list")]
    List,
}

/// `24h` or `24`: hours.
fn parse_hours(text: &str) -> Result<u64, String> {
    text.trim()
        .trim_end_matches('h')
        .parse()
        .map_err(|_| format!("not a number of hours: {text:?} (e.g. 24h)"))
}

/// A public key given as base64, or as `@FILE` holding it.
fn read_public_key(arg: &str) -> anyhow::Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("reading the public key from {path}"))?
            .trim()
            .to_owned()),
        None => Ok(arg.trim().to_owned()),
    }
}

/// Runs a `gateways` command against the configured ClickHouse (migrating first, so the
/// registry exists on a fresh database).
async fn gateways(config: &Config, command: GatewaysCommand) -> anyhow::Result<()> {
    use ingest::gateways as registry;
    let db = &config.clickhouse.database;
    ingest::schema::migrate_on(
        &ingest::sink::ddl_client(&config.clickhouse),
        db,
        config.clickhouse.cluster(),
    )
    .await
    .context("applying the migrations")?;
    let client = ingest::sink::client(&config.clickhouse);
    let rows = match command {
        GatewaysCommand::Enroll {
            gateway,
            feedlots,
            public_key,
            by,
        } => {
            let key = read_public_key(&public_key)?;
            registry::enroll(&client, db, &gateway, &feedlots, &key, &by)
                .await
                .context("enrolling")?
        }
        GatewaysCommand::Rotate {
            gateway,
            public_key,
            old_valid_for,
            by,
        } => {
            let key = read_public_key(&public_key)?;
            let until = registry::now_ms().saturating_add(old_valid_for.saturating_mul(3_600_000));
            registry::rotate(&client, db, &gateway, &key, until.max(1), &by)
                .await
                .context("rotating")?
        }
        GatewaysCommand::Revoke {
            gateway,
            key_id,
            by,
        } => registry::revoke(&client, db, &gateway, key_id.as_deref(), &by)
            .await
            .context("revoking")?,
        GatewaysCommand::List => registry::list(&client, db).await.context("listing")?,
    };
    print!("{}", registry::table(&rows));
    Ok(())
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // Colour codes only on a terminal, not in log files or the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
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
    let load = |path: Option<&Path>| Config::load(path).context("loading configuration");
    match cli.command {
        Command::PrintConfig => print!("{}", ingest::config::EXAMPLE_TOML),
        Command::Gateways(command) => {
            let config = load(cli.config.as_deref())?;
            gateways(&config, command).await?;
        }
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "ingest", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("writing the completion script")?;
        }
        Command::CheckConfig => {
            load(cli.config.as_deref())?;
            println!("{}", check_summary(cli.config.as_deref()));
        }
        Command::Migrate => {
            let config = load(cli.config.as_deref())?;
            let client = ingest::sink::ddl_client(&config.clickhouse);
            let applied = ingest::schema::migrate_on(
                &client,
                &config.clickhouse.database,
                config.clickhouse.cluster(),
            )
            .await?;
            println!("applied migrations: {applied:?}");
        }
        Command::CopyFrom {
            address,
            database,
            user,
            password,
        } => {
            let config = load(cli.config.as_deref())?;
            let client = ingest::sink::ddl_client(&config.clickhouse);
            let source = ingest::schema::copy::Source {
                address,
                database,
                user,
                password,
            };
            let report =
                ingest::schema::copy::copy_from(&client, &config.clickhouse.database, &source)
                    .await?;
            for t in report {
                let what = if t.copied_now {
                    "copied"
                } else {
                    "already there"
                };
                println!("{}: {} rows {what}", t.table, t.copied_rows);
            }
        }
        Command::Consume => {
            let config = load(cli.config.as_deref())?;
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("stopping");
                stop.cancel();
            });
            ingest::run_consumer(config, shutdown).await?;
        }
    }
    Ok(())
}

/// `check-config`'s line: `ok`, the file, and the fields the environment overrode.
fn check_summary(path: Option<&Path>) -> String {
    let source = match path {
        Some(path) => path.display().to_string(),
        None => "no file, the defaults".into(),
    };
    let overridden: Vec<String> = ENV_OVERRIDES
        .iter()
        .filter(|(var, _)| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
        .map(|(var, field)| format!("{field} ({var})"))
        .collect();
    if overridden.is_empty() {
        format!("ok: {source}")
    } else {
        format!(
            "ok: {source}; from the environment: {}",
            overridden.join(", ")
        )
    }
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
