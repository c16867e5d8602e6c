//! A yard's animals: a sortable table, the ADG distribution, CSV and JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use std::sync::Arc;
use std::time::Instant;

use crate::facts::animals;
use crate::queries::AnimalSummary;
use crate::web::charts::histogram;
use crate::web::{AppState, WebError};

/// `?sort=…&order=…` on the table.
#[derive(Debug, Default, Deserialize)]
pub struct Sorting {
    /// `eid`, `weighings`, `last_kg`, `gain`, `adg` (default).
    pub sort: Option<String>,
    /// `asc` or `desc` (default).
    pub order: Option<String>,
}

/// `?sort=…&order=…&page=…` on the page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// As [`Sorting::sort`].
    pub sort: Option<String>,
    /// As [`Sorting::order`].
    pub order: Option<String>,
    /// The page of [`PAGE_ROWS`] rows, from 1 (default).
    pub page: Option<usize>,
}

/// Rows on one page of the animals table (the CSV and JSON have every animal).
pub const PAGE_ROWS: usize = 500;

/// The rows of page `page` (from 1) of `total` rows, and the number of pages (at least 1).
fn page_bounds(total: usize, page: usize) -> Result<(std::ops::Range<usize>, usize), WebError> {
    let pages = total.div_ceil(PAGE_ROWS).max(1);
    if page == 0 || page > pages {
        return Err(WebError::BadRequest(format!(
            "page: {page} is not between 1 and {pages}"
        )));
    }
    let start = (page - 1) * PAGE_ROWS;
    Ok((start..total.min(start + PAGE_ROWS), pages))
}

/// The sortable columns: key and label (`{u}` is the reader's weight unit).
const COLUMNS: [(&str, &str); 5] = [
    ("eid", "EID"),
    ("weighings", "Weighings"),
    ("last_kg", "Last weight {u}"),
    ("gain", "Gain {u}"),
    ("adg", "ADG {u}/day"),
];

fn sort(animals: &mut [&AnimalSummary], sorting: &Sorting) -> Result<(), WebError> {
    let key = sorting.sort.as_deref().unwrap_or("adg");
    let desc = match sorting.order.as_deref().unwrap_or("desc") {
        "desc" => true,
        "asc" => false,
        other => {
            return Err(WebError::BadRequest(format!(
                "order: {other:?} is not asc or desc"
            )));
        }
    };
    let num = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
    match key {
        "eid" => animals.sort_by(|a, b| a.eid.cmp(&b.eid)),
        "weighings" => animals.sort_by_key(|a| a.weighings),
        "last_kg" => animals.sort_by(|a, b| a.last_kg.total_cmp(&b.last_kg)),
        "gain" => animals.sort_by(|a, b| a.gain_kg.total_cmp(&b.gain_kg)),
        "adg" => animals.sort_by(|a, b| num(a.adg_kg_per_day).total_cmp(&num(b.adg_kg_per_day))),
        other => {
            let known: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
            return Err(WebError::BadRequest(format!(
                "sort: {other:?} is not one of {known:?}"
            )));
        }
    }
    if desc {
        animals.reverse();
    }
    Ok(())
}

/// `herd`'s animals in `sorting`'s order (borrowed: 50,000 head are not copied per request).
fn sorted<'a>(
    herd: &'a [AnimalSummary],
    sorting: &Sorting,
) -> Result<Vec<&'a AnimalSummary>, WebError> {
    let mut animals: Vec<&AnimalSummary> = herd.iter().collect();
    sort(&mut animals, sorting)?;
    Ok(animals)
}

/// The yard's herd summary, from the cache when fresh, else read from its `animal_facts`
/// ([`animals::herd`]) under the cold-work limits of the current request's user
/// ([`super::cold`]). Like the lot dashboards, it holds the records the facts worker has taken
/// in (a few seconds behind the newest).
pub async fn herd(state: &AppState, feedlot_id: &str) -> Result<Arc<Vec<AnimalSummary>>, WebError> {
    let user = super::cold::current_user();
    state
        .herds
        .get_or_load(feedlot_id, Instant::now(), || {
            let work = animals::herd(&state.client, feedlot_id);
            super::cold::run(state, "herd", feedlot_id, &user, work)
        })
        .await
}

