//! A yard's alert settings (`docs/alerts.md`, "Settings"): each rule's threshold, which rules
//! are on and who gets emails, changed by any user of the yard and kept with who changed what
//! ([`crate::alerts::settings`]). A field left blank uses the config file's value, shown beside
//! it. Webhooks are not here: only the operator sets where the cloud sends requests.
//!
//! - `GET /feedlots/{id}/alerts/settings`: the form, what is in use, and the history;
//! - `POST /feedlots/{id}/alerts/settings` (the form): saves, then back to the form;
//! - `GET /api/feedlots/{id}/alerts/settings`: the same as JSON;
//! - `POST /api/feedlots/{id}/alerts/settings` (JSON [`YardSettings`]): saves; the same JSON.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{DOCTYPE, Markup, html};
use serde::Serialize;

use super::report::{nav, utc};
use super::{AppState, Caller, WebError};
use crate::alerts::settings::{self, Saved, YardSettings};
use crate::config::RULES;

/// Saves listed in the history.
const HISTORY: u64 = 20;
/// Most email recipients a yard may list.
const MAX_EMAILS: usize = 20;

/// The hidden field that marks a post as the settings page's form.
const FORM_MARK: (&str, &str) = ("form", "alert-settings");

/// A number a yard may set: its form field, label, unit and range.
struct Threshold {
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    max: f64,
    whole: bool,
}

const THRESHOLDS: [Threshold; 8] = [
    Threshold {
        name: "booster_due_within_days",
        label: "Announce a booster this many days before it is due",
        unit: "days",
        max: 365.0,
        whole: true,
    },
    Threshold {
        name: "pulled_twice_within_days",
        label: "A second pull within this many days is an alert",
        unit: "days",
        max: 3650.0,
        whole: true,
    },
    Threshold {
        name: "ingredient_low_days",
        label: "An ingredient is low when stock lasts fewer than",
        unit: "days",
        max: 365.0,
        whole: false,
    },
    Threshold {
        name: "off_feed_drop_pct",
        label: "A lot is off feed when intake per head drops by",
        unit: "%",
        max: 100.0,
        whole: false,
    },
    Threshold {
        name: "near_target_within_kg",
        label: "A lot is near its target within",
        unit: "kg",
        max: 500.0,
        whole: false,
    },
    Threshold {
        name: "shipment_plan_within_days",
        label: "Check a planned shipment's animals for withdrawal this many days ahead",
        unit: "days",
        max: 365.0,
        whole: true,
    },
    Threshold {
        name: "gateway_silent_minutes",
        label: "A gateway is silent after",
        unit: "minutes",
        max: 43_200.0,
        whole: true,
    },
    Threshold {
        name: "outbox_backlog_minutes",
        label: "An outbox is backing up when its oldest record waits",
        unit: "minutes",
        max: 43_200.0,
        whole: true,
    },
];

/// `value`'s field `name`, as shown (blank when absent or null).
fn field_of(value: &serde_json::Value, name: &str) -> String {
    value.get(name).map(settings::shown).unwrap_or_default()
}

/// `s` as JSON without the operator's webhook fields.
fn public(s: &impl Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(s).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        for name in settings::OPERATOR_ONLY {
            fields.remove(name);
        }
    }
    value
}

/// The page's and the API's view of a yard's settings.
#[derive(Debug, Serialize)]
pub struct View {
    /// What the yard's users set (a field absent or null uses the default).
    pub saved: serde_json::Value,
    /// What the alerts worker uses.
    pub in_use: serde_json::Value,
    /// The config file's settings for the yard (what a blank field means).
    pub defaults: serde_json::Value,
    /// Whether the operator set a webhook for the yard (its address and secret are not shown).
    pub webhook: bool,
    /// The latest saves, newest first.
    pub history: Vec<Saved>,
}

fn from_alert(e: crate::alerts::AlertError) -> WebError {
    match e {
        crate::alerts::AlertError::ClickHouse(e) => WebError::Storage(e),
        other => WebError::BadRequest(other.to_string()),
    }
}

async fn view(state: &AppState, feedlot_id: &str) -> Result<View, WebError> {
    let history = settings::history(&state.client, feedlot_id, HISTORY)
        .await
        .map_err(from_alert)?;
    let saved = history
        .first()
        .map(|s| s.settings.clone())
        .unwrap_or_default();
    let defaults = state.alerts.for_yard(feedlot_id);
    Ok(View {
        in_use: public(&settings::over(&saved, &defaults)),
        webhook: !defaults.webhook_url.is_empty(),
        defaults: public(&defaults),
        saved: public(&saved),
        history,
    })
}

/// Checks `candidate` against the yard's config settings and saves it.
async fn save(
    state: &AppState,
    caller: &Caller,
    feedlot_id: &str,
    candidate: YardSettings,
) -> Result<(), WebError> {
    check(&candidate)?;
    settings::over(&candidate, &state.alerts.for_yard(feedlot_id))
        .validate("settings")
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let now = crate::alerts::now_ms();
    settings::save(&state.client, feedlot_id, &candidate, caller.name(), now)
        .await
        .map_err(from_alert)?;
    tracing::info!(feedlot_id, user = caller.name(), settings = ?settings::summary(&candidate), "alert settings saved");
    Ok(())
}

