//! Polling a device that answers only when asked (`devices[].poll`): the command and interval
//! from the config, checked; and the loop that writes the command every interval.
//!
//! The reader ([`super::serial::DeviceReader::read_polled`]) runs [`write_polls`] beside its
//! reads; whichever ends first ends the session, and a poll never ends by itself: only a write
//! that fails, or is not done within the interval (at least [`MIN_POLL_WRITE_TIMEOUT`]), does.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How the gateway polls a device that answers only when asked (`devices[].poll`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    /// The bytes written to the port each time, as a TOML string: control characters with TOML
    /// escapes (`"\r"`, `"\n"`, `"\u0002"` for STX). 1 to 64 bytes. Example: `"{RP}\r"`
    /// (Tru-Test), `"P\r\n"`.
    pub command: String,
    /// Milliseconds between two polls (the first is sent as soon as the port opens; a poll
    /// that falls behind is delayed, never sent in a burst). 50 to 60000. Example: `200`.
    pub interval_ms: u64,
}

/// The accepted range of `devices[].poll.interval_ms`: faster would flood a 9600-baud line and
/// the indicator; slower would miss animals.
pub const POLL_INTERVAL_RANGE_MS: std::ops::RangeInclusive<u64> = 50..=60_000;

/// The longest accepted `devices[].poll.command`, in bytes.
pub const MAX_POLL_COMMAND_BYTES: usize = 64;

impl PollConfig {
    /// Checks the command and interval: `Err((field, reason))` names the bad field inside the
    /// `poll` table (`command` or `interval_ms`).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let len = self.command.len();
        if len == 0 || len > MAX_POLL_COMMAND_BYTES {
            return Err((
                "command",
                format!("must be 1 to {MAX_POLL_COMMAND_BYTES} bytes, is {len}"),
            ));
        }
        if !POLL_INTERVAL_RANGE_MS.contains(&self.interval_ms) {
            return Err((
                "interval_ms",
                format!(
                    "must be {} to {} (milliseconds)",
                    POLL_INTERVAL_RANGE_MS.start(),
                    POLL_INTERVAL_RANGE_MS.end()
                ),
            ));
        }
        Ok(())
    }

    /// What the reader writes, and how often.
    pub fn to_poll(&self) -> Poll {
        Poll {
            command: self.command.as_bytes().to_vec(),
            interval: Duration::from_millis(self.interval_ms),
        }
    }
}

/// The shortest time a poll command may take to be written before the write counts as failed
/// (longer when the poll interval is longer): a port that takes no bytes is a failed port.
pub const MIN_POLL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the gateway writes to a device that answers only when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// The bytes written each time.
    pub command: Vec<u8>,
    /// Time between two writes; the first is written at once.
    pub interval: Duration,
}

