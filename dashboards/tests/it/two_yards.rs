//! Two yards' weighings in a real ClickHouse and the app over them, with two users: `alice`
//! reads yard-a, `multi` reads yard-a and yard-c; nobody reads yard-b. Requests go through
//! `dashboards::web::app` without a socket.

#![allow(clippy::unwrap_used, dead_code)] // Tests: a failed unwrap is a failed test.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use dashboards::config::{WebConfig, WebUserConfig};
use dashboards::web::auth::hash_token;
use dashboards::web::{AppState, Auth, app};
use tower::ServiceExt;

/// Yard A's animal.
pub const EID_A: &str = "982000000000101";
/// Yard B's animal.
pub const EID_B: &str = "982000000000202";
/// Yard B's animal weighs this; it must never appear in a yard-A user's response.
pub const B_KG: f64 = 777.7;
/// The token of `alice` (yard-a).
pub const ALICE: &str = "alice-token-0123456789-abcdef";
/// The token of `multi` (yard-a and yard-c).
pub const MULTI: &str = "multi-token-0123456789-abcdef";
/// 2026-10-01T06:00:00Z.
pub const DAY1_MS: u64 = 1_790_834_400_000;

/// The users, `alice` holding `alice_token`; sessions signed with `secret` (empty: random).
pub fn web(alice_token: &str, secret: &str) -> WebConfig {
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

/// A migrated database with yard A's and yard B's animal, each weighed twice, and a client on it.
pub async fn yards(test: &str) -> (testkit::ClickHouseDb, clickhouse::Client) {
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
    // The rows went in by SQL, not through ingest (no `fact_changes`): make the yards' facts
    // (the animals' state the herd table reads) as `dashboards rebuild-facts` would.
    dashboards::facts::worker::rebuild(&client, &["yard-a".to_owned(), "yard-b".to_owned()])
        .await
        .unwrap();
    (db, client)
}

/// The app over `client` serving `web`'s users.
pub fn site(client: &clickhouse::Client, web: &WebConfig) -> Router {
    app(AppState::new(client.clone()).with_auth(Auth::from_config(web).unwrap()))
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// `name=value` of the `Set-Cookie` header, for a `Cookie` header.
    pub fn cookie(&self) -> String {
        self.header(header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    pub fn leaks_yard_b(&self) -> bool {
        self.body.contains(EID_B) || self.body.contains(&B_KG.to_string())
    }
}

/// `method uri` with `headers` and `body`, through `app` without a socket.
pub async fn send(
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

/// `GET uri` with `headers`.
pub async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    send(app, "GET", uri, headers, "").await
}

/// An `Authorization` value for `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `POST /login` with the form's `token` and `next` (`next` already percent-encoded).
pub async fn form_login(app: &Router, token: &str, next: &str) -> Reply {
    send(
        app,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("token={token}&next={next}"),
    )
    .await
}
