//! The yard report behind the lot, pen and feed dashboards, as of now or `?as_of=` (RFC 3339).

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::table::Sorting;
use super::{AppState, WebError};
use crate::analytics::{YardReport, yard_report};

/// Query parameters of the report pages: the moment and the table's sorting.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// Report as of this UTC time (default: now), e.g. `2026-11-01T00:00:00Z`.
    pub as_of: Option<String>,
    /// Sort column.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
}

impl ReportQuery {
    /// The sorting part.
    pub fn sorting(&self) -> Sorting {
        Sorting {
            sort: self.sort.clone(),
            order: self.order.clone(),
        }
    }

    /// The report's moment, ms since the epoch.
    pub fn as_of_ms(&self) -> Result<u64, WebError> {
        let at = match &self.as_of {
            None => Utc::now(),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    WebError::BadRequest(format!("as_of: {text:?} is not an RFC 3339 time: {e}"))
                })?
                .with_timezone(&Utc),
        };
        u64::try_from(at.timestamp_millis())
            .map_err(|_| WebError::BadRequest("as_of: before 1970".into()))
    }
}

/// Loads and computes `feedlot_id`'s report.
pub async fn load(
    state: &AppState,
    feedlot_id: &str,
    query: &ReportQuery,
) -> Result<YardReport, WebError> {
    let as_of = query.as_of_ms()?;
    Ok(yard_report(&state.client, feedlot_id, as_of, &state.settings).await?)
}

/// The yard's dashboard links, on every page.
pub fn nav(feedlot_id: &str) -> Markup {
    html! {
        nav {
            @for (path, label) in [("animals", "Animals"), ("lots", "Lots"), ("pens", "Pens"), ("feed", "Feed"), ("benchmarks", "Benchmarks")] {
                a href={"/feedlots/" (feedlot_id) "/" (path)} { (label) } " · "
            }
        }
    }
}

/// "2026-03-21 12:00 UTC" for ms since the epoch.
pub fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
