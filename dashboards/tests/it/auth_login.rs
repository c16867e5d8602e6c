//! Browser login: a one-time login code and the form set a Secure, HttpOnly, SameSite=Strict
//! session that
//! opens the caller's pages, survives a restart with the same secret, dies with another secret,
//! a changed token or tampering, and logout deletes it; `next` never leaves the site.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use axum::http::{StatusCode, header};
use dashboards::web::Auth;
use dashboards::web::auth::hash_token;

use crate::two_yards;

use two_yards::*;

#[tokio::test]
async fn a_login_code_and_the_form_log_a_browser_in_with_a_secure_strict_http_only_session() {
    let (_db, client) = yards("auth_cookie").await;
    let secret = "a-session-secret-of-32-characters-or-more";
    let app = site(&client, &web(ALICE, secret));
    let code = Auth::from_config(&web(ALICE, secret))
        .unwrap()
        .login_link("alice", 15, "/feedlots/yard-a/animals")
        .unwrap();
    assert!(!code.contains(ALICE), "{code}");
    let link = get(&app, &code, &[]).await;
    assert_eq!(link.status, 303);
    assert_eq!(link.header(header::LOCATION), "/feedlots/yard-a/animals");
    let set = link.header(header::SET_COOKIE);
    for part in [
        "feedlot_session=v2.alice.",
        "; Secure",
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

    let form = form_login(&app, ALICE, "%2Fapi%2Ffeedlots%2Fyard-a%2Fanimals").await;
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
    let tampered = cookie.replace("v2.alice.", "v2.multi.");
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

    let refused = form_login(&app, "not-a-token", "/").await;
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
        let form = form_login(&app, ALICE, next).await;
        assert_eq!(
            (form.status, form.header(header::LOCATION)),
            (StatusCode::SEE_OTHER, "/"),
            "{next}"
        );
    }
}
