//! The entry forms in a real browser (headless Chromium): each form is filled and submitted as
//! a person would (the browser's own HTML5 checks run first), the page says what it recorded,
//! and every record reaches Kafka from the outbox. A value the server refuses is shown next to
//! the field it names; a value the page itself refuses never leaves the browser; a role that
//! may not use a form is refused.
//!
//! The browser cannot script a page of another origin, so a small harness serves, on one
//! origin, a page that loads the form in a frame, fills it, submits it and copies the answer
//! out, and passes `/forms/...` through to the gateway with the signed-in token (HTTP Basic).

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use edge::Config;
use edge::api::{ApiToken, Role};
use serde_json::{Value, json};

use crate::support::{consume, start};

const TOPIC: &str = "feedlot.events.v1";

/// The harness: the gateway it fronts and the token it signs in with.
#[derive(Clone)]
struct Harness {
    gateway: String,
    token: Arc<Mutex<String>>,
}

#[derive(serde::Deserialize)]
struct Fill {
    form: String,
    values: String,
}

/// A page that loads `/forms/{form}` in a frame, fills `values` (JSON: input name -> value),
/// submits it if the browser finds it valid, and copies the answer (or the invalid inputs)
/// into `#result`.
async fn harness_page(Query(fill): Query<Fill>) -> Html<String> {
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
    let token = h.token.lock().unwrap().clone();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("office:{token}"));
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{}", h.gateway, uri))
        .header("authorization", format!("Basic {basic}"))
        .body(body.to_vec());
    if let Some(kind) = headers.get("content-type") {
        request = request.header("content-type", kind.to_str().unwrap());
    }
    let answer = request.send().await.unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let text = answer.text().await.unwrap();
    (status, [("content-type", "text/html; charset=utf-8")], text).into_response()
}

async fn start_harness(gateway: String) -> (String, Arc<Mutex<String>>) {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), token)
}

/// Fills and submits `form` with `values` in the browser as `token`; the harness's `#result`.
async fn fill(
    harness: &str,
    token_of: &Mutex<String>,
    token: &str,
    form: &str,
    values: &Value,
) -> String {
    *token_of.lock().unwrap() = token.to_owned();
    let values = values.to_string();
    let url = format!(
        "{harness}/harness?form={form}&values={}",
        utf8_percent(&values)
    );
    let dom = testkit::browser::dump_dom_after(&url, 15_000)
        .await
        .unwrap();
    let start = dom.find("<div id=\"result\"").unwrap();
    let end = dom[start..]
        .find("<iframe")
        .map_or(dom.len(), |e| start + e);
    dom[start..end].to_owned()
}

