//! The local services the demo's pipeline needs — a Kafka-protocol broker (tansu) and
//! ClickHouse — and starting them with `scripts/services.sh` when they do not answer.
//!
//! The script installs what is missing (first run), starts both in the background with their
//! data under the workspace's `.data/`, and leaves them running: the demo does not stop them on
//! Ctrl-C, so the next run starts at once. `bash scripts/services.sh stop` stops what the
//! script started.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the services may take to answer once the script has returned.
const ANSWER_WAIT: Duration = Duration::from_secs(60);
/// How often a running script is reported as still running.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// What the demo does about the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// Both answer: run the whole pipeline.
    Ready,
    /// Run the script (`missing` names what does not answer), then the whole pipeline.
    Start {
        /// `scripts/services.sh`.
        script: PathBuf,
        /// The services that do not answer.
        missing: Vec<&'static str>,
        /// The broker's port (`KAFKA_PORT` for the script).
        kafka_port: u16,
        /// ClickHouse's HTTP port (`CLICKHOUSE_HTTP_PORT` for the script).
        clickhouse_port: u16,
    },
    /// The gateway only, for `reason`.
    GatewayOnly {
        /// Why, and what to run instead.
        reason: String,
    },
}

/// A loopback `host:port`'s port; `None` for another host or no port.
fn loopback_port(addr: &str) -> Option<u16> {
    let first = addr.split(',').next().unwrap_or(addr).trim();
    let (host, port) = first.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "127.0.0.1" | "localhost" | "::1")
        .then(|| port.parse().ok())
        .flatten()
}

/// Decides what to do: `broker_up` / `clickhouse_up` say what answers at `kafka` (the
/// gateway's brokers) and `clickhouse` (`host:port`); `start` is false with `--no-services`;
/// `script` is `scripts/services.sh` when the workspace is there.
pub(super) fn plan(
    broker_up: bool,
    clickhouse_up: bool,
    start: bool,
    kafka: &str,
    clickhouse: &str,
    script: Option<&Path>,
) -> Plan {
    if broker_up && clickhouse_up {
        return Plan::Ready;
    }
    let mut missing = Vec::new();
    if !broker_up {
        missing.push("tansu");
    }
    if !clickhouse_up {
        missing.push("ClickHouse");
    }
    let what = missing.join(" and ");
    if !start {
        return Plan::GatewayOnly {
            reason: format!(
                "--no-services: not starting {what}. To run the whole pipeline: bash scripts/services.sh, then run this demo again."
            ),
        };
    }
    let (Some(kafka_port), Some(clickhouse_port)) =
        (loopback_port(kafka), loopback_port(clickhouse))
    else {
        return Plan::GatewayOnly {
            reason: format!(
                "The demo starts services only on this machine (127.0.0.1); start {what} at {kafka} / {clickhouse} yourself, then run this demo again."
            ),
        };
    };
    let Some(script) = script else {
        return Plan::GatewayOnly {
            reason: format!(
                "Cannot start {what}: scripts/services.sh is not beside this binary. From a checkout of the workspace run `bash scripts/services.sh`, then this demo again."
            ),
        };
    };
    Plan::Start {
        script: script.to_path_buf(),
        missing,
        kafka_port,
        clickhouse_port,
    }
}

/// `scripts/services.sh` of the workspace this binary was built from, if it is there.
pub(super) fn script() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services.sh");
    path.is_file()
        .then(|| std::fs::canonicalize(&path).unwrap_or(path))
}

/// Whether `program` is on `PATH` (or in `~/.cargo/bin`, where `cargo install` puts tansu).
fn installed(program: &str) -> bool {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.iter().any(|dir| dir.join(program).is_file())
}

/// What the script will install first, with how long it takes.
fn to_install() -> Vec<&'static str> {
    let mut install = Vec::new();
    if !installed("clickhouse-server") {
        install.push("ClickHouse (Debian packages, a minute or two)");
    }
    if !installed("tansu") {
        install.push("the tansu broker (built from crates.io, about 15 minutes on two cores)");
    }
    install
}

