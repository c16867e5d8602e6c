//! Every page and API is scoped to the caller's feedlots: a yard's user reads that yard, gets
//! 403 for another (the same as for a yard that does not exist, with none of its data), is
//! sent to log in without credentials, and cannot walk out of its yard with a crafted path or
//! redirect. Over a real ClickHouse, through `ingest::web::app` without a socket.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use ingest::config::{WebConfig, WebUserConfig};
use ingest::web::auth::hash_token;
use ingest::web::{AppState, Auth, app};
use tower::ServiceExt;

const EID_A: &str = "982000000000101";
const EID_B: &str = "982000000000202";
/// Yard B's animal weighs this; it must never appear in a yard-A user's response.
const B_KG: f64 = 777.7;
const ALICE: &str = "alice-token-0123456789-abcdef";
const MULTI: &str = "multi-token-0123456789-abcdef";
/// 2026-10-01T06:00:00Z.
const DAY1_MS: u64 = 1_790_834_400_000;

fn web(alice_token: &str, secret: &str) -> WebConfig {
    let user = |name: &str, token: &str, feedlots: &[&str]| WebUserConfig {
        name: name.into(),
        token_sha256: hash_token(token),
        feedlots: feedlots.iter().map(|f| f.to_string()).collect(),
    };
    WebConfig {
        users: vec![
            user("alice", alice_token, &["yard-a"]),
            user("multi", MULTI, &["yard-a", "yard-c"]),
        ],
        session_secret: secret.into(),
        ..WebConfig::default()
    }
}

/// Yard A's and yard B's animals, each weighed twice, and the app over them.
async fn yards(test: &str) -> (testkit::ClickHouseDb, clickhouse::Client) {
    let db = testkit::ClickHouseDb::create(test).await.unwrap();
    let client = ingest::sink::client(&ingest::config::ClickHouseConfig {
        url: db.url.clone(),
        ..Default::default()
    });
    ingest::schema::migrate(&client, &db.database)
        .await
        .unwrap();
    let rows = [
        ("yard-a", EID_A, 300.0, 0),
        ("yard-a", EID_A, 330.0, 20),
        ("yard-b", EID_B, B_KG - 30.0, 0),
        ("yard-b", EID_B, B_KG, 20),
    ];
    for (i, (feedlot, eid, kg, day)) in rows.into_iter().enumerate() {
        let ms = DAY1_MS + day * 86_400_000;
        db.client()
            .query(
                "INSERT INTO weighings (event_id, feedlot_id, device_id, eid, weight_kg, \
                 displayed_value, displayed_unit, captured_at, captured_at_ms) \
                 VALUES (?, ?, 'scale-1', ?, ?, ?, 'kg', ?, ?)",
            )
            .bind(format!("0190a000-0000-7000-8000-{i:012}"))
            .bind(feedlot)
            .bind(eid)
            .bind(kg)
            .bind(kg)
            .bind(ms / 1000)
            .bind(ms)
            .execute()
            .await
            .unwrap();
    }
    let client = client.with_database(&db.database);
    (db, client)
}

