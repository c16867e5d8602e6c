//! The events every benchmark case uses: the same envelopes for ours and the baseline.

use chrono::{Duration, Utc};
use schemas::{Envelope, Event, Weighing, Weight};

use crate::herd::arrivals;

/// `n` weighing envelopes for one feedlot, one per simulated animal, a second apart.
pub fn weighings(n: usize, feedlot_id: &str) -> Vec<Envelope> {
    let start = Utc::now() - Duration::days(1);
    arrivals(n, 99)
        .into_iter()
        .enumerate()
        .map(|(i, animal)| {
            Envelope::new(
                feedlot_id,
                "bench-gw",
                "scale-1",
                start + Duration::seconds(i as i64),
                Event::Weighing(Weighing {
                    eid: animal.eid,
                    weight: Weight::from_kg((animal.weight_kg * 2.0).round() / 2.0),
                    tag_read_event_id: None,
                    gross_net: None,
                }),
            )
        })
        .collect()
}
