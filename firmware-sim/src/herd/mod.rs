//! The herd model: a feedlot yard simulated one day at a time, deterministic from a seed.
//!
//! # Design
//!
//! A [`YardSim`] owns a few home pens (`P01`, ...), a sorting pen for tail-enders (`R1`) and a
//! hospital pen (`H1`). Each empty pen is
//! filled with a new lot ([`lots`]): steers or heifers of Plains breed types, bought from a
//! sale barn or ranch at today's feeder price on their shrunk pay weight. Every day
//! ([`YardSim::step`]) runs the yard's chores in time order and returns the records they leave,
//! each tagged with the [`Channel`] it is captured through:
//!
//! | time | chore | records | channel |
//! |---|---|---|---|
//! | 00:00 | rations (day 0), a reformulated finisher every 120 days (12:00) | `ration` | office |
//! | 05:00 | weekly drafts from day 100: animals at/above target, out of withdrawal | `shipment` (eids listed) | office |
//! | 05:30 | a lot down to its last few head moves to the sorting pen `R1`; its pen is refilled | `pen_move` (lot) | office |
//! | 06:00 | ingredients below four days' use are bought (two weeks' worth, at most a truckload) | `feed_purchase` | office |
//! | 06:30 | deaths found (sudden deaths; fatal hospital cases) | `death` | office |
//! | 07:00, 13:30 | bunk calls (yesterday's delivery ± bunk score), mixer loads, deliveries | `feed_load`, `feed_delivery` | truck |
//! | 08:00 | yesterday's arrivals processed: placement, in-weight, vaccines, dewormer, implant | `placement`, `weighing`, `treatment` | office, chute |
//! | 09:30 | sick cattle pulled to `H1` and treated ([`health`]) | `pen_move`, `treatment` | office |
//! | 10:00 | lots due a re-weigh (every 30-60 days; re-implant after day 60) | `weighing`, `treatment` | chute, office |
//! | 11:00 | recovered cattle back to their home pen | `pen_move` | office |
//! | 15:00 | a new lot into a pen emptied 3-10 days ago (staggered at the start) | `arrival` | office |
//!
//! Each animal grows along its own [`GrowthCurve`](crate::growth::GrowthCurve) (declining
//! ADG, ~1.9 % of body weight as dry matter), scaled by how much of its demand the bunk
//! delivered and slowed while in the hospital pen. Feed ([`feeding`]) follows bunk calls on a
//! starter → grower → finisher step-up; prices ([`market`]) drift within a band. The model
//! never looks at the wall clock: dates come from [`YardConfig::start`], randomness from
//! [`YardConfig::seed`], so the same config gives the same records.

pub mod animals;
mod chores;
mod feed_day;
pub mod feeding;
pub mod health;
pub mod lots;
pub mod market;
mod wire;
mod yard;

pub use animals::{Animal, SIM_MANUFACTURER_CODE, US_COUNTRY_CODE, arrivals, us_arrivals};
pub use wire::{envelopes, records_path};
pub use yard::{YardConfig, YardSim};

use chrono::{DateTime, NaiveDate, Utc};
use schemas::Event;

/// How a record reaches the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The chute's reader and scale (a tag read and a weighing).
    Chute,
    /// A manual record: the records API (office or chute-side tablet).
    Office,
    /// The feed truck over MQTT.
    Truck,
}

/// One record the yard made.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvent {
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// How it is captured.
    pub channel: Channel,
    /// What it says.
    pub event: Event,
}

/// What happened on one simulated day, for the demo's log line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySummary {
    /// The day.
    pub date: NaiveDate,
    /// Head in the yard at the end of the day.
    pub head_on_feed: usize,
    /// Mean weight of the cattle on feed, kg.
    pub mean_weight_kg: f64,
    /// Head arrived.
    pub arrived_head: usize,
    /// Head processed.
    pub processed_head: usize,
    /// Head re-weighed.
    pub weighed_head: usize,
    /// Head pulled sick.
    pub pulls: usize,
    /// Head died.
    pub deaths: usize,
    /// Head shipped.
    pub shipped_head: usize,
    /// Feed delivered, kg as fed.
    pub fed_kg: f64,
}

impl std::fmt::Display for DaySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}  {:>4} head, mean {:>5.0} kg, fed {:>6.0} kg",
            self.date, self.head_on_feed, self.mean_weight_kg, self.fed_kg
        )?;
        for (n, what) in [
            (self.arrived_head, "arrived"),
            (self.processed_head, "processed"),
            (self.weighed_head, "re-weighed"),
            (self.pulls, "pulled sick"),
            (self.deaths, "died"),
            (self.shipped_head, "shipped"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod outcomes;
