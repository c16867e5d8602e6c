//! `dashboards`: the web pages, JSON API and benchmark bands over what `ingest` stored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;
use dashboards::Config;
use dashboards::config::{ConfigError, ENV_OVERRIDES};
use tokio_util::sync::CancellationToken;

/// Exit code: serving failed, or `hash-token` was given too short a token.
const RUNTIME_ERROR: u8 = 1;
/// Exit code: bad arguments (clap's own code).
const USAGE_ERROR: u8 = 2;
/// Exit code: the configuration cannot be used; the message names the field.
const BAD_CONFIG: u8 = 3;
/// Every exit code and its meaning: `--help` prints this list, `README.md` copies it.
const EXIT_CODES: [(u8, &str); 4] = [
    (0, "success"),
    (
        RUNTIME_ERROR,
        "runtime error (e.g. the listen address is taken)",
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
  dashboards print-config > dashboards.toml          # the commented defaults, to edit
  dashboards --config dashboards.toml check-config   # file + DASHBOARDS_* overrides + users file
  dashboards hash-token --generate                   # a new user token and its token_sha256
  dashboards --config dashboards.toml login-link --user sandhills-manager --base https://feedlot.example
  dashboards --config dashboards.toml set-yard --feedlot sandhills --region US-NE --latitude-deg 42.1 --longitude-deg -100.5
  DASHBOARDS_WEB_USERS_FILE=/etc/feedlot-users/users.toml dashboards --config dashboards.toml serve
  dashboards --config dashboards.toml rebuild-facts --feedlot sandhills   # after an upgrade, or to repair
  dashboards completions zsh > ~/.zfunc/_dashboards
";

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
    /// Load the configuration as `serve` would (file, `DASHBOARDS_*` variables, users file),
    /// validate it and print `ok`, or name the bad field and exit with code 3. Connects to
    /// nothing.
    CheckConfig,
    /// Print the SHA-256 of a web user's token, read from stdin, for `[[web.users]]
    /// token_sha256`; `--generate` makes a new random token and prints both.
    HashToken {
        /// Make a new token (32 random bytes, hex) instead of reading one.
        #[arg(long)]
        generate: bool,
    },
    /// Print a one-time sign-in link for a web user: `<base>/login?code=…`, valid for
    /// `--minutes`, usable once. Signed with `web.session_secret`, which must be set and the
    /// same as the servers'. Connects to nothing.
    LoginLink {
        /// The user's name, as in `[[web.users]]`.
        #[arg(long)]
        user: String,
        /// How long the link works, minutes (1 to 60).
        #[arg(long, default_value_t = 15)]
        minutes: u32,
        /// The site's address, e.g. `https://feedlot.example`; default `http://<web.listen>`.
        #[arg(long)]
        base: Option<String>,
        /// The page to open after signing in, a path on the site.
        #[arg(long, default_value = "/")]
        next: String,
    },
    /// Set a yard's benchmark region and position in the cloud's registry (`yard_registry`),
    /// or take it out of the benchmarks with `--remove`. The bands place yards by this
    /// registry only, never by what a gateway reports; a yard not in it is nobody's peer.
    /// Needs ClickHouse and the schema (`ingest migrate`).
    SetYard {
        /// The yard's feedlot id.
        #[arg(long)]
        feedlot: String,
        /// The region it benchmarks in, e.g. `US-NE`.
        #[arg(long, required_unless_present = "remove")]
        region: Option<String>,
        /// Latitude, WGS 84 degrees (north positive).
        #[arg(
            long,
            allow_negative_numbers = true,
            required_unless_present = "remove"
        )]
        latitude_deg: Option<f64>,
        /// Longitude, WGS 84 degrees (east positive).
        #[arg(
            long,
            allow_negative_numbers = true,
            required_unless_present = "remove"
        )]
        longitude_deg: Option<f64>,
        /// Take the yard out of the benchmarks (it then sees no bands and is in none).
        #[arg(long, conflicts_with_all = ["region", "latitude_deg", "longitude_deg"])]
        remove: bool,
        /// Who is setting it, recorded with the row.
        #[arg(long, env = "USER", default_value = "dashboards set-yard")]
        by: String,
    },
    /// Recompute yards' daily facts (docs/facts.md) from their first record: after upgrading
    /// to a release that adds them, or to repair. `serve` keeps them up to date itself.
    /// Needs ClickHouse and the schema (`ingest migrate`).
    RebuildFacts {
        /// A yard to rebuild (repeat for more); default every yard with records.
        #[arg(long)]
        feedlot: Vec<String>,
    },
    /// Run only the facts worker (no pages), until Ctrl-C or SIGTERM: for a deployment that
    /// keeps it apart from the web replicas (set `facts.enabled = false` in theirs). Its
    /// `/metrics` and `/healthz` are on `web.ops_listen` when set.
    FactsWorker,
    /// Run only the alerts worker (docs/alerts.md: evaluate every yard's rules, deliver by
    /// webhook and email), until Ctrl-C or SIGTERM: for a deployment that keeps it apart
    /// from the web replicas (set `alerts.enabled = false` in theirs). Its `/metrics` and
    /// `/healthz` are on `web.ops_listen` when set.
    AlertsWorker,
    /// Print a completion script for a shell to stdout.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// Shortest token `hash-token` accepts: a token is the user's whole credential.
