//! The security test matrix (issue 11 item 8): every route of the dashboards, for every kind of
//! caller of yard A, with yard B's ids in the path, the query and the body, over a real
//! `dashboards::serve` on loopback and one seeded ClickHouse database.
//!
//! The dashboards have no roles: what a caller may read is decided by the user's yards and the
//! credential (bearer token or session cookie). The callers are `alice` (reads yard A) by bearer
//! token and by session cookie, and `multi` (reads yards A and C) by bearer token; neither reads
//! yard B. Yard B is seeded with values that appear nowhere in A ([`B_ONLY`]).
//!
//! What each request must get (the promises of `web::auth` and the handlers):
//!
//! - **B's yard in the path** (`/feedlots/yard-b/…`, `/api/feedlots/yard-b/…`, B's lot or EID
//!   beside it, B's ids in the query and body; GET and POST): 403, with exactly the body a yard
//!   that exists nowhere gets, so B's existence is not revealed either.
//! - **A's yard in the path with B's lot or EID**: exactly what an id that exists nowhere gets
//!   (same status and body, the id aside): 404 for a lot's page, JSON and standing; the empty
//!   answer any unknown tag or lot gets for an animal's report and a lot's animals CSV. (A
//!   lot's printed closeout is a lot report: 404.)
//! - **A's own ids with B's ids in the query and body**: B's ids are ignored; each B id shows up
//!   in the body only as often as a never-seen id put in its place would (an echo of the request).
//! - **Every response**, including A's own pages (GET 200, the positive control) and the routes
//!   outside a yard (`/`, `/login`, `/logout…`, `/healthz`, and the ops listener's `/metrics`):
//!   none of B's data values, and B's ids only as echoes (as above).
//! - **No credentials**: 401 (JSON) on `/api/…`, 303 to `/login?next=…` for pages; a bad token
//!   401; whichever yard the path names.
//!
//! The matrix lists every route pattern; [`matrix_covers_every_route_of_the_router`] fails when
//! `dashboards::web::route_paths()` (what the router is built from) has a pattern the matrix
//! lacks, so a new route cannot go untested.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use schemas::{
    Arrival, DoseUnit, Eid, Envelope, Event, FeedDelivery, FeedPurchase, Placement, Ration,
    RationIngredient, Route as DoseRoute, Treatment, TreatmentPurpose, Weighing, Weight,
    YardProfile, YardageRate,
};
use tokio_util::sync::CancellationToken;

use crate::bench_yards::{database, store};

/// A yard's ids.
#[derive(Debug, Clone, Copy)]
struct Ids {
    feedlot: &'static str,
    eid: &'static str,
    lot: &'static str,
    pen: &'static str,
}

const A: Ids = Ids {
    feedlot: "yard-a",
    eid: "982000000000101",
    lot: "LOT-A-1",
    pen: "PEN-A-1",
};
const B: Ids = Ids {
    feedlot: "yard-b",
    eid: "982000000009191",
    lot: "LOT-B-SECRET",
    pen: "PEN-B-SECRET",
};
/// Ids that exist in no yard: what B's must look like.
const NOWHERE: Ids = Ids {
    feedlot: "yard-z",
    eid: "982000000009999",
    lot: "LOT-Z-NOWHERE",
    pen: "PEN-Z-NOWHERE",
};

/// B's data values (not ids): none may ever appear in a response to A's callers.
const B_DATA: &[&str] = &[
    "Bsecret Ranch",
    "B-secret-origin",
    "b-secret-supplier",
    "b-secret-silage",
    "RATION-B-SECRET",
    "b-secret-product",
    "TRUCK-B-SECRET",
    "777.7",
    "98765.4",
];

/// Everything only B holds: its ids and [`B_DATA`].
const B_ONLY: &[&str] = &[
    B.feedlot,
    B.eid,
    B.lot,
    B.pen,
    "Bsecret Ranch",
    "B-secret-origin",
    "b-secret-supplier",
    "b-secret-silage",
    "RATION-B-SECRET",
    "b-secret-product",
    "TRUCK-B-SECRET",
    "777.7",
    "98765.4",
];

