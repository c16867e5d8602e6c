//! Reading a device: a serial port opened with tokio-serial and reopened after errors, or any
//! [`AsyncRead`] (a pipe in unit tests, a pseudo-terminal in integration tests). Reads wait at
//! most the device's idle gap while a line is in progress, so a line without its terminator is
//! read on its own instead of glued to the next one.
//!
//! A device with a poll (an indicator that answers only when asked, see [`super::poll`]) has
//! its command written every interval while the answers are read; a failed write is a port
//! failure like a failed read: logged, counted (`edge_device_errors_total{reason="poll_write"}`),
//! the input reported `down` in `/healthz`, and the port reopened with back-off.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;
use tokio_serial::SerialPortBuilderExt;
use tokio_util::sync::CancellationToken;

use super::check::CheckedLine;
use super::framing::{Frame, LineFramer};
use super::poll::{Poll, write_polls};
use super::{DeviceReading, LineParser, ParseError};
use crate::backoff::Backoff;
use crate::ops::InputHandle;
use crate::telemetry::Metrics;
use crate::telemetry::events::{DeviceFailed, LineRejected};

/// First delay before reopening a failed port.
const REOPEN_INITIAL: Duration = Duration::from_millis(200);
/// Longest delay between reopen attempts.
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// Bytes taken from the source per read (a few lines at serial speeds).
const READ_CHUNK_BYTES: usize = 256;
/// How long a partial line waits for more bytes before it is read as a line, unless the
/// device's config says otherwise (`devices[].idle_gap_ms`): about 190 character times at
/// 9600 baud, longer than any pause inside a line a reader sends in one go.
pub const DEFAULT_IDLE_GAP_MS: u64 = 200;

