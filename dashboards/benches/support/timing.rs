//! Timings of repeated runs: median and p95, and a table of ratios to a baseline measured in
//! the same run.

use std::future::Future;
use std::time::{Duration, Instant};

/// One target's timed runs.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What was timed.
    pub name: String,
    /// Each run's wall time.
    pub runs: Vec<Duration>,
}

impl Sample {
    /// An empty sample of `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            runs: Vec::new(),
        }
    }

    /// Runs `f` once and records its time; returns what it returned.
    pub async fn time<T, F: Future<Output = T>>(&mut self, f: F) -> T {
        let started = Instant::now();
        let out = f.await;
        self.runs.push(started.elapsed());
        out
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// The median run, ms (0 without runs).
    pub fn median_ms(&self) -> f64 {
        let ms = self.sorted_ms();
        match ms.len() {
            0 => 0.0,
            n if n % 2 == 1 => ms[n / 2],
            n => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
        }
    }

    /// The 95th percentile run (nearest rank), ms (0 without runs).
    pub fn p95_ms(&self) -> f64 {
        let ms = self.sorted_ms();
        if ms.is_empty() {
            return 0.0;
        }
        let rank = (0.95 * ms.len() as f64).ceil() as usize;
        ms[rank.clamp(1, ms.len()) - 1]
    }
}

/// A Markdown table: each sample's median and p95 and its median as a multiple of the
/// baseline's, the baseline first.
pub fn table(baseline: &Sample, samples: &[Sample]) -> String {
    let base = baseline.median_ms().max(f64::MIN_POSITIVE);
    let mut out = String::from(
        "| target | runs | median ms | p95 ms | median / baseline |\n|---|---:|---:|---:|---:|\n",
    );
    for s in std::iter::once(baseline).chain(samples) {
        let ratio = s.median_ms() / base;
        let digits = if ratio < 1.0 { 2 } else { 1 };
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {ratio:.digits$}× |\n",
            s.name,
            s.runs.len(),
            s.median_ms(),
            s.p95_ms(),
        ));
    }
    out
}
