//! Faults a real chute produces, injected on purpose: lines garbled by electrical noise and
//! lines with a byte dropped (a UART overrun). They are sent in addition to the device's real
//! lines, so a gateway that rejects them cleanly still captures every weighing.
//!
//! A device whose own clock is wrong is a [`DeviceClock`] with a skew: the RFID reader's dated
//! lines and the feed truck's `recorded_at` read it instead of the true time.

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How many bad lines to inject per animal, and the seed that makes them reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Lines of random bytes sent by the reader before each tag.
    pub garbled_reader_lines: u32,
    /// Lines of random bytes sent by the indicator before each weighing.
    pub garbled_scale_lines: u32,
    /// Copies of the animal's stable line with one byte dropped, sent before the real ones.
    pub dropped_byte_lines: u32,
    /// Seed for the random bytes and positions.
    pub seed: u64,
}

impl Faults {
    /// Some of every fault, for robustness tests and `--faults`.
    pub fn some(seed: u64) -> Self {
        Self {
            garbled_reader_lines: 1,
            garbled_scale_lines: 2,
            dropped_byte_lines: 1,
            seed,
        }
    }

    /// Whether any fault is configured.
    pub fn any(&self) -> bool {
        self.garbled_reader_lines + self.garbled_scale_lines + self.dropped_byte_lines > 0
    }
}

/// A device's own clock: the true time (UTC) plus a fixed skew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceClock {
    skew: TimeDelta,
}

impl DeviceClock {
    /// A clock that is right.
    pub fn exact() -> Self {
        Self::default()
    }

    /// A clock `skew` ahead of the true time (behind when negative).
    pub fn skewed(skew: TimeDelta) -> Self {
        Self { skew }
    }

    /// A clock that was reset to `at` (a flat RTC battery: 1970 or the firmware's build date)
    /// and has been running from there since.
    pub fn reset_to(at: DateTime<Utc>) -> Self {
        Self::skewed(at.signed_duration_since(Utc::now()))
    }

    /// How far the clock is off.
    pub fn skew(&self) -> TimeDelta {
        self.skew
    }

    /// What the device believes the time is.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.skew
    }
}

/// Produces faulty lines from a seeded random source.
#[derive(Debug)]
pub struct FaultSource {
    rng: StdRng,
}

impl FaultSource {
    /// A source for `faults.seed`.
    pub fn new(faults: &Faults) -> Self {
        Self {
            rng: StdRng::seed_from_u64(faults.seed),
        }
    }

    /// 4-30 random bytes (never a line break), then CR LF: noise that is not a valid line.
    pub fn garbled_line(&mut self) -> Vec<u8> {
        let len = self.rng.random_range(4..30);
        let mut line: Vec<u8> = (0..len)
            .map(|_| {
                loop {
                    let b: u8 = self.rng.random();
                    if b != b'\r' && b != b'\n' {
                        break b;
                    }
                }
            })
            .collect();
        // Make sure it cannot be a plain 15-digit tag by accident.
        line[0] = 0xFF;
        line.extend_from_slice(b"\r\n");
        line
    }

    /// `line` (ending in CR LF) with one byte before the line end removed.
    pub fn dropped_byte(&mut self, line: &[u8]) -> Vec<u8> {
        let body = line.len().saturating_sub(2).max(1);
        let at = self.rng.random_range(0..body);
        let mut out = line.to_vec();
        out.remove(at);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faulty_lines_are_reproducible_and_keep_their_line_end() {
        let faults = Faults::some(3);
        let (mut a, mut b) = (FaultSource::new(&faults), FaultSource::new(&faults));
        let (ga, gb) = (a.garbled_line(), b.garbled_line());
        assert_eq!(ga, gb);
        assert!(ga.ends_with(b"\r\n") && !ga[..ga.len() - 2].contains(&b'\n'));
        let line = b"\x02    1234LG \r\n";
        let dropped = a.dropped_byte(line);
        assert_eq!(dropped.len(), line.len() - 1);
        assert!(dropped.ends_with(b"\r\n"));
    }

    #[test]
    fn a_skewed_clock_reads_the_true_time_plus_its_skew() {
        let ahead = DeviceClock::skewed(TimeDelta::hours(2));
        let before = Utc::now();
        let read = ahead.now();
        let after = Utc::now();
        assert!(read >= before + TimeDelta::hours(2) && read <= after + TimeDelta::hours(2));
        assert_eq!(DeviceClock::exact().skew(), TimeDelta::zero());
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let reset = DeviceClock::reset_to(epoch).now();
        assert!(
            reset >= epoch && reset < epoch + TimeDelta::seconds(5),
            "{reset}"
        );
    }
}
