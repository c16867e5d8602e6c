//! Every event kind as version 1 first wrote it (fixtures under `fixtures/v1/`, never edited)
//! decodes with the current code, passes validation, and round-trips.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use schemas::{
    DoseUnit, Envelope, Event, EventKind, Reason, Route, TreatmentPurpose, decode, encode,
};

fn fixture(name: &str) -> Envelope {
    let path = format!(
        "{}/tests/fixtures/v1/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_kind_has_a_v1_fixture_that_decodes_validates_and_round_trips() {
    for kind in EventKind::ALL {
        let env = fixture(kind.as_str());
        assert_eq!(env.event.kind(), kind, "{}", kind.as_str());
        env.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
        assert_eq!(decode(&encode(&env)).unwrap(), env, "{}", kind.as_str());
    }
}

#[test]
fn a_v1_feed_load_lists_each_ingredient_with_its_weight() {
    let Event::FeedLoad(load) = fixture("feed_load").event else {
        panic!("not a feed load")
    };
    assert_eq!(
        (load.ration_id.as_str(), load.batch_id.as_str()),
        ("finisher", "T7-1")
    );
    assert_eq!(load.truck_id, "T7");
    let names: Vec<_> = load
        .ingredients
        .iter()
        .map(|i| i.ingredient.as_str())
        .collect();
    assert_eq!(names, ["corn", "silage", "supplement"]);
    assert_eq!(load.total_kg(), 4550.5);
}

#[test]
fn a_v1_feed_delivery_carries_target_and_delivered_kg() {
    let Event::FeedDelivery(d) = fixture("feed_delivery").event else {
        panic!("not a delivery")
    };
    assert_eq!(
        (d.pen_id.as_str(), d.target_kg, d.delivered_kg),
        ("P12", 4200.0, 4185.5)
    );
    assert_eq!(d.operator, "sam");
}

#[test]
fn a_v1_treatment_carries_dose_route_lot_and_withdrawal() {
    let Event::Treatment(t) = fixture("treatment").event else {
        panic!("not a treatment")
    };
    assert_eq!(t.eid.as_str(), "982000001088420");
    assert_eq!(t.purpose, TreatmentPurpose::Therapeutic);
    assert_eq!(
        (t.dose, t.dose_unit, t.route),
        (8.5, DoseUnit::Ml, Route::Subcutaneous)
    );
    assert_eq!((t.product_lot.as_str(), t.withdrawal_days), ("DX-2291", 18));
    assert_eq!(t.diagnosis.as_deref(), Some("BRD"));
}

#[test]
fn a_v1_arrival_carries_pay_weight_shrink_and_price_in_minor_units() {
    let Event::Arrival(a) = fixture("arrival").event else {
        panic!("not an arrival")
    };
    assert_eq!((a.lot_id.as_str(), a.head_count), ("L-2026-031", 120));
    assert_eq!((a.pay_weight_kg, a.shrink_pct), (43_500.0, 4.0));
    assert_eq!(
        (a.purchase_price_minor, a.currency.as_str()),
        (21_750_000, "USD")
    );
    assert_eq!(a.pen_id.as_deref(), Some("P12"));
}

#[test]
fn a_v1_pen_move_death_and_shipment_decode() {
    let Event::PenMove(m) = fixture("pen_move").event else {
        panic!("not a pen move")
    };
    assert_eq!(
        (m.from_pen_id.as_str(), m.to_pen_id.as_str()),
        ("P12", "H1")
    );
    assert_eq!(m.head(), Some(1));
    let Event::Death(d) = fixture("death").event else {
        panic!("not a death")
    };
    assert_eq!(d.cause, "bovine respiratory disease");
    let Event::Shipment(s) = fixture("shipment").event else {
        panic!("not a shipment")
    };
    assert_eq!(
        (s.head_count, s.weight_kg, s.price_minor),
        (118, 72_000.0, 29_500_000)
    );
}

#[test]
fn a_v1_purchase_ration_and_yardage_rate_decode() {
    let Event::FeedPurchase(p) = fixture("feed_purchase").event else {
        panic!("not a purchase")
    };
    assert_eq!(
        (p.quantity_kg, p.price_minor, p.dry_matter_pct),
        (25_000.0, 480_000, 86.0)
    );
    let Event::Ration(r) = fixture("ration").event else {
        panic!("not a ration")
    };
    assert_eq!(r.ingredients.len(), 3);
    assert!((r.dry_matter_pct() - 76.2).abs() < 1e-9);
    let Event::YardageRate(y) = fixture("yardage_rate").event else {
        panic!("not a yardage rate")
    };
    assert_eq!((y.per_head_per_day_minor, y.lot_id), (45, None));
}

#[test]
fn a_message_that_decodes_but_has_a_bad_value_fails_validation_naming_the_field() {
    let mut env = fixture("arrival");
    let Event::Arrival(a) = &mut env.event else {
        panic!("not an arrival")
    };
    a.shrink_pct = -4.0;
    let bytes = encode(&env);
    let decoded = decode(&bytes).unwrap();
    let err = decoded.validate().unwrap_err();
    assert_eq!(err.field, "shrink_pct");
    assert_eq!(err.reason, Reason::PercentOutOfRange(-4.0));

    let mut env = fixture("feed_load");
    env.feedlot_id = String::new();
    assert_eq!(env.validate().unwrap_err().field, "feedlot_id");
}

#[test]
fn an_unknown_kind_is_a_decode_error_not_a_panic() {
    let text = String::from_utf8(encode(&fixture("death")))
        .unwrap()
        .replace("\"kind\":\"death\"", "\"kind\":\"calving\"");
    assert!(decode(text.as_bytes()).is_err());
}

#[test]
fn a_v1_correction_names_the_record_its_action_reason_and_new_values() {
    let env = fixture("correction");
    let Event::Correction(c) = env.event else {
        panic!("not a correction")
    };
    assert_eq!(
        c.corrects_event_id.to_string(),
        fixture("treatment").event_id.to_string(),
        "it amends the v1 treatment"
    );
    assert_eq!(c.action, schemas::CorrectionAction::Amend);
    assert_eq!(c.amended_fields(), ["dose"]);
    assert_eq!(c.dose, Some(6.5));
    assert_eq!(c.reason, "dose misread: 6.5 ml given");
    assert_eq!(env.device_id, "api:dr-lee", "who corrected");
}

#[test]
fn a_v1_shipment_plan_names_its_lot_day_head_and_chosen_animals() {
    let env = fixture("shipment_plan");
    let Event::ShipmentPlan(p) = env.event else {
        panic!("not a shipment plan")
    };
    assert_eq!(
        (p.lot_id.as_str(), p.pen_id.as_deref()),
        ("L-2026-031", Some("P12"))
    );
    assert_eq!(p.planned_date.to_string(), "2027-05-02");
    assert_eq!(p.head_count, 118);
    let eids: Vec<_> = p.eids.iter().map(|e| e.as_str()).collect();
    assert_eq!(eids, ["982000001088420", "982000001088421"]);
    assert_eq!(p.buyer.as_deref(), Some("Tyson Lexington"));
    assert_eq!(p.destination.as_deref(), Some("Lexington, NE"));
    assert_eq!(p.note.as_deref(), Some("two trucks, 7 am"));
}
