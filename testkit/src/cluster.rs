//! The whole replicated test cluster of `scripts/cluster.sh`, owned by one test: 3 ZooKeeper
//! nodes, ClickHouse 2 shards × 2 replicas (cluster `feedlot`), PostgreSQL under 2 tansu
//! brokers, and optionally 2 consumers and 2 web replicas. Stopped when dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::process::Command;

/// Every part of the cluster, by the script's names.
pub const PARTS: &[&str] = &[
    "zk1",
    "zk2",
    "zk3",
    "ch-s1r1",
    "ch-s1r2",
    "ch-s2r1",
    "ch-s2r2",
    "pg",
    "broker1",
    "broker2",
    "consumer1",
    "consumer2",
    "web1",
    "web2",
];

/// The ClickHouse servers, by the script's names.
pub const CLICKHOUSE_SERVERS: &[&str] = &["ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"];

/// A running test cluster (see the module doc).
pub struct Cluster {
    dir: tempfile::TempDir,
    port_base: u16,
    apps: Option<(PathBuf, PathBuf)>,
    web_feedlots: String,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh")
}

/// A port base whose range (base .. base+600) looks free now.
fn free_base() -> anyhow::Result<u16> {
    let probes = [
        1, 2, 3, 11, 101, 102, 103, 104, 111, 121, 200, 301, 302, 401, 501,
    ];
    for _ in 0..50 {
        let base = 21_000 + 1_000 * (uuid::Uuid::now_v7().as_u128() % 40) as u16;
        let free = probes
            .iter()
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", base + p)).is_ok());
        if free {
            return Ok(base);
        }
    }
    bail!("no free port range for a cluster")
}

impl Cluster {
    /// Starts the infrastructure only (no consumers or web replicas).
    pub async fn start() -> anyhow::Result<Self> {
        Self::launch(None, 4, "").await
    }

    /// Starts everything, the applications from these binaries, with `partitions` partitions
    /// for the events topic and a web user (token `WEB_TOKEN`) who reads `web_feedlots`
    /// (comma-separated).
    pub async fn start_with_apps(
        ingest_bin: &Path,
        dashboards_bin: &Path,
        partitions: u32,
        web_feedlots: &str,
    ) -> anyhow::Result<Self> {
        Self::launch(
            Some((ingest_bin.to_owned(), dashboards_bin.to_owned())),
            partitions,
            web_feedlots,
        )
        .await
    }

    /// Starts a cluster; a start that fails (a part that never became ready, a port taken
    /// meanwhile) is shown on stderr and tried once more on fresh ports and a fresh directory.
    async fn launch(
        apps: Option<(PathBuf, PathBuf)>,
        partitions: u32,
        web_feedlots: &str,
    ) -> anyhow::Result<Self> {
        match Self::launch_once(apps.clone(), partitions, web_feedlots).await {
            Ok(cluster) => Ok(cluster),
            Err(first) => {
                eprintln!("testkit: the cluster did not start; trying once more: {first:#}");
                Self::launch_once(apps, partitions, web_feedlots)
                    .await
                    .with_context(|| format!("the first attempt: {first:#}"))
            }
        }
    }

    async fn launch_once(
        apps: Option<(PathBuf, PathBuf)>,
        partitions: u32,
        web_feedlots: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("cluster-").tempdir()?;
        let mut cluster = Self {
            dir,
            port_base: free_base()?,
            apps,
            web_feedlots: web_feedlots.to_owned(),
            env: HashMap::new(),
        };
        let partitions = partitions.to_string();
        let mut args = vec!["start"];
        if cluster.apps.is_none() {
            args.push("--no-apps");
        }
        let output = cluster
            .command(&args)
            .env("CLUSTER_KAFKA_PARTITIONS", &partitions)
            .output()
            .await
            .context("running scripts/cluster.sh start")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "cluster did not start: {}\n{}",
                stdout,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        cluster.env = stdout
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok(cluster)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("bash");
        command
            .arg(script())
            .args(args)
            .env("CLUSTER_DIR", self.dir.path())
            .env("CLUSTER_PORT_BASE", self.port_base.to_string())
            .stdin(Stdio::null());
        if let Some((ingest, dashboards)) = &self.apps {
            command
                .env("INGEST_BIN", ingest)
                .env("DASHBOARDS_BIN", dashboards)
                .env("CLUSTER_WEB_FEEDLOTS", &self.web_feedlots);
        }
        command
    }

    /// A value the script printed (`scripts/cluster.sh env`), e.g. `KAFKA_BROKERS`.
    pub fn get(&self, key: &str) -> anyhow::Result<&str> {
        self.env
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("the cluster script printed no {key}"))
    }

    /// Every broker, comma-separated.
    pub fn kafka_brokers(&self) -> anyhow::Result<&str> {
        self.get("KAFKA_BROKERS")
    }

    /// Every ClickHouse server's HTTP URL, comma-separated.
    pub fn clickhouse_urls(&self) -> anyhow::Result<&str> {
        self.get("CLICKHOUSE_URLS")
    }

    /// One ClickHouse server's HTTP URL, by name (`ch-s1r1`).
    pub fn clickhouse_url(&self, server: &str) -> anyhow::Result<&str> {
        let key = format!(
            "CLICKHOUSE_{}_URL",
            server.trim_start_matches("ch-").to_uppercase()
        );
        self.env
            .get(&key)
            .map(String::as_str)
            .with_context(|| format!("the cluster script printed no {key}"))
    }

    /// The last `lines` lines of a part's own log (`consumer1`: its stdout and stderr), or why
    /// there are none: what a failed test prints to say what the part was doing.
    pub fn log_tail(&self, name: &str, lines: usize) -> String {
        let path = self.dir.path().join(name).join(format!("{name}.log"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let all: Vec<&str> = text.lines().collect();
                all[all.len().saturating_sub(lines)..].join("\n")
            }
            Err(e) => format!("no log at {}: {e}", path.display()),
        }
    }

    /// Runs one of the script's per-part commands: `kill`, `freeze`, `thaw`, `start-one`.
    pub async fn part(&self, action: &str, name: &str) -> anyhow::Result<()> {
        let output = self.command(&[action, name]).output().await?;
        if !output.status.success() {
            bail!(
                "cluster.sh {action} {name} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// The cluster's directory (data, logs, pid files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    /// Stops every part, unless `TESTKIT_KEEP_CLUSTER` is set (to look into a failed test).
    fn drop(&mut self) {
        if std::env::var_os("TESTKIT_KEEP_CLUSTER").is_some() {
            eprintln!(
                "TESTKIT_KEEP_CLUSTER: cluster left running in {} (port base {})",
                self.dir.path().display(),
                self.port_base
            );
            self.dir.disable_cleanup(true);
            return;
        }
        let mut command = std::process::Command::new("bash");
        command
            .arg(script())
            .arg("stop")
            .env("CLUSTER_DIR", self.dir.path())
            .env("CLUSTER_PORT_BASE", self.port_base.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = command.status();
    }
}
