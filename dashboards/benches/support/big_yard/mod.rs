//! One big, deterministic yard for the dashboard bench: by default 50,000 head in lots of
//! ~200 over a year of daily feeding, as wire events (`schemas::Envelope`) ready for ingest's
//! own rows and `insert_rows`.
//!
//! ```text
//! pens P001..: pairs, one lot at a time per pair (half the lot in each pen), the next lot
//!   placed 3-9 days after the last one shipped; the first lots arrive over the first 11% of
//!   the period.
//! lot:    arrival (pay weight, 4% shrink) · a placement, in-weighing and vaccination per head
//!         · ~15% pulled (therapeutic treatment; a third of the survivors spend 3 days in
//!           hospital pen H1) · ~10% of pulls die (~1.5% of head) · re-weighed at 60 and 120
//!           days on feed (scaled to the period) · shipped (all survivors, their EIDs listed) after 42-48% of the period
//! feed:   3 rations reformulated every 60 days, 2 deliveries per occupied pen per day, weekly
//!         purchases of 4 ingredients from alternating suppliers (10% over the week's use)
//! yard:   default yardage changed at mid-period, one lot with its own rate
//! ```
//!
//! Times are UTC; every event id derives from the seed, so a re-run writes the same rows.

mod feed;
mod herd;
mod rng;

use chrono::{DateTime, Duration, TimeZone, Utc};
use schemas::{Envelope, Event};

pub use rng::Rng;

/// How big a yard to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Head placed over the period (rounded to whole lots).
    pub head: u32,
    /// Days of feeding.
    pub days: u32,
    /// Head per lot, on average.
    pub head_per_lot: u32,
}

impl Size {
    /// The issue's yard: 50,000 head, a year of daily feeding, lots of ~200.
    pub fn full() -> Self {
        Self {
            head: 50_000,
            days: 365,
            head_per_lot: 200,
        }
    }

    /// A CI smoke yard: 2,000 head over 120 days, lots of ~100.
    pub fn quick() -> Self {
        Self {
            head: 2_000,
            days: 120,
            head_per_lot: 100,
        }
    }
}

/// What went into the yard, to check the dashboards against and to report.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Lots placed.
    pub lots: usize,
    /// Lots shipped out (closed) before the end.
    pub closed_lots: usize,
    /// Head placed.
    pub head_in: u64,
    /// Deaths.
    pub dead: u64,
    /// Head shipped.
    pub shipped: u64,
    /// Therapeutic treatments (pulls).
    pub pulls: u64,
    /// Feed deliveries.
    pub deliveries: u64,
    /// Feed delivered, kg as fed.
    pub delivered_kg: f64,
    /// Scale weighings.
    pub weighings: u64,
    /// Every event.
    pub events: usize,
    /// A lot that shipped, for the lot page.
    pub a_closed_lot: String,
}

/// The generated yard.
#[derive(Debug, Clone)]
pub struct BigYard {
    /// Its feedlot id.
    pub feedlot_id: String,
    /// The first day, 00:00 UTC.
    pub start: DateTime<Utc>,
    /// The end of the last day: the dashboards are asked "as of" this.
    pub end: DateTime<Utc>,
    /// Every event, in no particular order.
    pub events: Vec<Envelope>,
    /// What they add up to.
    pub totals: Totals,
}

/// Collects events with seed-derived ids.
struct Events {
    feedlot_id: String,
    start: DateTime<Utc>,
    ids: Rng,
    out: Vec<Envelope>,
}

impl Events {
    /// Day `day` of the period at `secs` seconds after midnight.
    fn at(&self, day: u32, secs: u32) -> DateTime<Utc> {
        self.start + Duration::days(i64::from(day)) + Duration::seconds(i64::from(secs))
    }

    fn push(&mut self, when: DateTime<Utc>, device: &str, event: Event) {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.ids.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.ids.next_u64().to_le_bytes());
        self.out.push(Envelope {
            event_id: uuid::Builder::from_random_bytes(bytes).into_uuid(),
            feedlot_id: self.feedlot_id.clone(),
            gateway_id: "gw-1".into(),
            device_id: device.into(),
            captured_at: when,
            schema_version: schemas::SCHEMA_VERSION,
            event,
            key_id: None,
            signature: None,
        });
    }
}

/// Generates the yard `feedlot_id` of `size` from `seed`, starting 2025-06-01; the same inputs
/// give the same events. (The tests' fixed-date yards; the bench dates its yard from today.)
#[allow(dead_code)]
pub fn generate(feedlot_id: &str, size: Size, seed: u64) -> BigYard {
    let start = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    generate_from(feedlot_id, size, seed, start)
}

/// Generates the yard `feedlot_id` of `size` from `seed`, its first day starting at `start`
/// (a midnight UTC); the same inputs give the same events, shifted in time with `start`.
pub fn generate_from(feedlot_id: &str, size: Size, seed: u64, start: DateTime<Utc>) -> BigYard {
    let mut events = Events {
        feedlot_id: feedlot_id.to_owned(),
        start,
        ids: Rng::new(seed ^ 0x1d5_u64.rotate_left(40)),
        out: Vec::new(),
    };
    let mut rng = Rng::new(seed);
    let mut totals = Totals::default();
    let mut plan = feed::FeedPlan::new(size.days);
    let lots = herd::plan_lots(size, &mut rng);
    for lot in &lots {
        herd::lot_events(lot, size.days, &mut rng, &mut events, &mut totals);
        feed::deliveries(lot, size.days, &mut plan, &mut events, &mut totals);
    }
    plan.rations_and_purchases(&mut rng, &mut events);
    herd::yardage(size.days, lots.first(), &mut events);
    totals.lots = lots.len();
    totals.events = events.out.len();
    BigYard {
        feedlot_id: feedlot_id.to_owned(),
        start,
        end: start + Duration::days(i64::from(size.days)),
        events: events.out,
        totals,
    }
}
