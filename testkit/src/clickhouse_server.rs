//! A private clickhouse-server process owned by one test, so the test can take it down.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::ClickHouseDb;

/// The packaged server config that a private server's config is derived from.
const SYSTEM_CONFIG_DIR: &str = "/etc/clickhouse-server";

/// A clickhouse-server process on free loopback ports with its data in a temp dir, as
/// `scripts/clickhouse.sh` starts the shared one. Killed when dropped. Data survives
/// [`ClickHouseServer::stop`] (SIGKILL) and [`ClickHouseServer::restart`].
pub struct ClickHouseServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    http_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The server executable: `CLICKHOUSE_SERVER_BIN`, else `clickhouse-server` on PATH.
fn server_bin() -> PathBuf {
    std::env::var_os("CLICKHOUSE_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| "clickhouse-server".into())
}

/// The packaged `config.xml` with every path under `dir` and the ports replaced.
fn private_config(system: &str, dir: &Path, http: u16, tcp: u16, interserver: u16) -> String {
    let d = dir.display();
    let mut out = String::with_capacity(system.len());
    for line in system.lines() {
        let t = line.trim();
        let replaced = if t == "<path>/var/lib/clickhouse/</path>" {
            format!("<path>{d}/data/</path>")
        } else if t.starts_with("<tmp_path>") {
            format!("<tmp_path>{d}/tmp/</tmp_path>")
        } else if t.starts_with("<user_files_path>") {
            format!("<user_files_path>{d}/user_files/</user_files_path>")
        } else if t.starts_with("<format_schema_path>") {
            format!("<format_schema_path>{d}/format_schemas/</format_schema_path>")
        } else if t.starts_with("<log>") {
            format!("<log>{d}/log/server.log</log>")
        } else if t.starts_with("<errorlog>") {
            format!("<errorlog>{d}/log/server.err.log</errorlog>")
        } else if t == "<http_port>8123</http_port>" {
            format!("<http_port>{http}</http_port>")
        } else if t == "<tcp_port>9000</tcp_port>" {
            format!("<tcp_port>{tcp}</tcp_port>")
        } else if t == "<interserver_http_port>9009</interserver_http_port>" {
            format!("<interserver_http_port>{interserver}</interserver_http_port>")
        } else if t == "<listen_host>::1</listen_host>" {
            String::new()
        } else {
            line.to_owned()
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    out
}

impl ClickHouseServer {
    /// Starts a server on free ports with an empty data directory and waits until it answers.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        for sub in ["data", "tmp", "user_files", "format_schemas", "log"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        let system = std::fs::read_to_string(Path::new(SYSTEM_CONFIG_DIR).join("config.xml"))
            .context(
                "read /etc/clickhouse-server/config.xml (apt-get install clickhouse-server)",
            )?;
        let (http, tcp, interserver) = (
            crate::free_port()?,
            crate::free_port()?,
            crate::free_port()?,
        );
        std::fs::write(
            dir.path().join("config.xml"),
            private_config(&system, dir.path(), http, tcp, interserver),
        )?;
        std::fs::copy(
            Path::new(SYSTEM_CONFIG_DIR).join("users.xml"),
            dir.path().join("users.xml"),
        )?;
        let mut server = Self {
            url: format!("http://127.0.0.1:{http}"),
            http_port: http,
            dir,
            child: None,
        };
        server.launch().await?;
        Ok(server)
    }

    /// The HTTP port.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("log/stdout.log"))?;
        let child = Command::new(server_bin())
            .arg(format!(
                "--config-file={}",
                self.dir.path().join("config.xml").display()
            ))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawn {}", server_bin().display()))?;
        self.child = Some(child);
        let client = clickhouse::Client::default()
            .with_url(&self.url)
            .with_validation(false);
        let up = crate::wait_until(Duration::from_secs(60), || {
            let client = client.clone();
            async move { client.query("SELECT 1").execute().await.is_ok() }
        })
        .await;
        if !up {
            bail!(
                "clickhouse-server did not answer on {} within 60 s; log: {}",
                self.url,
                self.log()
            );
        }
        Ok(())
    }

    /// The end of the server's error log, for failure messages.
    pub fn log(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("log/server.err.log")).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// A fresh database on this server, named after `test_name`.
    pub async fn create_db(&self, test_name: &str) -> anyhow::Result<ClickHouseDb> {
        ClickHouseDb::create_on(&self.url, test_name).await
    }

    /// Kills the server (SIGKILL: an outage, not a clean shutdown). Data is kept.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the server again on the same ports with the same data; waits until it answers.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.launch().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_config_moves_paths_and_ports_and_keeps_the_rest() {
        let system = "<yandex>\n    <log>/var/log/x.log</log>\n    <http_port>8123</http_port>\n    <tcp_port>9000</tcp_port>\n    <listen_host>::1</listen_host>\n    <path>/var/lib/clickhouse/</path>\n    <path>/clickhouse/task_queue/ddl</path>\n</yandex>";
        let out = private_config(system, Path::new("/t"), 1, 2, 3);
        assert!(out.contains("<log>/t/log/server.log</log>"));
        assert!(out.contains("<http_port>1</http_port>"));
        assert!(out.contains("<tcp_port>2</tcp_port>"));
        assert!(out.contains("<path>/t/data/</path>"));
        assert!(out.contains("<path>/clickhouse/task_queue/ddl</path>"));
        assert!(!out.contains("::1"));
    }
}
