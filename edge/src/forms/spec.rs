//! What each entry form asks for: its fields, their HTML5 constraints, and how the posted
//! values become the records API's JSON body (so the API's checks apply unchanged).

use serde_json::{Map, Value, json};

use crate::api::ApiError;

/// How a field's text becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A string.
    Text,
    /// A whole number (counts, days).
    Whole,
    /// Money typed in the major units of the form's `currency` (`2500.00` dollars): the
    /// record's field carries its minor units (`…_minor`, cents), converted exactly.
    Money,
    /// A decimal number (kg, %, doses).
    Decimal,
    /// One of the listed wire values.
    Choice(&'static [&'static str]),
    /// An ISO 4217 code (three capital letters).
    Currency,
    /// A 15-digit EID (a space after the country code is allowed).
    Eid,
    /// A UTC calendar day, `YYYY-MM-DD` (the browser's date picker).
    Date,
    /// EIDs, one a line or separated by commas: the record's field is their list.
    EidList,
}

/// One input of a form.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The record field (and the input's `name`).
    pub name: &'static str,
    /// What the page calls it, units included.
    pub label: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether the page requires it (the server also refuses it missing).
    pub required: bool,
    /// The smallest value accepted, for numbers.
    pub min: Option<&'static str>,
    /// The largest value accepted, for numbers.
    pub max: Option<&'static str>,
    /// The value the page starts with.
    pub default: Option<&'static str>,
}

const fn f(name: &'static str, label: &'static str, ty: Ty, required: bool) -> Field {
    Field {
        name,
        label,
        ty,
        required,
        min: None,
        max: None,
        default: None,
    }
}

const fn min(mut field: Field, min: &'static str) -> Field {
    field.min = Some(min);
    field
}

const fn pct(mut field: Field) -> Field {
    field.min = Some("0");
    field.max = Some("100");
    field
}

const fn default(mut field: Field, value: &'static str) -> Field {
    field.default = Some(value);
    field
}

/// Purposes of a treatment on the wire.
pub const PURPOSES: &[&str] = &["therapeutic", "vaccination", "processing"];
/// Dose units on the wire.
pub const DOSE_UNITS: &[&str] = &["ml", "mg", "g", "unit"];
/// Routes on the wire.
pub const ROUTES: &[&str] = &[
    "subcutaneous",
    "intramuscular",
    "intravenous",
    "oral",
    "intranasal",
    "pour_on",
    "implant",
    "topical",
];
/// Sex classes on the wire.
pub const SEXES: &[&str] = &["steer", "heifer", "bull", "cow"];

/// How many ingredient rows the ration form has.
pub const RATION_ROWS: usize = 8;
/// How many product rows the processing form has (vaccines, implants, dewormer, ...).
pub const PRODUCT_ROWS: usize = 4;

