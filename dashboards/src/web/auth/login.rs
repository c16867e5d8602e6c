//! The login form, the magic link, logout, the caller's yards at `/`, and the refusal pages.

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{Caller, now_unix};
use crate::web::AppState;

/// What a path segment must escape (a feedlot id in a link).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `?token=&next=` on `GET /login`, or the form's fields on `POST /login`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Login {
    /// The user's token (in a magic link, or typed into the form).
    token: Option<String>,
    /// Where to go after login: a local path, else `/`.
    next: Option<String>,
}

/// `next` if it is a path on this site, else `/`: no redirect can leave the site.
pub(super) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && next.len() <= 2048
                && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
                && !next.starts_with("/login") =>
        {
            next
        }
        _ => "/",
    }
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="referrer" content="no-referrer";
                title { (title) " · Feedlot" }
                style { (crate::web::STYLE) }
            }
            body { (body) }
        }
    }
}

fn form(next: &str, error: Option<&str>) -> Markup {
    page(
        "Log in",
        html! {
            h1 { "Log in" }
            @if let Some(error) = error { p #error { (error) } }
            form method="post" action="/login" {
                label { "Token " input type="password" name="token" autocomplete="current-password" required; }
                input type="hidden" name="next" value=(next);
                " " button type="submit" { "Log in" }
            }
        },
    )
}

/// A short page saying `message`, with a way back.
pub(super) fn message_page(message: &str) -> Markup {
    page(
        message,
        html! { p #message { (message) } p { a href="/" { "Your feedlots" } " · " a href="/login" { "Log in" } } },
    )
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
    ]
}

/// Logs in with `login.token`: a session cookie and a 303 to `next`, or the form again (401).
fn attempt(state: &AppState, login: &Login) -> Response {
    let next = local_path(login.next.as_deref());
    let token = login.token.as_deref().unwrap_or_default();
    let Some(user) = state.auth.user_by_token(token.trim()) else {
        tracing::warn!("login refused: unknown token");
        let body = form(next, Some("That token is not valid."));
        return (StatusCode::UNAUTHORIZED, no_store(), body).into_response();
    };
    let Some(cookie) = state.auth.session_cookie(user, now_unix()) else {
        tracing::error!("session key unusable");
        return (StatusCode::INTERNAL_SERVER_ERROR, "login unavailable").into_response();
    };
    tracing::info!(user = %user.name, "logged in");
    (
        StatusCode::SEE_OTHER,
        no_store(),
        [
            (header::LOCATION, next.to_owned()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

/// `GET /login`: the form, or with `?token=` (a magic link) the login itself.
pub(super) async fn form_or_magic_link(
    State(state): State<AppState>,
    Query(login): Query<Login>,
) -> Response {
    if login.token.is_some() {
        return attempt(&state, &login);
    }
    (no_store(), form(local_path(login.next.as_deref()), None)).into_response()
}

/// `POST /login` with form fields `token` and `next`.
pub(super) async fn submit(State(state): State<AppState>, Form(login): Form<Login>) -> Response {
    attempt(&state, &login)
}

/// `POST /logout`: deletes the session cookie and goes to the login form.
pub(super) async fn logout(State(state): State<AppState>) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (header::SET_COOKIE, state.auth.clear_cookie()),
        ],
    )
        .into_response()
}

/// `GET /`: the caller's yards, each linking to its animals.
pub(super) async fn index(Extension(caller): Extension<Caller>) -> Markup {
    page(
        "Your feedlots",
        html! {
            h1 { "Your feedlots" }
            p { "Logged in as " span #user { (caller.name()) } }
            ul #feedlots {
                @for feedlot in caller.feedlots() {
                    li { a href={"/feedlots/" (utf8_percent_encode(feedlot, SEGMENT)) "/animals"} { (feedlot) } }
                }
            }
            form method="post" action="/logout" { button type="submit" { "Log out" } }
        },
    )
}

/// 303 to the login form, coming back to `uri` after; `clear` deletes a stale cookie.
pub(super) fn to_login(uri: &Uri, clear: Option<String>) -> Response {
    let back = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let location = format!(
        "/login?next={}",
        utf8_percent_encode(local_path(Some(back)), NON_ALPHANUMERIC)
    );
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(clear) = clear.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

/// 403 for another yard's path; the same whether that yard exists or not.
pub(super) fn forbidden(api: bool) -> Response {
    const MESSAGE: &str = "This feedlot is not one of yours.";
    if api {
        let body = serde_json::json!({ "error": "forbidden", "message": MESSAGE });
        (StatusCode::FORBIDDEN, Json(body)).into_response()
    } else {
        (StatusCode::FORBIDDEN, message_page(MESSAGE)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_kept_only_when_it_is_a_local_path() {
        for ok in [
            "/",
            "/feedlots/a/animals?sort=eid&order=asc",
            "/feedlots/a%2Fb",
        ] {
            assert_eq!(local_path(Some(ok)), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/ok\r\nSet-Cookie: x=y",
            "/login?next=/x",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
