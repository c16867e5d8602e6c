//! The gateway's part of the security test matrix (issue 11 item 8): every route of the local
//! HTTP server, with each role's token, a bad token and none, against a running gateway on
//! loopback.
//!
//! A gateway serves one yard, so there is no yard B to read; what another yard's id could do
//! here is make a record claim another feedlot. The promises checked:
//!
//! - `POST /api/v1/records/{kind}`: no or a bad token 401; a role the kind does not list 403
//!   (`role … may not submit …`); a listed role 201. `GET` is 405 for everyone.
//! - A record body naming another feedlot or gateway (`feedlot_id`, `gateway_id`) is refused
//!   422 naming the field (unknown fields are refused, not ignored); in the query or a header
//!   it is ignored, and the record is stored as the gateway's own yard and gateway. Every
//!   envelope in the outbox names the gateway's feedlot, keyed by it, from `api:<user>`.
//! - `/healthz`: served without sign-in; a token neither is needed nor changes the answer;
//!   `POST` is 405; no answer names another feedlot. (`/metrics` is only on the ops listener,
//!   `http_listeners.rs`.)
//! - `/chute`, `/chute/animals/{eid}`: no or a bad token 401; any role's token 200 with the
//!   same page for every role; `POST` 405 once signed in; no answer names another feedlot.
//!
//! [`matrix_covers_every_route_and_kind_of_the_gateway`] fails when `edge::http::route_paths()`
//! or `edge::api::record_kinds()` gains a route, kind or role the matrix does not list.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeSet;

use edge::Config;
use edge::api::{ApiToken, Role};
use schemas::{
    Arrival, Death, DoseUnit, Eid, FeedDelivery, FeedPurchase, LotDeath, LotTreatment, PenMove,
    Placement, Ration, RationIngredient, Route, Shipment, Treatment, TreatmentPurpose, YardageRate,
};
use serde_json::{Value, json};

use crate::support::start;

use Role::{Manager, Operator, Vet};

const OWN: &str = "yard-own";
const GATEWAY: &str = "gw-own";
/// Another yard's id: no record may carry it and no answer may name it.
const OTHER: &str = "yard-other-b";

/// The role model: each record kind and the roles that may submit it (docs/records-api.md).
const KINDS: &[(&str, &[Role])] = &[
    ("arrivals", &[Operator, Manager]),
    ("treatments", &[Vet, Manager]),
    ("pen-moves", &[Operator, Manager]),
    ("deaths", &[Operator, Vet, Manager]),
    ("shipments", &[Operator, Manager]),
    ("feed-purchases", &[Manager]),
    ("rations", &[Manager]),
    ("yardage-rates", &[Manager]),
    ("placements", &[Operator, Manager]),
    ("lot-deaths", &[Operator, Vet, Manager]),
    ("lot-treatments", &[Vet, Manager]),
    ("feed-deliveries", &[Operator, Manager]),
    // Whoever may record a shipment may plan one.
    ("shipment-plans", &[Operator, Manager]),
    // Any role, for a record kind it may submit (checked in `corrections.rs`): here a death's.
    ("corrections", &[Operator, Vet, Manager]),
];

const RECORDS: &str = "/api/v1/records/{kind}";
/// The routes open without sign-in.
const OPEN: &[&str] = &["/healthz"];
/// The chute pages: any records API token.
const SIGNED_IN: &[&str] = &["/chute", "/chute/animals/{eid}"];
/// The manifest import API and page: operators and managers; each role is checked in
/// `imports.rs` (`only_operators_and_managers_import_…`).
const IMPORTS: &[&str] = &[
    "/api/v1/imports/preview",
    "/api/v1/imports/confirm",
    "/import",
    "/import/preview",
    "/import/confirm",
];
/// The entry forms: any records API token for the index; a form for the roles of its kind.
const FORMS: &[&str] = &["/forms", "/forms/{form}"];