/// One entry form.
#[derive(Debug, Clone, Copy)]
pub struct Form {
    /// The form's path segment (`/forms/{slug}`).
    pub slug: &'static str,
    /// The records API kind it submits (its role check), or `processing`.
    pub kind: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// One line on what it records.
    pub about: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

use Ty::{Choice, Currency, Date, Decimal, Eid, EidList, Money, Text, Whole};

/// The treatment fields shared by the per-animal and the lot form.
macro_rules! treatment_fields {
    ($dose:literal, $dose_label:literal) => {
        [
            f("purpose", "Purpose", Choice(PURPOSES), true),
            f("product", "Product", Text, true),
            min(f($dose, $dose_label, Decimal, true), "0"),
            f("dose_unit", "Dose unit", Choice(DOSE_UNITS), true),
            f("route", "Route", Choice(ROUTES), true),
            f("product_lot", "Product lot / serial", Text, true),
            min(f("withdrawal_days", "Withdrawal (days)", Whole, true), "0"),
            f("administered_by", "Given by", Text, true),
            f("diagnosis", "Diagnosis (therapeutic)", Text, false),
        ]
    };
}

const TREATMENT: [Field; 13] = {
    let t = treatment_fields!("dose", "Dose");
    [
        f("eid", "EID (15 digits)", Eid, true),
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        t[6],
        t[7],
        t[8],
        min(
            f(
                "booster_after_days",
                "Booster due after (days)",
                Whole,
                false,
            ),
            "1",
        ),
        min(
            f("cost_minor", "Cost (in the currency below)", Money, false),
            "0",
        ),
        f("currency", "Currency (ISO, with a cost)", Currency, false),
    ]
};

const LOT_TREATMENT: [Field; 14] = {
    let t = treatment_fields!("dose_per_head", "Dose per head");
    [
        f("lot_id", "Lot", Text, false),
        f("pen_id", "Pen", Text, false),
        min(f("head_count", "Head treated", Whole, true), "1"),
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        t[6],
        t[7],
        t[8],
        min(
            f(
                "total_cost_minor",
                "Cost of all head (in the currency below)",
                Money,
                false,
            ),
            "0",
        ),
        f("currency", "Currency (ISO, with a cost)", Currency, false),
    ]
};

/// Every form, in the order the index lists them.
pub const FORMS: &[Form] = &[
    Form {
        slug: "arrival",
        kind: "arrivals",
        title: "Receive a lot",
        about: "A lot arriving: head, in weight (the lot's total or per head), source and price.",
        fields: &[
            f("lot_id", "Lot", Text, true),
            min(f("head_count", "Head", Whole, true), "1"),
            f("origin", "Origin (ranch, region)", Text, true),
            f("source", "Source (sale barn, order buyer)", Text, false),
            f("pen_id", "Pen", Text, false),
            min(
                f(
                    "pay_weight_kg",
                    "Pay weight, whole lot (kg)",
                    Decimal,
                    false,
                ),
                "0",
            ),
            min(
                f(
                    "pay_weight_per_head_kg",
                    "or pay weight per head (kg)",
                    Decimal,
                    false,
                ),
                "0",
            ),
            default(pct(f("shrink_pct", "Shrink (%)", Decimal, true)), "4"),
            min(
                f(
                    "purchase_price_minor",
                    "Price, whole lot (in the currency below)",
                    Money,
                    true,
                ),
                "0",
            ),
            default(f("currency", "Currency", Currency, true), "USD"),
        ],
    },
    Form {
        slug: "processing",
        kind: "processing",
        title: "Process at the chute",
        about: "Set the lot, pen and products once; then each head crossing the chute needs only its tag \
                and weight: it is placed, weighed and given every product of the session.",
        fields: &[
            f("lot_id", "Lot", Text, true),
            f("pen_id", "Home pen", Text, true),
            f("sex", "Sex", Choice(SEXES), false),
            f("breed", "Breed", Text, false),
            f("administered_by", "Given by", Text, true),
            f("eid", "EID (15 digits)", Eid, true),
            min(f("weight_kg", "Weight (kg)", Decimal, false), "0"),
        ],
    },
    Form {
        slug: "treatment",
        kind: "treatments",
        title: "Treat an animal",
        about: "A product given to one animal, by its tag.",
        fields: &TREATMENT,
    },
    Form {
        slug: "lot-treatment",
        kind: "lot-treatments",
        title: "Treat a lot or pen",
        about: "A product given to every head of a lot or pen: one record, charged to the lot.",
        fields: &LOT_TREATMENT,
    },
    Form {
        slug: "pen-move",
        kind: "pen-moves",
        title: "Move cattle",
        about: "One animal (its tag) or a lot (all of it, or a head count) from one pen to another.",
        fields: &[
            f("eid", "EID (one animal)", Eid, false),
            f("lot_id", "Lot (a lot move)", Text, false),
            min(f("head_count", "Head (part of a lot)", Whole, false), "1"),
            f("from_pen_id", "From pen", Text, true),
            f("to_pen_id", "To pen", Text, true),
        ],
    },
    Form {
        slug: "death",
        kind: "deaths",
        title: "Death of a tagged animal",
        about: "An animal found dead whose tag reads.",
        fields: &[
            f("eid", "EID (15 digits)", Eid, true),
            f("cause", "Cause", Text, true),
            f("lot_id", "Lot", Text, false),
            f("pen_id", "Pen", Text, false),
        ],
    },
    Form {
        slug: "lot-death",
        kind: "lot-deaths",
        title: "Death in a lot or pen (no tag)",
        about: "Head found dead whose tag is lost or unreadable: recorded against the lot or pen.",
        fields: &[
            f("lot_id", "Lot", Text, false),
            f("pen_id", "Pen", Text, false),
            default(min(f("head_count", "Head", Whole, true), "1"), "1"),
            f("cause", "Cause", Text, true),
        ],
    },
    Form {
        slug: "shipment",
        kind: "shipments",
        title: "Ship a lot",
        about: "Cattle sold and shipped: head, pay weight (the total or per head) and price.",
        fields: &[
            f("lot_id", "Lot", Text, true),
            min(f("head_count", "Head", Whole, true), "1"),
            f("buyer", "Buyer", Text, true),
            min(
                f("weight_kg", "Pay weight, all head (kg)", Decimal, false),
                "0",
            ),
            min(
                f(
                    "weight_per_head_kg",
                    "or pay weight per head (kg)",
                    Decimal,
                    false,
                ),
                "0",
            ),
            min(
                f(
                    "price_minor",
                    "Price, all head (in the currency below)",
                    Money,
                    true,
                ),
                "0",
            ),
            default(f("currency", "Currency", Currency, true), "USD"),
        ],
    },
    Form {
        slug: "plan-shipment",
        kind: "shipment-plans",
        title: "Plan a shipment",
        about: "A lot (or chosen animals) to ship on a day: the cloud warns of any still in \
                withdrawal then. Cancel or change it with the void and amend forms.",
        fields: &[
            f("lot_id", "Lot", Text, true),
            f("pen_id", "Ships from pen", Text, false),
            f("planned_date", "Planned ship date (UTC day)", Date, true),
            min(f("head_count", "Head planned", Whole, true), "1"),
            f(
                "eids",
                "EIDs of the animals chosen (one a line or comma-separated; blank: the lot's)",
                EidList,
                false,
            ),
            f("buyer", "Buyer", Text, false),
            f("destination", "Destination", Text, false),
            f("note", "Note", Text, false),
        ],
    },
    Form {
        slug: "feed-purchase",
        kind: "feed-purchases",
        title: "Buy feed",
        about: "An ingredient bought: supplier, origin, kg, price and dry matter.",
        fields: &[
            f("ingredient", "Ingredient", Text, true),
            f("supplier", "Supplier", Text, true),
            f("origin", "Origin", Text, true),
            min(f("quantity_kg", "Quantity (kg as fed)", Decimal, true), "0"),
            min(
                f("price_minor", "Price (in the currency below)", Money, true),
                "0",
            ),
            default(f("currency", "Currency", Currency, true), "USD"),
            pct(f("dry_matter_pct", "Dry matter (%)", Decimal, true)),
        ],
    },
    Form {
        slug: "feed-delivery",
        kind: "feed-deliveries",
        title: "Feed delivered by hand",
        about: "Feed dropped in a pen's bunk, entered when the truck system is down.",
        fields: &[
            f("pen_id", "Pen", Text, true),
            f("ration_id", "Ration", Text, true),
            min(f("target_kg", "Bunk call (kg as fed)", Decimal, true), "0"),
            min(
                f("delivered_kg", "Delivered (kg as fed)", Decimal, true),
                "0",
            ),
            default(f("truck_id", "Truck", Text, true), "manual"),
            f("operator", "Fed by", Text, true),
        ],
    },
    Form {
        slug: "ration",
        kind: "rations",
        title: "Ration",
        about: "A ration's formula: each ingredient's inclusion (% as fed, summing to 100) and dry matter.",
        fields: &[f("ration_id", "Ration", Text, true)],
    },
    Form {
        slug: "void-record",
        kind: "corrections",
        title: "Void a record",
        about: "A record entered by mistake: it stays on file but no longer counts (docs/corrections.md).",
        fields: &[
            f("corrects_event_id", "Record's event id", Text, true),
            f(
                "record_kind",
                "Record kind",
                Choice(CORRECTABLE_KINDS),
                true,
            ),
            default(f("action", "Action", Choice(&["void"]), true), "void"),
            f("reason", "Reason", Text, true),
        ],
    },
    Form {
        slug: "amend-record",
        kind: "corrections",
        title: "Amend a record",
        about: "A record with a wrong value: give only the values that change; the original stays on file.",
        fields: &[
            f("corrects_event_id", "Record's event id", Text, true),
            f("record_kind", "Record kind", Choice(AMENDABLE_KINDS), true),
            default(f("action", "Action", Choice(&["amend"]), true), "amend"),
            min(f("weight_kg", "Weighing: weight (kg)", Decimal, false), "0"),
            f("product", "Treatment: product", Text, false),
            min(f("dose", "Treatment: dose (per head)", Decimal, false), "0"),
            min(
                f(
                    "withdrawal_days",
                    "Treatment: withdrawal (days)",
                    Whole,
                    false,
                ),
                "0",
            ),
            f("cause", "Death: cause", Text, false),
            min(
                f(
                    "delivered_kg",
                    "Feed delivery: delivered (kg as fed)",
                    Decimal,
                    false,
                ),
                "0",
            ),
            f(
                "planned_date",
                "Shipment plan: planned date (UTC day)",
                Date,
                false,
            ),
            min(
                f("head_count", "Shipment plan: head planned", Whole, false),
                "1",
            ),
            f("reason", "Reason", Text, true),
        ],
    },
];

/// The record kinds the void form offers (every kind a correction may name).
pub const CORRECTABLE_KINDS: &[&str] = &[
    "weighing",
    "treatment",
    "lot_treatment",
    "death",
    "lot_death",
    "feed_delivery",
    "arrival",
    "pen_move",
    "shipment",
    "feed_purchase",
    "yardage_rate",
    "placement",
    "shipment_plan",
];

/// The record kinds with values the amend form can change.
pub const AMENDABLE_KINDS: &[&str] = &[
    "weighing",
    "treatment",
    "lot_treatment",
    "death",
    "lot_death",
    "feed_delivery",
    "shipment_plan",
];

/// The form at `/forms/{slug}`.
pub fn form(slug: &str) -> Option<&'static Form> {
    FORMS.iter().find(|f| f.slug == slug)
}

