//! Reading a sale-barn or order-buyer manifest (CSV) into a preview: every row parsed, every
//! error named by row and field, the lot's totals. Nothing here records anything.

use chrono::{DateTime, Utc};
use schemas::{Arrival, Eid, Envelope, Event, Placement, Sex, Weighing, Weight, WeightUnit};
use serde::{Deserialize, Serialize};

/// Largest manifest accepted, bytes.
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// Most animal rows in one manifest.
pub const MAX_ROWS: usize = 2000;
/// Longest text value in a cell or lot field, characters (as the records API).
pub const MAX_TEXT_CHARS: usize = crate::api::bounds::MAX_STRING_CHARS;

/// The lot-level fields of an import, as sent (query string or form): text, checked by
/// [`LotFields::check`] so each error names its field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LotFields {
    /// The lot the cattle are placed as (required).
    pub lot_id: String,
    /// The pen they go to (required).
    pub pen_id: String,
    /// Where they came from (ranch, region); default: the seller.
    pub origin: String,
    /// The sale barn or order buyer; default: the manifest's `source` column (one value).
    pub source: String,
    /// Shrink already taken off the manifest weights, % (default 0).
    pub shrink_pct: String,
    /// What the lot cost, in minor units (cents) of `currency` (default 0: not given).
    pub price_minor: String,
    /// ISO 4217 code of `price_minor` (default USD).
    pub currency: String,
    /// When the cattle arrived, RFC 3339 UTC (default: when confirmed).
    pub occurred_at: String,
}

/// One error: the row (file line, 1 = the header; absent for the lot or the whole file), the
/// field and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    /// The line of the file, counting the header as line 1; `None` for a lot-level error.
    pub line: Option<usize>,
    /// The column or lot field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// One animal row as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The file line (header = 1).
    pub line: usize,
    /// The EID as written.
    pub tag: String,
    /// The EID, when valid.
    pub eid: Option<String>,
    /// The weight as written, in `weight_unit`.
    pub weight: Option<f64>,
    /// The weight, kg.
    pub weight_kg: Option<f64>,
    /// The seller named on the row.
    pub source: Option<String>,
    /// Sex class, when given and known.
    pub sex: Option<Sex>,
    /// Breed, when given.
    pub breed: Option<String>,
}

/// What an import would record, and what stops it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// Every animal row, in file order.
    pub rows: Vec<Row>,
    /// Every error, lot-level first, then by line.
    pub errors: Vec<RowError>,
    /// The weight unit named in the header.
    pub weight_unit: Option<WeightUnit>,
    /// Rows (head).
    pub head: usize,
    /// Sum of the weights read, kg.
    pub total_weight_kg: f64,
    /// `total_weight_kg / head` over rows with a weight, kg.
    pub average_weight_kg: Option<f64>,
    /// The arrival's seller (lot `source` or the single `source` of the rows).
    pub source: Option<String>,
}

impl Preview {
    /// Whether the import may be confirmed.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The checked lot-level fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    /// See [`LotFields::lot_id`].
    pub lot_id: String,
    /// See [`LotFields::pen_id`].
    pub pen_id: String,
    /// See [`LotFields::origin`] (empty: the seller).
    pub origin: Option<String>,
    /// See [`LotFields::source`].
    pub source: Option<String>,
    /// See [`LotFields::shrink_pct`].
    pub shrink_pct: f64,
    /// See [`LotFields::price_minor`].
    pub price_minor: u64,
    /// See [`LotFields::currency`].
    pub currency: String,
    /// See [`LotFields::occurred_at`].
    pub occurred_at: Option<DateTime<Utc>>,
}

