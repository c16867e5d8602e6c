//! Gateway identity end to end (docs/security.md, "Gateway identity"): against a real broker
//! and ClickHouse, the consumer stores only events signed by a key the registry lists as
//! active for the event's gateway and feedlot; everything else goes to the dead-letter topic
//! with its reason and never into ClickHouse.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::message::{Headers, Message};
use schemas::{Envelope, GatewayKey};
use support::*;
use uuid::Uuid;

const GATEWAY: &str = "gw-s";
const YARD: &str = "yard-s";

/// A weighing by [`GATEWAY`] at `feedlot`, its weight `kg` (distinct per event, to find it).
fn event(feedlot: &str, kg: f64) -> Envelope {
    let mut e = weighing(feedlot, "982000000000901", kg, 5);
    e.gateway_id = GATEWAY.into();
    e
}

/// Reads `n` dead letters: event id -> `dlq.reason`.
async fn dead_letters(bootstrap: &str, group: &str, n: usize) -> BTreeMap<Uuid, String> {
    let dlq = dead_letter_reader(bootstrap, group);
    let mut got = BTreeMap::new();
    while got.len() < n {
        let m = tokio::time::timeout(Duration::from_secs(60), dlq.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} dead letters: {got:#?}", got.len()))
            .unwrap();
        let envelope = schemas::decode(m.payload().unwrap()).unwrap();
        let reason = m
            .headers()
            .unwrap()
            .iter()
            .find(|h| h.key == "dlq.reason")
            .map(|h| String::from_utf8_lossy(h.value.unwrap()).into_owned())
            .unwrap();
        got.insert(envelope.event_id, reason);
    }
    got
}

/// The weights stored for [`GATEWAY`], sorted.
async fn stored_weights(db: &testkit::ClickHouseDb) -> Vec<f64> {
    let mut w: Vec<f64> = db
        .client()
        .query("SELECT weight_kg FROM weighings FINAL WHERE gateway_id = ?")
        .bind(GATEWAY)
        .fetch_all::<f64>()
        .await
        .unwrap();
    w.sort_by(f64::total_cmp);
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn only_events_signed_by_an_enrolled_key_for_their_feedlot_are_stored() {
    let p = pipeline("sig_forged").await;
    let client = p.db.client();
    ingest::schema::migrate(&client, &p.db.database)
        .await
        .unwrap();
    let key = GatewayKey::generate().unwrap();
    ingest::gateways::enroll(
        &client,
        &p.db.database,
        GATEWAY,
        &[YARD.into()],
        &key.public_key().to_base64(),
        "test",
    )
    .await
    .unwrap();
    let (shutdown, task) = start(&p.config);

    let good = event(YARD, 301.0);
    // Signed with a key nobody enrolled (its own key id).
    let forged_unknown = event(YARD, 302.0);
    let forger = GatewayKey::generate().unwrap();
    // Signed with another key but claiming the enrolled key's id.
    let forged_claiming = event(YARD, 303.0);
    let mut claiming: serde_json::Value =
        serde_json::from_slice(&forger.encode_signed(&forged_claiming)).unwrap();
    claiming["key_id"] = key.key_id().into();
    let unsigned = event(YARD, 304.0);
    // Signed, then the weight changed on the way.
    let tampered = event(YARD, 305.0);
    let tampered_bytes = String::from_utf8(key.encode_signed(&tampered))
        .unwrap()
        .replace("\"value\":305.0", "\"value\":999.0")
        .into_bytes();
    assert_ne!(tampered_bytes, key.encode_signed(&tampered));
    // Properly signed, but for a yard the gateway may not write.
    let wrong_yard = event("yard-other", 306.0);

    let messages = vec![
        (YARD.to_owned(), key.encode_signed(&good)),
        (YARD.to_owned(), forger.encode_signed(&forged_unknown)),
        (YARD.to_owned(), serde_json::to_vec(&claiming).unwrap()),
        (YARD.to_owned(), schemas::encode(&unsigned)),
        (YARD.to_owned(), tampered_bytes),
        ("yard-other".to_owned(), key.encode_signed(&wrong_yard)),
    ];
    produce(&p.broker.bootstrap, &messages).await;

    let dead = dead_letters(&p.broker.bootstrap, "sig-dlq", 5).await;
    let reason = |e: &Envelope| dead.get(&e.event_id).cloned().unwrap_or_default();
    assert!(
        reason(&forged_unknown).starts_with("unknown gateway or key"),
        "{dead:#?}"
    );
    assert!(
        reason(&forged_claiming).starts_with("bad signature"),
        "{dead:#?}"
    );
    assert_eq!(reason(&unsigned), "unsigned");
    assert!(reason(&tampered).starts_with("bad signature"), "{dead:#?}");
    assert!(
        reason(&wrong_yard).starts_with("feedlot not allowed for gateway"),
        "{dead:#?}"
    );
    assert!(!dead.contains_key(&good.event_id));
    assert_eq!(wait_for_rows(&p.db, "weighings", 1).await, 1);
    assert_eq!(stored_weights(&p.db).await, [301.0]);

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_overlaps_with_the_old_one_until_the_old_one_is_revoked() {
    let mut p = pipeline("sig_rotate").await;
    p.config.security.registry_refresh_ms = 1000;
    let client = p.db.client();
    ingest::schema::migrate(&client, &p.db.database)
        .await
        .unwrap();
    let old = GatewayKey::generate().unwrap();
    ingest::gateways::enroll(
        &client,
        &p.db.database,
        GATEWAY,
        &[YARD.into()],
        &old.public_key().to_base64(),
        "test",
    )
    .await
    .unwrap();
    let (shutdown, task) = start(&p.config);

    // Rotate: the new key for every feedlot of the old; the old accepted for an hour.
    let new = GatewayKey::generate().unwrap();
    let hour_from_now = ingest::gateways::now_ms() + 3_600_000;
    ingest::gateways::rotate(
        &client,
        &p.db.database,
        GATEWAY,
        &new.public_key().to_base64(),
        hour_from_now,
        "test",
    )
    .await
    .unwrap();
    let under_old = event(YARD, 311.0);
    let under_new = event(YARD, 312.0);
    produce(
        &p.broker.bootstrap,
        &[
            (YARD.to_owned(), old.encode_signed(&under_old)),
            (YARD.to_owned(), new.encode_signed(&under_new)),
        ],
    )
    .await;
    assert_eq!(wait_for_rows(&p.db, "weighings", 2).await, 2);

    // Revoke the old key: its events are refused once the consumers read the registry again.
    ingest::gateways::revoke(
        &client,
        &p.db.database,
        GATEWAY,
        Some(&old.key_id()),
        "test",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after_old = event(YARD, 313.0);
    let after_new = event(YARD, 314.0);
    produce(
        &p.broker.bootstrap,
        &[
            (YARD.to_owned(), old.encode_signed(&after_old)),
            (YARD.to_owned(), new.encode_signed(&after_new)),
        ],
    )
    .await;
    let dead = dead_letters(&p.broker.bootstrap, "sig-rotate-dlq", 1).await;
    assert!(
        dead[&after_old.event_id].starts_with("key revoked"),
        "{dead:#?}"
    );
    assert_eq!(wait_for_rows(&p.db, "weighings", 3).await, 3);
    assert_eq!(stored_weights(&p.db).await, [311.0, 312.0, 314.0]);

    // A rotation whose overlap ended refuses the old key as revoked too.
    let third = GatewayKey::generate().unwrap();
    ingest::gateways::rotate(
        &client,
        &p.db.database,
        GATEWAY,
        &third.public_key().to_base64(),
        ingest::gateways::now_ms(),
        "test",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = event(YARD, 315.0);
    produce(
        &p.broker.bootstrap,
        &[(YARD.to_owned(), new.encode_signed(&late))],
    )
    .await;
    let dead = dead_letters(&p.broker.bootstrap, "sig-rotate-dlq-2", 2).await;
    assert!(
        dead[&late.event_id].contains("rotation overlap ended"),
        "{dead:#?}"
    );
    assert_eq!(
        stored_weights(&p.db).await,
        [311.0, 312.0, 314.0],
        "nothing under a revoked or expired key stored"
    );

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// Runs the real `ingest` binary with `args` against `db`.
fn ingest_cli(db: &testkit::ClickHouseDb, args: &[&str]) -> std::process::Output {
    testkit::cli::run(
        env!("CARGO_BIN_EXE_ingest"),
        "INGEST_",
        args,
        &[
            ("INGEST_CLICKHOUSE_URL", db.url.as_str()),
            ("INGEST_CLICKHOUSE_DATABASE", db.database.as_str()),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateways_commands_enroll_rotate_revoke_and_list_keys() {
    use testkit::cli::text;
    let db = testkit::ClickHouseDb::create("sig_cli").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let old = GatewayKey::generate().unwrap();
    let new = GatewayKey::generate().unwrap();
    let old_file = dir.path().join("gw-c.pub");
    std::fs::write(&old_file, format!("{}\n", old.public_key().to_base64())).unwrap();

    let out = ingest_cli(
        &db,
        &[
            "gateways",
            "enroll",
            "--gateway",
            "gw-c",
            "--feedlot",
            "yard-c",
            "--feedlot",
            "yard-d",
            "--public-key",
            &format!("@{}", old_file.display()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert_eq!(said.matches(&old.key_id()).count(), 2, "{said}");
    assert!(said.contains("active"), "{said}");

    let out = ingest_cli(
        &db,
        &[
            "gateways",
            "rotate",
            "--gateway",
            "gw-c",
            "--public-key",
            &new.public_key().to_base64(),
            "--old-valid-for",
            "2h",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert_eq!(said.matches(&new.key_id()).count(), 2, "{said}");
    assert!(said.contains("active until"), "{said}");

    let out = ingest_cli(
        &db,
        &[
            "gateways",
            "revoke",
            "--gateway",
            "gw-c",
            "--key-id",
            &old.key_id(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = ingest_cli(&db, &["gateways", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let line = |key: &str, feedlot: &str| {
        said.lines()
            .find(|l| l.contains(key) && l.contains(feedlot))
            .unwrap_or_else(|| panic!("no {key} {feedlot} in {said}"))
            .to_owned()
    };
    assert!(line(&old.key_id(), "yard-c").contains("revoked"), "{said}");
    assert!(line(&old.key_id(), "yard-d").contains("revoked"), "{said}");
    assert!(line(&new.key_id(), "yard-c").contains("active"), "{said}");
    assert!(!line(&new.key_id(), "yard-c").contains("until"), "{said}");

    // Refusals name what is wrong and exit non-zero.
    let out = ingest_cli(
        &db,
        &[
            "gateways",
            "enroll",
            "--gateway",
            "gw-c",
            "--feedlot",
            "yard-c",
            "--public-key",
            "not-a-key",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("invalid key"),
        "{}",
        text(&out.stderr)
    );
    let out = ingest_cli(&db, &["gateways", "revoke", "--gateway", "gw-nobody"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not enrolled"),
        "{}",
        text(&out.stderr)
    );
    for command in ["enroll", "rotate", "revoke", "list"] {
        let out = ingest_cli(&db, &["gateways", command, "--help"]);
        assert!(text(&out.stdout).contains("Examples:"), "{command}");
    }
}
