//! Wire compatibility: messages written by earlier releases, and by later releases that only
//! added optional fields, must keep decoding. Fixtures under `fixtures/v1/` are never edited.

use chrono::{TimeZone, Utc};
use schemas::{DecodeError, Eid, Envelope, Event, GrossNet, Weighing, Weight, decode, encode};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn a_v1_weighing_written_before_gross_net_existed_still_decodes() {
    let env = decode(&fixture("v1/weighing.json")).unwrap();
    assert_eq!(env.schema_version, 1);
    assert_eq!(env.feedlot_id, "demo-yard");
    assert_eq!(
        env.captured_at,
        Utc.with_ymd_and_hms(2026, 11, 25, 7, 15, 2).unwrap() + chrono::Duration::milliseconds(250)
    );
    let Event::Weighing(w) = env.event else {
        panic!("not a weighing: {:?}", env.event)
    };
    assert_eq!(w.eid.as_str(), "982000001088420");
    assert_eq!(w.weight, Weight::from_lb(1234.0));
    assert_eq!(
        w.gross_net, None,
        "the later optional field defaults to absent"
    );
}

#[test]
fn a_v1_tag_read_still_decodes() {
    let env = decode(&fixture("v1/tag_read.json")).unwrap();
    assert!(matches!(env.event, Event::TagRead(ref t) if t.eid.as_str() == "982000001088420"));
}

#[test]
fn fields_added_by_a_later_writer_are_ignored_not_rejected() {
    let env = decode(&fixture("future_weighing_with_new_fields.json")).unwrap();
    let Event::Weighing(w) = env.event else {
        panic!("not a weighing")
    };
    assert_eq!(w.gross_net, Some(GrossNet::Gross));
    assert_eq!(w.weight.kg(), 412.5);
}

#[test]
fn a_newer_major_version_is_refused_with_the_reason() {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("v1/weighing.json")).unwrap();
    v["schema_version"] = 2.into();
    let err = decode(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    ));
}

#[test]
fn an_envelope_round_trips_with_utc_capture_time() {
    let env = Envelope::new(
        "yard",
        "gw",
        "scale-1",
        Utc::now(),
        Event::Weighing(Weighing {
            eid: Eid::parse("982 000001088420").unwrap(),
            weight: Weight::from_kg(401.5),
            tag_read_event_id: None,
            gross_net: Some(GrossNet::Net),
        }),
    );
    assert_eq!(env.event_id.get_version_num(), 7);
    let bytes = encode(&env);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\"kind\":\"weighing\""), "{text}");
    assert!(
        text.contains("Z\""),
        "capture time is UTC on the wire: {text}"
    );
    assert_eq!(decode(&bytes).unwrap(), env);
}

#[test]
fn garbage_and_invalid_eids_are_decode_errors() {
    assert!(matches!(decode(b"not json"), Err(DecodeError::Invalid(_))));
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("v1/weighing.json")).unwrap();
    v["event"]["eid"] = "000000000000000".into();
    assert!(decode(&serde_json::to_vec(&v).unwrap()).is_err());
}

/// The key of `signed_weighing_v1.json` (a fixed seed: the fixture must verify forever; it
/// sits outside `v1/`, which holds one fixture per kind).
fn fixture_key() -> schemas::GatewayKey {
    schemas::GatewayKey::from_seed([7; 32])
}

#[test]
fn signing_is_additive_old_envelopes_read_as_unsigned_and_a_signed_fixture_still_verifies() {
    // Written before signatures existed: decodes, unsigned.
    let old = decode(&fixture("v1/weighing.json")).unwrap();
    assert_eq!(
        (old.key_id.as_deref(), old.signature.as_deref()),
        (None, None)
    );
    // The signed fixture: still version 1, and its signature (over the signed-bytes layout of
    // `schemas::signing`) verifies; a change to that layout fails here.
    let bytes = fixture("signed_weighing_v1.json");
    let signed = decode(&bytes).unwrap();
    assert_eq!(signed.schema_version, 1);
    assert_eq!(signed.key_id, Some(fixture_key().key_id()));
    schemas::signing::verify_message(&bytes, &signed, &fixture_key().public_key()).unwrap();
    // An unsigned envelope encodes without the fields (byte-identical to before).
    assert!(
        !String::from_utf8(encode(&old))
            .unwrap()
            .contains("signature")
    );
}
