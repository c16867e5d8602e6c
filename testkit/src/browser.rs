//! Headless Chromium for page tests: the DOM after the browser has loaded and laid out a page.

use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::process::Command;

/// The browser binary: `CHROMIUM_BIN`, else `/usr/bin/chromium` (Debian's `chromium`).
fn chromium_bin() -> String {
    std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

async fn headless(url: &str, extra: &[&str]) -> anyhow::Result<std::process::Output> {
    let profile = tempfile::tempdir()?;
    let out = Command::new(chromium_bin())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("run {} (apt-get install chromium)", chromium_bin()))?;
    if !out.status.success() {
        bail!(
            "chromium failed on {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// The page's DOM as Chromium serializes it after loading `url`.
pub async fn dump_dom(url: &str) -> anyhow::Result<String> {
    let out = headless(url, &["--dump-dom"]).await?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The page's DOM after `budget_ms` of the page's (virtual) time: for a page whose script
/// does something after loading (a test harness filling and submitting a form in a frame).
pub async fn dump_dom_after(url: &str, budget_ms: u32) -> anyhow::Result<String> {
    let budget = format!("--virtual-time-budget={budget_ms}");
    let out = headless(url, &["--dump-dom", &budget]).await?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A PNG screenshot of `url` at `width`×`height`, as bytes.
pub async fn screenshot(url: &str, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("page.png");
    headless(
        url,
        &[
            &format!("--window-size={width},{height}"),
            &format!("--screenshot={}", path.display()),
        ],
    )
    .await?;
    Ok(std::fs::read(&path)?)
}