/// A field missing or unreadable, named as the page names it.
fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Malformed {
        field: Some(field.to_owned()),
        message: format!("field `{field}`: {}", message.into()),
    }
}

/// The posted value of `name`, trimmed; None when blank or absent.
pub fn value<'a>(posted: &'a [(String, String)], name: &str) -> Option<&'a str> {
    posted
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The JSON of the posted text of input `name` of type `ty` (money in `currency`), or why it
/// cannot be one.
fn json_of(name: &str, ty: Ty, text: &str, currency: &str) -> Result<Value, ApiError> {
    match ty {
        Ty::Money => schemas::minor_from_major(text, currency)
            .map(|minor| json!(minor))
            .map_err(|why| bad(name, why)),
        Ty::Text | Ty::Currency | Ty::Eid | Ty::Date => Ok(json!(text)),
        Ty::EidList => Ok(json!(
            text.split([',', ';', '\n'])
                .map(str::trim)
                .filter(|eid| !eid.is_empty())
                .collect::<Vec<_>>()
        )),
        Ty::Choice(options) => {
            if options.contains(&text) {
                Ok(json!(text))
            } else {
                Err(bad(name, format!("must be one of {}", options.join(", "))))
            }
        }
        Ty::Whole => text
            .parse::<u64>()
            .map(|n| json!(n))
            .map_err(|_| bad(name, "must be a whole number, 0 or more")),
        Ty::Decimal => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(json!(n)),
            _ => Err(bad(name, "must be a number")),
        },
    }
}

