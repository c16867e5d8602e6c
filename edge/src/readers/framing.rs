//! Framing a serial byte stream into lines.
//!
//! A line ends at whichever comes first:
//! - a break byte: CR, LF, STX (0x02) or ETX (0x03). `CR LF`, `ETX CR LF` and `STX` right after
//!   a break are one break, because empty lines are skipped; so `LA 982 000001088420\r\n`,
//!   `\x02    1234LG \r\n` (Rice Lake: STX then CRLF) and `\x02982000001088420\x03` each yield
//!   the text between. An STX arriving while a line is in progress ends that partial line as a
//!   line of its own: the new frame is never glued to it. Bytes outside STX/ETX frames are
//!   lines like any other (most readers never send STX).
//! - an idle gap: the reader calls [`LineFramer::flush`] when no byte arrived for the device's
//!   `idle_gap_ms` (see [`crate::config::DeviceConfig::idle_gap_ms`]), and at end of stream.
//!   A reader that sends a line without its terminator therefore has it read on its own, instead
//!   of held and glued to the next read.
//!
//! Spaces inside a line are kept (the Rice Lake status column is a space). A line that is not
//! UTF-8, or grows past [`MAX_LINE_BYTES`], becomes a [`Frame::Invalid`] the reader logs and
//! counts; the stream continues after it. The framer never holds more than [`MAX_LINE_BYTES`].

/// Longest line accepted; longer runs without a break are garbage (wrong baud rate, noise).
pub const MAX_LINE_BYTES: usize = 1024;

/// Start of text: opens a frame, and ends any line in progress.
const STX: u8 = 0x02;
/// End of text: closes a frame.
const ETX: u8 = 0x03;

/// One framed unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A non-empty line of text, without its framing bytes.
    Line(String),
    /// Bytes that could not be a line.
    Invalid(LineError),
}

/// Why bytes did not make a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The bytes are not UTF-8 (often a baud rate mismatch).
    #[error("line is not UTF-8 (wrong baud rate?): {bytes:02x?}")]
    NotUtf8 {
        /// The raw bytes.
        bytes: Vec<u8>,
    },
    /// No line break within [`MAX_LINE_BYTES`]: the line is cut there and dropped, with the rest
    /// of it up to the next break or idle gap.
    #[error(
        "no line break within {MAX_LINE_BYTES} bytes; discarding until the next break or idle gap"
    )]
    TooLong,
}

/// Splits a byte stream, fed in chunks of any size, into [`Frame`]s.
#[derive(Debug, Default)]
pub struct LineFramer {
    /// The line in progress (at most [`MAX_LINE_BYTES`]).
    line: Vec<u8>,
    /// An over-long line was reported; its remaining bytes are dropped until it ends.
    discarding: bool,
}

impl LineFramer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the stream; returns the frames they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &byte in bytes {
            if matches!(byte, STX | ETX | b'\r' | b'\n') {
                frames.extend(self.end_line());
            } else if self.discarding {
                continue;
            } else if self.line.len() == MAX_LINE_BYTES {
                self.line.clear();
                self.discarding = true;
                frames.push(Frame::Invalid(LineError::TooLong));
            } else {
                self.line.push(byte);
            }
        }
        frames
    }

    /// Ends the line in progress: the idle gap passed, or the stream ended. `None` when there
    /// was none (or it was an over-long line, already reported).
    pub fn flush(&mut self) -> Option<Frame> {
        self.end_line()
    }

    /// Whether bytes of an unfinished line were received (so an idle gap would end it).
    pub fn in_line(&self) -> bool {
        !self.line.is_empty() || self.discarding
    }

    fn end_line(&mut self) -> Option<Frame> {
        if std::mem::take(&mut self.discarding) || self.line.is_empty() {
            self.line.clear();
            return None;
        }
        let bytes = std::mem::take(&mut self.line);
        Some(match String::from_utf8(bytes) {
            Ok(text) => Frame::Line(text),
            Err(e) => Frame::Invalid(LineError::NotUtf8 {
                bytes: e.into_bytes(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames of `chunks` fed one after the other, then the end of the stream.
    fn frames(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut framer = LineFramer::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(framer.push(chunk));
        }
        out.extend(framer.flush());
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(s.into())
    }

    #[test]
    fn crlf_cr_and_lf_each_end_one_line() {
        let got = frames(&[b"LA 982 000001088420\r\nA\rB\nC\r\n"]);
        assert_eq!(
            got,
            vec![line("LA 982 000001088420"), line("A"), line("B"), line("C")]
        );
    }

    #[test]
    fn crlf_split_between_two_reads_is_still_one_break() {
        let got = frames(&[b"A\r", b"\nB\r", b"\n"]);
        assert_eq!(got, vec![line("A"), line("B")]);
    }

    #[test]
    fn stx_framing_is_removed_and_spaces_inside_are_kept() {
        let got = frames(&[b"\x02    1234LG \r\n\x02    1230LGM\r\n\x02982000001088420\x03"]);
        assert_eq!(
            got,
            vec![
                line("    1234LG "),
                line("    1230LGM"),
                line("982000001088420")
            ]
        );
    }

    #[test]
    fn a_new_stx_ends_the_partial_frame_as_its_own_line() {
        let got = frames(&[b"\x02982000001", b"\x02840003123456789\x03"]);
        assert_eq!(got, vec![line("982000001"), line("840003123456789")]);
    }

    #[test]
    fn a_line_split_across_reads_is_joined() {
        let got = frames(&[b"LA 982 0000", b"01088420\r", b"\n"]);
        assert_eq!(got, vec![line("LA 982 000001088420")]);
    }

    #[test]
    fn flush_ends_a_line_without_terminator_and_the_next_line_stays_apart() {
        let mut framer = LineFramer::new();
        assert!(framer.push(b"LA 982 000001088420").is_empty());
        assert!(framer.in_line());
        assert_eq!(framer.flush(), Some(line("LA 982 000001088420")));
        assert!(!framer.in_line());
        assert_eq!(framer.flush(), None);
        assert_eq!(
            framer.push(b"LA 840 003123456789\r\n"),
            vec![line("LA 840 003123456789")]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_and_the_next_line_still_arrives() {
        let got = frames(&[b"\xff\xfe\x80\r\nLA 982 000001088420\r\n"]);
        assert_eq!(
            got,
            vec![
                Frame::Invalid(LineError::NotUtf8 {
                    bytes: vec![0xff, 0xfe, 0x80]
                }),
                line("LA 982 000001088420")
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept() {
        let full = vec![b'x'; MAX_LINE_BYTES];
        let got = frames(&[&full, b"\r\n"]);
        assert_eq!(got, vec![line(&"x".repeat(MAX_LINE_BYTES))]);
    }

    #[test]
    fn an_endless_line_is_reported_once_and_dropped_up_to_the_next_break() {
        let noise = vec![b'x'; MAX_LINE_BYTES + 10];
        let got = frames(&[&noise, &noise, b"tail\r\nok\r\n"]);
        assert_eq!(got, vec![Frame::Invalid(LineError::TooLong), line("ok")]);
    }

    #[test]
    fn an_idle_gap_also_ends_an_over_long_line() {
        let mut framer = LineFramer::new();
        let noise = vec![b'x'; MAX_LINE_BYTES + 1];
        assert_eq!(
            framer.push(&noise),
            vec![Frame::Invalid(LineError::TooLong)]
        );
        assert!(framer.in_line());
        assert_eq!(framer.flush(), None);
        assert_eq!(framer.push(b"ok\r"), vec![line("ok")]);
    }
}