/// Who a route is for (see `web::auth`'s table).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    /// Anyone: `/healthz`, `/login`, `/logout`.
    Open,
    /// Any signed-in user: `/`, `/logout/everywhere`, `/settings/units`.
    User,
    /// A user of the yard in the path.
    Yard,
}

/// One route of the matrix: its pattern, scope and the `{table}` values it serves.
struct Route {
    pattern: &'static str,
    scope: Scope,
    tables: &'static [&'static str],
    /// Served for `POST` only (a form that changes state): `GET` answers 405.
    post_only: bool,
    /// Served for `GET` (the form) and `POST` (saving it): a post without the form's fields
    /// answers 400 (a page) or 415 (the JSON API, sent a form).
    also_post: bool,
}

const fn yard(pattern: &'static str) -> Route {
    Route {
        pattern,
        scope: Scope::Yard,
        tables: &[],
        post_only: false,
        also_post: false,
    }
}

const fn yard_post(pattern: &'static str) -> Route {
    Route {
        pattern,
        scope: Scope::Yard,
        tables: &[],
        post_only: true,
        also_post: false,
    }
}

const fn yard_get_post(pattern: &'static str) -> Route {
    Route {
        pattern,
        scope: Scope::Yard,
        tables: &[],
        post_only: false,
        also_post: true,
    }
}

/// Every route of `dashboards::web::app`; the routes that end sessions come last, so that the
/// cookie caller stays signed in for the rest.
const MATRIX: &[Route] = &[
    yard("/feedlots/{feedlot_id}/animals/{eid}"),
    Route {
        pattern: "/feedlots/{feedlot_id}/animals/{eid}/{table}",
        scope: Scope::Yard,
        tables: &["weighings.csv", "treatments.csv"],
        post_only: false,
        also_post: false,
    },
    yard("/api/feedlots/{feedlot_id}/animals/{eid}"),
    yard("/api/feedlots/{feedlot_id}/animals/{eid}/ade"),
    yard("/api/feedlots/{feedlot_id}/ade/animals"),
    yard("/feedlots/{feedlot_id}/animals"),
    yard("/feedlots/{feedlot_id}/animals.csv"),
    yard("/api/feedlots/{feedlot_id}/animals"),
    yard("/feedlots/{feedlot_id}/lots"),
    yard("/feedlots/{feedlot_id}/lots.csv"),
    yard("/api/feedlots/{feedlot_id}/lots"),
    yard("/feedlots/{feedlot_id}/lots/{lot_id}"),
    yard("/feedlots/{feedlot_id}/lots/{lot_id}/animals.csv"),
    yard("/feedlots/{feedlot_id}/lots/{lot_id}/closeout.pdf"),
    yard("/api/feedlots/{feedlot_id}/lots/{lot_id}"),
    yard("/api/feedlots/{feedlot_id}/lots/{lot_id}/standing"),
    yard("/api/feedlots/{feedlot_id}/lots/{lot_id}/by-dof"),
    yard("/feedlots/{feedlot_id}/lots/{lot_id}/by-dof.csv"),
    yard("/api/feedlots/{feedlot_id}/lots/{lot_id}/forecast"),
    yard("/feedlots/{feedlot_id}/pens"),
    yard("/feedlots/{feedlot_id}/pens.csv"),
    yard("/api/feedlots/{feedlot_id}/pens"),
    yard("/feedlots/{feedlot_id}/feed"),
    yard("/feedlots/{feedlot_id}/feed-plan"),
    yard("/feedlots/{feedlot_id}/feed-plan.csv"),
    yard("/api/feedlots/{feedlot_id}/feed-plan"),
    Route {
        pattern: "/feedlots/{feedlot_id}/feed/{table}",
        scope: Scope::Yard,
        tables: &["ingredients.csv", "sources.csv", "rations.csv"],
        post_only: false,
        also_post: false,
    },
    yard("/api/feedlots/{feedlot_id}/feed"),
    yard("/feedlots/{feedlot_id}/reports/monthly.pdf"),
    yard("/feedlots/{feedlot_id}/benchmarks"),
    yard("/feedlots/{feedlot_id}/benchmarks.csv"),
    yard("/api/feedlots/{feedlot_id}/benchmarks"),
    yard("/feedlots/{feedlot_id}/alerts"),
    yard("/api/feedlots/{feedlot_id}/alerts"),
    yard_post("/feedlots/{feedlot_id}/alerts/ack"),
    yard_post("/api/feedlots/{feedlot_id}/alerts/ack"),
    yard_get_post("/feedlots/{feedlot_id}/alerts/settings"),
    yard_get_post("/api/feedlots/{feedlot_id}/alerts/settings"),
    Route {
        pattern: "/healthz",
        scope: Scope::Open,
        tables: &[],
        post_only: false,
        also_post: false,
    },
    Route {
        pattern: "/",
        scope: Scope::User,
        tables: &[],
        post_only: false,
        also_post: false,
    },
    Route {
        pattern: "/login",
        scope: Scope::Open,
        tables: &[],
        post_only: false,
        also_post: false,
    },
    Route {
        pattern: "/logout",
        scope: Scope::Open,
        tables: &[],
        post_only: false,
        also_post: false,
    },
    Route {
        pattern: "/logout/everywhere",
        scope: Scope::User,
        tables: &[],
        post_only: false,
        also_post: false,
    },
    Route {
        pattern: "/settings/units",
        scope: Scope::User,
        tables: &[],
        post_only: false,
        also_post: false,
    },
];