fn site(client: &clickhouse::Client, web: &WebConfig) -> Router {
    app(AppState::new(client.clone()).with_auth(Auth::from_config(web).unwrap()))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// `name=value` of the `Set-Cookie` header, for a `Cookie` header.
    fn cookie(&self) -> String {
        self.header(header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    fn leaks_yard_b(&self) -> bool {
        self.body.contains(EID_B) || self.body.contains(&B_KG.to_string())
    }
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    send(app, "GET", uri, headers, "").await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_yard_user_reads_its_own_animal_page_api_and_csv() {
    let (_db, client) = yards("auth_own_yard").await;
    let app = site(&client, &web(ALICE, ""));
    let alice = bearer(ALICE);
    let auth = [("authorization", alice.as_str())];

    let page = get(&app, &format!("/feedlots/yard-a/animals/{EID_A}"), &auth).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("330.0"), "{}", page.body);
    let api = get(
        &app,
        &format!("/api/feedlots/yard-a/animals/{EID_A}"),
        &auth,
    )
    .await;
    let report: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(report["weighings"].as_array().unwrap().len(), 2);
    let csv = get(&app, "/feedlots/yard-a/animals.csv", &auth).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.contains(&format!("{EID_A},2,300.0,330.0")),
        "{}",
        csv.body
    );
    let herd = get(&app, "/api/feedlots/yard-a/animals", &auth).await;
    assert_eq!(herd.status, 200);
    assert!(
        herd.body.contains(EID_A) && !herd.leaks_yard_b(),
        "{}",
        herd.body
    );

    // Percent-encoding names the same yard for the guard and for the query.
    let encoded = get(&app, "/api/feedlots/yard%2Da/animals", &auth).await;
    assert_eq!(
        (encoded.status, encoded.body.contains(EID_A)),
        (StatusCode::OK, true)
    );

    // A user of several yards reads each of them.
    let multi = bearer(MULTI);
    for yard in ["yard-a", "yard-c"] {
        let r = get(
            &app,
            &format!("/api/feedlots/{yard}/animals"),
            &[("authorization", &multi)],
        )
        .await;
        assert_eq!(r.status, 200, "{yard}: {}", r.body);
    }
    let r = get(
        &app,
        "/api/feedlots/yard-b/animals",
        &[("authorization", &multi)],
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn another_yard_is_403_everywhere_with_none_of_its_data_and_looks_like_no_yard() {
    let (_db, client) = yards("auth_other_yard").await;
    let app = site(&client, &web(ALICE, ""));
    let alice = bearer(ALICE);
    let login = get(&app, &format!("/login?token={ALICE}&next=/"), &[]).await;
    let cookie = login.cookie();
    for credentials in [
        ("authorization", alice.as_str()),
        ("cookie", cookie.as_str()),
    ] {
        for path in [
            "/feedlots/{y}/animals",
            "/feedlots/{y}/animals.csv",
            "/api/feedlots/{y}/animals",
            "/feedlots/{y}/animals/982000000000202",
            "/api/feedlots/{y}/animals/982000000000202",
            "/feedlots/{y}/lots",
            "/api/feedlots/{y}/a-route-added-later",
        ] {
            let other = get(&app, &path.replace("{y}", "yard-b"), &[credentials]).await;
            assert_eq!(other.status, 403, "{path} with {}", credentials.0);
            assert!(!other.leaks_yard_b(), "{path}: {}", other.body);
            let nowhere = get(&app, &path.replace("{y}", "no-such-yard"), &[credentials]).await;
            assert_eq!(
                (nowhere.status, &nowhere.body),
                (other.status, &other.body),
                "{path}: another yard must look like no yard"
            );
        }
    }
    let api = get(
        &app,
        "/api/feedlots/yard-b/animals",
        &[("authorization", &alice)],
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(body["error"], "forbidden");

    // The caller's own list names only its yards.
    let index = get(&app, "/", &[("cookie", &cookie)]).await;
    assert_eq!(index.status, 200);
    assert!(
        index.body.contains("href=\"/feedlots/yard-a/animals\""),
        "{}",
        index.body
    );
    assert!(
        !index.body.contains("yard-b") && !index.body.contains("yard-c"),
        "{}",
        index.body
    );
}

#[tokio::test]
async fn without_credentials_the_api_is_401_and_pages_go_to_login_while_health_stays_open() {
    let (_db, client) = yards("auth_no_credentials").await;
    let app = site(&client, &web(ALICE, ""));
    let api = get(&app, &format!("/api/feedlots/yard-a/animals/{EID_A}"), &[]).await;
    assert_eq!(api.status, 401);
    assert!(
        api.header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    assert!(api.header(header::WWW_AUTHENTICATE).starts_with("Bearer"));
    assert!(
        !api.body.contains(EID_A) && api.body.contains("unauthorized"),
        "{}",
        api.body
    );

    for (path, next) in [
        (
            "/feedlots/yard-a/animals?sort=eid",
            "%2Ffeedlots%2Fyard%2Da%2Fanimals%3Fsort%3Deid",
        ),
        (
            "/feedlots/yard-a/animals.csv",
            "%2Ffeedlots%2Fyard%2Da%2Fanimals%2Ecsv",
        ),
        ("/", "%2F"),
    ] {
        let page = get(&app, path, &[]).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.header(header::LOCATION), format!("/login?next={next}"));
        assert!(!page.body.contains(EID_A));
    }
    assert_eq!(get(&app, "/healthz", &[]).await.status, 200);
    assert_eq!(get(&app, "/metrics", &[]).await.status, 200);
    let form = get(&app, "/login?next=/feedlots/yard-a/animals", &[]).await;
    assert!(
        form.body.contains("name=\"token\"")
            && form.body.contains("value=\"/feedlots/yard-a/animals\"")
    );

    // With no users configured nobody reads any yard.
    let closed = ingest::web::app(AppState::new(client.clone()));
    let bad = bearer(ALICE);
    assert_eq!(
        get(&closed, "/api/feedlots/yard-a/animals", &[])
            .await
            .status,
        401
    );
    assert_eq!(
        get(&closed, "/feedlots/yard-a/animals", &[]).await.status,
        303
    );
    assert_eq!(
        get(
            &closed,
            "/api/feedlots/yard-a/animals",
            &[("authorization", &bad)]
        )
        .await
        .status,
        401
    );
    assert_eq!(
        get(&closed, &format!("/login?token={ALICE}"), &[])
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_bad_or_malformed_token_is_401_on_the_api_and_on_pages() {
    let (_db, client) = yards("auth_bad_token").await;
    let app = site(&client, &web(ALICE, ""));
    let login = get(&app, &format!("/login?token={ALICE}"), &[]).await;
    let cookie = login.cookie();
    let near = format!("Bearer {ALICE}x");
    let basic = format!("Basic {ALICE}");
    for value in [
        near.as_str(),
        basic.as_str(),
        "Bearer",
        "Bearer ",
        "bearer nope",
    ] {
        for path in ["/api/feedlots/yard-a/animals", "/feedlots/yard-a/animals"] {
            // A bad token is refused even beside a valid session cookie.
            let r = get(&app, path, &[("authorization", value), ("cookie", &cookie)]).await;
            assert_eq!(r.status, 401, "{value:?} on {path}");
            assert!(!r.body.contains(EID_A));
        }
    }
    let lower = format!("bearer {ALICE}");
    let ok = get(
        &app,
        "/api/feedlots/yard-a/animals",
        &[("authorization", &lower)],
    )
    .await;
    assert_eq!(ok.status, 200, "the scheme is case-insensitive");
}

#[tokio::test]
async fn the_magic_link_and_the_form_log_a_browser_in_with_a_strict_http_only_session() {
    let (_db, client) = yards("auth_cookie").await;
    let secret = "a-session-secret-of-32-characters-or-more";
    let app = site(&client, &web(ALICE, secret));
    let link = get(
        &app,
        &format!("/login?token={ALICE}&next=%2Ffeedlots%2Fyard-a%2Fanimals"),
        &[],
    )
    .await;
    assert_eq!(link.status, 303);
    assert_eq!(link.header(header::LOCATION), "/feedlots/yard-a/animals");
    let set = link.header(header::SET_COOKIE);
    for part in [
        "feedlot_session=v1.alice.",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(
        !set.contains(ALICE) && !set.contains(&hash_token(ALICE)),
        "the cookie is not the token"
    );
    let cookie = link.cookie();
    let page = get(&app, "/feedlots/yard-a/animals", &[("cookie", &cookie)]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(EID_A));

    let form = send(
        &app,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("token={ALICE}&next=%2Fapi%2Ffeedlots%2Fyard-a%2Fanimals"),
    )
    .await;
    assert_eq!(
        (form.status, form.header(header::LOCATION)),
        (StatusCode::SEE_OTHER, "/api/feedlots/yard-a/animals")
    );
    let api = get(
        &app,
        "/api/feedlots/yard-a/animals",
        &[("cookie", &form.cookie())],
    )
    .await;
    assert_eq!(api.status, 200);

    // The same session on a restarted server with the same secret still works; with another
    // secret, after the user's token changed, or tampered with, it sends the browser to log in.
    let restarted = site(&client, &web(ALICE, secret));
    assert_eq!(
        get(
            &restarted,
            "/feedlots/yard-a/animals",
            &[("cookie", &cookie)]
        )
        .await
        .status,
        200
    );
    let other_secret = site(
        &client,
        &web(ALICE, "another-secret-of-32-characters-or-more"),
    );
    let rotated = site(&client, &web("alice-new-token-0123456789", secret));
    let tampered = cookie.replace("v1.alice.", "v1.multi.");
    for (server, cookie) in [
        (&other_secret, &cookie),
        (&rotated, &cookie),
        (&app, &tampered),
    ] {
        let r = get(server, "/feedlots/yard-a/animals", &[("cookie", cookie)]).await;
        assert_eq!(r.status, 303);
        assert!(
            r.header(header::SET_COOKIE).contains("Max-Age=0"),
            "the stale cookie is cleared"
        );
        let api = get(
            server,
            "/api/feedlots/yard-a/animals",
            &[("cookie", cookie)],
        )
        .await;
        assert_eq!(api.status, 401);
    }

    let refused = get(&app, "/login?token=not-a-token&next=/", &[]).await;
    assert_eq!(refused.status, 401);
    assert!(refused.headers.get(header::SET_COOKIE).is_none());
    assert!(refused.body.contains("not valid"), "{}", refused.body);

    let out = send(&app, "POST", "/logout", &[("cookie", &cookie)], "").await;
    assert_eq!(
        (out.status, out.header(header::LOCATION)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert!(
        out.header(header::SET_COOKIE)
            .starts_with("feedlot_session=;")
    );
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
}

#[tokio::test]
async fn login_never_redirects_off_the_site() {
    let (_db, client) = yards("auth_open_redirect").await;
    let app = site(&client, &web(ALICE, ""));
    for next in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2F",
        "%2F%5Cevil.example",
        "%2F%09%2Fevil.example",
        "javascript%3Aalert(1)",
        "%2Fok%0D%0ASet-Cookie%3A%20x%3Dy",
    ] {
        let link = get(&app, &format!("/login?token={ALICE}&next={next}"), &[]).await;
        assert_eq!(
            (link.status, link.header(header::LOCATION)),
            (StatusCode::SEE_OTHER, "/"),
            "{next}"
        );
        let form = send(
            &app,
            "POST",
            "/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            &format!("token={ALICE}&next={next}"),
        )
        .await;
        assert_eq!(form.header(header::LOCATION), "/", "{next}");
    }
}

#[tokio::test]
async fn crafted_paths_never_reach_another_yard() {
    let (_db, client) = yards("auth_hostile_paths").await;
    let app = site(&client, &web(ALICE, ""));
    let alice = bearer(ALICE);
    let auth = [("authorization", alice.as_str())];
    for (path, expected) in [
        ("/feedlots/yard-a/../yard-b/animals", None),
        ("/api/feedlots/yard-a/..%2Fyard-b/animals", None),
        ("/api/feedlots/yard-b%2F..%2Fyard-a/animals", Some(403)),
        (
            "/api/feedlots/yard-a%2F..%2F..%2Fapi%2Ffeedlots%2Fyard-b/animals",
            Some(403),
        ),
        ("/api/feedlots/YARD-B/animals", Some(403)),
        ("/api/feedlots/yard-b%00/animals", Some(403)),
        ("/api/feedlots/%79ard-b/animals", Some(403)),
        ("/api/feedlots/%FF/animals", Some(403)),
        ("/api/feedlots//animals", Some(403)),
        ("/feedlots/yard-b/animals?feedlot_id=yard-a", Some(403)),
        ("//feedlots/yard-b/animals", Some(404)),
        ("/%66eedlots/yard-b/animals", Some(404)),
        ("/Feedlots/yard-b/animals", Some(404)),
        ("/api//feedlots/yard-b/animals", Some(404)),
    ] {
        let r = get(&app, path, &auth).await;
        assert!(
            r.status != 200 && !r.leaks_yard_b(),
            "{path}: {} {}",
            r.status,
            r.body
        );
        if let Some(code) = expected {
            assert_eq!(r.status.as_u16(), code, "{path}: {}", r.body);
        }
    }
    // The same crafted paths without credentials are refused before any routing.
    let r = get(&app, "/%66eedlots/yard-b/animals", &[]).await;
    assert_eq!(r.status, 303);
}
