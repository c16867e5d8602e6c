//! The chute tablet's page, in a real browser: after an animal's second pass it shows its
//! previous weight and gain from the gateway's own registry (no uplink needed), and a treatment
//! recorded through the records API puts up the withdrawal warning. The browser signs in with
//! a records API token (HTTP Basic, the token as the password). An animal follows a whole-lot
//! move of its lot (unless it was moved alone out of that pen first), and a lot-level
//! treatment puts every animal of the lot in withdrawal.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use edge::api::{ApiToken, Role};
use serde_json::json;

use crate::support::{Animal, Chute, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chute_page_shows_previous_weight_gain_and_withdrawal_offline() {
    let mut chute = Chute::new().await;
    let data = tempfile::tempdir().unwrap();
    // No broker at all: everything below works offline.
    let nowhere = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let port = testkit::free_port().unwrap();
    let mut config = config(&chute, data.path(), &nowhere, "feedlot.events.v1");
    config.http.listen = format!("127.0.0.1:{port}");
    config.rfid.dedup_window_ms = 200;
    config.api.tokens = vec![ApiToken {
        token: "vet-1".into(),
        user: "dr-lee".into(),
        role: Role::Vet,
    }];
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}");
    // The browser signs in as the chute tablet's does: HTTP Basic, the token as the password.
    let signed_in = format!("http://chute:vet-1@127.0.0.1:{port}");

    let page = testkit::browser::dump_dom(&format!("{signed_in}/chute"))
        .await
        .unwrap();
    assert!(page.contains("Waiting for the first animal"), "{page}");

    let eid = "982000001088420";
    chute
        .pass(Animal {
            eid,
            weight_lb: 772,
        })
        .await; // 350.2 kg
    tokio::time::sleep(Duration::from_millis(500)).await;
    chute
        .pass(Animal {
            eid,
            weight_lb: 794,
        })
        .await; // 360.2 kg
    let treatment = json!({"eid": eid, "purpose": "therapeutic", "product": "Draxxin", "dose": 12.5, "dose_unit": "ml",
                           "route": "subcutaneous", "product_lot": "DX-2291", "withdrawal_days": 18, "administered_by": "dr-lee",
                           "diagnosis": "BRD"});
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/records/treatments"))
        .bearer_auth("vet-1")
        .json(&treatment)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    let page = testkit::browser::dump_dom(&format!("{signed_in}/chute"))
        .await
        .unwrap();
    assert!(
        page.contains(&format!("<span id=\"eid\">{eid}</span>")),
        "{page}"
    );
    assert!(page.contains("360.2 kg (794 lb)"), "current weight: {page}");
    assert!(
        page.contains("350.2 kg (772 lb)"),
        "previous weight: {page}"
    );
    assert!(
        page.contains("<dd id=\"gain-previous\">10.0 kg (22 lb)</dd>"),
        "gain since previous: {page}"
    );
    assert!(
        page.contains("WITHDRAWAL: Draxxin"),
        "withdrawal warning: {page}"
    );
    let png = testkit::browser::screenshot(&format!("{signed_in}/chute/animals/{eid}"), 800, 900)
        .await
        .unwrap();
    assert!(png.len() > 10_000, "the tablet page renders");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

/// Posts `body` as a record of `kind` with `token`; panics unless it is recorded.
async fn record(base: &str, token: &str, kind: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/records/{kind}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "{kind}: {}",
        response.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chute_page_follows_a_whole_lot_move_and_warns_of_the_lots_treatment() {
    let mut chute = Chute::new().await;
    let data = tempfile::tempdir().unwrap();
    let nowhere = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let port = testkit::free_port().unwrap();
    let mut config = config(&chute, data.path(), &nowhere, "feedlot.events.v1");
    config.http.listen = format!("127.0.0.1:{port}");
    config.rfid.dedup_window_ms = 200;
    config.api.tokens = vec![ApiToken {
        token: "mgr-1".into(),
        user: "pat".into(),
        role: Role::Manager,
    }];
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}");
    let (moved, hospital) = ("982000001088420", "982000001088421");
    for eid in [moved, hospital] {
        let placement = json!({"eid": eid, "lot_id": "L-7", "pen_id": "P1"});
        record(&base, "mgr-1", "placements", placement).await;
    }
    let alone = json!({"eid": hospital, "lot_id": "L-7", "from_pen_id": "P1", "to_pen_id": "H1"});
    record(&base, "mgr-1", "pen-moves", alone).await;
    // The whole lot, as the "Move cattle" form sends it: a lot, no tag, no head count.
    let whole_lot = json!({"lot_id": "L-7", "from_pen_id": "P1", "to_pen_id": "P2"});
    record(&base, "mgr-1", "pen-moves", whole_lot).await;
    let lot_treatment = json!({"lot_id": "L-7", "head_count": 2, "purpose": "therapeutic",
                               "product": "Micotil", "dose_per_head": 1.5, "dose_unit": "ml",
                               "route": "subcutaneous", "product_lot": "MC-9", "withdrawal_days": 42,
                               "administered_by": "dr-lee"});
    record(&base, "mgr-1", "lot-treatments", lot_treatment).await;

    // The animal on the scale now: moved with its lot, and in its lot's withdrawal.
    chute
        .pass(Animal {
            eid: moved,
            weight_lb: 772,
        })
        .await;
    let weighed = testkit::wait_until(Duration::from_secs(20), || async {
        let page = reqwest::Client::new()
            .get(format!("{base}/chute"))
            .bearer_auth("mgr-1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        page.contains(moved)
    })
    .await;
    assert!(weighed, "the pass reaches the chute page");
    let signed_in = format!("http://chute:mgr-1@127.0.0.1:{port}");
    let page = testkit::browser::dump_dom(&format!("{signed_in}/chute"))
        .await
        .unwrap();
    assert!(
        page.contains(&format!("<span id=\"eid\">{moved}</span>")),
        "{page}"
    );
    assert!(
        page.contains("<dd id=\"pen\">P2</dd>"),
        "the whole-lot move: {page}"
    );
    assert!(
        page.contains("WITHDRAWAL: Micotil given") && page.contains("to lot L-7"),
        "the lot's treatment: {page}"
    );
    // Moved alone to the hospital pen before the lot moved: it stayed there.
    let other = reqwest::Client::new()
        .get(format!("{base}/chute/animals/{hospital}"))
        .bearer_auth("mgr-1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(other.contains("<dd id=\"pen\">H1</dd>"), "{other}");
    assert!(other.contains("WITHDRAWAL: Micotil"), "{other}");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