/// The page's own limits, beyond the config's: no webhook, ranges, and at most
/// [`MAX_EMAILS`] recipients.
fn check(s: &YardSettings) -> Result<(), WebError> {
    let bad = |field: &str, reason: String| Err(WebError::BadRequest(format!("{field}: {reason}")));
    if s.webhook_url.is_some() || s.webhook_secret.is_some() {
        return bad(
            "webhook_url",
            "a webhook is set by the operator in the config file".into(),
        );
    }
    let fields = serde_json::to_value(s).unwrap_or_default();
    for t in &THRESHOLDS {
        if let Some(n) = fields.get(t.name).and_then(serde_json::Value::as_f64)
            && !(n.is_finite() && (0.0..=t.max).contains(&n))
        {
            return bad(t.name, format!("{n} is not 0 to {}", t.max));
        }
    }
    if let Some(unknown) = s
        .disabled
        .iter()
        .flatten()
        .find(|d| !RULES.contains(&d.as_str()))
    {
        return bad("disabled", format!("unknown rule {unknown:?}"));
    }
    if let Some(emails) = &s.emails {
        if emails.len() > MAX_EMAILS {
            return bad("emails", format!("at most {MAX_EMAILS} recipients"));
        }
        if let Some(e) = emails
            .iter()
            .find(|e| e.len() > 254 || e.parse::<lettre::Address>().is_err())
        {
            return bad("emails", format!("{e:?} is not an email address"));
        }
    }
    Ok(())
}

/// The form's fields as settings: a blank threshold or recipient list is the config's; each
/// rule is on when its box is ticked.
fn from_form(pairs: &[(String, String)]) -> Result<YardSettings, WebError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    if field(FORM_MARK.0) != Some(FORM_MARK.1) {
        // Without the page's own fields, unticked boxes would turn every rule off.
        return Err(WebError::BadRequest(format!(
            "{}: not the alert settings form (post it from the settings page)",
            FORM_MARK.0
        )));
    }
    let mut given = serde_json::Map::new();
    for t in &THRESHOLDS {
        let Some(text) = field(t.name) else { continue };
        let bad = || {
            WebError::BadRequest(format!(
                "{}: {text:?} is not a {}number from 0 to {}",
                t.name,
                if t.whole { "whole " } else { "" },
                t.max
            ))
        };
        let n = if t.whole {
            serde_json::Value::from(text.parse::<u32>().map_err(|_| bad())?)
        } else {
            let n: f64 = text.parse().map_err(|_| bad())?;
            serde_json::Number::from_f64(n)
                .map(serde_json::Value::Number)
                .ok_or_else(bad)?
        };
        given.insert(t.name.to_owned(), n);
    }
    let mut out: YardSettings = serde_json::from_value(serde_json::Value::Object(given))
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let on = |rule: &str| pairs.iter().any(|(k, _)| k == &format!("rule.{rule}"));
    out.disabled = Some(
        RULES
            .iter()
            .filter(|r| !on(r))
            .map(|r| (*r).to_owned())
            .collect(),
    );
    out.emails = field("emails").map(|text| {
        text.split([',', '\n', ';', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect()
    });
    Ok(out)
}

/// `GET /api/feedlots/{feedlot_id}/alerts/settings`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
) -> Result<Json<View>, WebError> {
    Ok(Json(view(&state, &feedlot_id).await?))
}