/// The ops listener's routes (`web.ops_listen`): no users, off the public network.
const OPS: &[&str] = &["/healthz", "/metrics"];

#[test]
fn matrix_covers_every_route_of_the_router() {
    let served: BTreeSet<&str> = dashboards::web::route_paths().into_iter().collect();
    let tested: BTreeSet<&str> = MATRIX.iter().map(|r| r.pattern).collect();
    assert_eq!(
        served.difference(&tested).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "routes served but missing from the security matrix: add them to MATRIX"
    );
    assert_eq!(
        tested.difference(&served).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "routes in the matrix the router no longer serves"
    );
    assert_eq!(tested.len(), MATRIX.len(), "a route listed twice");
    assert_eq!(dashboards::web::ops_route_paths(), OPS);
    for route in MATRIX {
        let yard = route.pattern.contains("{feedlot_id}");
        assert_eq!(route.scope == Scope::Yard, yard, "{}", route.pattern);
        assert_eq!(
            route.pattern.contains("{table}"),
            !route.tables.is_empty(),
            "{}",
            route.pattern
        );
    }
}

/// The concrete paths of `route` for `ids` (one per `{table}` value).
fn paths(route: &Route, ids: Ids) -> Vec<String> {
    let base = route
        .pattern
        .replace("{feedlot_id}", ids.feedlot)
        .replace("{eid}", ids.eid)
        .replace("{lot_id}", ids.lot);
    if route.tables.is_empty() {
        vec![base]
    } else {
        route
            .tables
            .iter()
            .map(|t| base.replace("{table}", t))
            .collect()
    }
}

/// `ids` in every query parameter a handler might read.
fn query(ids: Ids) -> String {
    format!(
        "feedlot_id={f}&feedlot={f}&lot_id={l}&lot={l}&pen_id={p}&pen={p}&eid={e}&next=/feedlots/{f}/lots/{l}",
        f = ids.feedlot,
        l = ids.lot,
        p = ids.pen,
        e = ids.eid
    )
}

/// `ids` in a form body.
fn form(ids: Ids) -> String {
    format!(
        "feedlot_id={f}&lot_id={l}&pen_id={p}&eid={e}",
        f = ids.feedlot,
        l = ids.lot,
        p = ids.pen,
        e = ids.eid
    )
}

/// `body` with B's ids replaced by [`NOWHERE`]'s.
fn as_nowhere(body: &str) -> String {
    [
        (B.feedlot, NOWHERE.feedlot),
        (B.eid, NOWHERE.eid),
        (B.lot, NOWHERE.lot),
        (B.pen, NOWHERE.pen),
    ]
    .iter()
    .fold(body.to_owned(), |s, (b, z)| s.replace(b, z))
}

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    location: String,
    content_type: String,
    body: String,
}

