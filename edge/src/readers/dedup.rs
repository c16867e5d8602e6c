//! Collapsing a reader's repeated reads of one tag into one read.
//!
//! A reader repeats a tag for as long as it stays in range. A read counts as new only when the
//! same tag was not seen by this reader within the window before it; every read, counted or not,
//! restarts the tag's window (a sliding window), so an animal standing at the reader is one read
//! however long it stands. Time is a parameter, so the rule is tested without sleeping.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use schemas::Eid;

/// Per-reader memory of recently seen tags.
#[derive(Debug, Clone)]
pub struct TagDedup {
    window: Duration,
    last_seen: HashMap<Eid, Instant>,
}

impl TagDedup {
    /// A dedup with the given window.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            last_seen: HashMap::new(),
        }
    }

    /// Records a read of `eid` at `at`; returns whether it is a new read (not a repeat).
    pub fn observe(&mut self, eid: &Eid, at: Instant) -> bool {
        let window = self.window;
        self.last_seen
            .retain(|_, seen| at.saturating_duration_since(*seen) < window);
        self.last_seen.insert(eid.clone(), at).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eid(s: &str) -> Eid {
        Eid::parse(s).unwrap()
    }

    #[test]
    fn repeats_within_the_window_are_one_read() {
        let t0 = Instant::now();
        let mut d = TagDedup::new(Duration::from_millis(1000));
        let a = eid("982000001088420");
        assert!(d.observe(&a, t0));
        assert!(!d.observe(&a, t0 + Duration::from_millis(300)));
        assert!(!d.observe(&a, t0 + Duration::from_millis(999)));
    }

    #[test]
    fn a_tag_held_in_range_stays_one_read_because_the_window_slides() {
        let t0 = Instant::now();
        let mut d = TagDedup::new(Duration::from_millis(1000));
        let a = eid("982000001088420");
        assert!(d.observe(&a, t0));
        for step in 1..=10 {
            assert!(!d.observe(&a, t0 + Duration::from_millis(step * 500)));
        }
    }

    #[test]
    fn a_tag_seen_again_after_the_window_is_a_new_read() {
        let t0 = Instant::now();
        let mut d = TagDedup::new(Duration::from_millis(1000));
        let a = eid("982000001088420");
        assert!(d.observe(&a, t0));
        assert!(d.observe(&a, t0 + Duration::from_millis(1000)));
    }

    #[test]
    fn different_tags_are_each_a_read() {
        let t0 = Instant::now();
        let mut d = TagDedup::new(Duration::from_millis(1000));
        assert!(d.observe(&eid("982000001088420"), t0));
        assert!(d.observe(&eid("982000001088421"), t0));
        assert!(!d.observe(&eid("982000001088420"), t0 + Duration::from_millis(10)));
    }
}