#[test]
fn matrix_covers_every_route_and_kind_of_the_gateway() {
    let served: BTreeSet<&str> = edge::http::route_paths().into_iter().collect();
    let tested: BTreeSet<&str> = OPEN
        .iter()
        .chain(SIGNED_IN)
        .chain(IMPORTS)
        .chain(FORMS)
        .copied()
        .chain([RECORDS])
        .collect();
    assert_eq!(served, tested, "add a new route to the gateway's matrix");
    let kinds: Vec<(&str, Vec<Role>)> = edge::api::record_kinds()
        .map(|(k, roles)| (k, roles.to_vec()))
        .collect();
    let promised: Vec<(&str, Vec<Role>)> = KINDS.iter().map(|(k, r)| (*k, r.to_vec())).collect();
    assert_eq!(kinds, promised, "the role model changed: update the matrix");
}

/// A valid record of `kind`.
fn record(kind: &str) -> Value {
    let eid = Eid::parse("982000000000042").unwrap();
    let value = match kind {
        "arrivals" => serde_json::to_value(Arrival {
            lot_id: "L-1".into(),
            head_count: 10,
            origin: "Cherry County, NE".into(),
            source: None,
            pen_id: Some("P1".into()),
            pay_weight_kg: 3_000.0,
            pay_weight_per_head_kg: None,
            shrink_pct: 3.0,
            purchase_price_minor: 1_500_000,
            currency: "USD".into(),
        }),
        "treatments" => serde_json::to_value(Treatment {
            eid,
            purpose: TreatmentPurpose::Vaccination,
            product: "Bovishield".into(),
            dose: 2.0,
            dose_unit: DoseUnit::Ml,
            route: Route::Subcutaneous,
            product_lot: "X1".into(),
            withdrawal_days: 10,
            administered_by: "dr-lee".into(),
            diagnosis: None,
            booster_after_days: None,
            cost_minor: Some(700),
            currency: Some("USD".into()),
        }),
        "pen-moves" => serde_json::to_value(PenMove {
            eid: Some(eid),
            lot_id: None,
            head_count: None,
            from_pen_id: "P1".into(),
            to_pen_id: "P2".into(),
        }),
        "deaths" => serde_json::to_value(Death {
            eid,
            cause: "BRD".into(),
            lot_id: Some("L-1".into()),
            pen_id: Some("P1".into()),
        }),
        "shipments" => serde_json::to_value(Shipment {
            lot_id: "L-1".into(),
            head_count: 1,
            buyer: "Packer".into(),
            weight_per_head_kg: None,
            weight_kg: 600.0,
            price_minor: 150_000,
            currency: "USD".into(),
            eids: vec![eid],
        }),
        "feed-purchases" => serde_json::to_value(FeedPurchase {
            ingredient: "corn".into(),
            supplier: "Co-op".into(),
            origin: "NE".into(),
            quantity_kg: 25_000.0,
            price_minor: 512_500,
            currency: "USD".into(),
            dry_matter_pct: 85.5,
        }),
        "rations" => serde_json::to_value(Ration {
            ration_id: "R1".into(),
            ingredients: vec![RationIngredient {
                ingredient: "corn".into(),
                inclusion_as_fed_pct: 100.0,
                dry_matter_pct: 85.0,
            }],
        }),
        "yardage-rates" => serde_json::to_value(YardageRate {
            per_head_per_day_minor: 50,
            currency: "USD".into(),
            lot_id: None,
        }),
        "placements" => serde_json::to_value(Placement {
            eid,
            lot_id: "L-1".into(),
            pen_id: "P1".into(),
            sex: None,
            breed: None,
        }),
        "lot-deaths" => serde_json::to_value(LotDeath {
            lot_id: Some("L-1".into()),
            pen_id: None,
            head_count: 1,
            cause: "found dead".into(),
        }),
        "lot-treatments" => serde_json::to_value(LotTreatment {
            lot_id: Some("L-1".into()),
            pen_id: None,
            head_count: 10,
            purpose: TreatmentPurpose::Processing,
            product: "Ivomec".into(),
            dose_per_head: 10.0,
            dose_unit: DoseUnit::Ml,
            route: Route::PourOn,
            product_lot: "IV-9".into(),
            withdrawal_days: 48,
            administered_by: "crew".into(),
            diagnosis: None,
            total_cost_minor: None,
            currency: None,
        }),
        "feed-deliveries" => serde_json::to_value(FeedDelivery {
            pen_id: "P1".into(),
            ration_id: "R1".into(),
            target_kg: 1_000.0,
            delivered_kg: 990.0,
            truck_id: "manual".into(),
            operator: "sam".into(),
        }),
        "shipment-plans" => Ok(json!({
            "lot_id": "L-1",
            "planned_date": "2027-05-02",
            "head_count": 1,
            "eids": ["982000000000042"],
        })),
        "corrections" => Ok(json!({
            "corrects_event_id": "0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7095",
            "record_kind": "death",
            "action": "amend",
            "cause": "bloat",
            "reason": "necropsy",
        })),
        other => panic!("no record for {other}: add one"),
    };
    value.unwrap()
}