/// Runs the script, its output streamed to the terminal, with a progress line every
/// [`PROGRESS_EVERY`]; then waits until `answers` says both answer. `Err` says what failed.
pub(super) async fn start<F, Fut>(
    script: &Path,
    missing: &[&str],
    kafka_port: u16,
    clickhouse_port: u16,
    answers: F,
) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let install = to_install();
    let verb = if install.is_empty() {
        println!(
            "Starting {} with {} (ClickHouse on :{clickhouse_port}, tansu on :{kafka_port}, data under .data/)…",
            missing.join(" and "),
            script.display()
        );
        "starting the services"
    } else {
        println!(
            "First run: installing {} with {}, then starting ClickHouse on :{clickhouse_port} and tansu on :{kafka_port}. \
             This can take {} minutes; the script's output follows.",
            install.join(" and "),
            script.display(),
            if install.len() > 1 || install[0].contains("tansu") {
                "about 15"
            } else {
                "a couple of"
            }
        );
        "installing"
    };
    let mut child = tokio::process::Command::new("bash")
        .arg(script)
        .env("KAFKA_PORT", kafka_port.to_string())
        .env("CLICKHOUSE_HTTP_PORT", clickhouse_port.to_string())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run bash {}: {e}", script.display()))?;
    let began = tokio::time::Instant::now();
    let mut progress = tokio::time::interval_at(began + PROGRESS_EVERY, PROGRESS_EVERY);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = progress.tick() => {
                let secs = began.elapsed().as_secs();
                println!("… still {verb} ({}:{:02} so far)", secs / 60, secs % 60);
            }
        }
    }
    .map_err(|e| format!("{}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!(
            "{} failed ({status}); see its output above",
            script.display()
        ));
    }
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    while !answers().await {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the services did not answer within {} s of {} (logs: .data/clickhouse/log, .data/tansu/broker.log)",
                ANSWER_WAIT.as_secs(),
                script.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let stop = script.display();
    println!(
        "Services up ({}:{:02}). They keep running after the demo (Ctrl-C stops the yard, not them) so the next run starts at once; stop them with: bash {stop} stop",
        began.elapsed().as_secs() / 60,
        began.elapsed().as_secs() % 60
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAFKA: &str = "127.0.0.1:9092";
    const CH: &str = "127.0.0.1:8123";

    fn script() -> Option<&'static Path> {
        Some(Path::new("/ws/scripts/services.sh"))
    }

    #[test]
    fn both_answering_needs_nothing_started() {
        assert_eq!(plan(true, true, true, KAFKA, CH, script()), Plan::Ready);
        assert_eq!(plan(true, true, false, KAFKA, CH, None), Plan::Ready);
    }

    #[test]
    fn a_missing_local_service_runs_the_script_with_its_ports() {
        for (broker, clickhouse, missing) in [
            (false, false, vec!["tansu", "ClickHouse"]),
            (false, true, vec!["tansu"]),
            (true, false, vec!["ClickHouse"]),
        ] {
            assert_eq!(
                plan(
                    broker,
                    clickhouse,
                    true,
                    "localhost:19092",
                    "127.0.0.1:18123",
                    script()
                ),
                Plan::Start {
                    script: PathBuf::from("/ws/scripts/services.sh"),
                    missing,
                    kafka_port: 19092,
                    clickhouse_port: 18123,
                }
            );
        }
    }

    #[test]
    fn no_services_no_script_or_remote_addresses_run_the_gateway_only_and_say_why() {
        let reason = |plan: Plan| match plan {
            Plan::GatewayOnly { reason } => reason,
            other => panic!("{other:?}"),
        };
        let flag = reason(plan(false, true, false, KAFKA, CH, script()));
        assert!(
            flag.contains("--no-services") && flag.contains("tansu"),
            "{flag}"
        );
        assert!(!flag.contains("ClickHouse"), "{flag}");
        let installed = reason(plan(false, false, true, KAFKA, CH, None));
        assert!(
            installed.contains("bash scripts/services.sh"),
            "{installed}"
        );
        let remote = reason(plan(false, true, true, "kafka.example:9092", CH, script()));
        assert!(remote.contains("kafka.example:9092"), "{remote}");
        let remote = reason(plan(true, false, true, KAFKA, "ch.example:8123", script()));
        assert!(remote.contains("only on this machine"), "{remote}");
    }

    #[test]
    fn the_workspace_script_is_found() {
        let found = super::script().expect("scripts/services.sh in this workspace");
        assert!(
            found.ends_with("scripts/services.sh"),
            "{}",
            found.display()
        );
    }
}
