//! The office's and the chute's entry forms, served by the gateway so they work while the yard
//! is offline (they talk only to the gateway; no script, no outside asset).
//!
//! `GET /forms` lists the forms the signed-in role may use; `GET /forms/{form}` shows one
//! (query parameters prefill it); `POST /forms/{form}` records it. Sign-in is the chute page's
//! (HTTP Basic with a records API token as the password, or a bearer token). Each form posts
//! through the records API's own checks ([`crate::api::record`]): the same role check, bounds,
//! field and value validation, the same outbox commit. The page checks what HTML can (required
//! fields, number ranges, patterns); the server's refusal is shown next to the field it names.
//! A hidden idempotency key makes a double-submitted form record once.
//!
//! "Process at the chute" is a session: the lot, pen and products are set once, and each head
//! crossing the chute is entered by its tag (and weight): one submit records its placement,
//! its weighing and every product of the session, in one outbox transaction.

mod page;
pub mod spec;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use schemas::{Event, Weighing, Weight};
use serde_json::{Value, json};

use crate::api::{ApiError, ApiState, ApiToken};
use crate::outbox::once::Once;
use spec::{Form as Spec, value};

/// The posted or query fields of a form, in order.
type Posted = Vec<(String, String)>;

/// The routes, as (path pattern, methods): what [`router`] is built from.
fn routes() -> crate::http::RouteTable<ApiState> {
    vec![
        ("/forms", get(index)),
        ("/forms/{form}", get(show).post(submit)),
    ]
}

/// The path patterns [`router`] serves.
pub fn route_paths() -> Vec<&'static str> {
    crate::http::paths_of(routes())
}

/// The entry forms' routes.
pub fn router(state: ApiState) -> Router {
    crate::http::router_of(routes())
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::api::bounds::MAX_BODY_BYTES,
        ))
        .with_state(state)
}

/// 401 with a Basic challenge, as the chute page answers.
fn challenge() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"forms\", charset=\"UTF-8\"",
        )],
        "Sign in with your records API token as the password.\n",
    )
        .into_response()
}

/// Whether `caller` may use `form`: its record kind's roles; processing records treatments,
/// so it takes a role that may give them.
fn may_use(caller: &ApiToken, form: &Spec) -> Result<(), ApiError> {
    let kind = if form.kind == "processing" {
        "treatments"
    } else {
        form.kind
    };
    crate::api::allowed(caller, kind).map_err(|_| ApiError::Forbidden {
        role: caller.role.as_str(),
        kind: form.slug.to_owned(),
    })
}

/// Who is signed in, and the form asked for, or the answer refusing them.
fn signed_in<'a>(
    state: &'a ApiState,
    headers: &HeaderMap,
    slug: &str,
) -> Result<(&'a ApiToken, &'static Spec), Box<Response>> {
    let caller =
        crate::api::authenticate_page(headers, &state.tokens).map_err(|_| Box::new(challenge()))?;
    let form = spec::form(slug)
        .ok_or_else(|| (StatusCode::NOT_FOUND, page::not_found(slug)).into_response())?;
    may_use(caller, form).map_err(|e| {
        tracing::info!(user = %caller.user, form = slug, "form refused to the role");
        Box::new((StatusCode::FORBIDDEN, page::refused(&e.to_string())).into_response())
    })?;
    Ok((caller, form))
}

async fn index(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let Ok(caller) = crate::api::authenticate_page(&headers, &state.tokens) else {
        return challenge();
    };
    let usable: Vec<&Spec> = spec::FORMS
        .iter()
        .filter(|f| may_use(caller, f).is_ok())
        .collect();
    page::index(caller, &usable).into_response()
}

async fn show(
    State(state): State<ApiState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(prefill): Query<Posted>,
) -> Response {
    match signed_in(&state, &headers, &slug) {
        Ok((caller, form)) => {
            page::form(form, caller, &prefill, &page::Outcome::Blank).into_response()
        }
        Err(refusal) => *refusal,
    }
}

async fn submit(
    State(state): State<ApiState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(posted): Form<Posted>,
) -> Response {
    let (caller, form) = match signed_in(&state, &headers, &slug) {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    let key = value(&posted, "idempotency_key").and_then(|k| uuid::Uuid::try_parse(k).ok());
    let outcome = if form.kind == "processing" {
        process(&state, caller, &posted, key).await
    } else {
        one(&state, caller, form, &posted, key).await
    };
    match outcome {
        Ok(done) => {
            let kept = if form.kind == "processing" {
                page::session_values(&posted, done.head)
            } else {
                Vec::new()
            };
            page::form(form, caller, &kept, &page::Outcome::Recorded(done)).into_response()
        }
        Err(failure) => {
            let status = failure.status;
            tracing::info!(user = %caller.user, form = slug, field = ?failure.field, error = %failure.message, "form refused");
            (
                status,
                page::form(form, caller, &posted, &page::Outcome::Refused(failure)),
            )
                .into_response()
        }
    }
}

/// What a submit recorded.
#[derive(Debug, Clone)]
pub struct Done {
    /// The (first) event's id.
    pub event_id: uuid::Uuid,
    /// Events recorded.
    pub events: usize,
    /// A retry of a form already recorded.
    pub replayed: bool,
    /// Processing: head entered so far this session.
    pub head: u64,
}

/// Why a submit was refused: the input it names (if any) and why.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The form input the error belongs to.
    pub field: Option<String>,
    /// The error, as the records API words it.
    pub message: String,
    /// The records API's status for it.
    pub status: StatusCode,
}

