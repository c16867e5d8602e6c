//! The JSON Schema files under `docs/json-schema/` are generated from these types. This test
//! fails when they are stale; regenerate them with
//! `UPDATE_JSON_SCHEMA=1 cargo test -p schemas --test json_schema`.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::{JsonSchema, Schema, schema_for};
use schemas::{
    Arrival, Correction, Death, Envelope, EventKind, FeedDelivery, FeedLoad, FeedPurchase,
    GatewayStatus, LotDeath, LotTreatment, PenMove, Placement, Ration, Shipment, ShipmentPlan,
    TagRead, Treatment, Weighing, YardProfile, YardageRate,
};

fn body<T: JsonSchema>() -> Schema {
    schema_for!(T)
}

/// File name -> schema: the envelope (every kind, tagged by `kind`) and each kind's body.
fn generated() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut add = |name: &str, schema: Schema| {
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        files.insert(format!("{name}.schema.json"), text);
    };
    add("envelope", schema_for!(Envelope));
    for kind in EventKind::ALL {
        let schema = match kind {
            EventKind::TagRead => body::<TagRead>(),
            EventKind::Weighing => body::<Weighing>(),
            EventKind::FeedLoad => body::<FeedLoad>(),
            EventKind::FeedDelivery => body::<FeedDelivery>(),
            EventKind::Treatment => body::<Treatment>(),
            EventKind::Arrival => body::<Arrival>(),
            EventKind::PenMove => body::<PenMove>(),
            EventKind::Death => body::<Death>(),
            EventKind::Shipment => body::<Shipment>(),
            EventKind::FeedPurchase => body::<FeedPurchase>(),
            EventKind::Ration => body::<Ration>(),
            EventKind::YardageRate => body::<YardageRate>(),
            EventKind::Placement => body::<Placement>(),
            EventKind::YardProfile => body::<YardProfile>(),
            EventKind::LotDeath => body::<LotDeath>(),
            EventKind::LotTreatment => body::<LotTreatment>(),
            EventKind::GatewayStatus => body::<GatewayStatus>(),
            EventKind::Correction => body::<Correction>(),
            EventKind::ShipmentPlan => body::<ShipmentPlan>(),
            other => panic!("no schema for {}", other.as_str()),
        };
        add(kind.as_str(), schema);
    }
    files
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/json-schema")
}

#[test]
fn the_committed_json_schema_files_match_the_wire_types() {
    let files = generated();
    if std::env::var_os("UPDATE_JSON_SCHEMA").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for (name, text) in &files {
            std::fs::write(dir().join(name), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &files {
        match std::fs::read_to_string(dir().join(name)) {
            Ok(committed) if &committed == text => {}
            _ => stale.push(name.clone()),
        }
    }
    let extra: Vec<_> = std::fs::read_dir(dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".schema.json") && !files.contains_key(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "docs/json-schema is stale (changed or missing: {stale:?}; no longer generated: \
         {extra:?}); run `UPDATE_JSON_SCHEMA=1 cargo test -p schemas --test json_schema`"
    );
}

#[test]
fn the_envelope_schema_lists_every_kind() {
    let text = serde_json::to_string(&schema_for!(Envelope)).unwrap();
    for kind in EventKind::ALL {
        assert!(
            text.contains(&format!("\"{}\"", kind.as_str())),
            "{} missing from the envelope schema",
            kind.as_str()
        );
    }
}