/// The credentials of a request.
#[derive(Debug, Clone)]
enum Credentials {
    None,
    Header(&'static str, String),
}

struct Site {
    base: String,
    http: reqwest::Client,
}

impl Site {
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        credentials: &Credentials,
        body: Option<String>,
    ) -> Reply {
        let url = format!("{}{path_and_query}", self.base);
        let mut request = match method {
            "GET" => self.http.get(&url),
            _ => self.http.post(&url),
        };
        if let Credentials::Header(name, value) = credentials {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let location = header(reqwest::header::LOCATION);
        let content_type = header(reqwest::header::CONTENT_TYPE);
        Reply {
            status: response.status().as_u16(),
            location,
            content_type,
            body: response.text().await.unwrap(),
        }
    }
}

/// Fails if `b` shows a B data value, or a B id more often than `nowhere` (the same request
/// with [`NOWHERE`]'s ids in B's place) shows the id standing in for it.
fn assert_no_b_values(what: &str, b: &Reply, nowhere: &Reply) {
    for value in B_DATA {
        assert!(
            !b.body.contains(value),
            "{what}: B's {value:?} in the body: {}",
            b.body
        );
    }
    for (b_id, z_id) in [
        (B.feedlot, NOWHERE.feedlot),
        (B.eid, NOWHERE.eid),
        (B.lot, NOWHERE.lot),
        (B.pen, NOWHERE.pen),
    ] {
        assert_eq!(
            b.body.matches(b_id).count(),
            nowhere.body.matches(z_id).count(),
            "{what}: B's {b_id:?} shows more than an echo of the request: {}",
            b.body
        );
    }
}

/// Fails if any B value (id or data) is in `reply`.
fn assert_nothing_of_b(what: &str, reply: &Reply) {
    for value in B_ONLY {
        assert!(
            !reply.body.contains(value),
            "{what}: B's {value:?} in the body: {}",
            reply.body
        );
    }
}

/// Day `d` of October 2026 at noon UTC.
fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, d, 12, 0, 0).unwrap()
}