impl Failure {
    fn of(error: ApiError, input: impl Fn(&str) -> String) -> Self {
        let field = match &error {
            ApiError::Malformed { field, .. } => field.as_deref().map(&input),
            ApiError::Invalid(e) => Some(input(&e.field)),
            _ => None,
        };
        let message = error.to_string();
        let status = error.into_response().status();
        Self {
            field,
            message,
            status,
        }
    }
}

/// A form of one record: its body, through the records API.
async fn one(
    state: &ApiState,
    caller: &ApiToken,
    form: &Spec,
    posted: &Posted,
    key: Option<uuid::Uuid>,
) -> Result<Done, Failure> {
    let mut form_rows = Vec::new();
    let body = (|| {
        let mut body = spec::body_of(form.fields, posted)?;
        if form.kind == "rations" {
            let (rows, of_rows) = spec::ingredients_of(posted)?;
            form_rows = of_rows;
            body.insert("ingredients".into(), Value::Array(rows));
        }
        Ok::<_, ApiError>(body)
    })()
    .map_err(|e| Failure::of(e, str::to_owned))?;
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let recorded = crate::api::record(state, caller, form.kind, None, key, &bytes)
        .await
        .map_err(|e| Failure::of(e, |f| spec::input_of(f, &form_rows)))?;
    Ok(Done {
        event_id: recorded.event_id,
        events: 1,
        replayed: recorded.replayed,
        head: 0,
    })
}

/// One head through the chute in a processing session: placed in the session's lot and pen,
/// weighed (when a weight is entered) and given each of the session's products, committed
/// together, once per the page's idempotency `key` (a head submitted twice, by a double click
/// or a browser's resend, is recorded once and not counted again).
async fn process(
    state: &ApiState,
    caller: &ApiToken,
    posted: &Posted,
    key: Option<uuid::Uuid>,
) -> Result<Done, Failure> {
    let plain = |e: ApiError| Failure::of(e, str::to_owned);
    let form = spec::form("processing")
        .ok_or_else(|| plain(ApiError::UnknownKind("processing".into())))?;
    let base = spec::body_of(form.fields, posted).map_err(plain)?;
    let get = |name: &str| base.get(name).cloned();
    let mut placement = serde_json::Map::new();
    for name in ["eid", "lot_id", "pen_id", "sex", "breed"] {
        if let Some(v) = get(name) {
            placement.insert(name.into(), v);
        }
    }
    let bytes = serde_json::to_vec(&Value::Object(placement)).unwrap_or_default();
    let mut events = vec![crate::api::parse_checked("placements", &bytes).map_err(plain)?];
    let Some(Event::Placement(placed)) = events.first() else {
        return Err(plain(ApiError::UnknownKind("placements".into())));
    };
    let eid = placed.eid.clone();
    if let Some(kg) = base.get("weight_kg").and_then(Value::as_f64) {
        let weighing = Event::Weighing(Weighing {
            eid: eid.clone(),
            weight: Weight::from_kg(kg),
            tag_read_event_id: None,
            gross_net: None,
        });
        weighing
            .validate()
            .map_err(|e| Failure::of(e.into(), |_| "weight_kg".to_owned()))?;
        events.push(weighing);
    }
    let products = spec::products_of(posted).map_err(plain)?;
    for (i, mut product) in products.into_iter().enumerate() {
        product.insert("eid".into(), json!(eid.as_str()));
        product.insert(
            "administered_by".into(),
            get("administered_by").unwrap_or_default(),
        );
        let bytes = serde_json::to_vec(&Value::Object(product)).unwrap_or_default();
        let row = spec::product_row(posted, i);
        let event = crate::api::parse_checked("treatments", &bytes)
            .map_err(|e| Failure::of(e, |f| format!("{f}_{row}")))?;
        events.push(event);
    }
    let envelopes = events
        .into_iter()
        .map(|event| crate::api::envelope_of(state, caller, None, event))
        .collect::<Result<Vec<_>, _>>()
        .map_err(plain)?;
    let head_before = value(posted, "session_head")
        .and_then(|h| h.parse::<u64>().ok())
        .unwrap_or(0);
    let outbox = |e: crate::outbox::OutboxError| plain(ApiError::from_outbox(&e));
    let replayed = match key {
        Some(key) => {
            let print = posted_fingerprint(&caller.user, posted);
            match state
                .writer
                .append_envelopes_once(&envelopes, key, print)
                .await
                .map_err(outbox)?
            {
                Once::Appended(_) => None,
                Once::Replayed(event_id) => Some(event_id),
                Once::Conflict(event_id) => {
                    return Err(plain(ApiError::KeyReused { key, event_id }));
                }
            }
        }
        None => {
            state
                .writer
                .append_envelopes(&envelopes)
                .await
                .map_err(outbox)?;
            None
        }
    };
    if let Some(event_id) = replayed {
        tracing::info!(user = %caller.user, eid = %eid, %event_id, "head sent again: not recorded again");
        return Ok(Done {
            event_id,
            events: envelopes.len(),
            replayed: true,
            head: head_before,
        });
    }
    let event_id = envelopes.first().map(|e| e.event_id).unwrap_or_default();
    tracing::info!(user = %caller.user, eid = %eid, events = envelopes.len(), "head processed");
    Ok(Done {
        event_id,
        events: envelopes.len(),
        replayed: false,
        head: head_before + 1,
    })
}

/// What identifies a posted processing form for its idempotency key: who sent it and every
/// posted value but the key itself.
fn posted_fingerprint(user: &str, posted: &Posted) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    part(user.as_bytes());
    part(b"processing");
    for (name, value) in posted.iter().filter(|(k, _)| k != "idempotency_key") {
        part(name.as_bytes());
        part(value.as_bytes());
    }
    hash.finalize().into()
}
