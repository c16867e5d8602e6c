//! From simulated records to what the gateway would send: envelopes with deterministic ids.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use schemas::{Envelope, Event, TagRead};

use super::{Channel, SimEvent};

/// The records API path segment (`/api/v1/records/{kind}`) a manual record is posted to.
pub fn records_path(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::Arrival(_) => "arrivals",
        Event::Treatment(_) => "treatments",
        Event::PenMove(_) => "pen-moves",
        Event::Death(_) => "deaths",
        Event::Shipment(_) => "shipments",
        Event::FeedPurchase(_) => "feed-purchases",
        Event::Ration(_) => "rations",
        Event::YardageRate(_) => "yardage-rates",
        Event::Placement(_) => "placements",
        _ => return None,
    })
}

/// A UUIDv7 for an event captured at `at`, its random part drawn from `rng`.
fn event_id_at(at: chrono::DateTime<chrono::Utc>, rng: &mut StdRng) -> uuid::Uuid {
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(at.timestamp_millis()).unwrap_or(0),
        &random,
    )
    .into_uuid()
}

/// The envelopes `events` become at yard `feedlot_id`, as its gateway `gateway_id` captures
/// them: a chute weighing is a tag read (`rfid-1`) and a weighing (`scale-1`, 4 s later) paired
/// to it; a manual record comes from `api:office`; truck records from `truck-T1`. Ids are
/// deterministic for the same events and `salt`, so a re-sent history is deduplicated.
pub fn envelopes(
    events: &[SimEvent],
    feedlot_id: &str,
    gateway_id: &str,
    salt: u64,
) -> Vec<Envelope> {
    let first = events.first().map_or(0, |e| e.at.timestamp_millis());
    let mut rng = StdRng::seed_from_u64(salt ^ first.unsigned_abs());
    let mut out = Vec::with_capacity(events.len() * 2);
    let wrap = |at, device: &str, event, rng: &mut StdRng| {
        let mut e = Envelope::new(feedlot_id, gateway_id, device, at, event);
        e.event_id = event_id_at(at, rng);
        e
    };
    for e in events {
        match (&e.channel, &e.event) {
            (Channel::Chute, Event::Weighing(w)) => {
                let tag = wrap(
                    e.at,
                    "rfid-1",
                    Event::TagRead(TagRead { eid: w.eid.clone() }),
                    &mut rng,
                );
                let mut weighing = w.clone();
                weighing.tag_read_event_id = Some(tag.event_id);
                let at = e.at + chrono::Duration::seconds(4);
                out.push(tag);
                out.push(wrap(at, "scale-1", Event::Weighing(weighing), &mut rng));
            }
            (Channel::Truck, event) => {
                out.push(wrap(e.at, "truck-T1", event.clone(), &mut rng));
            }
            (_, event) => out.push(wrap(e.at, "api:office", event.clone(), &mut rng)),
        }
    }
    out
}