struct Reply {
    status: u16,
    body: String,
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert!(
        !body.contains(OTHER),
        "{url}: the answer names the other feedlot: {body}"
    );
    Reply { status, body }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_of_the_gateway_answers_each_role_as_the_role_model_promises_and_keeps_its_own_yard()
 {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: OWN.into(),
        gateway_id: GATEWAY.into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    // No broker: every accepted record stays in the outbox, where it is checked below.
    config.kafka.brokers = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.http.listen = format!("127.0.0.1:{port}");
    let roles = [
        (Operator, "op-tok", "sam"),
        (Vet, "vet-tok", "dr-lee"),
        (Manager, "mgr-tok", "kim"),
    ];
    config.api.tokens = roles
        .iter()
        .map(|(role, token, user)| ApiToken {
            token: (*token).into(),
            user: (*user).into(),
            role: *role,
        })
        .collect();
    let gateway = start(config).await;
    let base = format!("http://127.0.0.1:{port}");

    let mut accepted = 0usize;
    for (kind, allowed) in KINDS {
        let url = format!("{base}/api/v1/records/{kind}");
        let body = record(kind);
        for token in [None, Some("not-a-token")] {
            let r = send(reqwest::Method::POST, &url, token, &[], Some(&body)).await;
            assert_eq!(r.status, 401, "{kind} with {token:?}: {}", r.body);
        }
        for (role, token, _) in &roles {
            let what = format!("{kind} as {}", role.as_str());
            let get = send(reqwest::Method::GET, &url, Some(token), &[], None).await;
            assert_eq!(get.status, 405, "GET {what}");
            if !allowed.contains(role) {
                let r = send(reqwest::Method::POST, &url, Some(token), &[], Some(&body)).await;
                assert_eq!(r.status, 403, "{what}: {}", r.body);
                let error: Value = serde_json::from_str(&r.body).unwrap();
                assert_eq!(
                    error["error"],
                    format!("role {} may not submit {kind}", role.as_str()),
                    "{what}"
                );
                continue;
            }
            // Another feedlot or gateway named in the body: refused, the field named.
            for field in ["feedlot_id", "gateway_id"] {
                let mut claims = body.clone();
                claims[field] = json!(OTHER);
                let r = send(reqwest::Method::POST, &url, Some(token), &[], Some(&claims)).await;
                assert_eq!(r.status, 422, "{what} with {field}: {}", r.body);
                let error: Value = serde_json::from_str(&r.body).unwrap();
                assert_eq!(error["field"], field, "{what}: {}", r.body);
            }
            // In the query or a header: ignored; the record is the gateway's own yard's.
            let claimed = format!("{url}?feedlot_id={OTHER}&gateway_id={OTHER}");
            let headers = [("x-feedlot-id", OTHER), ("x-gateway-id", OTHER)];
            let r = send(
                reqwest::Method::POST,
                &claimed,
                Some(token),
                &headers,
                Some(&body),
            )
            .await;
            assert_eq!(r.status, 201, "{what}: {}", r.body);
            accepted += 1;
        }
    }

    // Every stored envelope is the gateway's own yard's, from the API user who sent it.
    let entries = gateway.outbox().peek(10_000).unwrap();
    assert_eq!(entries.len(), accepted, "only the accepted records");
    let users: BTreeSet<String> = roles.iter().map(|(_, _, u)| format!("api:{u}")).collect();
    for entry in &entries {
        let envelope = schemas::decode(&entry.record.payload).unwrap();
        assert_eq!(
            (
                entry.record.key.as_str(),
                envelope.feedlot_id.as_str(),
                envelope.gateway_id.as_str()
            ),
            (OWN, OWN, GATEWAY),
            "{envelope:?}"
        );
        assert!(users.contains(&envelope.device_id), "{envelope:?}");
        let bytes = String::from_utf8_lossy(&entry.record.payload);
        assert!(!bytes.contains(OTHER), "{envelope:?}");
    }

    // The open routes: the same for every caller; no POST.
    for route in OPEN {
        let path = route.replace("{eid}", "982000000000042");
        let url = format!("{base}{path}");
        let mut statuses = BTreeSet::new();
        let mut bodies = BTreeSet::new();
        let tokens = [None, Some("not-a-token")]
            .into_iter()
            .chain(roles.iter().map(|(_, t, _)| Some(*t)));
        for token in tokens {
            let r = send(reqwest::Method::GET, &url, token, &[], None).await;
            assert!(
                matches!(r.status, 200 | 503),
                "{path} with {token:?}: {} {}",
                r.status,
                r.body
            );
            statuses.insert(r.status);
            if path.starts_with("/chute") {
                bodies.insert(r.body);
            }
            let post = send(reqwest::Method::POST, &url, token, &[], Some(&json!({}))).await;
            assert_eq!(post.status, 405, "POST {path} with {token:?}");
        }
        assert_eq!(statuses.len(), 1, "{path}: a token changed the answer");
        assert!(bodies.len() <= 1, "{path}: a token changed the page");
    }

    // The entry forms: refused without a token; a form only for the roles of its record kind.
    for (path, may) in [
        ("/forms", &[Operator, Vet, Manager][..]),
        ("/forms/arrival", &[Operator, Manager][..]),
        ("/forms/lot-treatment", &[Vet, Manager][..]),
        ("/forms/feed-purchase", &[Manager][..]),
        ("/forms/void-record", &[Operator, Vet, Manager][..]),
        ("/forms/plan-shipment", &[Operator, Manager][..]),
    ] {
        let url = format!("{base}{path}");
        for token in [None, Some("not-a-token")] {
            let r = send(reqwest::Method::GET, &url, token, &[], None).await;
            assert_eq!(r.status, 401, "{path} with {token:?}: {}", r.body);
        }
        for (role, token, _) in &roles {
            let r = send(reqwest::Method::GET, &url, Some(token), &[], None).await;
            let want = if may.contains(role) { 200 } else { 403 };
            assert_eq!(r.status, want, "{path} as {}: {}", role.as_str(), r.body);
        }
    }

    // The chute pages: refused without a token; the same page for every role.
    for route in SIGNED_IN {
        let path = route.replace("{eid}", "982000000000042");
        let url = format!("{base}{path}");
        for token in [None, Some("not-a-token")] {
            let r = send(reqwest::Method::GET, &url, token, &[], None).await;
            assert_eq!(r.status, 401, "{path} with {token:?}: {}", r.body);
            assert!(!r.body.contains(OTHER), "{path}: {}", r.body);
        }
        let mut bodies = BTreeSet::new();
        for (_, token, _) in &roles {
            let r = send(reqwest::Method::GET, &url, Some(token), &[], None).await;
            assert_eq!(r.status, 200, "{path} with {token:?}: {}", r.body);
            assert!(!r.body.contains(OTHER), "{path}: {}", r.body);
            bodies.insert(r.body);
            let post = send(
                reqwest::Method::POST,
                &url,
                Some(token),
                &[],
                Some(&json!({})),
            )
            .await;
            assert_eq!(post.status, 405, "POST {path} with {token:?}");
        }
        assert_eq!(bodies.len(), 1, "{path}: the page differs by role");
    }
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
