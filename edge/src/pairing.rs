//! Pairing a chute's tag reads with its scale's stable weights.
//!
//! The rule, per chute:
//! 1. A tag read becomes the *pending* tag. A newer tag read replaces it (the earlier animal
//!    went through unweighed). A pending tag older than `tag_max_age_ms` expires.
//! 2. A stable weight of at least `min_weight_kg` while a tag is pending and the scale is
//!    *armed* is a weighing: that tag with that weight. The tag stops pending and the scale
//!    is disarmed: the weight it showed is *consumed*.
//! 3. The scale is re-armed only by evidence that the platform changed: a frame in motion,
//!    at centre of zero, out of range or invalid; a stable weight below `min_weight_kg` (an
//!    empty platform); or a stable weight different from the consumed one.
//!    A new tag does *not* re-arm it: the next animal is often read while the previous one still
//!    stands on the scale, and its tag must wait for its own weight.
//! 4. A stable weight without a pending tag is not a weighing (and does not disarm the scale,
//!    so the tag read that follows pairs with the next frame of that same weight).
//!
//! So a weight is never paired twice, and every weighing is a tag followed by its next stable
//! weight. Time is a parameter, so the rules are tested without sleeping.

use std::time::{Duration, Instant};

use schemas::{Eid, GrossNet, Weight};
use uuid::Uuid;

use crate::config::PairingConfig;
use crate::readers::scale::ScaleReading;

/// A weighing produced by pairing.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// The animal.
    pub eid: Eid,
    /// The stable weight.
    pub weight: Weight,
    /// Gross or net, when the indicator said.
    pub gross_net: Option<GrossNet>,
    /// The event id of the tag read it was paired with.
    pub tag_read_event_id: Uuid,
}

#[derive(Debug, Clone)]
struct PendingTag {
    eid: Eid,
    event_id: Uuid,
    read_at: Instant,
}

/// The pairing state of one chute.
#[derive(Debug, Clone)]
pub struct Pairing {
    tag_max_age: Duration,
    min_weight_kg: f64,
    pending: Option<PendingTag>,
    consumed: Option<Weight>,
}

impl Pairing {
    /// A chute with nothing pending and the scale armed.
    pub fn new(config: &PairingConfig) -> Self {
        Self {
            tag_max_age: Duration::from_millis(config.tag_max_age_ms),
            min_weight_kg: config.min_weight_kg,
            pending: None,
            consumed: None,
        }
    }

    /// A (deduplicated) tag read; returns the pending tag it replaced, if any.
    pub fn on_tag(&mut self, eid: Eid, event_id: Uuid, at: Instant) -> Option<Eid> {
        let replaced = self.take_live_pending(at).map(|p| p.eid);
        self.pending = Some(PendingTag {
            eid,
            event_id,
            read_at: at,
        });
        replaced.filter(|old| Some(old) != self.pending.as_ref().map(|p| &p.eid))
    }

    /// A scale frame; returns the weighing it completes, if any.
    pub fn on_weight(&mut self, reading: &ScaleReading, at: Instant) -> Option<Paired> {
        let Some(weight) = reading.stable_weight() else {
            self.consumed = None;
            return None;
        };
        if weight.kg() < self.min_weight_kg {
            self.consumed = None;
            return None;
        }
        if self.consumed == Some(weight) {
            return None;
        }
        // A different stable weight: the platform changed.
        self.consumed = None;
        let pending = self.take_live_pending(at)?;
        self.consumed = Some(weight);
        Some(Paired {
            eid: pending.eid,
            weight,
            gross_net: reading.gross_net,
            tag_read_event_id: pending.event_id,
        })
    }

    /// The pending tag's EID, if one is waiting for its weight.
    pub fn pending(&self) -> Option<&Eid> {
        self.pending.as_ref().map(|p| &p.eid)
    }

