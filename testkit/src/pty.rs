//! Linked pseudo-terminal pairs: a serial cable for tests.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// Two pseudo-terminals joined by socat: bytes written to one end are read at the other, as
/// over a null-modem cable. Both ends open like serial ports (tokio-serial). socat is killed on drop.
pub struct PtyPair {
    /// The end a simulated device writes to.
    pub device_end: PathBuf,
    /// The end the gateway opens as its serial port.
    pub host_end: PathBuf,
    _dir: tempfile::TempDir,
    _child: Child,
}

impl PtyPair {
    /// Creates the pair and waits until both links exist.
    pub async fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let device_end = dir.path().join("device");
        let host_end = dir.path().join("host");
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", device_end.display()))
            .arg(format!("pty,raw,echo=0,link={}", host_end.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("spawn socat (install: apt-get install socat)")?;
        let (d, h) = (device_end.clone(), host_end.clone());
        let ready = crate::wait_until(Duration::from_secs(10), || {
            let (d, h) = (d.clone(), h.clone());
            async move { d.exists() && h.exists() }
        })
        .await;
        if !ready {
            bail!(
                "socat did not create {} and {}",
                device_end.display(),
                host_end.display()
            );
        }
        Ok(Self {
            device_end,
            host_end,
            _dir: dir,
            _child: child,
        })
    }
}
