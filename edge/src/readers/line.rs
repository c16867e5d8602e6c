//! Framing a serial byte stream into lines.
//!
//! Devices end lines with `\r\n`, `\r` or `\n`, and some frame them with STX (0x02) and ETX
//! (0x03). All four bytes end a line here; empty lines are skipped, so `\r\n` is one break and
//! `STX ... CR LF` yields the text between. Spaces inside a line are kept (the Rice Lake status
//! column is a space). A line that is not UTF-8, or grows past [`MAX_LINE_BYTES`] without a
//! break, becomes a [`Frame::Invalid`] the reader logs; the stream continues after it.

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

/// Longest line accepted; longer runs without a break are garbage (wrong baud rate, noise).
pub const MAX_LINE_BYTES: usize = 1024;

const BREAKS: [u8; 4] = [0x02, 0x03, b'\r', b'\n'];

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
    /// No line break within [`MAX_LINE_BYTES`]; the bytes up to the next break are dropped.
    #[error("no line break within {MAX_LINE_BYTES} bytes; discarding until the next one")]
    TooLong,
}

/// A [`Decoder`] producing [`Frame`]s.
#[derive(Debug, Default)]
pub struct LineCodec {
    discarding: bool,
}

impl LineCodec {
    /// A codec at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    fn frame(bytes: &[u8]) -> Frame {
        match std::str::from_utf8(bytes) {
            Ok(text) => Frame::Line(text.to_owned()),
            Err(_) => Frame::Invalid(LineError::NotUtf8 {
                bytes: bytes.to_vec(),
            }),
        }
    }
}

impl Decoder for LineCodec {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        loop {
            let Some(pos) = buf.iter().position(|b| BREAKS.contains(b)) else {
                if buf.len() > MAX_LINE_BYTES {
                    buf.clear();
                    if !self.discarding {
                        self.discarding = true;
                        return Ok(Some(Frame::Invalid(LineError::TooLong)));
                    }
                } else if self.discarding {
                    buf.clear();
                }
                return Ok(None);
            };
            let line = buf.split_to(pos);
            buf.advance(1);
            if std::mem::take(&mut self.discarding) || line.is_empty() {
                continue;
            }
            return Ok(Some(Self::frame(&line)));
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if buf.is_empty() || self.discarding {
            buf.clear();
            return Ok(None);
        }
        let rest = buf.split();
        Ok(Some(Self::frame(&rest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut codec = LineCodec::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(s.into())
    }

    #[test]
    fn crlf_cr_and_lf_each_end_one_line() {
        let got = frames(&[b"LA 982 000001088420\r\nA\rB\nC"]);
        assert_eq!(
            got,
            vec![line("LA 982 000001088420"), line("A"), line("B"), line("C")]
        );
    }

    #[test]
    fn stx_framing_is_removed_and_spaces_inside_are_kept() {
        let got = frames(&[b"\x02    1234LG \r\n\x02    1230LGM\r\n"]);
        assert_eq!(got, vec![line("    1234LG "), line("    1230LGM")]);
    }

    #[test]
    fn a_line_split_across_reads_is_joined() {
        let got = frames(&[b"LA 982 0000", b"01088420\r", b"\n"]);
        assert_eq!(got, vec![line("LA 982 000001088420")]);
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
    fn an_endless_line_is_reported_once_and_dropped_up_to_the_next_break() {
        let noise = vec![b'x'; MAX_LINE_BYTES + 10];
        let got = frames(&[&noise, &noise, b"tail\r\nok\r\n"]);
        assert_eq!(got, vec![Frame::Invalid(LineError::TooLong), line("ok")]);
    }
}
