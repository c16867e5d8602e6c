//! Filling and submitting a gateway's entry form in headless Chromium, as a person would (the
//! browser's own HTML5 checks run first).
//!
//! The browser cannot script a page of another origin, so a small harness serves, on one
//! origin, a page that loads the form in a frame, fills it, submits it and copies the answer
//! out, and passes `/forms/...` through to the gateway with the signed-in token (HTTP Basic).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

/// The harness's state: the gateway it fronts and the token it signs in with.
#[derive(Clone)]
struct Harness {
    gateway: String,
    token: Arc<Mutex<String>>,
}

#[derive(serde::Deserialize)]
struct FillQuery {
    form: String,
    values: String,
}

/// A page that loads `/forms/{form}` in a frame, fills `values` (JSON: input name -> value),
/// submits it if the browser finds it valid, and copies the answer (or the invalid inputs)
/// into `#result`.
async fn harness_page(Query(fill): Query<FillQuery>) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><body><div id="result"></div>
<iframe id="f" src="/forms/{form}" width="900" height="900"></iframe>
<script>
const values = {values};
let step = 0;
const frame = document.getElementById('f');
const result = document.getElementById('result');
frame.addEventListener('load', () => {{
  const doc = frame.contentDocument;
  if (step++ === 0) {{
    for (const [name, value] of Object.entries(values)) {{
      const input = doc.querySelector('[name="' + name + '"]');
      if (!input) {{ result.setAttribute('data-missing', name); return; }}
      input.value = value;
    }}
    const form = doc.getElementById('entry');
    if (!form) {{ result.setAttribute('data-no-form', '1'); result.innerHTML = doc.body.innerHTML; return; }}
    if (!form.checkValidity()) {{
      result.setAttribute('data-invalid',
        Array.from(form.querySelectorAll(':invalid')).map(e => e.name).join(','));
      return;
    }}
    form.requestSubmit();
  }} else {{
    result.innerHTML = doc.body.innerHTML;
  }}
}});
</script></body></html>"#,
        form = fill.form,
        values = fill.values,
    ))
}

/// `/forms/...` passed to the gateway, signed in with the harness's token.
async fn pass_through(
    State(h): State<Harness>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    let token = h.token.lock().map(|t| t.clone()).unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("office:{token}"));
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{}", h.gateway, uri))
        .header("authorization", format!("Basic {basic}"))
        .body(body.to_vec());
    if let Some(kind) = headers.get("content-type").and_then(|k| k.to_str().ok()) {
        request = request.header("content-type", kind);
    }
    let Ok(answer) = request.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let text = answer.text().await.unwrap_or_default();
    (status, [("content-type", "text/html; charset=utf-8")], text).into_response()
}

/// Starts a harness in front of the gateway at `gateway` (`http://host:port`): its base URL
/// and the token it signs in with (set it before each [`fill`]).
pub async fn start_harness(gateway: String) -> anyhow::Result<(String, Arc<Mutex<String>>)> {
    let token = Arc::new(Mutex::new(String::new()));
    let state = Harness {
        gateway,
        token: token.clone(),
    };
    let app = axum::Router::new()
        .route("/harness", axum::routing::get(harness_page))
        .route("/forms", axum::routing::any(pass_through))
        .route("/forms/{*rest}", axum::routing::any(pass_through))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}"), token))
}

/// Fills and submits `form` with `values` (JSON: input name -> value) in the browser as
/// `token`; the harness's `#result`: the answer page's body after a submit, `data-invalid`
/// naming the inputs the browser refused, or `data-no-form` with a page that has no form.
pub async fn fill(
    harness: &str,
    token_of: &Mutex<String>,
    token: &str,
    form: &str,
    values: &serde_json::Value,
) -> anyhow::Result<String> {
    *token_of
        .lock()
        .map_err(|_| anyhow::anyhow!("harness token lock poisoned"))? = token.to_owned();
    let values = values.to_string();
    let url = format!(
        "{harness}/harness?form={form}&values={}",
        utf8_percent(&values)
    );
    let dom = crate::browser::dump_dom_after(&url, 15_000).await?;
    let start = dom
        .find("<div id=\"result\"")
        .ok_or_else(|| anyhow::anyhow!("no harness result in {dom}"))?;
    let end = dom[start..]
        .find("<iframe")
        .map_or(dom.len(), |e| start + e);
    Ok(dom[start..end].to_owned())
}

fn utf8_percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The event id the answer says it recorded (`data-event-id`), if it recorded one.
pub fn recorded(result: &str) -> Option<uuid::Uuid> {
    let at = result.find("data-event-id=\"")?;
    let id = result.get(at + 15..at + 15 + 36)?;
    uuid::Uuid::parse_str(id).ok()
}