/// Writes `poll.command` to `sink` every `poll.interval` until a write fails; returns why.
pub(crate) async fn write_polls<W: AsyncWrite + Unpin>(poll: &Poll, mut sink: W) -> std::io::Error {
    let mut ticks = tokio::time::interval(poll.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let limit = poll.interval.max(MIN_POLL_WRITE_TIMEOUT);
    loop {
        ticks.tick().await;
        let write = async {
            sink.write_all(&poll.command).await?;
            sink.flush().await
        };
        let error = match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error,
            Err(_) => std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("not written within {} ms", limit.as_millis()),
            ),
        };
        return error;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use schemas::Weight;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::config::Config;
    use crate::readers::scale_shapes::ScaleParser;
    use crate::readers::serial::{DeviceReader, ReadEnd};
    use crate::readers::{LineParser, Reading};
    use crate::telemetry::Metrics;

    /// A Tru-Test-like indicator on `end`: answers each `{RP}\r` it reads with the next weight
    /// of `answers_kg`, and nothing else; returns how many polls it read.
    async fn polled_indicator(mut end: tokio::io::DuplexStream, answers_kg: Vec<f64>) -> usize {
        use tokio::io::AsyncReadExt;
        let mut polls = 0;
        let mut buf = Vec::new();
        let mut answers = answers_kg.into_iter();
        let mut chunk = [0u8; 64];
        while let Ok(n) = end.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Some(at) = buf.windows(5).position(|w| w == b"{RP}\r") {
                buf.drain(..at + 5);
                polls += 1;
                let answer = match answers.next() {
                    Some(kg) => format!("[WS{kg}]\r\n"),
                    None => "[]\r\n".into(),
                };
                if end.write_all(answer.as_bytes()).await.is_err() {
                    return polls;
                }
            }
        }
        polls
    }

    #[tokio::test]
    async fn a_polled_reader_writes_its_command_each_interval_and_reads_the_answers() {
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new(
            "scale-1",
            LineParser::Scale(ScaleParser::builtin().for_format(Some("tru_test")).unwrap()),
            tx,
        )
        .with_poll(Some(Poll {
            command: b"{RP}\r".to_vec(),
            interval: Duration::from_millis(50),
        }));
        let (gateway_end, indicator_end) = tokio::io::duplex(256);
        let indicator = tokio::spawn(polled_indicator(indicator_end, vec![412.5, 430.0, 398.0]));
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let (source, sink) = tokio::io::split(gateway_end);
            reader.read_polled(source, sink, &stop).await
        });
        let mut weights = Vec::new();
        while weights.len() < 3 {
            let r = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("an answer to a poll within 5 s")
                .unwrap();
            if let Reading::Weight(w) = r.reading {
                weights.push(w.stable_weight().unwrap());
            }
        }
        assert_eq!(
            weights,
            vec![
                Weight::from_kg(412.5),
                Weight::from_kg(430.0),
                Weight::from_kg(398.0)
            ]
        );
        shutdown.cancel();
        assert_eq!(task.await.unwrap().unwrap(), ReadEnd::Stopped);
        // The gateway's end is dropped: the indicator reads end of file.
        assert!(indicator.await.unwrap() >= 3);
    }

    #[tokio::test]
    async fn without_a_poll_a_silent_indicator_is_never_written_to() {
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new(
            "scale-1",
            LineParser::Scale(ScaleParser::builtin().for_format(Some("tru_test")).unwrap()),
            tx,
        );
        let (gateway_end, indicator_end) = tokio::io::duplex(256);
        let indicator = tokio::spawn(polled_indicator(indicator_end, vec![412.5]));
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let (source, sink) = tokio::io::split(gateway_end);
            reader.read_polled(source, sink, &stop).await
        });
        let got = tokio::time::timeout(Duration::from_millis(400), rx.recv()).await;
        assert!(got.is_err(), "a reading without a poll: {got:?}");
        shutdown.cancel();
        assert_eq!(task.await.unwrap().unwrap(), ReadEnd::Stopped);
        assert_eq!(indicator.await.unwrap(), 0);
    }

    /// A port whose writes fail.
    struct BrokenSink;

    impl AsyncWrite for BrokenSink {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// A port that never takes a byte (flow control held, a wedged driver).
    struct StuckSink;

    impl AsyncWrite for StuckSink {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Pending
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Pending
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_poll_write_that_never_finishes_fails_after_the_write_timeout() {
        let poll = Poll {
            command: b"{RP}\r".to_vec(),
            interval: Duration::from_millis(50),
        };
        let started = std::time::Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(5), write_polls(&poll, StuckSink))
            .await
            .expect("a stuck write is given up");
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= MIN_POLL_WRITE_TIMEOUT);
    }

    #[tokio::test]
    async fn a_failed_poll_write_is_counted_and_reports_the_device_down() {
        let (tx, _rx) = mpsc::channel(16);
        let metrics = Metrics::new();
        let inputs = crate::ops::Inputs::new();
        let reader = DeviceReader::new(
            "scale-1",
            LineParser::Scale(ScaleParser::builtin().for_format(Some("tru_test")).unwrap()),
            tx,
        )
        .with_metrics(metrics.clone())
        .with_input(inputs.register("serial:scale-1", "serial"))
        .with_poll(Some(Poll {
            command: b"{RP}\r".to_vec(),
            interval: Duration::from_millis(50),
        }));
        // The read side stays open and silent: only the write can end the session.
        let (_indicator_end, gateway_end) = tokio::io::duplex(64);
        let stopped = tokio::time::timeout(
            Duration::from_secs(5),
            reader.serve(
                Path::new("/dev/ttyS9"),
                gateway_end,
                BrokenSink,
                &CancellationToken::new(),
            ),
        )
        .await
        .expect("the session ends at the failed write");
        assert!(!stopped, "a failed port is reopened, not stopped");
        assert_eq!(metrics.device_errors("scale-1", "poll_write"), 1);
        let status = &inputs.snapshot()["serial:scale-1"];
        assert_eq!(status.state, crate::ops::InputState::Down);
        let detail = status.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("poll command write failed"), "{detail}");
        assert_eq!(status.interruptions, 1);
    }

    #[test]
    fn a_device_poll_is_read_from_the_file_and_each_unusable_value_names_its_field() {
        // `command` is a TOML string: the file's `\r` escape is a CR byte.
        let toml = |command: &str, interval_ms: u64| {
            format!(
                "[[devices]]\ndevice_id = \"s\"\npath = \"/dev/ttyS1\"\nrole = \"scale\"\n\
                 poll = {{ command = \"{command}\", interval_ms = {interval_ms} }}\n"
            )
        };
        let config = Config::from_toml(&toml("{RP}\\r", 200)).unwrap();
        let poll = config.devices[0].poll.clone().unwrap();
        assert_eq!(poll.command.as_bytes(), b"{RP}\r");
        assert_eq!(poll.interval_ms, 200);
        config.validate().unwrap();
        assert_eq!(Config::default().devices[1].poll, None);
        let longest = "P".repeat(MAX_POLL_COMMAND_BYTES);
        for ok in [toml(&longest, 50), toml("P", 60_000)] {
            Config::from_toml(&ok).unwrap().validate().unwrap();
        }
        let too_long = format!("{longest}P");
        for (bad, field) in [
            (toml("P", 49), "devices[0].poll.interval_ms"),
            (toml("P", 60_001), "devices[0].poll.interval_ms"),
            (toml("", 200), "devices[0].poll.command"),
            (toml(&too_long, 200), "devices[0].poll.command"),
        ] {
            let err = Config::from_toml(&bad).unwrap().validate().unwrap_err();
            assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
        }
        let unknown = toml("P", 200).replace("interval_ms", "every_ms");
        assert!(Config::from_toml(&unknown).is_err());
    }
}
