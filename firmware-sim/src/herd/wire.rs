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

/// A UUIDv7 for `event` captured at `at` by `device`: its random part is drawn from a hash of
/// the three and `salt`, so the same record always gets the same id, whatever else is sent.
fn event_id(
    salt: u64,
    at: chrono::DateTime<chrono::Utc>,
    device: &str,
    event: &Event,
) -> uuid::Uuid {
    // FNV-1a: stable across builds and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    let body = serde_json::to_vec(event).unwrap_or_default();
    for byte in device
        .bytes()
        .chain(body)
        .chain(at.timestamp_millis().to_le_bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let random: [u8; 10] = StdRng::seed_from_u64(hash).random();
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(at.timestamp_millis()).unwrap_or(0),
        &random,
    )
    .into_uuid()
}

/// The envelopes `events` become at yard `feedlot_id`, as its gateway `gateway_id` captures
/// them: a chute weighing is a tag read (`rfid-1`) and a weighing (`scale-1`, 4 s later) paired
/// to it; a manual record comes from `api:office`; truck records from `truck-T1`; a yard
/// profile from `config`. Ids are
/// deterministic per record and `salt`, so a re-sent history is deduplicated.
pub fn envelopes(
    events: &[SimEvent],
    feedlot_id: &str,
    gateway_id: &str,
    salt: u64,
) -> Vec<Envelope> {
    let mut out = Vec::with_capacity(events.len() * 2);
    let wrap = |at, device: &str, event: Event| {
        let id = event_id(salt, at, device, &event);
        let mut e = Envelope::new(feedlot_id, gateway_id, device, at, event);
        e.event_id = id;
        e
    };
    for e in events {
        match (&e.channel, &e.event) {
            (Channel::Chute, Event::Weighing(w)) => {
                let tag = wrap(
                    e.at,
                    "rfid-1",
                    Event::TagRead(TagRead { eid: w.eid.clone() }),
                );
                let mut weighing = w.clone();
                weighing.tag_read_event_id = Some(tag.event_id);
                let at = e.at + chrono::Duration::seconds(4);
                out.push(tag);
                out.push(wrap(at, "scale-1", Event::Weighing(weighing)));
            }
            (_, Event::YardProfile(_)) => out.push(wrap(e.at, "config", e.event.clone())),
            (Channel::Truck, event) => {
                out.push(wrap(e.at, "truck-T1", event.clone()));
            }
            (_, event) => out.push(wrap(e.at, "api:office", event.clone())),
        }
    }
    out
}
