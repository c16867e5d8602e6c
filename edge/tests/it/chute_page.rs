//! The chute tablet's page, in a real browser: after an animal's second pass it shows its
//! previous weight and gain from the gateway's own registry (no uplink needed), and a treatment
//! recorded through the records API puts up the withdrawal warning. The browser signs in with
//! a records API token (HTTP Basic, the token as the password).

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