/// Why a session on an open port ended in failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// Reading the port failed.
    #[error("serial read failed: {0}")]
    Read(#[source] std::io::Error),
    /// Writing the poll command failed or did not finish in time.
    #[error("poll command write failed: {0}")]
    PollWrite(#[source] std::io::Error),
}

impl PortError {
    /// A short label for metrics: `read` or `poll_write`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Read(_) => "read",
            Self::PollWrite(_) => "poll_write",
        }
    }
}

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
    idle_gap: Duration,
    poll: Option<Poll>,
    tap: Option<mpsc::Sender<CheckedLine>>,
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
            idle_gap: Duration::from_millis(DEFAULT_IDLE_GAP_MS),
            poll: None,
            tap: None,
        }
    }

    /// Also sends every line read, with what it gave (refusals too), to `tap` as it is read
    /// (`edge check-device --port`). A closed tap stops the read as a closed readings channel
    /// does.
    pub fn with_tap(mut self, tap: mpsc::Sender<CheckedLine>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Writes `poll.command` to the port every `poll.interval` while reading (`None`: the
    /// device streams by itself, nothing is written).
    pub fn with_poll(mut self, poll: Option<Poll>) -> Self {
        self.poll = poll;
        self
    }

    /// Ends a partial line after `idle_gap` without bytes (default [`DEFAULT_IDLE_GAP_MS`]).
    pub fn with_idle_gap(mut self, idle_gap: Duration) -> Self {
        self.idle_gap = idle_gap;
        self
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

    /// Reads `source` until end of file, an I/O error, or `shutdown`. A line ends at its
    /// terminator or after the idle gap with no bytes, whichever comes first (see
    /// [`super::framing`]); the last partial line is read at end of file or error too. Bad lines
    /// are logged and counted; they never end the read.
    pub async fn read_from<R: AsyncRead + Unpin>(
        &self,
        mut source: R,
        shutdown: &CancellationToken,
    ) -> std::io::Result<ReadEnd> {
        let mut framer = LineFramer::new();
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        // When bytes last arrived: a line ended by the idle gap was received then, not later.
        let mut last_bytes_at = (Utc::now(), Instant::now());
        loop {
            let in_line = framer.in_line();
            let read = async {
                if in_line {
                    tokio::time::timeout(self.idle_gap, source.read(&mut chunk))
                        .await
                        .ok()
                } else {
                    Some(source.read(&mut chunk).await)
                }
            };
            // Reads are cancel-safe: a read given up for shutdown or the gap loses no byte.
            let read = tokio::select! {
                _ = shutdown.cancelled() => return Ok(ReadEnd::Stopped),
                read = read => read,
            };
            let (frames, end) = match read {
                Some(Ok(n)) if n > 0 => {
                    last_bytes_at = (Utc::now(), Instant::now());
                    (framer.push(&chunk[..n]), None)
                }
                None => {
                    tracing::debug!(device = %self.device_id, idle_gap_ms = self.idle_gap.as_millis() as u64, "no bytes for the idle gap: the partial line is a line");
                    (framer.flush().into_iter().collect(), None)
                }
                Some(Ok(_)) => (framer.flush().into_iter().collect(), Some(Ok(ReadEnd::Eof))),
                Some(Err(error)) => (framer.flush().into_iter().collect(), Some(Err(error))),
            };
            for frame in frames {
                if self.deliver(frame, last_bytes_at).await.is_err() {
                    return Ok(ReadEnd::Stopped);
                }
            }
            if let Some(end) = end {
                return end;
            }
        }
    }

    /// Reads `source` as [`Self::read_from`] does while, if the reader has a poll, writing its
    /// command to `sink` every interval (the first at once; a tick that falls behind is delayed,
    /// never sent in a burst). A failed write (or one not done within the interval, at least
    /// 1 s) ends the session with [`PortError::PollWrite`]. Without a poll `sink` is unused.
    pub async fn read_polled<R, W>(
        &self,
        source: R,
        sink: W,
        shutdown: &CancellationToken,
    ) -> Result<ReadEnd, PortError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let Some(poll) = &self.poll else {
            return self
                .read_from(source, shutdown)
                .await
                .map_err(PortError::Read);
        };
        // Whichever ends first ends the session: the polls never end by themselves.
        tokio::select! {
            end = self.read_from(source, shutdown) => end.map_err(PortError::Read),
            error = write_polls(poll, sink) => Err(PortError::PollWrite(error)),
        }
    }

    /// One session on the open port at `path`: reports the input up, reads (and polls) until
    /// the port ends or fails, then reports it down; a failure is logged and counted
    /// (`edge_device_errors_total`). `true` when it ended for shutdown (or nobody consumes
    /// readings any more): no reopening then.
    pub async fn serve<R, W>(
        &self,
        path: &Path,
        source: R,
        sink: W,
        shutdown: &CancellationToken,
    ) -> bool
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        self.report_up(path);
        match self.read_polled(source, sink, shutdown).await {
            Ok(ReadEnd::Stopped) => return true,
            Ok(ReadEnd::Eof) => {
                tracing::warn!(device = %self.device_id, "serial port closed; reopening");
                self.report_down("serial port closed; reopening".into());
            }
            Err(error) => {
                DeviceFailed {
                    device: &self.device_id,
                    reason: error.reason(),
                    error: &error,
                }
                .emit(&self.metrics);
                self.report_down(format!("{error}; reopening"));
            }
        }
        false
    }

    /// Parses `frame` and sends its reading on, or logs and counts why it has none. `Err` when
    /// nobody consumes readings any more.
    async fn deliver(
        &self,
        frame: Frame,
        (received_at, received_instant): (DateTime<Utc>, Instant),
    ) -> Result<(), ()> {
        let (line, parsed) = match frame {
            Frame::Line(line) => {
                let parsed = self.parser.parse(&line);
                (Some(line), parsed)
            }
            Frame::Invalid(e) => (None, Err(ParseError::from(e))),
        };
        if let Some(tap) = &self.tap {
            let checked = CheckedLine {
                line: line.clone(),
                result: parsed.clone(),
            };
            tap.send(checked).await.map_err(|_| ())?;
        }
        let parsed = parsed.map_err(|e| (e, line.unwrap_or_default()));
        let reading = match parsed {
            Ok(Some(reading)) => reading,
            Ok(None) => return Ok(()),
            Err((error, line)) => {
                LineRejected {
                    device: &self.device_id,
                    reason: error.reason(),
                    error: &error,
                    line: &line,
                }
                .emit(&self.metrics);
                return Ok(());
            }
        };
        let reading = DeviceReading {
            device_id: self.device_id.clone(),
            received_at,
            received_instant,
            reading,
        };
        self.readings.send(reading).await.map_err(|_| ())
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
                    tracing::info!(%device, path = %path.display(), baud_rate, polled = self.poll.is_some(), "serial port open");
                    let opened_at = Instant::now();
                    let (source, sink) = tokio::io::split(port);
                    if self.serve(path, source, sink, &shutdown).await {
                        return;
                    }
                    // A port that fails at once after opening (a poll write that always fails)
                    // keeps backing off instead of reopening, and logging, 5 times a second.
                    if opened_at.elapsed() >= REOPEN_MAX {
                        backoff.reset();
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
    use crate::readers::scale_shapes::ScaleParser;
    use schemas::{Eid, Weight};
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn rfid_bytes_from_a_pipe_become_tag_readings_and_garbage_and_test_tags_are_skipped_and_counted()
     {
        let (tx, mut rx) = mpsc::channel(16);
        let metrics = Metrics::new();
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx)
            .with_metrics(metrics.clone());
        let (mut write, read) = tokio::io::duplex(64);
        let task =
            tokio::spawn(async move { reader.read_from(read, &CancellationToken::new()).await });
        write
            .write_all(b"LA 982 000001088420\r\n\xff\xfe\r\nLR 0006 0000000018514243\r\nnoise\r\nLA 999 000000000001\r\n982000001088421\r")
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
        assert_eq!(metrics.parse_errors("rfid-1", "test_tag"), 1);
    }

    #[tokio::test]
    async fn scale_stream_bytes_become_weight_readings() {
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new(
            "scale-1",
            LineParser::Scale(
                ScaleParser::builtin()
                    .for_format(Some("rice_lake"))
                    .unwrap(),
            ),
            tx,
        );
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

    /// Runs a reader with `idle_gap` over a pipe; `script` writes to it; returns its tags.
    async fn tags_read<F, Fut>(idle_gap: Duration, script: F) -> Vec<Reading>
    where
        F: FnOnce(tokio::io::DuplexStream) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx)
            .with_idle_gap(idle_gap);
        let (write, read) = tokio::io::duplex(64);
        let task =
            tokio::spawn(async move { reader.read_from(read, &CancellationToken::new()).await });
        script(write).await;
        let mut tags = Vec::new();
        while let Some(r) = rx.recv().await {
            tags.push(r.reading);
        }
        assert_eq!(task.await.unwrap().unwrap(), ReadEnd::Eof);
        tags
    }

    #[tokio::test]
    async fn a_tag_line_without_terminator_is_read_after_the_idle_gap_and_the_next_tag_too() {
        let tags = tags_read(Duration::from_millis(50), |mut write| async move {
            write.write_all(b"LA 982 000001088420").await.unwrap();
            // Far longer than the gap, so a loaded machine cannot make it look shorter.
            tokio::time::sleep(Duration::from_millis(500)).await;
            write.write_all(b"LA 840 003123456789\r\n").await.unwrap();
            // The tag line must have been read before the pipe closes (end of file reads any
            // partial line too, which would hide a missing idle gap).
            tokio::time::sleep(Duration::from_millis(100)).await;
        })
        .await;
        assert_eq!(
            tags,
            vec![
                Reading::Tag(Eid::parse("982000001088420").unwrap()),
                Reading::Tag(Eid::parse("840003123456789").unwrap()),
            ]
        );
    }

    #[tokio::test]
    async fn a_pause_shorter_than_the_idle_gap_keeps_the_line_whole() {
        let tags = tags_read(Duration::from_millis(2000), |mut write| async move {
            write.write_all(b"LA 982 0000010").await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            write.write_all(b"88420\r\n").await.unwrap();
        })
        .await;
        assert_eq!(
            tags,
            vec![Reading::Tag(Eid::parse("982000001088420").unwrap())]
        );
    }

    #[tokio::test]
    async fn a_partial_line_is_held_until_the_idle_gap_passes_then_read() {
        // With a 2 s gap and the pipe still open, the partial line is not read at 0.3 s: a
        // line that pauses mid-way is not cut.
        let (tx, mut rx) = mpsc::channel(16);
        let reader = DeviceReader::new("rfid-1", LineParser::Rfid(RfidParser::builtin()), tx)
            .with_idle_gap(Duration::from_millis(2000));
        let (mut write, read) = tokio::io::duplex(64);
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move { reader.read_from(read, &stop).await });
        write.write_all(b"LA 982 000001088420").await.unwrap();
        let early = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
        assert!(early.is_err(), "read before the gap: {early:?}");
        let late = tokio::time::timeout(Duration::from_millis(5000), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            late.reading,
            Reading::Tag(Eid::parse("982000001088420").unwrap())
        );
        shutdown.cancel();
        assert_eq!(task.await.unwrap().unwrap(), ReadEnd::Stopped);
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
