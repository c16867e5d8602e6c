//! The import page: `GET /import` (the upload form), `POST /import/preview` (the form with its
//! file, `multipart/form-data`: the preview table, and a confirm button when it is clean) and
//! `POST /import/confirm` (the confirm form: what was recorded). Server-rendered, no script;
//! signed in as the chute pages (HTTP Basic, the token as the password).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::ImportState;
use super::handlers::{Confirmed, caller, import_id, run_confirm, run_preview};
use super::manifest::{LotFields, Preview};
use crate::api::ApiError;

const KG_PER_LB: f64 = schemas::weight::KG_PER_LB;
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;font-size:1.1rem}label{display:block;margin:.4rem 0}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}.err{background:#fde7ea}.warn{background:#b00020;color:#fff;padding:.6rem;border-radius:.4rem}.ok{background:#1b5e20;color:#fff;padding:.6rem;border-radius:.4rem}";

/// A refusal as the page shows it: sign-in challenge, or the message.
fn refused(error: ApiError) -> Response {
    match error {
        ApiError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"chute\", charset=\"UTF-8\"",
            )],
            "Sign in with your records API token as the password.\n",
        )
            .into_response(),
        other => {
            let status = status_of(&other);
            (
                status,
                layout(
                    "Import refused",
                    html! { p.warn #refused { (other.to_string()) } },
                ),
            )
                .into_response()
        }
    }
}

fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
        ApiError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
        ApiError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (STYLE) }
            }
            body { h1 { (title) } (body) }
        }
    }
}

fn lot_inputs(fields: &LotFields) -> Markup {
    html! {
        label { "Lot " input name="lot_id" required value=(fields.lot_id); }
        label { "Pen " input name="pen_id" required value=(fields.pen_id); }
        label { "Origin (ranch, region) " input name="origin" value=(fields.origin); }
        label { "Source (sale barn, order buyer) " input name="source" value=(fields.source); }
        label { "Shrink already taken, % " input name="shrink_pct" value=(fields.shrink_pct); }
        label { "Price, cents " input name="price_minor" value=(fields.price_minor); }
        label { "Currency " input name="currency" placeholder="USD" value=(fields.currency); }
        label { "Arrived at (RFC 3339, UTC; empty: now) " input name="occurred_at" value=(fields.occurred_at); }
    }
}

fn upload_form(fields: &LotFields) -> Markup {
    html! {
        form #upload method="post" action="/import/preview" enctype="multipart/form-data" {
            (lot_inputs(fields))
            label { "Manifest (CSV: EID or tag, weight (lb) or weight (kg), optionally source, sex, breed) "
                input type="file" name="manifest" accept=".csv,text/csv" required; }
            button type="submit" { "Preview" }
        }
    }
}

/// `GET /import`: the upload form.
pub async fn form(State(state): State<ImportState>, headers: HeaderMap) -> Response {
    if let Err(e) = caller(&headers, &state) {
        return refused(e);
    }
    layout("Import a manifest", upload_form(&LotFields::default())).into_response()
}

fn kg_lb(kg: f64) -> String {
    format!("{kg:.1} kg ({:.0} lb)", kg / KG_PER_LB)
}

fn preview_table(preview: &Preview) -> Markup {
    html! {
        dl #totals {
            dt { "Head" } dd #head { (preview.head) }
            dt { "Total weight" } dd #total { (kg_lb(preview.total_weight_kg)) }
            dt { "Average weight" } dd #average { @if let Some(a) = preview.average_weight_kg { (kg_lb(a)) } @else { "–" } }
            dt { "Source" } dd #source { (preview.source.as_deref().unwrap_or("–")) }
        }
        @if !preview.errors.is_empty() {
            p.warn #error-count { (preview.errors.len()) " error(s): nothing can be recorded until they are fixed." }
            table #errors {
                tr { th { "Line" } th { "Field" } th { "Problem" } }
                @for e in &preview.errors {
                    tr.err { td.line { @if let Some(l) = e.line { (l) } @else { "lot" } } td.field { (e.field) } td.message { (e.message) } }
                }
            }
        }
        table #rows {
            tr { th { "Line" } th { "EID" } th { "Weight" } th { "Source" } th { "Sex" } th { "Breed" } }
            @for r in &preview.rows {
                tr class=[preview.errors.iter().any(|e| e.line == Some(r.line)).then_some("err")] {
                    td { (r.line) } td { (r.eid.as_deref().unwrap_or(&r.tag)) }
                    td { @if let Some(kg) = r.weight_kg { (kg_lb(kg)) } }
                    td { (r.source.as_deref().unwrap_or("")) }
                    td { @if let Some(s) = r.sex { (s.as_str()) } }
                    td { (r.breed.as_deref().unwrap_or("")) }
                }
            }
        }
    }
}

