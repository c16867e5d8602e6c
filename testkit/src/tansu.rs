//! A tansu broker process owned by one test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// A Kafka-protocol broker (tansu) on `127.0.0.1:<port>` with SQLite storage in a temp dir.
/// Killed when dropped. Storage survives [`Tansu::stop`] and [`Tansu::restart`].
pub struct Tansu {
    /// `host:port` to give Kafka clients as `bootstrap.servers`.
    pub bootstrap: String,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The tansu executable: `TANSU_BIN`, else `tansu` on PATH, else `~/.cargo/bin/tansu`.
fn tansu_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("TANSU_BIN") {
        return bin.into();
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("tansu"))
            .find(|p| p.is_file())
    }) {
        return found;
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cargo/bin/tansu")
}

/// Whether a listener other than the caller's own socket accepts a TCP connection on `addr`:
/// Linux connects a socket to itself when it connects to a free port in the ephemeral range
/// and happens to get that port as its own (a broker not listening yet looked up).
async fn accepts(addr: String) -> bool {
    match tokio::net::TcpStream::connect(addr).await {
        Ok(stream) => stream.local_addr().ok() != stream.peer_addr().ok(),
        Err(_) => false,
    }
}

impl Tansu {
    /// Starts a broker on a free port and waits until it accepts connections; a start that
    /// fails (the port taken between its choice and tansu's bind) is tried again on another
    /// port, twice.
    pub async fn start() -> anyhow::Result<Self> {
        let mut failed = Vec::new();
        for _ in 0..3 {
            match Self::start_on(crate::free_port()?).await {
                Ok(broker) => return Ok(broker),
                Err(error) => {
                    eprintln!("tansu did not start, trying another port: {error:#}");
                    failed.push(format!("{error:#}"));
                }
            }
        }
        bail!("tansu did not start on three ports: {}", failed.join("; "))
    }

    /// Starts a broker on `port` (e.g. one a gateway was already configured with).
    pub async fn start_on(port: u16) -> anyhow::Result<Self> {
        let mut broker = Self {
            bootstrap: format!("127.0.0.1:{port}"),
            port,
            dir: tempfile::tempdir()?,
            child: None,
        };
        broker.launch().await?;
        Ok(broker)
    }

    /// The port the broker listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // tansu resolves the SQLite path relative to its working directory.
        let db = "sqlite://tansu.db";
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("tansu.log"))?;
        let child = Command::new(tansu_bin())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", db])
            .current_dir(self.dir.path())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "spawn {} (install: cargo install tansu)",
                    tansu_bin().display()
                )
            })?;
        self.child = Some(child);
        let addr = self.bootstrap.clone();
        let up = crate::wait_until(Duration::from_secs(20), || accepts(addr.clone())).await;
        // Another process listening on the port answers too, while tansu, unable to bind it,
        // exits: it must still run a moment later.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let exited = match self.child.as_mut() {
            Some(child) => child.try_wait()?.is_some(),
            None => true,
        };
        if !up || exited {
            self.child = None;
            bail!(
                "tansu did not listen on {} within 20 s (exited: {exited}); log: {}",
                self.bootstrap,
                self.log()
            );
        }
        Ok(())
    }

    /// The broker's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }

    /// Creates a topic with `partitions` partitions using tansu's own CLI.
    pub async fn create_topic(&self, name: &str, partitions: i32) -> anyhow::Result<()> {
        let out = Command::new(tansu_bin())
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.bootstrap)])
            .output()
            .await?;
        if !out.status.success() {
            bail!(
                "tansu topic create {name} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Kills the broker (SIGKILL: an outage, not a clean shutdown). Storage is kept.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Whether the broker process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the broker again on the same port with the same storage.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.launch().await
    }
}
