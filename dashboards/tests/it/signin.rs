//! Web sign-in (issue 11 item 4): one-time login codes that expire and work once (across
//! replicas), no token in any URL, sign-out everywhere and idle expiry, failed attempts limited,
//! CSV cells made inert, `/metrics` only on the ops listener. Over a real ClickHouse, through
//! `dashboards::web::app` without a socket (`tests/auth_binary.rs` runs the real binary).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use axum::http::{StatusCode, header};
use dashboards::web::auth::hash_token;
use dashboards::web::{AppState, Auth, app, ops_app};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::two_yards;

use two_yards::*;

const SECRET: &str = "a-session-secret-of-32-characters-or-more";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// HMAC-SHA256 with [`SECRET`] over `text` and alice's token hash, hex (the documented formats).
fn sign(text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    mac.update(&hex::decode(hash_token(ALICE)).unwrap());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_login_code_works_once_and_an_expired_or_reused_one_is_refused() {
    let (_db, client) = yards("signin_code_once").await;
    let app = site(&client, &web(ALICE, SECRET));
    let auth = Auth::from_config(&web(ALICE, SECRET)).unwrap();
    let link = auth
        .login_link("alice", 15, "/feedlots/yard-a/animals")
        .unwrap();
    let first = get(&app, &link, &[]).await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(first.header(header::LOCATION), "/feedlots/yard-a/animals");
    let page = get(
        &app,
        "/feedlots/yard-a/animals",
        &[("cookie", &first.cookie())],
    )
    .await;
    assert_eq!(page.status, 200);

    // Used again, here or on another replica over the same ClickHouse: refused.
    let replica = site(&client, &web(ALICE, SECRET));
    for server in [&app, &replica] {
        let again = get(server, &link, &[]).await;
        assert_eq!(again.status, 401);
        assert!(again.body.contains("already used"), "{}", again.body);
        assert!(again.headers.get(header::SET_COOKIE).is_none());
    }

    // Expired (signed correctly, a minute in the past).
    let expires = now() - 60;
    let nonce = "00112233445566778899aabbccddeeff";
    let mac = sign(&format!("login code v1\nalice\n{expires}\n{nonce}\n"));
    let expired = get(
        &app,
        &format!("/login?code=c1.alice.{expires}.{nonce}.{mac}"),
        &[],
    )
    .await;
    assert_eq!(expired.status, 401);
    assert!(expired.body.contains("expired"), "{}", expired.body);

    // Unknown users and bad minutes make no link.
    assert!(auth.login_link("nobody", 15, "/").is_err());
    assert!(auth.login_link("alice", 0, "/").is_err());
    assert!(auth.login_link("alice", 61, "/").is_err());
}

#[tokio::test]
async fn no_route_accepts_the_token_in_the_query_string() {
    let (_db, client) = yards("signin_no_token_in_url").await;
    let app = site(&client, &web(ALICE, SECRET));
    let login = get(&app, &format!("/login?token={ALICE}&next=/"), &[]).await;
    assert_eq!(login.status, 400);
    assert!(login.headers.get(header::SET_COOKIE).is_none());
    for path in [
        "/?token={t}",
        "/feedlots/yard-a/animals?token={t}",
        "/feedlots/yard-a/animals.csv?access_token={t}",
        "/logout/everywhere?token={t}",
    ] {
        let r = get(&app, &path.replace("{t}", ALICE), &[]).await;
        assert_eq!(r.status, 303, "{path}: sent to log in");
        assert!(r.headers.get(header::SET_COOKIE).is_none(), "{path}");
    }
    let api = get(
        &app,
        &format!("/api/feedlots/yard-a/animals?token={ALICE}"),
        &[],
    )
    .await;
    assert_eq!(api.status, 401);
}

#[tokio::test]
async fn signing_out_everywhere_ends_another_browsers_session_on_every_replica() {
    let (_db, client) = yards("signin_everywhere").await;
    let app = site(&client, &web(ALICE, SECRET));
    let replica = site(&client, &web(ALICE, SECRET));
    let laptop = form_login(&app, ALICE, "/").await.cookie();
    let phone = form_login(&replica, ALICE, "/").await.cookie();
    let other_user = form_login(&app, MULTI, "/").await.cookie();
    for (server, cookie) in [(&app, &laptop), (&replica, &phone), (&replica, &laptop)] {
        let r = get(server, "/feedlots/yard-a/animals", &[("cookie", cookie)]).await;
        assert_eq!(r.status, 200);
    }
    // Plain logout only deletes this browser's cookie.
    let out = send(&app, "POST", "/logout", &[("cookie", &laptop)], "").await;
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    let still = get(&replica, "/feedlots/yard-a/animals", &[("cookie", &phone)]).await;
    assert_eq!(still.status, 200);

    let everywhere = send(
        &app,
        "POST",
        "/logout/everywhere",
        &[("cookie", &laptop)],
        "",
    )
    .await;
    assert_eq!(everywhere.status, StatusCode::SEE_OTHER);
    assert!(everywhere.header(header::SET_COOKIE).contains("Max-Age=0"));
    // The replica's cached "valid after" lasts at most `store::CACHE`.
    tokio::time::sleep(dashboards::web::auth::store::CACHE).await;
    for (server, cookie) in [(&app, &phone), (&replica, &phone), (&replica, &laptop)] {
        let page = get(server, "/feedlots/yard-a/animals", &[("cookie", cookie)]).await;
        assert_eq!(page.status, 303, "the session is dead");
        assert!(page.header(header::SET_COOKIE).contains("Max-Age=0"));
        let api = get(
            server,
            "/api/feedlots/yard-a/animals",
            &[("cookie", cookie)],
        )
        .await;
        assert_eq!(api.status, 401);
    }
    let other = get(&app, "/feedlots/yard-a/animals", &[("cookie", &other_user)]).await;
    assert_eq!(other.status, 200, "another user's session lives on");
    let again = form_login(&replica, ALICE, "/").await.cookie();
    let r = get(&app, "/feedlots/yard-a/animals", &[("cookie", &again)]).await;
    assert_eq!(r.status, 200, "a new sign-in works");
    let without = send(&app, "POST", "/logout/everywhere", &[], "").await;
    assert_eq!(without.status, 303, "needs a session");
}

#[tokio::test]
async fn a_session_idle_too_long_is_refused_and_a_used_one_is_refreshed() {
    let (_db, client) = yards("signin_idle").await;
    let app = site(&client, &web(ALICE, SECRET));
    let cookie = |issued_ms: u64, seen: u64| {
        let mac = sign(&format!("session v2\nalice\n{issued_ms}\n{seen}\n"));
        format!("feedlot_session=v2.alice.{issued_ms}.{seen}.{mac}")
    };
    let now = now();
    // Issued two hours ago, last seen 61 minutes ago (idle limit: 60): refused.
    let idle = cookie((now - 7200) * 1000, now - 61 * 60);
    let r = get(&app, "/feedlots/yard-a/animals", &[("cookie", &idle)]).await;
    assert_eq!(r.status, 303);
    // Last seen 59 minutes ago: served, and re-signed as seen now.
    let used = cookie((now - 7200) * 1000, now - 59 * 60);
    let r = get(&app, "/feedlots/yard-a/animals", &[("cookie", &used)]).await;
    assert_eq!(r.status, 200);
    let refreshed = r.header(header::SET_COOKIE);
    assert!(
        refreshed.starts_with(&format!(
            "feedlot_session=v2.alice.{}.",
            (now - 7200) * 1000
        )),
        "{refreshed}"
    );
    assert!(
        refreshed.contains("; Secure") && refreshed.contains("HttpOnly"),
        "{refreshed}"
    );
    // Seen just now: no new cookie.
    let fresh = cookie(now * 1000, now);
    let r = get(&app, "/feedlots/yard-a/animals", &[("cookie", &fresh)]).await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn the_eleventh_failed_sign_in_from_a_client_gets_429_with_retry_after() {
    let (_db, client) = yards("signin_rate_limit").await;
    let app = site(&client, &web(ALICE, SECRET));
    for i in 0..10 {
        let r = form_login(&app, &format!("wrong-token-{i}"), "/").await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let limited = form_login(&app, "wrong-token-10", "/").await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header(header::RETRY_AFTER).parse().unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    let right = form_login(&app, ALICE, "/").await;
    assert_eq!(right.status, 429, "even the right token waits");
    // Bearer tokens on the API are not sign-ins.
    let api = get(
        &app,
        "/api/feedlots/yard-a/animals",
        &[("authorization", &bearer(ALICE))],
    )
    .await;
    assert_eq!(api.status, 200);
}

#[tokio::test]
async fn a_csv_cell_a_spreadsheet_would_run_comes_out_inert() {
    let (db, client) = yards("signin_csv_inert").await;
    db.client()
        .query(
            "INSERT INTO weighings (event_id, feedlot_id, device_id, eid, weight_kg, \
             displayed_value, displayed_unit, captured_at, captured_at_ms) \
             VALUES ('0190a000-0000-7000-8000-000000000099', 'yard-a', '=cmd()', ?, 340, 340, \
             'kg', ?, ?)",
        )
        .bind(EID_A)
        .bind((DAY1_MS + 30 * 86_400_000) / 1000)
        .bind(DAY1_MS + 30 * 86_400_000)
        .execute()
        .await
        .unwrap();
    let app = site(&client, &web(ALICE, SECRET));
    let csv = get(
        &app,
        &format!("/feedlots/yard-a/animals/{EID_A}/weighings.csv"),
        &[("authorization", &bearer(ALICE))],
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.contains(",'=cmd()"), "{}", csv.body);
    assert!(!csv.body.contains(",=cmd()"), "{}", csv.body);
}

#[tokio::test]
async fn metrics_are_served_on_the_ops_listener_and_not_on_the_public_one() {
    let (_db, client) = yards("signin_metrics").await;
    let state =
        AppState::new(client.clone()).with_auth(Auth::from_config(&web(ALICE, SECRET)).unwrap());
    let public = app(state.clone());
    let ops = ops_app(state);
    let alice = bearer(ALICE);
    assert_eq!(
        get(&public, "/metrics", &[("authorization", &alice)])
            .await
            .status,
        404
    );
    assert_eq!(get(&public, "/metrics", &[]).await.status, 303);
    assert_eq!(get(&public, "/healthz", &[]).await.status, 200);
    let metrics = get(&ops, "/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("dashboards_http_requests"),
        "{}",
        metrics.body
    );
    assert_eq!(get(&ops, "/healthz", &[]).await.status, 200);
    assert_eq!(get(&ops, "/feedlots/yard-a/animals", &[]).await.status, 404);
}