/// A yard's records: a profile, a lot arriving in a pen with one placed animal weighed twice
/// and treated, a ration, a purchase, a delivery and a yardage rate.
fn records(ids: Ids, s: &Secrets) -> Vec<Envelope> {
    let env = |d: u32, event: Event| Envelope::new(ids.feedlot, "gw-1", "office", day(d), event);
    let eid = Eid::parse(ids.eid).unwrap();
    vec![
        env(
            1,
            Event::YardProfile(YardProfile {
                name: s.name.into(),
                region: "US-NE".into(),
                country: "US".into(),
                latitude: 42.0,
                longitude: -100.0,
                capacity_head: Some(5_000),
            }),
        ),
        env(
            1,
            Event::YardageRate(YardageRate {
                per_head_per_day_minor: 50,
                currency: "USD".into(),
                lot_id: None,
            }),
        ),
        env(
            1,
            Event::Ration(Ration {
                ration_id: s.ration.into(),
                ingredients: vec![RationIngredient {
                    ingredient: s.ingredient.into(),
                    inclusion_as_fed_pct: 100.0,
                    dry_matter_pct: 85.0,
                }],
            }),
        ),
        env(
            1,
            Event::FeedPurchase(FeedPurchase {
                ingredient: s.ingredient.into(),
                supplier: s.supplier.into(),
                origin: s.origin.into(),
                quantity_kg: 10_000.0,
                price_minor: 250_000,
                currency: "USD".into(),
                dry_matter_pct: 85.0,
            }),
        ),
        env(
            1,
            Event::Arrival(Arrival {
                lot_id: ids.lot.into(),
                head_count: 1,
                origin: s.origin.into(),
                source: None,
                pen_id: Some(ids.pen.into()),
                pay_weight_kg: s.pay_kg,
                pay_weight_per_head_kg: None,
                shrink_pct: 2.0,
                purchase_price_minor: 150_000,
                currency: "USD".into(),
            }),
        ),
        env(
            1,
            Event::Placement(Placement {
                eid: eid.clone(),
                lot_id: ids.lot.into(),
                pen_id: ids.pen.into(),
                sex: None,
                breed: None,
            }),
        ),
        env(
            2,
            Event::Weighing(Weighing {
                eid: eid.clone(),
                weight: Weight::from_kg(s.kg - 40.0),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ),
        env(
            22,
            Event::Weighing(Weighing {
                eid: eid.clone(),
                weight: Weight::from_kg(s.kg),
                tag_read_event_id: None,
                gross_net: None,
            }),
        ),
        env(
            3,
            Event::Treatment(Treatment {
                eid,
                purpose: TreatmentPurpose::Vaccination,
                product: s.product.into(),
                dose: 2.0,
                dose_unit: DoseUnit::Ml,
                route: DoseRoute::Subcutaneous,
                product_lot: "X1".into(),
                withdrawal_days: 10,
                administered_by: "dr-lee".into(),
                diagnosis: None,
                booster_after_days: None,
                cost_minor: Some(700),
                currency: Some("USD".into()),
            }),
        ),
        env(
            4,
            Event::FeedDelivery(FeedDelivery {
                pen_id: ids.pen.into(),
                ration_id: s.ration.into(),
                target_kg: 20.0,
                delivered_kg: 20.0,
                truck_id: s.truck.into(),
                operator: "sam".into(),
            }),
        ),
    ]
}

/// A yard's distinctive values.
struct Secrets {
    name: &'static str,
    origin: &'static str,
    supplier: &'static str,
    ingredient: &'static str,
    ration: &'static str,
    product: &'static str,
    truck: &'static str,
    kg: f64,
    pay_kg: f64,
}

const A_VALUES: Secrets = Secrets {
    name: "A Home Yard",
    origin: "Cherry County",
    supplier: "Co-op",
    ingredient: "corn",
    ration: "R-A",
    product: "Bovishield",
    truck: "T-A",
    kg: 330.0,
    pay_kg: 300.0,
};
const B_VALUES: Secrets = Secrets {
    name: "Bsecret Ranch",
    origin: "B-secret-origin",
    supplier: "b-secret-supplier",
    ingredient: "b-secret-silage",
    ration: "RATION-B-SECRET",
    product: "b-secret-product",
    truck: "TRUCK-B-SECRET",
    kg: 777.7,
    pay_kg: 98_765.4,
};

const ALICE: &str = "matrix-alice-token-0123456789-abcdef";
const MULTI: &str = "matrix-multi-token-0123456789-abcdef";
/// Yard B's own user: shows the matrix is not vacuous (B's values are there to leak).
const BOB: &str = "matrix-bob-token-0123456789-abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_user_of_yard_a_every_route_refuses_yard_b_and_shows_none_of_it() {
    let (db, _client) = database("route_matrix").await;
    let mut seeded = records(A, &A_VALUES);
    seeded.extend(records(B, &B_VALUES));
    store(&db, &seeded).await;

    let user = |name: &str, token: &str, feedlots: &[&str]| dashboards::config::WebUserConfig {
        name: name.into(),
        token_sha256: dashboards::web::auth::hash_token(token),
        feedlots: feedlots.iter().map(|f| f.to_string()).collect(),
    };
    let mut config = dashboards::Config::default();
    config.clickhouse.url = db.url.clone();
    config.clickhouse.database = db.database.clone();
    config.web.listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.web.ops_listen = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    config.web.users = vec![
        user("alice", ALICE, &[A.feedlot]),
        user("multi", MULTI, &[A.feedlot, "yard-c"]),
        user("bob", BOB, &[B.feedlot]),
    ];
    config.web.session_secret = "matrix-session-secret-0123456789-abcdefghij".into();
    config.web.secure_cookie = false;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(dashboards::serve(config.clone(), shutdown.clone()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let site = Site {
        base: format!("http://{}", config.web.listen),
        http: http.clone(),
    };
    let ops = Site {
        base: format!("http://{}", config.web.ops_listen),
        http,
    };
    let none = Credentials::None;
    testkit::wait_until(Duration::from_secs(30), || async {
        site.http
            .get(format!("{}/healthz", site.base))
            .send()
            .await
            .is_ok()
    })
    .await;

    // Alice signs in with the form, for a session cookie.
    let login = site
        .http
        .post(format!("{}/login", site.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={ALICE}&next=/"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "{login:?}");
    let cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let callers = [
        (
            "alice (bearer)",
            Credentials::Header("authorization", format!("Bearer {ALICE}")),
        ),
        ("alice (session)", Credentials::Header("cookie", cookie)),
        (
            "multi (bearer)",
            Credentials::Header("authorization", format!("Bearer {MULTI}")),
        ),
    ];

    // Not vacuous: B's own user sees every one of B's values on B's pages, and A's users see
    // A's on A's.
    for (token, ids, values) in [
        // (No page shows a yard's profile name or a truck's id; they stay in B_ONLY in case one
        // ever does.)
        (
            BOB,
            B,
            B_ONLY
                .iter()
                .copied()
                .filter(|v| !matches!(*v, "Bsecret Ranch" | "TRUCK-B-SECRET"))
                .collect(),
        ),
        (
            ALICE,
            A,
            vec![
                A.eid,
                A.lot,
                A.pen,
                "Cherry County",
                "Co-op",
                "corn",
                "R-A",
                "Bovishield",
                "T-A",
                "330.0",
            ],
        ),
    ] {
        let owner = Credentials::Header("authorization", format!("Bearer {token}"));
        let mut seen = String::new();
        for route in MATRIX
            .iter()
            .filter(|r| r.scope == Scope::Yard && !r.post_only)
        {
            for path in paths(route, ids) {
                let reply = site.send("GET", &path, &owner, None).await;
                assert_eq!(reply.status, 200, "{path}: {reply:?}");
                seen.push_str(&reply.body);
            }
        }
        let missing: Vec<_> = values.iter().filter(|v| !seen.contains(*v)).collect();
        assert!(
            missing.is_empty(),
            "{} does not show {missing:?}",
            ids.feedlot
        );
    }

    let mut requests = 0usize;
    for route in MATRIX {
        let api = route.pattern.starts_with("/api/");
        // Unauthenticated or with a bad token, whichever yard the path names.
        for ids in [A, B] {
            for path in paths(route, ids) {
                for method in ["GET", "POST"] {
                    let what = format!("{method} {path} without credentials");
                    let request = format!("{path}?{}", query(B));
                    let reply = site.send(method, &request, &none, Some(form(B))).await;
                    requests += 1;
                    assert_nothing_of_b_beyond_the_request(&what, &reply, &request);
                    let bad = Credentials::Header("authorization", "Bearer not-a-token".into());
                    let refused = site.send(method, &path, &bad, None).await;
                    requests += 1;
                    assert_nothing_of_b_beyond_the_request(&what, &refused, &path);
                    if route.scope == Scope::Open {
                        continue;
                    }
                    if api {
                        assert_eq!(reply.status, 401, "{what}: {reply:?}");
                        assert!(
                            reply.content_type.starts_with("application/json"),
                            "{what}: {reply:?}"
                        );
                    } else {
                        assert_eq!(reply.status, 303, "{what}: {reply:?}");
                        assert!(
                            reply.location.starts_with("/login?next="),
                            "{what}: {reply:?}"
                        );
                    }
                    assert_eq!(refused.status, 401, "{what} (bad token): {refused:?}");
                }
            }
        }

        for (caller, credentials) in &callers {
            for method in ["GET", "POST"] {
                let body = |ids: Ids| (method == "POST").then(|| form(ids));
                // B's yard (and B's lot and EID) in the path, B's ids in the query and body:
                // refused exactly as a yard that exists nowhere.
                if route.scope == Scope::Yard {
                    for (b_path, z_path) in paths(route, B).into_iter().zip(paths(route, NOWHERE)) {
                        let what = format!("{method} {b_path} as {caller}");
                        let b = site
                            .send(
                                method,
                                &format!("{b_path}?{}", query(B)),
                                credentials,
                                body(B),
                            )
                            .await;
                        let z = site
                            .send(
                                method,
                                &format!("{z_path}?{}", query(NOWHERE)),
                                credentials,
                                body(NOWHERE),
                            )
                            .await;
                        requests += 2;
                        assert_eq!(b.status, 403, "{what}: {b:?}");
                        assert_eq!(
                            (b.status, as_nowhere(&b.body)),
                            (z.status, z.body.clone()),
                            "{what}: B must look like no yard"
                        );
                        assert_nothing_of_b(&what, &b);
                    }
                }
                // A's yard with B's lot or EID in the path: as an id that exists nowhere.
                let a_with_b = Ids {
                    feedlot: A.feedlot,
                    ..B
                };
                let a_with_z = Ids {
                    feedlot: A.feedlot,
                    ..NOWHERE
                };
                if route.pattern.contains("{eid}") || route.pattern.contains("{lot_id}") {
                    for (b_path, z_path) in paths(route, a_with_b)
                        .into_iter()
                        .zip(paths(route, a_with_z))
                    {
                        let what = format!("{method} {b_path} as {caller}");
                        let b = site.send(method, &b_path, credentials, body(B)).await;
                        let z = site.send(method, &z_path, credentials, body(NOWHERE)).await;
                        requests += 2;
                        // What an unknown id gets: 404 for a lot's page, JSON and standing; an
                        // animal's report and a lot's animals CSV are empty, 200; POST 405.
                        let lot_report = route.pattern.contains("{lot_id}")
                            && !route.pattern.ends_with("/animals.csv");
                        let expected = match method {
                            "POST" => 405,
                            _ if lot_report => 404,
                            _ => 200,
                        };
                        assert_eq!(b.status, expected, "{what}: {b:?}");
                        assert_eq!(
                            (b.status, as_nowhere(&b.body)),
                            (z.status, z.body.clone()),
                            "{what}: B's id must look like an id that exists nowhere"
                        );
                        assert_no_b_values(&what, &b, &z);
                    }
                }
                // A's own ids in the path; B's in the query and body.
                for path in paths(route, A) {
                    let what = format!("{method} {path}?<B's ids> as {caller}");
                    let b = site
                        .send(
                            method,
                            &format!("{path}?{}", query(B)),
                            credentials,
                            body(B),
                        )
                        .await;
                    let z = site
                        .send(
                            method,
                            &format!("{path}?{}", query(NOWHERE)),
                            credentials,
                            body(NOWHERE),
                        )
                        .await;
                    requests += 2;
                    assert_no_b_values(&what, &b, &z);
                    if route.scope == Scope::Yard {
                        // The positive control: A's own page is served, with nothing of B.
                        let own = site.send(method, &path, credentials, body(A)).await;
                        requests += 1;
                        // A form route without its fields answers 400.
                        let expected = match (method, route.post_only) {
                            ("GET", false) => 200,
                            ("GET", true) => 405,
                            (_, false) if route.also_post && api => 415,
                            (_, false) if route.also_post => 400,
                            (_, false) => 405,
                            (_, true) => 400,
                        };
                        assert_eq!(own.status, expected, "{method} {path} as {caller}: {own:?}");
                        assert_nothing_of_b(&format!("{method} {path} as {caller}"), &own);
                        assert_eq!(b.status, z.status, "{what}");
                    }
                }
            }
        }
    }

    // The ops listener (no users; kept off the public network) shows nothing of B either,
    // after all of the above was counted into its metrics.
    for path in OPS {
        let reply = ops.send("GET", path, &none, None).await;
        assert_eq!(reply.status, 200, "ops {path}: {reply:?}");
        assert_nothing_of_b(&format!("ops {path}"), &reply);
    }
    assert!(requests > 1000, "the matrix sent only {requests} requests");

    shutdown.cancel();
    server.await.unwrap().unwrap();
}

/// [`assert_nothing_of_b`], except for B's ids that the request itself carries in `path` (an
/// unauthenticated page's redirect to sign-in names the path and query it came from).
fn assert_nothing_of_b_beyond_the_request(what: &str, reply: &Reply, path: &str) {
    for value in B_ONLY {
        if path.contains(value) {
            continue;
        }
        assert!(
            !reply.body.contains(value) && !reply.location.contains(value),
            "{what}: B's {value:?} in the answer: {reply:?}"
        );
    }
}
