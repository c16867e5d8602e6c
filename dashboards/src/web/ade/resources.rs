//! An animal's records as ICAR Animal Data Exchange (ADE) resources (JSON shapes of
//! <https://github.com/adewg/ICAR>, `resources/`): pure mapping from the rows read from
//! ClickHouse, so it is tested without a database.
//!
//! Identifiers: the animal is `{"id": <15-digit EID>, "scheme": "std.iso.11785"}` (the ICAR
//! well-known scheme for ISO 11784/11785 RFID code numbers); a US EID (840…) also carries
//! `usa.ain`. The yard is the `location`, `{"id": <feedlot id>, "scheme": "`[`LOCATION_SCHEME`]`"}`.
//! Every event resource's `id` and `meta.sourceId` is the product's event id (UUIDv7). Weights
//! are kg (`KGM`), times RFC 3339 UTC.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The ICAR well-known scheme for 15-digit ISO 11784/11785 animal numbers.
pub const EID_SCHEME: &str = "std.iso.11785";
/// The ICAR well-known scheme for US Animal Identification Numbers (840…).
pub const US_AIN_SCHEME: &str = "usa.ain";
/// The scheme of this product's yard ids (the `location` of every resource).
pub const LOCATION_SCHEME: &str = "feedlot.yard-id";
/// `meta.source` of every resource.
pub const SOURCE: &str = "feedlot-dashboards";

