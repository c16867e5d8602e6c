//! Reading a device: a serial port opened with tokio-serial and reopened after errors, or any
//! [`AsyncRead`] (a pipe in unit tests, a pseudo-terminal in integration tests).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_serial::SerialPortBuilderExt;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::line::{Frame, LineCodec};
use super::{DeviceReading, LineParser, ParseError};
use crate::backoff::Backoff;
use crate::ops::InputHandle;
use crate::telemetry::Metrics;
use crate::telemetry::events::LineRejected;

/// First delay before reopening a failed port.
const REOPEN_INITIAL: Duration = Duration::from_millis(200);
/// Longest delay between reopen attempts.
const REOPEN_MAX: Duration = Duration::from_secs(5);

/// How a read of a device ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// The source reached end of file (the cable or pty went away).
    Eof,
    /// Shutdown was requested, or nobody consumes readings any more.
    Stopped,
}

/// Reads one device's lines, parses them and sends the readings on.
#[derive(Debug, Clone)]
pub struct DeviceReader {
    device_id: Arc<str>,
    parser: LineParser,
    readings: mpsc::Sender<DeviceReading>,
    metrics: Metrics,
    input: Option<Arc<InputHandle>>,
}

impl DeviceReader {
    /// A reader for `device_id` with its parser, sending to `readings`.
    pub fn new(device_id: &str, parser: LineParser, readings: mpsc::Sender<DeviceReading>) -> Self {
        Self {
            device_id: device_id.into(),
            parser,
            readings,
            metrics: Metrics::new(),
            input: None,
        }
    }

    /// Reports the port's state (open: `up`, failing: `down`) through `input`; the input turns
    /// `stopped` when the last clone of this reader is dropped.
    pub fn with_input(mut self, input: InputHandle) -> Self {
        self.input = Some(Arc::new(input));
        self
    }

    fn report_up(&self, path: &Path) {
        if let Some(input) = &self.input {
            input.up(Some(path.display().to_string()));
        }
    }

    fn report_down(&self, reason: String) {
        if let Some(input) = &self.input {
            input.down(reason);
        }
    }