/// `GET /api/feedlots/{feedlot_id}/animals`.
pub async fn json(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(sorting): Query<Sorting>,
) -> Result<Response, WebError> {
    let herd = herd(&state, &feedlot_id).await?;
    Ok(Json(sorted(&herd, &sorting)?).into_response())
}

/// `GET /feedlots/{feedlot_id}/animals.csv`.
pub async fn csv(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(sorting): Query<Sorting>,
) -> Result<impl IntoResponse, WebError> {
    let herd = herd(&state, &feedlot_id).await?;
    csv_of(
        &format!("{feedlot_id}-animals.csv"),
        sorted(&herd, &sorting)?,
    )
}

/// `animals` as a CSV download named `filename`, weights in the reader's units (the headers
/// name them: `last_lb`, `adg_lb_per_day`, ...).
pub fn csv_of<'a>(
    filename: &str,
    animals: impl IntoIterator<Item = &'a AnimalSummary>,
) -> Result<Response, WebError> {
    let units = super::units::current();
    let w = units.weight();
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| WebError::BadRequest(format!("csv: {e}"));
    out.write_record([
        "eid".to_owned(),
        "weighings".to_owned(),
        format!("first_{w}"),
        format!("last_{w}"),
        format!("gain_{w}"),
        "days".to_owned(),
        format!("adg_{w}_per_day"),
        "adg_rank".to_owned(),
        "adg_percentile".to_owned(),
        "lot_id".to_owned(),
        "lot_rank".to_owned(),
        "lot_percentile".to_owned(),
    ])
    .map_err(failed)?;
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    let kg = |v: f64| format!("{:.1}", units.from_kg(v));
    let rank = |r: Option<usize>| r.map(|r| r.to_string()).unwrap_or_default();
    for a in animals {
        out.write_record([
            super::table::inert(&a.eid),
            a.weighings.to_string(),
            kg(a.first_kg),
            kg(a.last_kg),
            kg(a.gain_kg),
            format!("{:.2}", a.days),
            opt(a.adg_kg_per_day.map(|v| units.from_kg(v))),
            rank(a.adg_rank),
            opt(a.adg_percentile),
            super::table::inert(a.lot_id.as_deref().unwrap_or_default()),
            rank(a.lot_rank),
            opt(a.lot_percentile),
        ])
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

/// `GET /feedlots/{feedlot_id}/animals`.
pub async fn page(
    State(state): State<AppState>,
    Path(feedlot_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Markup, WebError> {
    let sorting = Sorting {
        sort: query.sort,
        order: query.order,
    };
    let herd = herd(&state, &feedlot_id).await?;
    let animals = sorted(&herd, &sorting)?;
    let adgs: Vec<f64> = animals.iter().filter_map(|a| a.adg_kg_per_day).collect();
    let units = super::units::current();
    let current = sorting.sort.as_deref().unwrap_or("adg");
    let desc = sorting.order.as_deref().unwrap_or("desc") == "desc";
    let page = query.page.unwrap_or(1);
    let (rows, pages) = page_bounds(animals.len(), page)?;
    let link = |n: usize| {
        format!(
            "?sort={current}&order={}&page={n}",
            if desc { "desc" } else { "asc" }
        )
    };
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Animals · " (feedlot_id) }
                style { (super::STYLE) }
            }
            body {
                (super::report::nav(&feedlot_id))
                h1 { "Animals at " (feedlot_id) }
                p { span #head-count { (animals.len()) } " head weighed · "
                    a href={"/feedlots/" (feedlot_id) "/animals.csv"} { "CSV" } " · "
                    a href={"/api/feedlots/" (feedlot_id) "/animals"} { "JSON" } }
                h2 { "ADG distribution" }
                (histogram("adg-histogram", &adgs.iter().map(|a| units.from_kg(*a)).collect::<Vec<_>>(), 0.1, &format!("{}/day", units.weight())))
                @if pages > 1 {
                    p #pages {
                        "Rows " (rows.start + 1) "–" (rows.end) " of " (animals.len()) " · page " (page) " of " (pages) " · "
                        @if page > 1 { a #prev-page href=(link(page - 1)) { "previous" } " · " }
                        @if page < pages { a #next-page href=(link(page + 1)) { "next" } }
                    }
                }
                (table(&feedlot_id, &animals[rows], current, desc))
            }
        }
    })
}

/// The animals table; headers sort by their column (`current`, `desc`).
fn table(feedlot_id: &str, animals: &[&AnimalSummary], current: &str, desc: bool) -> Markup {
    let units = super::units::current();
    let w = |kg: f64| format!("{:.1}", units.from_kg(kg));
    html! {
    table #animals {
        thead { tr {
            @for (key, label) in COLUMNS {
                @let order = if key == current && desc { "asc" } else { "desc" };
                th { a href={"?sort=" (key) "&order=" (order)} { (label.replace("{u}", units.weight())) @if key == current { (if desc { " ▼" } else { " ▲" }) } } }
            }
            th { "Rank" } th { "Percentile" }
            th { "Lot" } th { "Rank in lot" } th { "Pctl in lot" }
        } }
        tbody {
            @for a in animals {
                tr {
                    td { a href={"/feedlots/" (feedlot_id) "/animals/" (a.eid)} { (a.eid) } }
                    td { (a.weighings) }
                    td { (w(a.last_kg)) }
                    td { (w(a.gain_kg)) }
                    td.adg { @if let Some(v) = a.adg_kg_per_day { (format!("{:.2}", units.from_kg(v))) } @else { "–" } }
                    td { @if let Some(r) = a.adg_rank { (r) } @else { "–" } }
                    td { @if let Some(p) = a.adg_percentile { (format!("{p:.0}")) } @else { "–" } }
                    td.lot { @if let Some(l) = &a.lot_id { a href={"/feedlots/" (feedlot_id) "/lots/" (l)} { (l) } } @else { "–" } }
                    td { @if let Some(r) = a.lot_rank { (r) } @else { "–" } }
                    td { @if let Some(p) = a.lot_percentile { (format!("{p:.0}")) } @else { "–" } }
                }
            }
        }
    }
    }
}