fn utf8_percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The event id the page says it recorded.
fn recorded(result: &str) -> uuid::Uuid {
    let at = result
        .find("data-event-id=\"")
        .unwrap_or_else(|| panic!("nothing recorded: {result}"));
    let id = &result[at + 15..at + 15 + 36];
    uuid::Uuid::parse_str(id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_form_filled_in_a_browser_records_its_event_and_reaches_kafka() {
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: "yard-forms".into(),
        gateway_id: "gw-office".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = broker.bootstrap.clone();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = ["mgr-1:kim:manager", "vet-1:dr-lee:vet", "op-1:sam:operator"]
        .map(|t| {
            let parts: Vec<&str> = t.split(':').collect();
            ApiToken {
                token: parts[0].into(),
                user: parts[1].into(),
                role: match parts[2] {
                    "manager" => Role::Manager,
                    "vet" => Role::Vet,
                    _ => Role::Operator,
                },
            }
        })
        .to_vec();
    let gateway = start(config).await;
    let (harness, token) = start_harness(format!("http://127.0.0.1:{port}")).await;

    // (form, token, values, kind on the wire, events recorded)
    let cases: Vec<(&str, &str, Value, &str, usize)> = vec![
        (
            "arrival",
            "op-1",
            json!({"lot_id": "L-1000", "head_count": "1000", "origin": "Cherry County, NE",
            "source": "Valentine Livestock", "pen_id": "P12", "pay_weight_per_head_kg": "250",
            "purchase_price_minor": "130000000"}),
            "arrival",
            1,
        ),
        (
            "processing",
            "vet-1",
            json!({"lot_id": "L-1000", "pen_id": "P12", "sex": "steer",
            "administered_by": "dr-lee", "eid": "982000001088420", "weight_kg": "251.5",
            "product_0": "Bovi-Shield Gold 5", "purpose_0": "vaccination", "dose_0": "2", "dose_unit_0": "ml",
            "route_0": "subcutaneous", "product_lot_0": "A123", "withdrawal_days_0": "21",
            "product_1": "Revalor-S", "purpose_1": "processing", "dose_1": "1", "dose_unit_1": "unit",
            "route_1": "implant", "product_lot_1": "R9", "withdrawal_days_1": "0"}),
            "placement",
            4,
        ),
        (
            "treatment",
            "vet-1",
            json!({"eid": "982000001088420", "purpose": "therapeutic", "product": "Draxxin",
            "dose": "7.5", "dose_unit": "ml", "route": "subcutaneous", "product_lot": "D1",
            "withdrawal_days": "18", "administered_by": "dr-lee", "diagnosis": "BRD"}),
            "treatment",
            1,
        ),
        (
            "lot-treatment",
            "vet-1",
            json!({"lot_id": "L-1000", "head_count": "1000", "purpose": "processing",
            "product": "Ivomec Pour-On", "dose_per_head": "10", "dose_unit": "ml", "route": "pour_on",
            "product_lot": "IV-9", "withdrawal_days": "48", "administered_by": "crew",
            "total_cost_minor": "120000", "currency": "USD"}),
            "lot_treatment",
            1,
        ),
        (
            "pen-move",
            "op-1",
            json!({"lot_id": "L-1000", "from_pen_id": "P12", "to_pen_id": "P14"}),
            "pen_move",
            1,
        ),
        (
            "death",
            "op-1",
            json!({"eid": "982000001088420", "cause": "bloat", "lot_id": "L-1000"}),
            "death",
            1,
        ),
        (
            "lot-death",
            "op-1",
            json!({"lot_id": "L-1000", "pen_id": "P14", "head_count": "1",
            "cause": "found dead, tag unreadable"}),
            "lot_death",
            1,
        ),
        (
            "shipment",
            "mgr-1",
            json!({"lot_id": "L-1000", "head_count": "998", "buyer": "Tyson Lexington",
            "weight_kg": "638000", "price_minor": "250000000"}),
            "shipment",
            1,
        ),
        (
            "feed-purchase",
            "mgr-1",
            json!({"ingredient": "corn", "supplier": "Co-op", "origin": "Hall County, NE",
            "quantity_kg": "25000", "price_minor": "480000", "dry_matter_pct": "86"}),
            "feed_purchase",
            1,
        ),
        (
            "feed-delivery",
            "op-1",
            json!({"pen_id": "P14", "ration_id": "finisher", "target_kg": "9000",
            "delivered_kg": "8950", "operator": "sam"}),
            "feed_delivery",
            1,
        ),
        (
            "ration",
            "mgr-1",
            json!({"ration_id": "finisher", "ingredient_0": "corn", "inclusion_as_fed_pct_0": "80",
            "dry_matter_pct_0": "86", "ingredient_2": "silage", "inclusion_as_fed_pct_2": "20",
            "dry_matter_pct_2": "35"}),
            "ration",
            1,
        ),
    ];
    let mut expected = Vec::new();
    let mut events = 0;
    for (form, who, values, kind, count) in &cases {
        let result = fill(&harness, &token, who, form, values).await;
        assert!(
            result.contains("id=\"recorded\""),
            "{form} as {who}: {result}"
        );
        expected.push((recorded(&result), *kind, *form));
        events += count;
    }
    // The processing session keeps its lot, pen and products for the next head.
    let session = fill(
        &harness,
        &token,
        "vet-1",
        "processing",
        &json!({"lot_id": "L-1000", "pen_id": "P12",
        "administered_by": "dr-lee", "eid": "982000001088421", "product_0": "Bovi-Shield Gold 5",
        "purpose_0": "vaccination", "dose_0": "2", "dose_unit_0": "ml", "route_0": "subcutaneous",
        "product_lot_0": "A123", "withdrawal_days_0": "21"}),
    )
    .await;
    assert!(
        session.contains("Head processed this session: 1"),
        "{session}"
    );
    assert!(
        session.contains("value=\"Bovi-Shield Gold 5\""),
        "products kept: {session}"
    );
    events += 2;

    // Refused by the server: the field is named next to its input.
    let mismatch = fill(
        &harness,
        &token,
        "mgr-1",
        "arrival",
        &json!({"lot_id": "L-2", "head_count": "100",
        "origin": "NE", "pay_weight_kg": "25000", "pay_weight_per_head_kg": "25000",
        "purchase_price_minor": "1"}),
    )
    .await;
    let error_span = mismatch
        .find("id=\"error-pay_weight_per_head_kg\"")
        .unwrap();
    assert!(
        mismatch[error_span..]
            .starts_with("id=\"error-pay_weight_per_head_kg\">field `pay_weight_per_head_kg`"),
        "{mismatch}"
    );
    let ration = fill(
        &harness,
        &token,
        "mgr-1",
        "ration",
        &json!({"ration_id": "grower", "ingredient_0": "corn",
        "inclusion_as_fed_pct_0": "60", "dry_matter_pct_0": "86", "ingredient_1": "corn",
        "inclusion_as_fed_pct_1": "40", "dry_matter_pct_1": "86"}),
    )
    .await;
    assert!(
        ration.contains("id=\"error-ingredient_1\">field `ingredients[1].ingredient`"),
        "{ration}"
    );
    let no_place = fill(
        &harness,
        &token,
        "op-1",
        "lot-death",
        &json!({"head_count": "1", "cause": "bloat"}),
    )
    .await;
    assert!(
        no_place.contains("id=\"error-lot_id\">field `lot_id`: is required when pen_id is absent"),
        "{no_place}"
    );
    // Refused by the page: never sent.
    let invalid = fill(
        &harness,
        &token,
        "op-1",
        "death",
        &json!({"eid": "12345", "cause": ""}),
    )
    .await;
    assert!(invalid.contains("data-invalid=\"eid,cause\""), "{invalid}");
    let over = fill(
        &harness,
        &token,
        "mgr-1",
        "feed-purchase",
        &json!({"ingredient": "corn", "supplier": "Co-op",
        "origin": "NE", "quantity_kg": "1", "price_minor": "1", "dry_matter_pct": "186"}),
    )
    .await;
    assert!(over.contains("data-invalid=\"dry_matter_pct\""), "{over}");
    // A role that may not use a form.
    let refused = fill(&harness, &token, "vet-1", "feed-purchase", &json!({})).await;
    assert!(
        refused.contains("data-no-form")
            && refused.contains("role vet may not submit feed-purchase"),
        "{refused}"
    );
    let page = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/forms/feed-purchase"))
        .basic_auth("office", Some("vet-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 403);

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        events,
        Duration::from_secs(2),
        Duration::from_secs(60),
    )
    .await;
    for (event_id, kind, form) in &expected {
        let found = got
            .iter()
            .find(|r| r.envelope.event_id == *event_id)
            .unwrap_or_else(|| panic!("{form}: event {event_id} not in Kafka"));
        assert_eq!(found.envelope.event.kind().as_str(), *kind, "{form}");
        assert_eq!(found.key, "yard-forms");
    }
    let kinds: Vec<&str> = got
        .iter()
        .map(|r| r.envelope.event.kind().as_str())
        .collect();
    for kind in ["weighing", "treatment"] {
        assert!(
            kinds.contains(&kind),
            "processing recorded a {kind}: {kinds:?}"
        );
    }
    let Some(schemas::Event::Arrival(arrival)) = got
        .iter()
        .map(|r| &r.envelope.event)
        .find(|e| matches!(e, schemas::Event::Arrival(_)))
    else {
        panic!("no arrival")
    };
    assert_eq!(
        (arrival.pay_weight_kg, arrival.pay_weight_per_head_kg),
        (250_000.0, Some(250.0))
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