/// The records API body of `fields` from the posted values: blank optional fields left out,
/// a blank required one refused with its name.
pub fn body_of(
    fields: &[Field],
    posted: &[(String, String)],
) -> Result<Map<String, Value>, ApiError> {
    let mut body = Map::new();
    // Money is typed in the form's currency (checked by the records API when given).
    let currency = value(posted, "currency").unwrap_or("USD");
    for field in fields {
        match value(posted, field.name) {
            Some(text) => {
                body.insert(
                    field.name.to_owned(),
                    json_of(field.name, field.ty, text, currency)?,
                );
            }
            None if field.required => return Err(bad(field.name, "is required")),
            None => {}
        }
    }
    Ok(body)
}

/// The ration form's ingredient rows as the record's `ingredients` (blank rows skipped), with
/// the form row of each.
pub fn ingredients_of(posted: &[(String, String)]) -> Result<(Vec<Value>, Vec<usize>), ApiError> {
    let mut rows = Vec::new();
    let mut form_rows = Vec::new();
    for i in 0..RATION_ROWS {
        let name = format!("ingredient_{i}");
        let Some(ingredient) = value(posted, &name) else {
            continue;
        };
        let number = |field: String| -> Result<f64, ApiError> {
            let text = value(posted, &field).ok_or_else(|| bad(&field, "is required"))?;
            match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(n),
                _ => Err(bad(&field, "must be a number")),
            }
        };
        rows.push(json!({
            "ingredient": ingredient,
            "inclusion_as_fed_pct": number(format!("inclusion_as_fed_pct_{i}"))?,
            "dry_matter_pct": number(format!("dry_matter_pct_{i}"))?,
        }));
        form_rows.push(i);
    }
    Ok((rows, form_rows))
}

