//! The forms' HTML, server-rendered in the chute page's style (no script, no outside asset).

use maud::{DOCTYPE, Markup, html};

use super::spec::{self, Field, Form, Ty};
use super::{Done, Failure};
use crate::api::ApiToken;

/// What the page shows above the form.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A fresh form.
    Blank,
    /// The last submit was recorded.
    Recorded(Done),
    /// The last submit was refused.
    Refused(Failure),
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;font-size:1.15rem;max-width:48rem}\
label{display:block;color:#555;margin-top:.7rem}input,select{font-size:1.1rem;padding:.3rem;min-width:14rem}\
.error{color:#b00020;font-weight:600;display:block}.ok{background:#0a6b2d;color:#fff;padding:.8rem;border-radius:.4rem}\
.warn{background:#b00020;color:#fff;padding:.8rem;border-radius:.4rem}button{font-size:1.2rem;margin-top:1rem;padding:.5rem 1.5rem}\
table input{min-width:6rem}fieldset{margin-top:1rem}";

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            style { (STYLE) }
        }
    }
}

/// `GET /forms`: the forms `caller`'s role may use.
pub fn index(caller: &ApiToken, forms: &[&Form]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Entry forms"))
            body {
                h1 { "Entry forms" }
                p { "Signed in as " (caller.user) " (" (caller.role.as_str()) "). Records are kept on this gateway and sent on when the yard is online." }
                ul #forms {
                    @for form in forms {
                        li { a href={"/forms/" (form.slug)} { (form.title) } " — " (form.about) }
                    }
                }
            }
        }
    }
}

/// A page refusing the role.
pub fn refused(why: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" { (head("Not allowed")) body { p.warn #refused { (why) } p { a href="/forms" { "All forms" } } } }
    }
}

/// A page for a form that does not exist.
pub fn not_found(slug: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" { (head("No such form")) body { p.warn { "No form " (slug) "." } p { a href="/forms" { "All forms" } } } }
    }
}

/// The processing session's values kept for the next head: everything but its tag and weight.
pub fn session_values(posted: &[(String, String)], head: u64) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = posted
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "eid" | "weight_kg" | "session_head" | "idempotency_key"
            )
        })
        .cloned()
        .collect();
    kept.push(("session_head".into(), head.to_string()));
    kept
}

/// The value an input starts with: the posted (or prefilled) one, else its default.
fn shown<'a>(values: &'a [(String, String)], name: &str, default: Option<&'a str>) -> &'a str {
    values
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .or(default)
        .unwrap_or("")
}

fn error_for<'a>(outcome: &'a Outcome, input: &str) -> Option<&'a str> {
    match outcome {
        Outcome::Refused(f) if f.field.as_deref() == Some(input) => Some(f.message.as_str()),
        _ => None,
    }
}

/// One input (`name` may carry a row suffix), with its error span.
fn input(field: &Field, name: &str, values: &[(String, String)], outcome: &Outcome) -> Markup {
    let value = shown(values, name, field.default);
    let error = error_for(outcome, name);
    html! {
        @match field.ty {
            Ty::Choice(options) => {
                select id=(name) name=(name) required[field.required] aria-invalid=[error.map(|_| "true")] {
                    @if !field.required { option value="" { "—" } }
                    @for option in options {
                        option value=(option) selected[*option == value] { (option.replace('_', " ")) }
                    }
                }
            }
            Ty::Whole => {
                input type="number" id=(name) name=(name) step="1" min=[field.min] max=[field.max]
                    value=(value) required[field.required] aria-invalid=[error.map(|_| "true")];
            }
            Ty::Decimal => {
                input type="number" id=(name) name=(name) step="any" min=[field.min] max=[field.max]
                    value=(value) required[field.required] aria-invalid=[error.map(|_| "true")];
            }
            Ty::Money => {
                input type="text" id=(name) name=(name) inputmode="decimal" pattern="[0-9]*([.][0-9]{0,3})?"
                    title="an amount in the form's currency, e.g. 2500.00" value=(value)
                    required[field.required] aria-invalid=[error.map(|_| "true")];
            }
            Ty::Currency => {
                input type="text" id=(name) name=(name) pattern="[A-Z]{3}" maxlength="3"
                    title="three capital letters, e.g. USD" value=(value) required[field.required]
                    aria-invalid=[error.map(|_| "true")];
            }
            Ty::Eid => {
                input type="text" id=(name) name=(name) pattern="[0-9]{3} ?[0-9]{12}" inputmode="numeric"
                    title="15 digits, e.g. 982000001088420" value=(value) required[field.required]
                    aria-invalid=[error.map(|_| "true")];
            }
            Ty::Date => {
                input type="date" id=(name) name=(name) pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}"
                    value=(value) required[field.required] aria-invalid=[error.map(|_| "true")];
            }
            Ty::EidList => {
                textarea id=(name) name=(name) rows="4" required[field.required]
                    aria-invalid=[error.map(|_| "true")] { (value) }
            }
            Ty::Text => {
                input type="text" id=(name) name=(name) maxlength=(crate::api::bounds::MAX_STRING_CHARS)
                    value=(value) required[field.required] aria-invalid=[error.map(|_| "true")];
            }
        }
        span.error id={"error-" (name)} { @if let Some(e) = error { (e) } }
    }
}