const MIN_TOKEN_CHARS: usize = 20;

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
        Command::PrintConfig => {
            print!("{}", dashboards::config::EXAMPLE_TOML);
            Ok(())
        }
        Command::HashToken { generate } => hash_token(generate),
        Command::LoginLink {
            user,
            minutes,
            base,
            next,
        } => {
            let config = load(cli.config.as_deref())?;
            if config.web.session_secret.is_empty() {
                anyhow::bail!(
                    "login-link needs web.session_secret (DASHBOARDS_WEB_SESSION_SECRET), the \
                     same as the servers'"
                );
            }
            let auth = dashboards::web::Auth::from_config(&config.web)?;
            let path = auth.login_link(&user, minutes, &next)?;
            let base = base.unwrap_or_else(|| format!("http://{}", config.web.listen));
            println!("{}{path}", base.trim_end_matches('/'));
            Ok(())
        }
        Command::SetYard {
            feedlot,
            region,
            latitude_deg,
            longitude_deg,
            remove,
            by,
        } => {
            let config = load(cli.config.as_deref())?;
            let client =
                ingest::sink::client(&config.clickhouse).with_database(&config.clickhouse.database);
            let entry = dashboards::benchmarks::RegistryEntry {
                feedlot_id: feedlot,
                region: region.unwrap_or_default(),
                latitude_deg: latitude_deg.unwrap_or_default(),
                longitude_deg: longitude_deg.unwrap_or_default(),
                peer: u8::from(!remove),
                set_by: by,
                set_at_ms: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0),
            };
            dashboards::benchmarks::registry::set(&client, std::slice::from_ref(&entry))
                .await
                .context("setting the registry entry (has `ingest migrate` run?)")?;
            if remove {
                println!("{}: out of the benchmarks", entry.feedlot_id);
            } else {
                println!(
                    "{}: region {}, {}°, {}°",
                    entry.feedlot_id, entry.region, entry.latitude_deg, entry.longitude_deg
                );
            }
            Ok(())
        }
        Command::RebuildFacts { feedlot } => {
            let config = load(cli.config.as_deref())?;
            let client =
                ingest::sink::client(&config.clickhouse).with_database(&config.clickhouse.database);
            let yards = dashboards::facts::worker::rebuild(&client, &feedlot)
                .await
                .context("rebuilding facts (has `ingest migrate` run?)")?;
            println!("facts rebuilt for {yards} yard(s)");
            Ok(())
        }
        Command::FactsWorker => {
            let config = load(cli.config.as_deref())?;
            dashboards::run_facts_worker(config, cancelled_on_signal()).await?;
            Ok(())
        }
        Command::AlertsWorker => {
            let config = load(cli.config.as_deref())?;
            dashboards::run_alerts_worker(config, cancelled_on_signal())
                .await
                .context("running the alerts worker")?;
            Ok(())
        }
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "dashboards", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("writing the completion script")
        }
        Command::CheckConfig => {
            let config = load(cli.config.as_deref())?;
            println!("{}", check_summary(cli.config.as_deref(), &config));
            Ok(())
        }
        Command::Serve => {
            let config = load(cli.config.as_deref())?;
            warn_about_web_users(&config);
            let shutdown = cancelled_on_signal();
            dashboards::serve(config, shutdown).await?;
            Ok(())
        }
    }
}

/// A token cancelled at Ctrl-C or SIGTERM (logged as "stopping").
fn cancelled_on_signal() -> CancellationToken {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping");
        stop.cancel();
    });
    shutdown
}

/// `check-config`'s line: `ok`, the file, the fields the environment overrode, and how many
/// web users there are (none means every page answers 401).
fn check_summary(path: Option<&Path>, config: &Config) -> String {
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
    line += &format!("; {} web user(s)", config.web.users.len());
    line
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
