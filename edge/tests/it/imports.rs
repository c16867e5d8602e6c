//! Manifest imports (`edge::import`) against a running gateway without a broker, so every
//! recorded event stays in the outbox where it is checked: a preview with errors names each
//! bad row and field and records nothing; a confirmed import records the arrival, one
//! placement and one weighing per animal, once, however often the confirm is re-submitted;
//! operators and managers may import, vets may not, and the page previews an uploaded file.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use edge::api::{ApiToken, Role};
use edge::{Config, Gateway};
use schemas::{Event, WeightUnit};
use serde_json::Value;

use crate::support::start;

const CLEAN: &str = "EID,Weight (lb),Seller,Sex,Breed\n\
982000001088420,600,Valentine Livestock,steer,Angus\n\
982 000001088421,650,Valentine Livestock,heifer,\n\
840003123456789,\"1,010\",Valentine Livestock,S,Hereford\n";

const WITH_ERRORS: &str = "tag,weight (kg),source\n\
982000001088420,300,A\n\
98200000108842X,300,A\n\
982000001088420,310,A\n\
840003123456789,,A\n\
840003123456790,heavy,A\n";

async fn gateway() -> (Gateway, String, tempfile::TempDir) {
    // No broker: every recorded event stays in the outbox.
    gateway_to(&format!("127.0.0.1:{}", testkit::free_port().unwrap())).await
}

async fn gateway_to(brokers: &str) -> (Gateway, String, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let port = testkit::free_port().unwrap();
    let mut config = Config {
        feedlot_id: "yard-import".into(),
        gateway_id: "gw-import".into(),
        data_dir: data.path().to_owned(),
        devices: Vec::new(),
        ..Config::default()
    };
    config.kafka.brokers = brokers.into();
    config.http.listen = format!("127.0.0.1:{port}");
    config.api.tokens = [
        ("op-tok", "sam", Role::Operator),
        ("vet-tok", "dr-lee", Role::Vet),
        ("mgr-tok", "kim", Role::Manager),
    ]
    .into_iter()
    .map(|(token, user, role)| ApiToken {
        token: token.into(),
        user: user.into(),
        role,
    })
    .collect();
    let gateway = start(config).await;
    (gateway, format!("http://127.0.0.1:{port}"), data)
}