/// One `multipart/form-data` part: its field name and bytes.
fn parts(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut rest = body;
    let start = find(rest, &delimiter)?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(out);
        }
        let rest_after_crlf = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest_after_crlf, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest_after_crlf[..head_end]).ok()?;
        let content = &rest_after_crlf[head_end + 4..];
        let end = find(content, &delimiter)?;
        let value = content[..end]
            .strip_suffix(b"\r\n")
            .unwrap_or(&content[..end]);
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| {
                l.split(';')
                    .map(str::trim)
                    .find_map(|p| p.strip_prefix("name="))
            })
            .map(|n| n.trim_matches('"').to_owned())?;
        out.push((name, value.to_vec()));
        rest = &content[end + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `POST /import/preview`: the uploaded form, previewed.
pub async fn preview(
    State(state): State<ImportState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = caller(&headers, &state) {
        return refused(e);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(parts) = parts(content_type, &body) else {
        return refused(ApiError::Malformed {
            field: Some("manifest".into()),
            message: "send the form as multipart/form-data with a manifest file".into(),
        });
    };
    let mut fields = LotFields::default();
    let mut csv = Vec::new();
    for (name, value) in parts {
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "manifest" => csv = value.clone(),
            "lot_id" => fields.lot_id = text(),
            "pen_id" => fields.pen_id = text(),
            "origin" => fields.origin = text(),
            "source" => fields.source = text(),
            "shrink_pct" => fields.shrink_pct = text(),
            "price_minor" => fields.price_minor = text(),
            "currency" => fields.currency = text(),
            "occurred_at" => fields.occurred_at = text(),
            _ => {}
        }
    }
    let csv_text = String::from_utf8_lossy(&csv).into_owned();
    let (preview, _) = match run_preview(&state, &fields, Bytes::from(csv), Utc::now()).await {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let body = html! {
        (preview_table(&preview))
        @if preview.ok() {
            form #confirm method="post" action="/import/confirm" {
                @for (name, value) in [("lot_id", &fields.lot_id), ("pen_id", &fields.pen_id), ("origin", &fields.origin), ("source", &fields.source), ("shrink_pct", &fields.shrink_pct), ("price_minor", &fields.price_minor), ("currency", &fields.currency), ("occurred_at", &fields.occurred_at)] {
                    input type="hidden" name=(name) value=(value);
                }
                input type="hidden" name="import_id" value=(Uuid::now_v7().to_string());
                input type="hidden" name="manifest" value=(csv_text);
                button type="submit" { "Record " (preview.head) " head" }
            }
        } @else {
            h2 { "Upload a corrected manifest" }
            (upload_form(&fields))
        }
    };
    layout("Import preview", body).into_response()
}

/// The confirm form: the lot fields, the import id and the manifest's text.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(flatten)]
    fields: LotFields,
    #[serde(default)]
    import_id: String,
    #[serde(default)]
    manifest: String,
}

/// `POST /import/confirm`: records the previewed manifest once.
pub async fn confirm(
    State(state): State<ImportState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match caller(&headers, &state) {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let form: ConfirmForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => {
            return refused(ApiError::Malformed {
                field: None,
                message: format!("the confirm form is unreadable: {e}"),
            });
        }
    };
    let id = match import_id(&form.import_id, Utc::now()) {
        Ok(id) => id,
        Err(e) => return refused(e),
    };
    let csv = Bytes::from(form.manifest.into_bytes());
    match run_confirm(&state, caller, &form.fields, id, csv).await {
        Err(e) => refused(e),
        Ok(Confirmed::Refused(preview)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            layout(
                "Import refused",
                html! { (preview_table(&preview)) (upload_form(&form.fields)) },
            ),
        )
            .into_response(),
        Ok(Confirmed::Recorded {
            preview,
            events,
            replayed,
            ..
        }) => layout(
            "Import recorded",
            html! {
                p.ok #recorded {
                    @if replayed { "Already recorded: " } @else { "Recorded: " }
                    (preview.head) " head into lot " (form.fields.lot_id) ", pen " (form.fields.pen_id) " (" (events) " records)."
                }
                p { a href="/import" { "Import another manifest" } }
            },
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_form_is_split_into_named_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"lot_id\"\r\n\r\nL-1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"manifest\"; filename=\"m.csv\"\r\nContent-Type: text/csv\r\n\r\neid,weight (lb)\r\n982000001088420,600\r\n\r\n--XyZ--\r\n";
        let got = parts("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(got[0], ("lot_id".into(), b"L-1".to_vec()));
        assert_eq!(got[1].0, "manifest");
        assert_eq!(
            got[1].1,
            b"eid,weight (lb)\r\n982000001088420,600\r\n".to_vec()
        );
        assert!(parts("multipart/form-data", body).is_none());
    }
}