    /// Counts this device's rejected lines in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Reads `source` until end of file, an I/O error, or `shutdown`. Bad lines are logged and
    /// skipped; they never end the read.
    pub async fn read_from<R: AsyncRead + Unpin>(
        &self,
        source: R,
        shutdown: &CancellationToken,
    ) -> std::io::Result<ReadEnd> {
        let mut frames = FramedRead::new(source, LineCodec::new());
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return Ok(ReadEnd::Stopped),
                next = frames.next() => next,
            };
            let frame = match next {
                None => return Ok(ReadEnd::Eof),
                Some(frame) => frame?,
            };
            let (received_at, received_instant) = (Utc::now(), Instant::now());
            let parsed = match frame {
                Frame::Line(line) => self.parser.parse(&line).map_err(|e| (e, line)),
                Frame::Invalid(e) => Err((ParseError::from(e), String::new())),
            };
            let reading = match parsed {
                Ok(Some(reading)) => reading,
                Ok(None) => continue,
                Err((error, line)) => {
                    LineRejected {
                        device: &self.device_id,
                        reason: error.reason(),
                        error: &error,
                        line: &line,
                    }
                    .emit(&self.metrics);
                    continue;
                }
            };
            let reading = DeviceReading {
                device_id: self.device_id.clone(),
                received_at,
                received_instant,
                reading,
            };
            if self.readings.send(reading).await.is_err() {
                return Ok(ReadEnd::Stopped);
            }
        }
    }

    /// Opens the serial port at `path` and reads it; reopens with back-off after an error or
    /// end of file, until `shutdown`.
    pub async fn run_serial(&self, path: &Path, baud_rate: u32, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(REOPEN_INITIAL, REOPEN_MAX);
        let device = self.device_id.clone();
        while !shutdown.is_cancelled() {
            let opened = tokio_serial::new(path.to_string_lossy(), baud_rate).open_native_async();
            let delay = match opened {
                Ok(port) => {
                    tracing::info!(%device, path = %path.display(), baud_rate, "serial port open");
                    self.report_up(path);
                    backoff.reset();
                    match self.read_from(port, &shutdown).await {
                        Ok(ReadEnd::Stopped) => return,
                        Ok(ReadEnd::Eof) => {
                            tracing::warn!(%device, "serial port closed; reopening");
                            self.report_down("serial port closed; reopening".into());
                        }
                        Err(error) => {
                            tracing::warn!(%device, %error, "serial read failed; reopening");
                            self.report_down(format!("serial read failed: {error}"));
                        }
                    }
                    backoff.next_delay()
                }
                Err(error) => {
                    let delay = backoff.next_delay();
                    self.report_down(format!("cannot open {}: {error}", path.display()));
                    tracing::warn!(%device, path = %path.display(), %error, retry_in_ms = delay.as_millis() as u64, "cannot open serial port");
                    delay
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::Reading;
    use crate::readers::rfid::RfidParser;
    use crate::readers::scale::ScaleFormat;
    use schemas::{Eid, Weight};
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn rfid_bytes_from_a_pipe_become_tag_readings_and_garbage_is_skipped_and_counted() {
        let (tx, mut rx) = mpsc::channel(16);
        let metrics = Metrics::new();
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx)
            .with_metrics(metrics.clone());
        let (mut write, read) = tokio::io::duplex(64);
        let task =
            tokio::spawn(async move { reader.read_from(read, &CancellationToken::new()).await });
        write
            .write_all(b"LA 982 000001088420\r\n\xff\xfe\r\nLR 0006 0000000018514243\r\nnoise\r\n982000001088421\r")
            .await
            .unwrap();
        drop(write);
        let mut tags = Vec::new();
        while let Some(r) = rx.recv().await {
            assert_eq!(&*r.device_id, "rfid-1");
            tags.push(r.reading);
        }
        assert_eq!(task.await.unwrap().unwrap(), ReadEnd::Eof);
        assert_eq!(
            tags,
            vec![
                Reading::Tag(Eid::parse("982000001088420").unwrap()),
                Reading::Tag(Eid::parse("982000001088421").unwrap()),
            ]
        );
        assert_eq!(metrics.parse_errors("rfid-1", "not_utf8"), 1);
        assert_eq!(metrics.parse_errors("rfid-1", "rejected"), 1);
        assert_eq!(metrics.parse_errors("rfid-1", "no_shape"), 1);
    }

    #[tokio::test]
    async fn scale_stream_bytes_become_weight_readings() {
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new("scale-1", LineParser::Scale(ScaleFormat::RiceLake), tx);
        let (mut write, read) = tokio::io::duplex(64);
        let task =
            tokio::spawn(async move { reader.read_from(read, &CancellationToken::new()).await });
        write
            .write_all(b"\x02    1230LGM\r\n\x02    12")
            .await
            .unwrap();
        write.write_all(b"34LG \r\n").await.unwrap();
        drop(write);
        let mut got = Vec::new();
        while let Some(r) = rx.recv().await {
            if let Reading::Weight(w) = r.reading {
                got.push((w.weight, w.stable_weight().is_some()));
            }
        }
        task.await.unwrap().unwrap();
        assert_eq!(
            got,
            vec![
                (Some(Weight::from_lb(1230.0)), false),
                (Some(Weight::from_lb(1234.0)), true)
            ]
        );
    }

    #[tokio::test]
    async fn shutdown_stops_a_reader_waiting_for_bytes() {
        let (tx, _rx) = mpsc::channel(16);
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx);
        let (_write, read) = tokio::io::duplex(64);
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        assert_eq!(
            reader.read_from(read, &shutdown).await.unwrap(),
            ReadEnd::Stopped
        );
    }

    #[tokio::test]
    async fn a_missing_port_is_retried_until_shutdown() {
        let (tx, _rx) = mpsc::channel(16);
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx);
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            reader
                .run_serial(Path::new("/nonexistent/tty"), 9600, stop)
                .await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!task.is_finished());
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap()
            .unwrap();
    }
}