fn labelled(field: &Field, values: &[(String, String)], outcome: &Outcome) -> Markup {
    html! {
        div.field {
            label for=(field.name) { (field.label) @if field.required { " *" } }
            (input(field, field.name, values, outcome))
        }
    }
}

/// The inputs of the rows a form has beyond its plain fields (ingredients, products).
fn rows(form: &Form, values: &[(String, String)], outcome: &Outcome) -> Markup {
    match form.kind {
        "rations" => {
            let cells = [
                Field {
                    name: "ingredient",
                    label: "Ingredient",
                    ty: Ty::Text,
                    required: false,
                    min: None,
                    max: None,
                    default: None,
                },
                Field {
                    name: "inclusion_as_fed_pct",
                    label: "Inclusion (% as fed)",
                    ty: Ty::Decimal,
                    required: false,
                    min: Some("0"),
                    max: Some("100"),
                    default: None,
                },
                Field {
                    name: "dry_matter_pct",
                    label: "Dry matter (%)",
                    ty: Ty::Decimal,
                    required: false,
                    min: Some("0"),
                    max: Some("100"),
                    default: None,
                },
            ];
            table_of("Ingredients", &cells, spec::RATION_ROWS, values, outcome)
        }
        "processing" => table_of(
            "Products given to every head this session",
            &spec::product_fields(),
            spec::PRODUCT_ROWS,
            values,
            outcome,
        ),
        _ => html! {},
    }
}

fn table_of(
    caption: &str,
    cells: &[Field],
    count: usize,
    values: &[(String, String)],
    outcome: &Outcome,
) -> Markup {
    html! {
        fieldset {
            legend { (caption) }
            table {
                tr { @for cell in cells { th { (cell.label) } } }
                @for row in 0..count {
                    tr {
                        @for cell in cells {
                            td { (input(cell, &format!("{}_{row}", cell.name), values, outcome)) }
                        }
                    }
                }
            }
        }
    }
}

/// One form, with the outcome of the last submit above it.
pub fn form(
    form: &Form,
    caller: &ApiToken,
    values: &[(String, String)],
    outcome: &Outcome,
) -> Markup {
    let key = uuid::Uuid::now_v7();
    let named = |field: &Option<String>| {
        field.as_deref().is_some_and(|f| {
            form.fields.iter().any(|x| x.name == f)
                || f.rsplit_once('_')
                    .is_some_and(|(_, row)| row.parse::<usize>().is_ok())
        })
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(form.title))
            body {
                p { a href="/forms" { "All forms" } " · signed in as " (caller.user) }
                h1 { (form.title) }
                p { (form.about) }
                @match outcome {
                    Outcome::Recorded(done) => {
                        p.ok #recorded data-event-id=(done.event_id) {
                            @if done.replayed { "Already recorded (sent twice): " } @else { "Recorded: " }
                            (done.events) @if done.events == 1 { " record, " } @else { " records, " }
                            "event " (done.event_id)
                        }
                        @if form.kind == "processing" { p #session-head { "Head processed this session: " (done.head) } }
                    }
                    Outcome::Refused(failure) if !named(&failure.field) => {
                        p.warn #form-error { (failure.message) }
                    }
                    Outcome::Refused(_) => { p.warn #form-error { "Not recorded: see the field marked below." } }
                    Outcome::Blank => {}
                }
                form method="post" action={"/forms/" (form.slug)} #entry {
                    input type="hidden" name="idempotency_key" value=(key);
                    @if form.kind == "processing" {
                        input type="hidden" name="session_head" value=(shown(values, "session_head", Some("0")));
                    }
                    @for field in form.fields { (labelled(field, values, outcome)) }
                    (rows(form, values, outcome))
                    button type="submit" { "Record" }
                }
            }
        }
    }
}
