//! The real `edge` binary with the embedded MQTT broker: its config, its log, its signals.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The device account every simulated truck uses.
pub const TRUCK_USER: (&str, &str) = ("truck", "truck-secret");

/// Trucks `T0`… `T{FLEET_MAX - 1}` publish as [`TRUCK_USER`] (`[mqtt.trucks]`).
pub const FLEET_MAX: usize = 64;

/// Ports and paths of one gateway run.
pub struct GatewaySetup {
    /// The feedlot it serves.
    pub feedlot_id: &'static str,
    /// The embedded broker's port.
    pub mqtt_port: u16,
    /// The local HTTP port (`/healthz`).
    pub http_port: u16,
    /// The data directory (outbox).
    pub data_dir: PathBuf,
    /// The config file written for it.
    pub config: PathBuf,
}

impl GatewaySetup {
    /// Writes a config in `dir`: embedded broker with [`TRUCK_USER`], Kafka at `bootstrap`.
    pub fn new(dir: &Path, feedlot_id: &'static str, bootstrap: &str, topic: &str) -> Self {
        let mqtt_port = testkit::free_port().unwrap();
        let http_port = testkit::free_port().unwrap();
        let data_dir = dir.join("data");
        let config = dir.join("edge.toml");
        std::fs::write(
            &config,
            format!(
                r#"feedlot_id = "{feedlot_id}"
gateway_id = "gw-{feedlot_id}"
data_dir = "{data}"
devices = []

[kafka]
brokers = "{bootstrap}"
topic = "{topic}"
message_timeout_ms = 5000
retry_backoff_initial_ms = 100
retry_backoff_max_ms = 1000

[http]
listen = "127.0.0.1:{http_port}"

[mqtt]
embedded = true
listen = "127.0.0.1:{mqtt_port}"

[mqtt.users]
{user} = "{password}"

[mqtt.trucks]
{user} = [{trucks}]
"#,
                data = data_dir.display(),
                user = TRUCK_USER.0,
                password = TRUCK_USER.1,
                trucks = (0..FLEET_MAX)
                    .map(|i| format!("\"T{i}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        )
        .unwrap();
        Self {
            feedlot_id,
            mqtt_port,
            http_port,
            data_dir,
            config,
        }
    }

    /// `GET /healthz`: the status code and the JSON, or None if nothing answers.
    pub async fn health(&self) -> Option<(u16, serde_json::Value)> {
        let url = format!("http://127.0.0.1:{}/healthz", self.http_port);
        let response = reqwest::get(&url).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or_default()))
    }
}

/// A running `edge run` process; its stdout and stderr lines are collected.
pub struct GatewayProcess {
    child: Child,
    /// Every line it logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl GatewayProcess {
    /// Starts the binary on `setup` and waits until its MQTT subscriber is connected.
    /// `EDGE_BIN` runs another build of the binary instead (to compare with an older one).
    pub async fn start(setup: &GatewaySetup) -> Self {
        let bin = std::env::var("EDGE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_edge").into());
        let mut child = Command::new(bin)
            .args(["run", "--config"])
            .arg(&setup.config)
            .env("RUST_LOG", "info,rdkafka=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let process = Self { child, log };
        let up = testkit::wait_until(Duration::from_secs(15), || async {
            setup.health().await.is_some() && !process.lines_with("MQTT connected").is_empty()
        })
        .await;
        assert!(
            up,
            "the gateway's MQTT link never came up:\n{}",
            process.log_text()
        );
        process
    }

    /// Everything logged so far, one line each.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Lines containing `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter().filter(|l| l.contains(needle)).cloned().collect()
    }

    /// Sends SIGTERM.
    pub async fn sigterm(&self) {
        let pid = self.child.id().unwrap().to_string();
        let term = Command::new("kill").args(["-TERM", &pid]).status().await;
        assert!(term.unwrap().success());
    }

    /// Waits up to `timeout` for the process to exit; None if it is still running.
    pub async fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()
            .map(|status| status.unwrap())
    }
}