/// `POST /api/feedlots/{feedlot_id}/alerts/settings`: a JSON [`YardSettings`] (a field left out
/// uses the config's; an unknown field is refused by name); answers as `GET`.
pub async fn save_json(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(feedlot_id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<View>, WebError> {
    let known = serde_json::to_value(YardSettings::default())
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    if let (Some(given), Some(known)) = (body.as_object(), known.as_object())
        && let Some(unknown) = given.keys().find(|k| !known.contains_key(*k))
    {
        return Err(WebError::BadRequest(format!("{unknown}: not a setting")));
    }
    let candidate: YardSettings =
        serde_json::from_value(body).map_err(|e| WebError::BadRequest(e.to_string()))?;
    save(&state, &caller, &feedlot_id, candidate).await?;
    Ok(Json(view(&state, &feedlot_id).await?))
}

/// `POST /feedlots/{feedlot_id}/alerts/settings` (the form): saves, then back to the form.
pub async fn save_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(feedlot_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let candidate = from_form(&pairs)?;
    save(&state, &caller, &feedlot_id, candidate).await?;
    Ok(Redirect::to(&format!("/feedlots/{feedlot_id}/alerts/settings")).into_response())
}

/// `GET /feedlots/{feedlot_id}/alerts/settings`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
) -> Result<Markup, WebError> {
    let v = view(&state, &feedlot_id).await?;
    let defaults = state.alerts.for_yard(&feedlot_id);
    let saved = v
        .history
        .first()
        .map(|s| s.settings.clone())
        .unwrap_or_default();
    let in_use = settings::over(&saved, &defaults);
    let own_emails = saved.emails.as_ref().map(|e| e.join(", "));
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Alert settings · " (feedlot_id) } style { (super::STYLE) } }
            body {
                (nav(&feedlot_id))
                h1 { "Alert settings at " (feedlot_id) }
                p { a href={"/feedlots/" (feedlot_id) "/alerts"} { "Back to the alerts" } " · "
                    a href={"/api/feedlots/" (feedlot_id) "/alerts/settings"} { "JSON" } }
                p { "A blank field uses the default shown beside it. Changes apply from the next round of the alerts worker." }
                form #alert-settings method="post" action={"/feedlots/" (feedlot_id) "/alerts/settings"} {
                    input type="hidden" name=(FORM_MARK.0) value=(FORM_MARK.1);
                    table #thresholds {
                        thead { tr { th { "Setting" } th { "This yard" } th { "Default" } th { "In use" } } }
                        tbody {
                            @for t in &THRESHOLDS {
                                tr data-setting=(t.name) {
                                    td { label for=(t.name) { (t.label) " (" (t.unit) ")" } }
                                    td { input type="number" step="any" min="0" max=(t.max) id=(t.name) name=(t.name)
                                        value=(field_of(&v.saved, t.name)) placeholder=(field_of(&v.defaults, t.name)); }
                                    td.default { (field_of(&v.defaults, t.name)) }
                                    td.in-use { (field_of(&v.in_use, t.name)) }
                                }
                            }
                        }
                    }
                    h2 { "Rules" }
                    table #rules {
                        thead { tr { th { "Rule" } th { "On" } th { "In use" } } }
                        tbody {
                            @for rule in RULES {
                                tr data-rule=(rule) {
                                    td { label for={"rule." (rule)} { (rule) } }
                                    td { input type="checkbox" id={"rule." (rule)} name={"rule." (rule)} value="on" checked[in_use.enabled(rule)]; }
                                    td.in-use { @if in_use.enabled(rule) { "on" } @else { "off" } }
                                }
                            }
                        }
                    }
                    h2 { "Email" }
                    p { label for="emails" { "Recipients (comma or one per line; blank: "
                        @if defaults.emails.is_empty() { "none" } @else { (defaults.emails.join(", ")) } ")" } }
                    textarea #emails name="emails" rows="3" cols="60" { (own_emails.unwrap_or_default()) }
                    p #webhook { "Webhook: " @if v.webhook { "set by the operator" } @else { "none" } }
                    p { button type="submit" { "Save" } }
                }
                h2 { "Changes" }
                table #history {
                    thead { tr { th { "When" } th { "Who" } th { "Settings saved" } } }
                    tbody {
                        @for s in &v.history {
                            tr {
                                td { (utc(s.set_at_ms)) }
                                td.who { (s.set_by) }
                                td { (settings::summary(&s.settings).join("; ")) }
                            }
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_sets_what_is_filled_and_turns_off_the_rules_not_ticked() {
        let mut form = pairs(&[
            FORM_MARK,
            ("off_feed_drop_pct", "35"),
            ("gateway_silent_minutes", ""),
            ("emails", "a@yard.example,\n b@yard.example"),
        ]);
        for rule in RULES.iter().filter(|r| **r != "gateway_silent") {
            form.push((format!("rule.{rule}"), "on".into()));
        }
        let s = from_form(&form).unwrap();
        assert_eq!(s.off_feed_drop_pct, Some(35.0));
        assert_eq!(s.gateway_silent_minutes, None);
        assert_eq!(s.disabled, Some(vec!["gateway_silent".to_owned()]));
        assert_eq!(
            s.emails,
            Some(vec!["a@yard.example".into(), "b@yard.example".into()])
        );
        check(&s).unwrap();
    }

    #[test]
    fn a_bad_field_is_refused_by_name() {
        let err = from_form(&pairs(&[("off_feed_drop_pct", "35")])).unwrap_err();
        assert!(err.to_string().starts_with("form:"), "{err}");
        let err = from_form(&pairs(&[FORM_MARK, ("booster_due_within_days", "2.5")])).unwrap_err();
        assert!(err.to_string().contains("booster_due_within_days"), "{err}");
        let s = from_form(&pairs(&[FORM_MARK, ("off_feed_drop_pct", "140")])).unwrap();
        let err = check(&s).unwrap_err();
        assert!(err.to_string().contains("off_feed_drop_pct"), "{err}");
        let s = from_form(&pairs(&[FORM_MARK, ("emails", "manager at yard")])).unwrap();
        let err = check(&s).unwrap_err();
        assert!(err.to_string().contains("emails"), "{err}");
    }
}
