//! Tables shared by the dashboards: one list of columns drives the sortable HTML table, the CSV
//! export and the sorting of the JSON API, so the three always agree. A column with a unit
//! gives its values in kg (or money per kg or per tonne) and is shown, and exported, in the
//! reader's units ([`super::units`]); its label's `{u}` becomes the unit.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::units::{Unit, Units};

/// `?sort=…&order=…` on a table.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Sorting {
    /// A column key.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
}

/// A cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, sorted as text.
    Text(String),
    /// A number shown with `decimals` places (CSV: one more, whole numbers stay whole); None
    /// shows as a dash and sorts last.
    Num(Option<f64>, usize),
}

impl Cell {
    /// The cell as the pages print it (a missing number as a dash).
    pub fn shown(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Num(Some(v), d) => format!("{v:.d$}", d = *d),
            Self::Num(None, _) => "–".into(),
        }
    }

    fn csv(&self) -> String {
        match self {
            Self::Text(t) => inert(t),
            Self::Num(Some(v), 0) => format!("{v:.0}"),
            Self::Num(Some(v), d) => format!("{v:.d$}", d = *d + 1),
            Self::Num(None, _) => String::new(),
        }
    }

    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Num(a, _), Self::Num(b, _)) => a
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&b.unwrap_or(f64::NEG_INFINITY)),
            (a, b) => a.shown().cmp(&b.shown()),
        }
    }
}