fn text(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

fn lot_error(field: &str, message: impl Into<String>) -> RowError {
    RowError {
        line: None,
        field: field.into(),
        message: message.into(),
    }
}

impl LotFields {
    /// The checked lot, or every lot field that is wrong.
    pub fn check(&self) -> Result<Lot, Vec<RowError>> {
        let mut errors = Vec::new();
        for (field, value, required) in [
            ("lot_id", &self.lot_id, true),
            ("pen_id", &self.pen_id, true),
            ("origin", &self.origin, false),
            ("source", &self.source, false),
        ] {
            if required && value.trim().is_empty() {
                errors.push(lot_error(field, "is required"));
            } else if value.chars().count() > MAX_TEXT_CHARS {
                errors.push(lot_error(
                    field,
                    format!("is longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
        }
        let shrink_pct = match text(&self.shrink_pct) {
            None => 0.0,
            Some(v) => match v.parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => p,
                _ => {
                    errors.push(lot_error(
                        "shrink_pct",
                        format!("must be a percentage between 0 and 100 (found {v:?})"),
                    ));
                    0.0
                }
            },
        };
        let price_minor = match text(&self.price_minor) {
            None => 0,
            Some(v) => v.parse::<u64>().unwrap_or_else(|_| {
                errors.push(lot_error(
                    "price_minor",
                    format!("must be a whole number of cents (found {v:?})"),
                ));
                0
            }),
        };
        let currency = text(&self.currency).unwrap_or_else(|| "USD".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(lot_error(
                "currency",
                format!("must be a 3-letter ISO 4217 code such as USD (found {currency:?})"),
            ));
        }
        let occurred_at = match text(&self.occurred_at) {
            None => None,
            Some(v) => {
                match DateTime::parse_from_rfc3339(&v) {
                    Ok(at) => Some(at.with_timezone(&Utc)),
                    Err(_) => {
                        errors.push(lot_error(
                        "occurred_at",
                        format!("must be an RFC 3339 time such as 2026-10-01T08:00:00Z (found {v:?})"),
                    ));
                        None
                    }
                }
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Lot {
            lot_id: self.lot_id.trim().to_owned(),
            pen_id: self.pen_id.trim().to_owned(),
            origin: text(&self.origin),
            source: text(&self.source),
            shrink_pct,
            price_minor,
            currency,
            occurred_at,
        })
    }
}

/// Which column holds what.
#[derive(Debug, Default)]
struct Columns {
    eid: Option<usize>,
    weight: Option<(usize, Option<WeightUnit>)>,
    source: Option<usize>,
    sex: Option<usize>,
    breed: Option<usize>,
}

/// The unit a weight header names: `weight (lb)`, `Weight lbs`, `wt_kg`, `pay weight, kg`.
fn unit_in(header: &str) -> Option<WeightUnit> {
    let words: Vec<&str> = header
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().find_map(|w| match *w {
        "lb" | "lbs" | "pound" | "pounds" => Some(WeightUnit::Lb),
        "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" => Some(WeightUnit::Kg),
        _ => None,
    })
}

fn columns(header: &csv::StringRecord) -> Columns {
    let mut c = Columns::default();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        let first = name
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or_default();
        if c.eid.is_none() && matches!(first, "eid" | "tag" | "rfid" | "eartag" | "tag_id") {
            c.eid = Some(i);
        } else if c.weight.is_none() && (name.contains("weight") || first == "wt") {
            c.weight = Some((i, unit_in(&name)));
        } else if c.source.is_none() && matches!(first, "source" | "seller" | "consignor") {
            c.source = Some(i);
        } else if c.sex.is_none() && first == "sex" {
            c.sex = Some(i);
        } else if c.breed.is_none() && first == "breed" {
            c.breed = Some(i);
        }
    }
    c
}

fn sex(value: &str) -> Option<Sex> {
    match value.trim().to_ascii_lowercase().as_str() {
        "steer" | "s" | "str" => Some(Sex::Steer),
        "heifer" | "h" | "hfr" => Some(Sex::Heifer),
        "bull" | "b" => Some(Sex::Bull),
        "cow" | "c" => Some(Sex::Cow),
        _ => None,
    }
}

/// Reads `csv` for `lot`. `on_yard` says, for a valid EID, where the gateway already has that
/// animal (e.g. `in pen P3`), or `None` when it does not know it.
pub fn preview(
    csv_bytes: &[u8],
    lot: &Result<Lot, Vec<RowError>>,
    on_yard: &dyn Fn(&Eid) -> Option<String>,
) -> Preview {
    let mut errors: Vec<RowError> = match lot {
        Ok(_) => Vec::new(),
        Err(lot_errors) => lot_errors.clone(),
    };
    let mut rows = Vec::new();
    let mut weight_unit = None;
    let fail = |errors: &mut Vec<RowError>, line: Option<usize>, field: &str, message: String| {
        errors.push(RowError {
            line,
            field: field.into(),
            message,
        });
    };
    if csv_bytes.len() > MAX_MANIFEST_BYTES {
        fail(
            &mut errors,
            None,
            "file",
            format!(
                "is {} bytes (at most {MAX_MANIFEST_BYTES})",
                csv_bytes.len()
            ),
        );
        return finish(rows, errors, None, lot);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_bytes);
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            fail(&mut errors, Some(1), "file", format!("is not CSV: {e}"));
            return finish(rows, errors, None, lot);
        }
    };
    let cols = columns(&header);
    if cols.eid.is_none() {
        fail(
            &mut errors,
            Some(1),
            "eid",
            "no EID column: name one `eid` or `tag`".into(),
        );
    }
    match cols.weight {
        None => fail(
            &mut errors,
            Some(1),
            "weight",
            "no weight column: name one `weight (lb)` or `weight (kg)`".into(),
        ),
        Some((_, None)) => fail(
            &mut errors,
            Some(1),
            "weight",
            "the weight column does not name its unit: write `weight (lb)` or `weight (kg)`".into(),
        ),
        Some((_, Some(unit))) => weight_unit = Some(unit),
    }
    let mut seen: std::collections::HashMap<Eid, usize> = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                fail(&mut errors, line, "file", format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            fail(
                &mut errors,
                Some(line),
                "file",
                format!("more than {MAX_ROWS} animals: split the manifest"),
            );
            break;
        }
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
        for (i, value) in record.iter().enumerate() {
            if value.chars().count() > MAX_TEXT_CHARS {
                let field = header.get(i).unwrap_or("cell").to_owned();
                fail(
                    &mut errors,
                    Some(line),
                    &field,
                    format!("is longer than {MAX_TEXT_CHARS} characters"),
                );
            }
        }
        let tag = cell(cols.eid).to_owned();
        let eid = if cols.eid.is_none() {
            None
        } else if tag.is_empty() {
            fail(&mut errors, Some(line), "eid", "is missing".into());
            None
        } else {
            match Eid::parse(&tag) {
                Err(e) => {
                    fail(&mut errors, Some(line), "eid", format!("{tag:?}: {e}"));
                    None
                }
                Ok(eid) => {
                    if let Some(first) = seen.get(&eid) {
                        fail(
                            &mut errors,
                            Some(line),
                            "eid",
                            format!("{eid} is listed twice (also line {first})"),
                        );
                    } else if let Some(where_) = on_yard(&eid) {
                        fail(
                            &mut errors,
                            Some(line),
                            "eid",
                            format!("{eid} is already on the yard ({where_})"),
                        );
                    }
                    seen.entry(eid.clone()).or_insert(line);
                    Some(eid)
                }
            }
        };
        let raw_weight = cell(cols.weight.map(|(i, _)| i));
        let weight = if cols.weight.is_none() {
            None
        } else if raw_weight.is_empty() {
            fail(&mut errors, Some(line), "weight", "is missing".into());
            None
        } else {
            match raw_weight.replace(',', "").parse::<f64>() {
                Ok(w) if w.is_finite() && w > 0.0 => Some(w),
                _ => {
                    fail(
                        &mut errors,
                        Some(line),
                        "weight",
                        format!("must be a number above zero (found {raw_weight:?})"),
                    );
                    None
                }
            }
        };
        let sex_text = cell(cols.sex);
        let sex_class = if sex_text.is_empty() {
            None
        } else {
            let s = sex(sex_text);
            if s.is_none() {
                fail(
                    &mut errors,
                    Some(line),
                    "sex",
                    format!("must be steer, heifer, bull or cow (found {sex_text:?})"),
                );
            }
            s
        };
        rows.push(Row {
            line,
            tag,
            eid: eid.map(|e| e.to_string()),
            weight,
            weight_kg: match (weight, weight_unit) {
                (Some(value), Some(unit)) => Some(Weight { value, unit }.kg()),
                _ => None,
            },
            source: text(cell(cols.source)),
            sex: sex_class,
            breed: text(cell(cols.breed)),
        });
    }
    if rows.is_empty() && errors.iter().all(|e| e.field != "file") {
        fail(&mut errors, None, "file", "lists no animals".into());
    }
    finish(rows, errors, weight_unit, lot)
}

fn finish(
    rows: Vec<Row>,
    mut errors: Vec<RowError>,
    weight_unit: Option<WeightUnit>,
    lot: &Result<Lot, Vec<RowError>>,
) -> Preview {
    let weights: Vec<f64> = rows.iter().filter_map(|r| r.weight_kg).collect();
    let total_weight_kg: f64 = weights.iter().sum();
    let lot_source = lot.as_ref().ok().and_then(|l| l.source.clone());
    let mut sellers: Vec<&str> = rows.iter().filter_map(|r| r.source.as_deref()).collect();
    sellers.sort_unstable();
    sellers.dedup();
    let source = match (lot_source, sellers.as_slice()) {
        (Some(s), _) => Some(s),
        (None, [one]) => Some((*one).to_owned()),
        (None, []) => None,
        (None, many) => {
            errors.push(lot_error(
                "source",
                format!(
                    "the rows name {} sellers: give the lot's source (the sale barn or order buyer)",
                    many.len()
                ),
            ));
            None
        }
    };
    if let Ok(l) = lot
        && l.origin.is_none()
        && source.is_none()
        && !errors.iter().any(|e| e.field == "source")
    {
        errors.push(lot_error(
            "origin",
            "is required when neither the lot nor the rows name a source",
        ));
    }
    errors.sort_by_key(|e| e.line.unwrap_or(0));
    Preview {
        head: rows.len(),
        average_weight_kg: (!weights.is_empty()).then(|| total_weight_kg / weights.len() as f64),
        total_weight_kg,
        rows,
        errors,
        weight_unit,
        source,
    }
}

/// The events a confirmed import records, captured at `at` by `device_id`: the arrival, then
/// for every animal its placement and its manifest weight as a weighing. `None` when the
/// preview has errors.
pub fn events(
    preview: &Preview,
    lot: &Lot,
    at: DateTime<Utc>,
    feedlot_id: &str,
    gateway_id: &str,
    device_id: &str,
) -> Option<Vec<Envelope>> {
    if !preview.ok() {
        return None;
    }
    let unit = preview.weight_unit?;
    let head = u32::try_from(preview.head).ok()?;
    let source = preview.source.clone();
    let origin = lot.origin.clone().or_else(|| source.clone())?;
    let arrival = Arrival {
        lot_id: lot.lot_id.clone(),
        head_count: head,
        origin,
        source,
        pen_id: Some(lot.pen_id.clone()),
        pay_weight_kg: preview.total_weight_kg,
        // The manifest's own per-head figure, so the record shows both.
        pay_weight_per_head_kg: Some(preview.total_weight_kg / f64::from(head)),
        shrink_pct: lot.shrink_pct,
        purchase_price_minor: lot.price_minor,
        currency: lot.currency.clone(),
    };
    let wrap = |event| Envelope::new(feedlot_id, gateway_id, device_id, at, event);
    let mut out = Vec::with_capacity(1 + 2 * preview.rows.len());
    out.push(wrap(Event::Arrival(arrival)));
    for row in &preview.rows {
        let eid = Eid::parse(row.eid.as_deref()?).ok()?;
        out.push(wrap(Event::Placement(Placement {
            eid: eid.clone(),
            lot_id: lot.lot_id.clone(),
            pen_id: lot.pen_id.clone(),
            sex: row.sex,
            breed: row.breed.clone(),
        })));
        out.push(wrap(Event::Weighing(Weighing {
            eid,
            weight: Weight {
                value: row.weight?,
                unit,
            },
            tag_read_event_id: None,
            gross_net: None,
        })));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot() -> Result<Lot, Vec<RowError>> {
        LotFields {
            lot_id: "L-1".into(),
            pen_id: "P1".into(),
            ..LotFields::default()
        }
        .check()
    }

    #[test]
    fn a_clean_manifest_in_pounds_totals_in_kilograms() {
        let csv = b"EID,Weight (lb),Seller,Sex\n982 000001088420,600,Valentine Livestock,S\n982000001088421,\"1,000\",Valentine Livestock,heifer\n";
        let p = preview(csv, &lot(), &|_| None);
        assert!(p.ok(), "{:?}", p.errors);
        assert_eq!(p.head, 2);
        assert!((p.total_weight_kg - 1600.0 * schemas::weight::KG_PER_LB).abs() < 1e-9);
        assert_eq!(p.source.as_deref(), Some("Valentine Livestock"));
        assert_eq!(p.rows[0].eid.as_deref(), Some("982000001088420"));
        assert_eq!(p.rows[1].sex, Some(Sex::Heifer));
        let lot = lot().unwrap();
        let events = events(&p, &lot, Utc::now(), "y", "g", "import:sam").unwrap();
        assert_eq!(events.len(), 5);
        assert!(events.iter().all(|e| e.validate().is_ok()));
    }

    #[test]
    fn every_bad_row_is_named_with_its_field() {
        let csv = b"tag,weight (kg),source\n982000001088420,300,A\n98200000108842X,300,A\n982000001088420,310,A\n840003123456789,,A\n840003123456790,heavy,A\n001000001088420,300,A\n";
        let p = preview(csv, &lot(), &|e| {
            (e.as_str() == "840003123456789").then(|| "pen P9".to_owned())
        });
        let got: Vec<(Option<usize>, &str)> = p
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(3), "eid"),
                (Some(4), "eid"),
                (Some(5), "eid"),
                (Some(5), "weight"),
                (Some(6), "weight"),
                (Some(7), "eid"),
            ],
            "{:#?}",
            p.errors
        );
        assert!(p.errors[1].message.contains("listed twice (also line 2)"));
        assert!(p.errors[2].message.contains("already on the yard (pen P9)"));
        assert_eq!(p.head, 6);
        assert!(events(&p, &lot().unwrap(), Utc::now(), "y", "g", "d").is_none());
    }

    #[test]
    fn a_weight_header_without_a_unit_and_lot_errors_are_named() {
        let p = preview(b"eid,weight\n982000001088420,300\n", &lot(), &|_| None);
        let unit = p.errors.iter().find(|e| e.field == "weight").unwrap();
        assert_eq!(unit.line, Some(1), "{:?}", p.errors);
        let bad = LotFields {
            lot_id: " ".into(),
            pen_id: "P1".into(),
            shrink_pct: "104".into(),
            currency: "usd".into(),
            ..LotFields::default()
        }
        .check();
        let fields: Vec<String> = bad.unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["lot_id", "shrink_pct", "currency"]);
        let p = preview(b"eid,weight kg\n", &lot(), &|_| None);
        assert!(p.errors.iter().any(|e| e.message == "lists no animals"));
    }
}
