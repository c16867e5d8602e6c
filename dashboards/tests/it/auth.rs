//! Every page and API is scoped to the caller's feedlots: a yard's user reads that yard, gets
//! 403 for another (the same as for a yard that does not exist, with none of its data), is
//! sent to log in without credentials, and cannot walk out of its yard with a crafted path.
//! Over a real ClickHouse, through `dashboards::web::app` without a socket. Login and sessions:
//! `tests/auth_login.rs`; the real binary: `tests/auth_binary.rs`.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use axum::http::{StatusCode, header};
use dashboards::web::AppState;

use crate::two_yards;

use two_yards::*;

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
    // In the user's units (US by default): 300 and 330 kg.
    assert!(
        csv.body.contains(&format!("{EID_A},2,661.4,727.5")),
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
    let login = form_login(&app, ALICE, "/").await;
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
    let alice = bearer(ALICE);
    let metrics = get(&app, "/metrics", &[("authorization", &alice)]).await;
    assert_eq!(
        metrics.status, 404,
        "/metrics is not on the public listener"
    );
    let form = get(&app, "/login?next=/feedlots/yard-a/animals", &[]).await;
    assert!(
        form.body.contains("name=\"token\"")
            && form.body.contains("value=\"/feedlots/yard-a/animals\"")
    );

    // With no users configured nobody reads any yard.
    let closed = dashboards::web::app(AppState::new(client.clone()));
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
    assert_eq!(form_login(&closed, ALICE, "/").await.status, 401);
}

#[tokio::test]
async fn a_bad_or_malformed_token_is_401_on_the_api_and_on_pages() {
    let (_db, client) = yards("auth_bad_token").await;
    let app = site(&client, &web(ALICE, ""));
    let login = form_login(&app, ALICE, "/").await;
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