/// `text` safe to open in a spreadsheet (OWASP "CSV injection"): a cell that starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would be read as a formula, so it gets a leading
/// `'`. Only free text (names, ids, notes) goes through this; numbers the app formats itself
/// are written as they are, so a negative gain stays a number.
pub fn inert(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// One column: its key (in `?sort=` and, with its unit, the CSV header), its label, its unit
/// and its value.
pub struct Column<T> {
    /// Key.
    pub key: &'static str,
    /// Header label; `{u}` is replaced by the unit in the reader's units.
    pub label: &'static str,
    /// What the values are in (kg, money per kg, ...), [`Unit::None`] for no conversion.
    pub unit: Unit,
    /// The cell of a row, in kg / money per kg / per tonne for a column with a unit.
    pub value: fn(&T) -> Cell,
}

impl<T> Column<T> {
    /// The header in `units`.
    pub fn label_in(&self, units: Units) -> String {
        self.label.replace("{u}", self.unit.text(units))
    }

    /// The header in `units`, its money signs naming `currency` ([`super::money::sign`]).
    pub fn label_for(&self, units: Units, currency: &str) -> String {
        self.label_in(units)
            .replace('$', &super::money::sign(currency))
    }

    /// The CSV header in `units`: the key, and the unit for a column with one (`in_weight_lb`).
    pub fn csv_key_in(&self, units: Units) -> String {
        format!("{}{}", self.key, self.unit.suffix(units))
    }

    /// The cell of `row` in `units`.
    pub fn cell_in(&self, row: &T, units: Units) -> Cell {
        match (self.value)(row) {
            Cell::Num(Some(v), d) => Cell::Num(Some(self.unit.convert(v, units)), d),
            other => other,
        }
    }
}

/// A cell of `decimals` places from an optional number.
pub fn num(v: Option<f64>, decimals: usize) -> Cell {
    Cell::Num(v.filter(|v| v.is_finite()), decimals)
}

/// Whether the table is sorted descending: as asked, else names A→Z and numbers high→low.
fn descending<T>(columns: &[Column<T>], rows: &[T], key: &str, sorting: &Sorting) -> Option<bool> {
    match sorting.order.as_deref() {
        Some("desc") => Some(true),
        Some("asc") => Some(false),
        Some(_) => None,
        None => Some(
            columns
                .iter()
                .find(|c| c.key == key)
                .zip(rows.first())
                .is_none_or(|(c, row)| !matches!((c.value)(row), Cell::Text(_))),
        ),
    }
}

/// Sorts `rows` by `sorting` (default: `default_key`; names A→Z, numbers high→low); an
/// unknown key or order is a 400 naming it.
pub fn sort<T>(
    rows: &mut [T],
    columns: &[Column<T>],
    sorting: &Sorting,
    default_key: &str,
) -> Result<(), WebError> {
    let key = sorting.sort.as_deref().unwrap_or(default_key);
    let desc = match descending(columns, rows, key, sorting) {
        Some(desc) => desc,
        None => {
            return Err(WebError::BadRequest(format!(
                "order: {:?} is not asc or desc",
                sorting.order.as_deref().unwrap_or_default()
            )));
        }
    };
    let Some(column) = columns.iter().find(|c| c.key == key) else {
        let known: Vec<&str> = columns.iter().map(|c| c.key).collect();
        return Err(WebError::BadRequest(format!(
            "sort: {key:?} is not one of {known:?}"
        )));
    };
    rows.sort_by(|a, b| (column.value)(a).cmp(&(column.value)(b)));
    if desc {
        rows.reverse();
    }
    Ok(())
}

/// The HTML table, in the current reader's units ([`super::units::current`]): headers link to
/// sorting by that column and name money in `currency` ([`Column::label_for`]; "" for tables
/// without money); `link` makes the first cell a link.
pub fn html_table<T>(
    id: &str,
    columns: &[Column<T>],
    rows: &[T],
    sorting: &Sorting,
    default_key: &str,
    link: Option<&dyn Fn(&T) -> String>,
    currency: &str,
) -> Markup {
    let current = sorting.sort.as_deref().unwrap_or(default_key);
    let desc = descending(columns, rows, current, sorting).unwrap_or(true);
    let units = super::units::current();
    html! {
        table id=(id) {
            thead { tr {
                @for c in columns {
                    @let order = if c.key == current && desc { "asc" } else { "desc" };
                    th data-key=(c.key) { a href={"?sort=" (c.key) "&order=" (order)} {
                        (c.label_for(units, currency)) @if c.key == current { (if desc { " ▼" } else { " ▲" }) }
                    } }
                }
            } }
            tbody {
                @for row in rows {
                    tr {
                        @for (i, c) in columns.iter().enumerate() {
                            @let cell = c.cell_in(row, units);
                            td data-key=(c.key) {
                                @match (i, link) {
                                    (0, Some(href)) => a href=(href(row)) { (cell.shown()) },
                                    _ => (cell.shown()),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The rows as a CSV download named `filename`, one column per [`Column`] in the current
/// reader's units (the header names them), numbers with one more decimal than shown, money in
/// major units.
pub fn csv_response<T>(
    filename: &str,
    columns: &[Column<T>],
    rows: &[T],
) -> Result<Response, WebError> {
    let failed = |e: csv::Error| WebError::BadRequest(format!("csv: {e}"));
    let units = super::units::current();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(columns.iter().map(|c| c.csv_key_in(units)))
        .map_err(failed)?;
    for row in rows {
        out.write_record(columns.iter().map(|c| c.cell_in(row, units).csv()))
            .map_err(failed)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| WebError::BadRequest(format!("csv: {e}")))?;
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column<(String, Option<f64>)>> {
        vec![
            Column {
                key: "name",
                label: "Name",
                unit: Unit::None,
                value: |r| Cell::Text(r.0.clone()),
            },
            Column {
                key: "adg",
                label: "ADG {u}/d",
                unit: Unit::Weight,
                value: |r| num(r.1, 2),
            },
        ]
    }

    #[test]
    fn rows_sort_by_a_known_column_and_missing_numbers_sort_last() {
        let mut rows = vec![
            ("a".to_owned(), Some(1.2)),
            ("b".to_owned(), None),
            ("c".to_owned(), Some(1.9)),
        ];
        sort(&mut rows, &columns(), &Sorting::default(), "adg").unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        let bad = Sorting {
            sort: Some("adg;drop".into()),
            order: None,
        };
        assert!(matches!(
            sort(&mut rows, &columns(), &bad, "adg"),
            Err(WebError::BadRequest(m)) if m.contains("sort")
        ));
    }

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_is_made_inert_and_numbers_stay_numbers() {
        for (text, written) in [
            ("=cmd()", "'=cmd()"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("pen 4 = east", "pen 4 = east"),
            ("", ""),
        ] {
            assert_eq!(Cell::Text(text.into()).csv(), written, "{text:?}");
        }
        assert_eq!(Cell::Num(Some(-1.25), 1).csv(), "-1.25");
    }

    #[tokio::test]
    async fn csv_and_html_show_the_same_values() {
        let rows = vec![("a".to_owned(), Some(1.234))];
        let html = super::super::units::with_units(Units::Metric, async {
            html_table("t", &columns(), &rows, &Sorting::default(), "adg", None, "").into_string()
        })
        .await;
        assert!(html.contains(">1.23<"), "{html}");
    }

    #[tokio::test]
    async fn a_column_with_a_unit_shows_and_exports_in_the_readers_units() {
        let rows = vec![("a".to_owned(), Some(1.0))];
        let metric = super::super::units::with_units(Units::Metric, async {
            html_table("t", &columns(), &rows, &Sorting::default(), "adg", None, "").into_string()
        })
        .await;
        assert!(
            metric.contains("ADG kg/d") && metric.contains(">1.00<"),
            "{metric}"
        );
        let us = super::super::units::with_units(Units::Us, async {
            html_table("t", &columns(), &rows, &Sorting::default(), "adg", None, "").into_string()
        })
        .await;
        assert!(us.contains("ADG lb/d") && us.contains(">2.20<"), "{us}");
        assert_eq!(columns()[1].csv_key_in(Units::Us), "adg_lb");
    }
}