    fn take_live_pending(&mut self, at: Instant) -> Option<PendingTag> {
        let pending = self.pending.take()?;
        if at.saturating_duration_since(pending.read_at) > self.tag_max_age {
            tracing::info!(eid = %pending.eid, "tag read expired without a stable weight");
            return None;
        }
        Some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::scale::ScaleStatus;

    fn eid(n: u64) -> Eid {
        Eid::parse(&format!("982{n:012}")).unwrap()
    }

    fn frame(lb: f64, status: ScaleStatus) -> ScaleReading {
        ScaleReading {
            weight: Some(Weight::from_lb(lb)),
            gross_net: Some(GrossNet::Gross),
            status,
        }
    }

    fn stable(lb: f64) -> ScaleReading {
        frame(lb, ScaleStatus::Stable)
    }

    fn motion(lb: f64) -> ScaleReading {
        frame(lb, ScaleStatus::Motion)
    }

    fn chute() -> (Pairing, Instant) {
        (Pairing::new(&PairingConfig::default()), Instant::now())
    }

    #[test]
    fn a_tag_pairs_with_the_next_stable_weight() {
        let (mut p, t) = chute();
        let id = Uuid::now_v7();
        p.on_tag(eid(1), id, t);
        assert_eq!(p.on_weight(&motion(1200.0), t), None);
        let w = p.on_weight(&stable(1234.0), t).unwrap();
        assert_eq!(w.eid, eid(1));
        assert_eq!(w.weight, Weight::from_lb(1234.0));
        assert_eq!(w.gross_net, Some(GrossNet::Gross));
        assert_eq!(w.tag_read_event_id, id);
    }

    #[test]
    fn a_weight_without_a_pending_tag_is_not_a_weighing() {
        let (mut p, t) = chute();
        assert_eq!(p.on_weight(&stable(1234.0), t), None);
        // ...but the tag read that follows pairs with the same weight still shown.
        p.on_tag(eid(1), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(1234.0), t).unwrap().eid, eid(1));
    }

    #[test]
    fn a_weight_is_never_paired_twice_even_with_a_new_tag() {
        let (mut p, t) = chute();
        p.on_tag(eid(1), Uuid::now_v7(), t);
        assert!(p.on_weight(&stable(1234.0), t).is_some());
        assert_eq!(p.on_weight(&stable(1234.0), t), None);
        // The next animal is read while the first still stands on the scale.
        p.on_tag(eid(2), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(1234.0), t), None);
        assert_eq!(p.pending(), Some(&eid(2)));
        // The first leaves, the second steps on and settles.
        assert_eq!(p.on_weight(&motion(600.0), t), None);
        let w = p.on_weight(&stable(1100.0), t).unwrap();
        assert_eq!((w.eid, w.weight), (eid(2), Weight::from_lb(1100.0)));
    }

    #[test]
    fn the_same_weight_is_weighed_again_only_after_the_scale_moved() {
        let (mut p, t) = chute();
        p.on_tag(eid(1), Uuid::now_v7(), t);
        assert!(p.on_weight(&stable(1234.0), t).is_some());
        p.on_tag(eid(2), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(1234.0), t), None);
        p.on_weight(&frame(0.0, ScaleStatus::CenterOfZero), t);
        assert_eq!(p.on_weight(&stable(1234.0), t).unwrap().eid, eid(2));
    }

    #[test]
    fn a_different_stable_weight_re_arms_the_scale() {
        let (mut p, t) = chute();
        p.on_tag(eid(1), Uuid::now_v7(), t);
        assert!(p.on_weight(&stable(1234.0), t).is_some());
        assert_eq!(p.on_weight(&stable(1236.0), t), None);
        p.on_tag(eid(2), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(1234.0), t).unwrap().eid, eid(2));
    }

    #[test]
    fn an_empty_platform_is_never_a_weighing_and_re_arms_the_scale() {
        let (mut p, t) = chute();
        p.on_tag(eid(1), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(2.0), t), None);
        assert!(p.on_weight(&stable(900.0), t).is_some());
        p.on_tag(eid(2), Uuid::now_v7(), t);
        assert_eq!(p.on_weight(&stable(2.0), t), None);
        assert_eq!(p.on_weight(&stable(900.0), t).unwrap().eid, eid(2));
    }

    #[test]
    fn a_new_tag_replaces_a_pending_one() {
        let (mut p, t) = chute();
        assert_eq!(p.on_tag(eid(1), Uuid::now_v7(), t), None);
        assert_eq!(p.on_tag(eid(2), Uuid::now_v7(), t), Some(eid(1)));
        assert_eq!(p.on_weight(&stable(1000.0), t).unwrap().eid, eid(2));
    }

    #[test]
    fn a_stale_tag_expires_unweighed() {
        let (mut p, t) = chute();
        p.on_tag(eid(1), Uuid::now_v7(), t);
        let later = t + Duration::from_millis(PairingConfig::default().tag_max_age_ms + 1);
        assert_eq!(p.on_weight(&stable(1000.0), later), None);
        assert_eq!(p.pending(), None);
    }
}