/// A placement of the animal into its lot and pen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct PlacementRow {
    /// The event id.
    pub event_id: String,
    /// The animal.
    pub eid: String,
    /// Its lot.
    pub lot_id: String,
    /// Its pen.
    pub pen_id: String,
    /// `steer`, `heifer`, `bull`, `cow` or empty.
    pub sex: String,
    /// Breed text, or empty.
    pub breed: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A lot's arrival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct ArrivalRow {
    /// The event id.
    pub event_id: String,
    /// The lot.
    pub lot_id: String,
    /// Where the cattle came from.
    pub origin: String,
    /// Who sold them, or empty.
    pub source: String,
    /// Pen placed in, or empty.
    pub pen_id: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A weighing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct WeighingRow {
    /// The event id.
    pub event_id: String,
    /// The animal.
    pub eid: String,
    /// Weight, kg.
    pub weight_kg: f64,
    /// The scale (or `api:<user>`).
    pub device_id: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A treatment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct TreatmentRow {
    /// The event id.
    pub event_id: String,
    /// The animal.
    pub eid: String,
    /// `therapeutic`, `vaccination` or `processing`.
    pub purpose: String,
    /// The product.
    pub product: String,
    /// The dose, in `dose_unit`.
    pub dose: f64,
    /// `ml`, `mg`, `g` or `unit`.
    pub dose_unit: String,
    /// How it was given (`subcutaneous`, ...).
    pub route: String,
    /// The product's lot or serial.
    pub product_lot: String,
    /// Meat withdrawal after the dose, days.
    pub withdrawal_days: u32,
    /// Who gave it.
    pub administered_by: String,
    /// Diagnosis, or empty.
    pub diagnosis: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A pen move of the animal (moves naming the animal only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct PenMoveRow {
    /// The event id.
    pub event_id: String,
    /// The animal.
    pub eid: String,
    /// The pen it left.
    pub from_pen_id: String,
    /// The pen it went to.
    pub to_pen_id: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A death.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct DeathRow {
    /// The event id.
    pub event_id: String,
    /// The animal.
    pub eid: String,
    /// The cause as recorded.
    pub cause: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// A shipment listing the animal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct ShipmentRow {
    /// The event id.
    pub event_id: String,
    /// The animal (one row per animal listed).
    pub eid: String,
    /// The lot shipped.
    pub lot_id: String,
    /// Who bought them.
    pub buyer: String,
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
}

/// Everything read for one animal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnimalRows {
    /// Its placements.
    pub placements: Vec<PlacementRow>,
    /// The arrivals of its lots.
    pub arrivals: Vec<ArrivalRow>,
    /// Its weighings.
    pub weighings: Vec<WeighingRow>,
    /// Its treatments.
    pub treatments: Vec<TreatmentRow>,
    /// Its own pen moves.
    pub pen_moves: Vec<PenMoveRow>,
    /// Its death, if recorded.
    pub deaths: Vec<DeathRow>,
    /// Shipments listing it.
    pub shipments: Vec<ShipmentRow>,
}

impl AnimalRows {
    /// Whether nothing at all is recorded for the animal.
    pub fn is_empty(&self) -> bool {
        self.placements.is_empty()
            && self.weighings.is_empty()
            && self.treatments.is_empty()
            && self.pen_moves.is_empty()
            && self.deaths.is_empty()
            && self.shipments.is_empty()
    }
}

fn time(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The animal's identifier.
pub fn animal_id(eid: &str) -> Value {
    json!({"id": eid, "scheme": EID_SCHEME})
}

fn location(feedlot_id: &str) -> Value {
    json!({"id": feedlot_id, "scheme": LOCATION_SCHEME})
}

fn meta(event_id: &str, at_ms: u64) -> Value {
    json!({"source": SOURCE, "sourceId": event_id, "modified": time(at_ms)})
}

/// The common fields of an animal event resource.
fn event(
    resource_type: &str,
    feedlot_id: &str,
    eid: &str,
    event_id: &str,
    at_ms: u64,
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("resourceType".into(), json!(resource_type));
    m.insert("id".into(), json!(event_id));
    m.insert("meta".into(), meta(event_id, at_ms));
    m.insert("location".into(), location(feedlot_id));
    m.insert("animal".into(), animal_id(eid));
    m.insert("eventDateTime".into(), json!(time(at_ms)));
    m
}

/// The product's sex class as an ICAR gender.
pub fn gender(sex: &str) -> &'static str {
    match sex {
        "steer" => "MaleNeuter",
        "bull" => "Male",
        "heifer" | "cow" => "Female",
        _ => "Unknown",
    }
}

/// A dose unit as UN/CEFACT (`None` for whole units, which ADE's dose units do not name).
pub fn dose_units(unit: &str) -> Option<&'static str> {
    match unit {
        "ml" => Some("MLT"),
        "mg" => Some("MGM"),
        "g" => Some("GRM"),
        _ => None,
    }
}

/// `icarAnimalCoreResource` for the animal, as of its records.
pub fn animal_core(feedlot_id: &str, eid: &str, rows: &AnimalRows) -> Value {
    let last_placement = rows.placements.iter().max_by_key(|p| p.captured_at_ms);
    let sex = last_placement.map(|p| p.sex.as_str()).unwrap_or_default();
    let status = if !rows.deaths.is_empty() {
        "Dead"
    } else if !rows.shipments.is_empty() {
        "OffFarm"
    } else {
        "Alive"
    };
    let mut core = json!({
        "resourceType": "icarAnimalCoreResource",
        "location": location(feedlot_id),
        "identifier": animal_id(eid),
        "specie": "Cattle",
        "gender": gender(sex),
        "productionPurpose": "Meat",
        "status": status,
    });
    if eid.starts_with("840") {
        core["alternativeIdentifiers"] = json!([{"id": eid, "scheme": US_AIN_SCHEME}]);
    }
    if let Some(p) = last_placement {
        core["managementTag"] = json!(p.lot_id);
    }
    core
}

/// Every ADE resource for one animal: its core resource, then its events at or after
/// `since_ms` in time order: arrivals (`icarMovementArrivalEventResource`, one per placement
/// into a lot whose arrival is known), weighings (`icarWeightEventResource`, kg), treatments
/// (`icarTreatmentEventResource`), placements and pen moves as animal sets (the pen is the
/// set: `icarAnimalSetJoinEventResource`, and `icarAnimalSetLeaveEventResource` for the pen
/// left), its death (`icarMovementDeathEventResource`) and shipments
/// (`icarMovementDepartureEventResource`, kind `Sale`).
pub fn animal_resources(
    feedlot_id: &str,
    eid: &str,
    rows: &AnimalRows,
    since_ms: u64,
) -> Vec<Value> {
    let mut events: Vec<(u64, u8, Value)> = Vec::new();
    let mut arrivals_seen: Vec<&str> = Vec::new();
    for p in &rows.placements {
        let arrival = rows.arrivals.iter().find(|a| a.lot_id == p.lot_id);
        // One arrival however often the animal was placed into the same lot.
        if let Some(a) = arrival.filter(|a| !arrivals_seen.contains(&a.event_id.as_str())) {
            arrivals_seen.push(&a.event_id);
            let at = a.captured_at_ms;
            let mut m = event(
                "icarMovementArrivalEventResource",
                feedlot_id,
                eid,
                &a.event_id,
                at,
            );
            m.insert("arrivalReason".into(), json!("Purchase"));
            // ADE's consignment has no seller: the seller is in `remark`.
            let consignment = json!({"id": {"id": a.lot_id, "scheme": format!("{LOCATION_SCHEME}.lot")},
                                     "originAddress": a.origin});
            m.insert("consignment".into(), consignment);
            let mut remark = format!("lot {}", a.lot_id);
            if !a.source.is_empty() {
                remark.push_str(&format!("; bought from {}", a.source));
            }
            m.insert("remark".into(), json!(remark));
            events.push((at, 0, Value::Object(m)));
        }
        let mut m = event(
            "icarAnimalSetJoinEventResource",
            feedlot_id,
            eid,
            &p.event_id,
            p.captured_at_ms,
        );
        m.insert("animalSetId".into(), json!(p.pen_id));
        m.insert(
            "remark".into(),
            json!(format!("placed in lot {} pen {}", p.lot_id, p.pen_id)),
        );
        events.push((p.captured_at_ms, 1, Value::Object(m)));
    }
    for w in &rows.weighings {
        let mut m = event(
            "icarWeightEventResource",
            feedlot_id,
            eid,
            &w.event_id,
            w.captured_at_ms,
        );
        m.insert(
            "weight".into(),
            json!({"measurement": w.weight_kg, "units": "KGM", "method": "LoadCell"}),
        );
        m.insert(
            "device".into(),
            json!({"identifier": {"id": w.device_id, "scheme": format!("{LOCATION_SCHEME}.device")}}),
        );
        events.push((w.captured_at_ms, 2, Value::Object(m)));
    }
    for t in &rows.treatments {
        let mut m = event(
            "icarTreatmentEventResource",
            feedlot_id,
            eid,
            &t.event_id,
            t.captured_at_ms,
        );
        m.insert("medicine".into(), json!({"name": t.product}));
        m.insert("procedure".into(), json!(t.route));
        if !t.product_lot.is_empty() {
            m.insert("batches".into(), json!([{"identifier": t.product_lot}]));
        }
        let end_ms = t
            .captured_at_ms
            .saturating_add(u64::from(t.withdrawal_days) * 86_400_000);
        m.insert(
            "withdrawals".into(),
            json!([{"productType": "Meat", "endDate": time(end_ms)}]),
        );
        let mut dose = json!({"doseQuantity": t.dose});
        if let Some(units) = dose_units(&t.dose_unit) {
            dose["doseUnits"] = json!(units);
        }
        m.insert("dose".into(), dose);
        if !t.administered_by.is_empty() {
            m.insert("responsible".into(), json!(t.administered_by));
        }
        let mut comment = t.purpose.clone();
        if !t.diagnosis.is_empty() {
            comment.push_str(&format!(": {}", t.diagnosis));
        }
        if dose_units(&t.dose_unit).is_none() {
            comment.push_str(&format!(" ({} {})", t.dose, t.dose_unit));
        }
        m.insert("comment".into(), json!(comment));
        events.push((t.captured_at_ms, 3, Value::Object(m)));
    }
    for mv in &rows.pen_moves {
        let mut leave = event(
            "icarAnimalSetLeaveEventResource",
            feedlot_id,
            eid,
            &mv.event_id,
            mv.captured_at_ms,
        );
        leave.insert("animalSetId".into(), json!(mv.from_pen_id));
        events.push((mv.captured_at_ms, 4, Value::Object(leave)));
        let mut join = event(
            "icarAnimalSetJoinEventResource",
            feedlot_id,
            eid,
            &mv.event_id,
            mv.captured_at_ms,
        );
        join.insert("animalSetId".into(), json!(mv.to_pen_id));
        events.push((mv.captured_at_ms, 5, Value::Object(join)));
    }
    for d in &rows.deaths {
        let mut m = event(
            "icarMovementDeathEventResource",
            feedlot_id,
            eid,
            &d.event_id,
            d.captured_at_ms,
        );
        m.insert("deathReason".into(), json!("Other"));
        m.insert("deathMethod".into(), json!("Perished"));
        m.insert("explanation".into(), json!(d.cause));
        events.push((d.captured_at_ms, 6, Value::Object(m)));
    }
    for s in &rows.shipments {
        let mut m = event(
            "icarMovementDepartureEventResource",
            feedlot_id,
            eid,
            &s.event_id,
            s.captured_at_ms,
        );
        m.insert("departureKind".into(), json!("Sale"));
        m.insert("departureReason".into(), json!("Sale"));
        m.insert(
            "consignment".into(),
            json!({"id": {"id": s.lot_id, "scheme": format!("{LOCATION_SCHEME}.lot")},
                   "destinationAddress": s.buyer}),
        );
        events.push((s.captured_at_ms, 7, Value::Object(m)));
    }
    events.retain(|(at, _, _)| *at >= since_ms);
    events.sort_by_key(|a| (a.0, a.1));
    let mut out = Vec::with_capacity(events.len() + 1);
    out.push(animal_core(feedlot_id, eid, rows));
    out.extend(events.into_iter().map(|(_, _, v)| v));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genders_and_dose_units_map_to_icar_codes() {
        assert_eq!(gender("steer"), "MaleNeuter");
        assert_eq!(gender("heifer"), "Female");
        assert_eq!(gender(""), "Unknown");
        assert_eq!(dose_units("ml"), Some("MLT"));
        assert_eq!(dose_units("unit"), None);
    }

    #[test]
    fn a_us_animal_carries_its_ain_and_a_dead_one_is_dead() {
        let rows = AnimalRows {
            deaths: vec![DeathRow {
                event_id: "e1".into(),
                eid: "840003123456789".into(),
                cause: "BRD".into(),
                captured_at_ms: 1_000,
            }],
            ..AnimalRows::default()
        };
        let r = animal_resources("y", "840003123456789", &rows, 0);
        assert_eq!(r[0]["status"], "Dead");
        assert_eq!(r[0]["alternativeIdentifiers"][0]["scheme"], "usa.ain");
        assert_eq!(r[1]["resourceType"], "icarMovementDeathEventResource");
        assert_eq!(r[1]["explanation"], "BRD");
        assert_eq!(
            animal_resources("y", "840003123456789", &rows, 1_001).len(),
            1
        );
    }
}