/// The animals of a lot, best ADG first, with their rank in the lot.
pub fn animal_table(feedlot_id: &str, animals: &[AnimalSummary]) -> Markup {
    let animals: Vec<&AnimalSummary> = animals.iter().collect();
    table(feedlot_id, &animals, "lot_rank", false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn animal(eid: &str, adg: Option<f64>) -> AnimalSummary {
        AnimalSummary {
            eid: eid.into(),
            weighings: 2,
            first_kg: 300.0,
            first_at_ms: 0,
            last_kg: 330.0,
            last_at_ms: 0,
            gain_kg: 30.0,
            days: 20.0,
            adg_kg_per_day: adg,
            adg_lb_per_day: None,
            adg_rank: None,
            adg_percentile: None,
            lot_id: None,
            pen_id: None,
            lot_rank: None,
            lot_percentile: None,
        }
    }

    #[test]
    fn pages_hold_page_rows_each_and_a_page_past_the_last_is_refused() {
        assert_eq!(
            page_bounds(0, 1).unwrap(),
            (0..0, 1),
            "an empty yard has one page"
        );
        assert_eq!(page_bounds(1_234, 1).unwrap(), (0..PAGE_ROWS, 3));
        assert_eq!(page_bounds(1_234, 3).unwrap(), (2 * PAGE_ROWS..1_234, 3));
        assert!(
            matches!(page_bounds(1_234, 4), Err(WebError::BadRequest(m)) if m.contains("page"))
        );
        assert!(page_bounds(1_234, 0).is_err());
    }

    #[test]
    fn sorting_defaults_to_best_adg_first_and_rejects_unknown_columns() {
        let animals = [
            animal("a", Some(1.2)),
            animal("b", None),
            animal("c", Some(1.9)),
        ];
        let mut herd: Vec<&AnimalSummary> = animals.iter().collect();
        sort(&mut herd, &Sorting::default()).unwrap();
        assert_eq!(
            herd.iter().map(|a| a.eid.as_str()).collect::<Vec<_>>(),
            ["c", "a", "b"]
        );
        let bad = Sorting {
            sort: Some("weight; drop".into()),
            order: None,
        };
        assert!(
            matches!(sort(&mut herd, &bad), Err(WebError::BadRequest(m)) if m.contains("sort"))
        );
    }
}