async fn post(url: &str, token: Option<&str>, csv: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn recorded(gateway: &Gateway) -> Vec<schemas::Envelope> {
    gateway
        .outbox()
        .peek(100_000)
        .unwrap()
        .iter()
        .map(|e| schemas::decode(&e.record.payload).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_of_a_manifest_with_errors_names_each_bad_row_and_field_and_records_nothing() {
    let (gateway, base, _data) = gateway().await;
    let lot = "lot_id=L-7&pen_id=P3";
    let (status, preview) = post(
        &format!("{base}/api/v1/imports/preview?{lot}"),
        Some("op-tok"),
        WITH_ERRORS,
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["ok"], false);
    let errors: Vec<(u64, String)> = preview["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [(3, "eid"), (4, "eid"), (5, "weight"), (6, "weight")]
        .into_iter()
        .map(|(l, f)| (l, f.to_owned()))
        .collect();
    assert_eq!(errors, expected, "{preview:#}");
    assert!(
        preview["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("listed twice (also line 2)"),
        "{preview:#}"
    );
    assert_eq!(preview["head"], 5);
    assert!((preview["total_weight_kg"].as_f64().unwrap() - 910.0).abs() < 1e-9);
    assert!(recorded(&gateway).is_empty(), "a preview records nothing");

    // A confirm of the same file is refused with the same errors, and records nothing.
    let id = preview["import_id"].as_str().unwrap();
    let (status, refused) = post(
        &format!("{base}/api/v1/imports/confirm?import_id={id}&{lot}"),
        Some("op-tok"),
        WITH_ERRORS,
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"].as_array().unwrap().len(), 4);
    // A weight column without its unit, and a lot without its pen, are named too.
    let (_, unitless) = post(
        &format!("{base}/api/v1/imports/preview?lot_id=L-7"),
        Some("op-tok"),
        "eid,weight\n982000001088420,300\n",
    )
    .await;
    let fields: Vec<&str> = unitless["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["pen_id", "weight"], "{unitless:#}");
    assert!(recorded(&gateway).is_empty());
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_import_records_the_arrival_placements_and_weighings_once() {
    let (gateway, base, _data) = gateway().await;
    let lot = "lot_id=L-2026-031&pen_id=P12&origin=Cherry%20County%2C%20NE&price_minor=21750000";
    let (status, preview) = post(
        &format!("{base}/api/v1/imports/preview?{lot}"),
        Some("op-tok"),
        CLEAN,
    )
    .await;
    assert_eq!(
        (status, &preview["ok"]),
        (200, &Value::Bool(true)),
        "{preview:#}"
    );
    let total_kg = 2260.0 * schemas::weight::KG_PER_LB;
    assert!((preview["total_weight_kg"].as_f64().unwrap() - total_kg).abs() < 1e-9);
    assert!((preview["average_weight_kg"].as_f64().unwrap() - total_kg / 3.0).abs() < 1e-9);
    let id = preview["import_id"].as_str().unwrap().to_owned();
    let confirm = format!("{base}/api/v1/imports/confirm?import_id={id}&{lot}");

    let (status, done) = post(&confirm, Some("op-tok"), CLEAN).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["events"], 7);
    assert!(done.get("replayed").is_none());
    let events = recorded(&gateway);
    assert_eq!(events.len(), 7, "{events:#?}");
    assert!(events.iter().all(|e| e.device_id == "api:sam"
        && e.feedlot_id == "yard-import"
        && e.validate().is_ok()));
    let Event::Arrival(arrival) = &events[0].event else {
        panic!("the arrival first: {events:#?}")
    };
    assert_eq!(
        events[0].event_id.to_string(),
        done["event_id"].as_str().unwrap()
    );
    assert_eq!(
        (
            arrival.lot_id.as_str(),
            arrival.head_count,
            arrival.pen_id.as_deref(),
            arrival.origin.as_str(),
            arrival.source.as_deref(),
            arrival.purchase_price_minor,
            arrival.currency.as_str(),
        ),
        (
            "L-2026-031",
            3,
            Some("P12"),
            "Cherry County, NE",
            Some("Valentine Livestock"),
            21_750_000,
            "USD"
        )
    );
    assert!((arrival.pay_weight_kg - total_kg).abs() < 1e-9);
    let mut placed = Vec::new();
    let mut weighed = Vec::new();
    for e in &events[1..] {
        match &e.event {
            Event::Placement(p) => {
                assert_eq!(
                    (p.lot_id.as_str(), p.pen_id.as_str()),
                    ("L-2026-031", "P12")
                );
                placed.push((p.eid.to_string(), p.sex, p.breed.clone()));
            }
            Event::Weighing(w) => {
                assert_eq!(w.weight.unit, WeightUnit::Lb);
                weighed.push((w.eid.to_string(), w.weight.value));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        placed,
        vec![
            (
                "982000001088420".into(),
                Some(schemas::Sex::Steer),
                Some("Angus".into())
            ),
            ("982000001088421".into(), Some(schemas::Sex::Heifer), None),
            (
                "840003123456789".into(),
                Some(schemas::Sex::Steer),
                Some("Hereford".into())
            ),
        ]
    );
    assert_eq!(
        weighed,
        vec![
            ("982000001088420".into(), 600.0),
            ("982000001088421".into(), 650.0),
            ("840003123456789".into(), 1010.0)
        ]
    );

    // Re-submitted (a double tap, a retry after a lost answer): recorded once.
    for _ in 0..2 {
        let (status, again) = post(&confirm, Some("op-tok"), CLEAN).await;
        assert_eq!(status, 201, "{again}");
        assert_eq!(again["replayed"], true);
        assert_eq!(again["event_id"], done["event_id"]);
    }
    assert_eq!(
        recorded(&gateway).len(),
        7,
        "a re-submitted confirm records nothing"
    );
    // The same import id with another file: refused.
    let other = CLEAN.replace("600", "601");
    let (status, reused) = post(&confirm, Some("op-tok"), &other).await;
    assert_eq!(
        (status, reused["field"].as_str()),
        (422, Some("import_id")),
        "{reused}"
    );
    // The animals are on the yard now: a new preview of the file names each as a duplicate.
    let (_, again) = post(
        &format!("{base}/api/v1/imports/preview?{lot}"),
        Some("op-tok"),
        CLEAN,
    )
    .await;
    let messages: Vec<&str> = again["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 3, "{again:#}");
    assert!(
        messages
            .iter()
            .all(|m| m.contains("already on the yard (in pen P12)")),
        "{messages:?}"
    );
    assert_eq!(recorded(&gateway).len(), 7);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

fn multipart(fields: &[(&str, &str)], csv: &str) -> (String, String) {
    let boundary = "----importtest7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"manifest\"; filename=\"manifest.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_and_managers_import_and_the_page_previews_and_records_an_upload() {
    let (gateway, base, _data) = gateway().await;
    let client = reqwest::Client::new();
    for path in edge::import::route_paths() {
        let url = format!("{base}{path}");
        let method = if path == "/import" {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let none = client.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(none.status().as_u16(), 401, "{path} without a token");
        let bad = client
            .request(method.clone(), &url)
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status().as_u16(), 401, "{path} with a bad token");
        let vet = client
            .request(method.clone(), &url)
            .basic_auth("tablet", Some("vet-tok"))
            .send()
            .await
            .unwrap();
        assert_eq!(vet.status().as_u16(), 403, "{path} as a vet");
        for token in ["op-tok", "mgr-tok"] {
            let r = client
                .request(method.clone(), &url)
                .basic_auth("tablet", Some(token))
                .send()
                .await
                .unwrap();
            assert!(
                !matches!(r.status().as_u16(), 401 | 403 | 404 | 405),
                "{path} with {token}: {}",
                r.status()
            );
        }
    }
    assert!(
        recorded(&gateway).is_empty(),
        "no request above was a valid import"
    );

    let form = client
        .get(format!("{base}/import"))
        .basic_auth("tablet", Some("op-tok"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains(r#"enctype="multipart/form-data""#), "{form}");

    // A file with errors: the preview page lists each, and offers no confirm.
    let (content_type, body) = multipart(&[("lot_id", "L-9"), ("pen_id", "P4")], WITH_ERRORS);
    let page = client
        .post(format!("{base}/import/preview"))
        .basic_auth("tablet", Some("op-tok"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="error-count">4 error(s)"#), "{page}");
    assert!(!page.contains(r#"id="confirm""#), "{page}");

    // A clean file: the totals, a confirm form; confirming records it.
    let (content_type, body) = multipart(&[("lot_id", "L-9"), ("pen_id", "P4")], CLEAN);
    let page = client
        .post(format!("{base}/import/preview"))
        .basic_auth("tablet", Some("op-tok"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<dd id="head">3</dd>"#), "{page}");
    assert!(page.contains("1025.1 kg (2260 lb)"), "{page}");
    let id = page
        .split(r#"name="import_id" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let fields = [
        ("lot_id", "L-9"),
        ("pen_id", "P4"),
        ("origin", ""),
        ("source", ""),
        ("shrink_pct", ""),
        ("price_minor", ""),
        ("currency", ""),
        ("occurred_at", ""),
        ("import_id", id.as_str()),
        ("manifest", CLEAN),
    ];
    for _ in 0..2 {
        let done = client
            .post(format!("{base}/import/confirm"))
            .basic_auth("tablet", Some("op-tok"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded_body(&fields))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 200);
        let text = done.text().await.unwrap();
        assert!(
            text.contains("3 head into lot L-9, pen P4 (7 records)"),
            "{text}"
        );
    }
    assert_eq!(recorded(&gateway).len(), 7, "recorded once");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

/// `application/x-www-form-urlencoded` of `fields`.
fn serde_urlencoded_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The DOM Chromium shows after loading `url` and letting its scripts run (and any navigation
/// they start) for `budget_ms` of virtual time.
async fn browser_dom_after(url: &str, budget_ms: u64) -> String {
    let bin = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_uploads_a_manifest_and_reads_the_preview() {
    let (gateway, base, _data) = gateway().await;
    let port = base.rsplit(':').next().unwrap();
    // A page that does what a user does on `/import`: picks a file in a multipart form with the
    // lot fields and presses Preview (the file is set through DataTransfer, as a drop would).
    let harness = format!(
        r#"<!DOCTYPE html><html><body>
<form id="f" method="post" enctype="multipart/form-data" action="http://tablet:op-tok@127.0.0.1:{port}/import/preview">
<input name="lot_id" value="L-B"><input name="pen_id" value="P5">
<input type="file" name="manifest" id="m"></form>
<script>
const dt = new DataTransfer();
dt.items.add(new File([{csv}], "manifest.csv", {{type: "text/csv"}}));
document.getElementById("m").files = dt.files;
document.getElementById("f").submit();
</script></body></html>"#,
        csv = serde_json::to_string(WITH_ERRORS).unwrap()
    );
    let url = format!("data:text/html;charset=utf-8,{}", encode(&harness));
    let dom = browser_dom_after(&url, 5000).await;
    assert!(dom.contains("Import preview"), "{dom}");
    assert!(dom.contains(r#"id="error-count">4 error(s)"#), "{dom}");
    for (line, field) in [(3, "eid"), (4, "eid"), (5, "weight"), (6, "weight")] {
        assert!(
            dom.contains(&format!(
                r#"<td class="line">{line}</td><td class="field">{field}</td>"#
            )),
            "line {line} {field}: {dom}"
        );
    }
    assert!(dom.contains("listed twice (also line 2)"), "{dom}");
    assert!(recorded(&gateway).is_empty(), "a preview records nothing");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_import_is_forwarded_to_kafka_once() {
    const TOPIC: &str = "feedlot.events.v1";
    let broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic(TOPIC, 1).await.unwrap();
    let (gateway, base, _data) = gateway_to(&broker.bootstrap).await;
    let lot = "lot_id=L-K&pen_id=P7";
    let (_, preview) = post(
        &format!("{base}/api/v1/imports/preview?{lot}"),
        Some("mgr-tok"),
        CLEAN,
    )
    .await;
    let id = preview["import_id"].as_str().unwrap();
    let confirm = format!("{base}/api/v1/imports/confirm?import_id={id}&{lot}");
    for _ in 0..2 {
        let (status, done) = post(&confirm, Some("mgr-tok"), CLEAN).await;
        assert_eq!(status, 201, "{done}");
    }
    let got = crate::support::consume(
        &broker.bootstrap,
        TOPIC,
        7,
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(60),
    )
    .await;
    // Kafka delivery is at least once: count distinct events (a second import would add 7).
    let got = crate::support::dedup_by_event_id(&got);
    assert_eq!(
        got.len(),
        7,
        "the arrival, 3 placements, 3 weighings, once: {got:#?}"
    );
    assert!(
        got.iter()
            .all(|r| r.key == "yard-import" && r.envelope.device_id == "api:kim")
    );
    let kinds: Vec<&str> = got
        .iter()
        .map(|r| r.envelope.event.kind().as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "arrival",
            "placement",
            "weighing",
            "placement",
            "weighing",
            "placement",
            "weighing"
        ]
    );
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
