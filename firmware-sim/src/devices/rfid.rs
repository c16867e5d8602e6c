//! RFID stick/panel reader line formats (see `shared/reference/devices.md`), and a reader that
//! sends a tag's line, repeated while the tag stays in range, to any byte sink.

use std::time::Duration;

use chrono::{DateTime, Utc};
use schemas::Eid;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::faults::DeviceClock;

/// The line shape a simulated reader sends for each read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReaderFormat {
    /// Allflex stick reader line mode: `LA 982 000001088420\r\n`.
    #[default]
    Allflex,
    /// Just the 15 digits: `982000001088420\r\n`.
    Plain,
    /// STX, the 15 digits, then the reader's date and time: `\x02982000001088420 2026-11-25 07:15:02\r\n`.
    StxDateTime,
    /// Comma-separated fields with the 15 digits among them (session-recording readers):
    /// `R1,982000001088420,2026-11-25 07:15:02\r\n`.
    Csv,
}

/// The bytes a reader of `format` sends when it reads `eid` at `at` (the reader's clock).
pub fn tag_line(format: ReaderFormat, eid: &Eid, at: DateTime<Utc>) -> Vec<u8> {
    let line = match format {
        ReaderFormat::Allflex => format!("LA {:03} {}", eid.country_code(), eid.national_id()),
        ReaderFormat::Plain => eid.as_str().to_owned(),
        ReaderFormat::StxDateTime => {
            format!("\x02{} {}", eid.as_str(), at.format("%Y-%m-%d %H:%M:%S"))
        }
        ReaderFormat::Csv => format!("R1,{},{}", eid.as_str(), at.format("%Y-%m-%d %H:%M:%S")),
    };
    format!("{line}\r\n").into_bytes()
}

/// The Allflex line for an industrial (non-animal) tag, which a gateway must refuse as an EID.
pub fn industrial_tag_line(code: u16, id: u64) -> Vec<u8> {
    format!("LR {code:04} {id:016}\r\n").into_bytes()
}

/// How a reader repeats a tag that stays in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagRepeats {
    /// Lines sent per read (at least one is always sent).
    pub count: u32,
    /// Time between two lines of the same read (real readers: ~100-300 ms).
    pub interval: Duration,
}

/// Sends `eid` as `format` lines to `port`, `repeats.count` times `repeats.interval` apart,
/// each line flushed and stamped with the reader's clock (right) when it is sent.
pub async fn send_tag_read(
    port: &mut (impl AsyncWrite + Unpin),
    format: ReaderFormat,
    eid: &Eid,
    repeats: TagRepeats,
) -> std::io::Result<()> {
    send_tag_read_on(port, format, eid, repeats, DeviceClock::exact()).await
}

/// [`send_tag_read`] by a reader whose own clock is `clock` (dated formats show its time).
pub async fn send_tag_read_on(
    port: &mut (impl AsyncWrite + Unpin),
    format: ReaderFormat,
    eid: &Eid,
    repeats: TagRepeats,
    clock: DeviceClock,
) -> std::io::Result<()> {
    for i in 0..repeats.count.max(1) {
        if i > 0 {
            tokio::time::sleep(repeats.interval).await;
        }
        port.write_all(&tag_line(format, eid, clock.now())).await?;
        port.flush().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn eid() -> Eid {
        Eid::parse("982000001088420").unwrap()
    }

    #[test]
    fn allflex_line_mode_matches_the_documented_example_byte_for_byte() {
        assert_eq!(
            tag_line(ReaderFormat::Allflex, &eid(), Utc::now()),
            b"LA 982 000001088420\r\n"
        );
    }

    #[test]
    fn industrial_tags_render_like_the_documented_example() {
        assert_eq!(
            industrial_tag_line(6, 18514243),
            b"LR 0006 0000000018514243\r\n"
        );
    }

    #[test]
    fn plain_and_dated_lines_carry_the_fifteen_digits() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 7, 15, 2).unwrap();
        assert_eq!(
            tag_line(ReaderFormat::Plain, &eid(), at),
            b"982000001088420\r\n"
        );
        assert_eq!(
            tag_line(ReaderFormat::StxDateTime, &eid(), at),
            b"\x02982000001088420 2026-11-25 07:15:02\r\n"
        );
        assert_eq!(
            tag_line(ReaderFormat::Csv, &eid(), at),
            b"R1,982000001088420,2026-11-25 07:15:02\r\n"
        );
    }

    #[test]
    fn every_format_is_read_by_the_gateways_own_row_for_it_as_the_same_eid() {
        let table = edge::readers::rfid::RfidParser::builtin();
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 7, 15, 2).unwrap();
        for (format, row) in [
            (ReaderFormat::Allflex, "allflex"),
            (ReaderFormat::Plain, "plain"),
            (ReaderFormat::StxDateTime, "with_datetime"),
            (ReaderFormat::Csv, "csv"),
        ] {
            let line = String::from_utf8(tag_line(format, &eid(), at)).unwrap();
            let only = table.for_format(Some(row)).unwrap();
            assert_eq!(only.parse(&line).unwrap(), eid(), "{format:?}: {line:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_tag_in_range_is_sent_the_configured_number_of_times_apart() {
        let mut port = Vec::new();
        let repeats = TagRepeats {
            count: 3,
            interval: Duration::from_millis(200),
        };
        let start = tokio::time::Instant::now();
        send_tag_read(&mut port, ReaderFormat::Allflex, &eid(), repeats)
            .await
            .unwrap();
        assert_eq!(port, b"LA 982 000001088420\r\n".repeat(3));
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test]
    async fn a_reader_with_a_skewed_clock_dates_its_lines_with_its_own_time() {
        let mut port = Vec::new();
        let repeats = TagRepeats {
            count: 1,
            interval: Duration::ZERO,
        };
        let clock = DeviceClock::skewed(chrono::TimeDelta::days(-400));
        let expected = clock.now().format("%Y-%m-%d").to_string();
        send_tag_read_on(&mut port, ReaderFormat::StxDateTime, &eid(), repeats, clock)
            .await
            .unwrap();
        let line = String::from_utf8(port).unwrap();
        assert!(
            line.starts_with(&format!("\x02982000001088420 {expected} ")),
            "{line:?}"
        );
    }

    #[tokio::test]
    async fn zero_repeats_still_send_the_read_once() {
        let mut port = Vec::new();
        let repeats = TagRepeats {
            count: 0,
            interval: Duration::ZERO,
        };
        send_tag_read(&mut port, ReaderFormat::Plain, &eid(), repeats)
            .await
            .unwrap();
        assert_eq!(port, b"982000001088420\r\n");
    }
}