/// The processing form's product rows (one treatment each per head): blank rows skipped.
pub fn products_of(posted: &[(String, String)]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let row_fields = treatment_fields!("dose", "Dose");
    let currency = value(posted, "currency").unwrap_or("USD");
    let mut products = Vec::new();
    for i in 0..PRODUCT_ROWS {
        if value(posted, &format!("product_{i}")).is_none() {
            continue;
        }
        let mut product = Map::new();
        for field in row_fields.iter().filter(|f| f.name != "administered_by") {
            let name = format!("{}_{i}", field.name);
            match value(posted, &name) {
                Some(text) => {
                    product.insert(
                        field.name.to_owned(),
                        json_of(&name, field.ty, text, currency)?,
                    );
                }
                None if field.required => return Err(bad(&name, "is required")),
                None => {}
            }
        }
        products.push(product);
    }
    Ok(products)
}

/// The form row of the `k`-th product entered (blank rows are skipped).
pub fn product_row(posted: &[(String, String)], k: usize) -> usize {
    (0..PRODUCT_ROWS)
        .filter(|i| value(posted, &format!("product_{i}")).is_some())
        .nth(k)
        .unwrap_or(k)
}

/// The product row fields of the processing form, without the row suffix.
pub fn product_fields() -> Vec<Field> {
    treatment_fields!("dose", "Dose")
        .into_iter()
        .filter(|f| f.name != "administered_by" && f.name != "diagnosis")
        .map(|f| Field {
            required: false,
            ..f
        })
        .collect()
}

