//! The login form, one-time login codes, logout (here or everywhere), the caller's yards at `/`, and the refusal pages.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{Caller, User, code, now_unix, now_unix_ms};
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

/// The form's fields on `POST /login`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginForm {
    /// The user's token, typed into the form.
    token: Option<String>,
    /// Where to go after login: a local path, else `/`.
    next: Option<String>,
}

/// `?code=&next=` on `GET /login`; `token` only to refuse it.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginQuery {
    /// A one-time login code from `dashboards login-link`.
    code: Option<String>,
    /// Never accepted: the permanent token does not go into a URL.
    token: Option<String>,
    /// Where to go after login: a local path, else `/`.
    next: Option<String>,
}

/// The client's address (from the socket, when served with connect info), for the limiter.
pub(super) struct ClientAddr(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl ClientAddr {
    fn key(&self) -> String {
        match self.0 {
            Some(ip) => format!("ip:{ip}"),
            None => "ip:unknown".into(),
        }
    }
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

/// 429 with `Retry-After` if any of `keys` has failed too often.
fn limited(state: &AppState, keys: &[String], now: u64) -> Option<Response> {
    let secs = keys
        .iter()
        .filter_map(|k| state.auth.limiter.retry_after(k, now))
        .max()?;
    tracing::warn!(?keys, "sign-in refused: too many failed attempts");
    let body = message_page("Too many failed sign-in attempts. Try again in a few minutes.");
    Some(
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            no_store(),
            body,
        )
            .into_response(),
    )
}

fn failed(state: &AppState, keys: &[String], now: u64) {
    for key in keys {
        state.auth.limiter.failed(key, now);
    }
}

/// A session cookie for `user` and a 303 to `next`.
fn signed_in(state: &AppState, user: &User, next: &str) -> Response {
    let Some(cookie) = state.auth.session_cookie(user, now_unix_ms()) else {
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

/// `GET /login`: the form, or with `?code=` (from `dashboards login-link`) the login itself.
/// `?token=` is refused: the permanent token never goes into a URL.
pub(super) async fn form_or_code(
    State(state): State<AppState>,
    client: ClientAddr,
    Query(login): Query<LoginQuery>,
) -> Response {
    let next = local_path(login.next.as_deref());
    if login.token.is_some() {
        tracing::warn!("login refused: a token in the URL");
        let body = form(
            next,
            Some("A token never goes in a link. Type it here, or ask for a login link."),
        );
        return (StatusCode::BAD_REQUEST, no_store(), body).into_response();
    }
    let Some(code) = login.code.as_deref() else {
        return (no_store(), form(next, None)).into_response();
    };
    let now = now_unix();
    let mut keys = vec![client.key()];
    if let Some(user) = code::claimed_user(code) {
        keys.push(format!("user:{user}"));
    }
    if let Some(refused) = limited(&state, &keys, now) {
        return refused;
    }
    let refused = |message: &str| {
        failed(&state, &keys, now);
        (StatusCode::UNAUTHORIZED, no_store(), message_page(message)).into_response()
    };
    match code::verify(&state.auth, code, now) {
        Err(code::Refused::Expired) => {
            tracing::warn!("login refused: an expired login code");
            refused("This sign-in link has expired. Ask for a new one.")
        }
        Err(code::Refused::Invalid) => {
            tracing::warn!("login refused: an invalid login code");
            refused("This sign-in link is not valid. Ask for a new one.")
        }
        Ok(valid) => match state.sessions.use_code(&valid.nonce).await {
            Ok(true) => signed_in(&state, valid.user, next),
            Ok(false) => {
                tracing::warn!(user = %valid.user.name, "login refused: a login code used again");
                refused("This sign-in link was already used. Ask for a new one.")
            }
            Err(e) => {
                tracing::error!(error = %e, "sign-in state unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "sign-in unavailable, try again",
                )
                    .into_response()
            }
        },
    }
}

/// `POST /login` with form fields `token` and `next`: a session cookie and a 303 to `next`, or
/// the form again (401).
pub(super) async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    Form(login): Form<LoginForm>,
) -> Response {
    let next = local_path(login.next.as_deref());
    let now = now_unix();
    let keys = [client.key()];
    if let Some(refused) = limited(&state, &keys, now) {
        return refused;
    }
    let token = login.token.as_deref().unwrap_or_default();
    let Some(user) = state.auth.user_by_token(token.trim()) else {
        tracing::warn!("login refused: unknown token");
        failed(&state, &keys, now);
        let body = form(next, Some("That token is not valid."));
        return (StatusCode::UNAUTHORIZED, no_store(), body).into_response();
    };
    signed_in(&state, user, next)
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

/// `POST /logout/everywhere`: ends every session of the caller, on every replica, and deletes
/// this one's cookie.
pub(super) async fn logout_everywhere(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    if let Err(e) = state
        .sessions
        .revoke_all(caller.name(), now_unix_ms())
        .await
    {
        tracing::error!(error = %e, "could not sign out everywhere");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            message_page("Could not sign out everywhere; try again."),
        )
            .into_response();
    }
    tracing::info!(user = %caller.name(), "signed out everywhere");
    logout(State(state)).await
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
            form method="post" action="/logout/everywhere" {
                button type="submit" { "Sign out everywhere" }
            }
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