/// The input a record field's error belongs to: `ingredients[1].dry_matter_pct` is the
/// `dry_matter_pct_{r}` of the form row `r = form_rows[1]`; anything else is the field itself.
pub fn input_of(field: &str, form_rows: &[usize]) -> String {
    if let Some((row, name)) = field
        .strip_prefix("ingredients[")
        .and_then(|rest| rest.split_once("]."))
    {
        let row = row
            .parse::<usize>()
            .ok()
            .and_then(|k| form_rows.get(k).copied())
            .unwrap_or(0);
        return format!("{name}_{row}");
    }
    if let Some(name) = field.strip_prefix("ingredients.") {
        return format!("{name}_{}", form_rows.first().copied().unwrap_or(0));
    }
    // One EID of a list (`eids[2]`) is the list's input.
    if let Some((list, _)) = field.split_once('[') {
        return list.to_owned();
    }
    field.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_form_has_a_distinct_slug_and_submits_a_known_kind() {
        let mut slugs: Vec<_> = FORMS.iter().map(|f| f.slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), FORMS.len());
        for form in FORMS.iter().filter(|f| f.kind != "processing") {
            assert!(crate::api::roles_of(form.kind).is_ok(), "{}", form.kind);
        }
    }

    #[test]
    fn the_correction_forms_offer_the_kinds_the_schema_corrects() {
        let mut expected: Vec<_> = schemas::CORRECTABLE_KINDS
            .iter()
            .map(|k| k.as_str())
            .collect();
        let mut offered = CORRECTABLE_KINDS.to_vec();
        offered.sort_unstable();
        expected.sort_unstable();
        assert_eq!(offered, expected);
        for kind in AMENDABLE_KINDS {
            let k = schemas::CORRECTABLE_KINDS
                .iter()
                .find(|k| k.as_str() == *kind);
            assert!(!schemas::amendable_fields(*k.unwrap()).is_empty(), "{kind}");
        }
        let amend = form("amend-record").unwrap();
        let body = body_of(
            amend.fields,
            &posted(&[
                ("corrects_event_id", "0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7081"),
                ("record_kind", "weighing"),
                ("action", "amend"),
                ("weight_kg", "412.5"),
                ("dose", ""),
                ("reason", "scale not zeroed"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"corrects_event_id": "0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7081",
                   "record_kind": "weighing", "action": "amend", "weight_kg": 412.5,
                   "reason": "scale not zeroed"})
        );
    }

    #[test]
    fn blank_optional_fields_are_left_out_and_a_blank_required_one_is_named() {
        let form = form("lot-death").unwrap();
        let body = body_of(
            form.fields,
            &posted(&[
                ("lot_id", "L1"),
                ("pen_id", " "),
                ("head_count", "2"),
                ("cause", "bloat"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"lot_id": "L1", "head_count": 2, "cause": "bloat"})
        );
        let Err(ApiError::Malformed { field, .. }) = body_of(
            form.fields,
            &posted(&[("lot_id", "L1"), ("head_count", "x")]),
        ) else {
            panic!("accepted a head count of x")
        };
        assert_eq!(field.as_deref(), Some("head_count"));
    }

    #[test]
    fn the_plan_form_sends_a_day_and_a_list_of_eids() {
        let plan = form("plan-shipment").unwrap();
        let body = body_of(
            plan.fields,
            &posted(&[
                ("lot_id", "L1"),
                ("planned_date", "2027-05-02"),
                ("head_count", "2"),
                ("eids", "982000001088420,\r\n 982 000001088421\r\n"),
                ("buyer", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"lot_id": "L1", "planned_date": "2027-05-02", "head_count": 2,
                   "eids": ["982000001088420", "982 000001088421"]})
        );
        assert_eq!(input_of("eids[1]", &[]), "eids");
    }

    #[test]
    fn ration_rows_become_ingredients_and_their_errors_name_the_row_input() {
        let (rows, form_rows) = ingredients_of(&posted(&[
            ("ingredient_0", "corn"),
            ("inclusion_as_fed_pct_0", "80"),
            ("dry_matter_pct_0", "86"),
            ("ingredient_3", "hay"),
            ("inclusion_as_fed_pct_3", "20"),
            ("dry_matter_pct_3", "88"),
        ]))
        .unwrap();
        assert_eq!((rows.len(), form_rows.as_slice()), (2, [0, 3].as_slice()));
        assert_eq!(
            input_of("ingredients[1].dry_matter_pct", &form_rows),
            "dry_matter_pct_3"
        );
        assert_eq!(input_of("head_count", &form_rows), "head_count");
    }
}
