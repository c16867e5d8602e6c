//! The units a user reads the pages in: US (lb, $/cwt, $/short ton) or metric (kg, $/kg, $/t).
//! Each user's choice is kept for every replica in a small table of the dashboards' own
//! (`web_user_settings`, see [`super::auth::store`]); a user who never chose reads
//! `web.default_units`. Pages, their tables and CSV exports follow the choice; the JSON API
//! always answers in kg and minor units per kg (its field names say so).

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::analytics::KG_PER_CWT;
use schemas::weight::KG_PER_LB;

/// Kg in a US short ton (2,000 lb).
pub const KG_PER_SHORT_TON: f64 = 2_000.0 * KG_PER_LB;

/// A unit system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Pounds, dollars per hundredweight (100 lb) and per short ton (2,000 lb).
    #[default]
    Us,
    /// Kilograms, money per kg and per tonne.
    Metric,
}

impl Units {
    /// `us` or `metric`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Metric => "metric",
        }
    }

    /// The system named `text` (`us` or `metric`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "us" => Some(Self::Us),
            "metric" => Some(Self::Metric),
            _ => None,
        }
    }

    /// The weight unit's symbol: `lb` or `kg`.
    pub fn weight(self) -> &'static str {
        match self {
            Self::Us => "lb",
            Self::Metric => "kg",
        }
    }

    /// `kg` in this system's weight unit.
    pub fn from_kg(self, kg: f64) -> f64 {
        match self {
            Self::Us => kg / KG_PER_LB,
            Self::Metric => kg,
        }
    }
}

/// What a table column holds, so that it can be shown in the reader's units. Values are given
/// in kg, and money per kg or per tonne; [`Unit::convert`] turns them into the reader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// No unit, or one that does not change (head, %, days, $ per head).
    None,
    /// A weight (or a weight per head or per day), given in kg.
    Weight,
    /// Money per weight, given per kg: per cwt or per kg.
    MoneyPerWeight,
    /// Money per tonne, given per metric tonne: per short ton or per tonne.
    MoneyPerTonne,
}

impl Unit {
    /// `value` (in the given units) in `units`.
    pub fn convert(self, value: f64, units: Units) -> f64 {
        match (self, units) {
            (Self::None, _) | (_, Units::Metric) => value,
            (Self::Weight, Units::Us) => value / KG_PER_LB,
            (Self::MoneyPerWeight, Units::Us) => value * KG_PER_CWT,
            (Self::MoneyPerTonne, Units::Us) => value * KG_PER_SHORT_TON / 1_000.0,
        }
    }

    /// The unit's text in `units` (what a label's `{u}` becomes): `lb`, `$/cwt`, `$/ton`, ...
    pub fn text(self, units: Units) -> &'static str {
        match (self, units) {
            (Self::None, _) => "",
            (Self::Weight, Units::Us) => "lb",
            (Self::Weight, Units::Metric) => "kg",
            (Self::MoneyPerWeight, Units::Us) => "$/cwt",
            (Self::MoneyPerWeight, Units::Metric) => "$/kg",
            (Self::MoneyPerTonne, Units::Us) => "$/ton",
            (Self::MoneyPerTonne, Units::Metric) => "$/t",
        }
    }

    /// What a CSV header adds to a column's key: `_lb`, `_per_cwt`, ...
    pub fn suffix(self, units: Units) -> &'static str {
        match (self, units) {
            (Self::None, _) => "",
            (Self::Weight, Units::Us) => "_lb",
            (Self::Weight, Units::Metric) => "_kg",
            (Self::MoneyPerWeight, Units::Us) => "_per_cwt",
            (Self::MoneyPerWeight, Units::Metric) => "_per_kg",
            (Self::MoneyPerTonne, Units::Us) => "_per_ton",
            (Self::MoneyPerTonne, Units::Metric) => "_per_t",
        }
    }
}

tokio::task_local! {
    /// The units of the user the current request is for.
    static CURRENT: Units;
}

/// Runs `request` with `units` as its reader's units.
pub async fn with_units<F: std::future::Future>(units: Units, request: F) -> F::Output {
    CURRENT.scope(units, request).await
}

/// The current request's reader's units (see [`with_units`]); the default outside a request.
pub fn current() -> Units {
    CURRENT.try_with(|u| *u).unwrap_or_default()
}

/// The form of `POST /settings/units`.
#[derive(Debug, Deserialize)]
pub struct UnitsForm {
    /// `us` or `metric`.
    pub units: String,
    /// The page to go back to (a path on this site).
    #[serde(default)]
    pub next: String,
}

/// `POST /settings/units`: keeps the signed-in user's choice (for every replica) and goes
/// back to `next`, else to the page the form was on (its `Referer`'s path on this site).
pub async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<UnitsForm>,
) -> Response {
    let Some(units) = Units::parse(&form.units) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("units: {:?} is not us or metric", form.units),
        )
            .into_response();
    };
    let user = super::cold::current_user();
    if let Err(e) = state.sessions.set_units(&user, units).await {
        tracing::error!(error = %e, "cannot keep a user's units");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "settings unavailable, try again",
        )
            .into_response();
    }
    let referer_path = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.parse::<axum::http::Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|p| p.to_string()));
    let next = [Some(form.next), referer_path]
        .into_iter()
        .flatten()
        .find(|path| on_this_site(path))
        .unwrap_or_else(|| "/".to_owned());
    Redirect::to(&next).into_response()
}

/// Whether `path` is a path on this site: never another site (`//host`, `/\\host`), so the
/// form cannot send a user elsewhere.
fn on_this_site(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\")
}

/// The switch shown on every dashboard: the reader's units, and a button for the other.
pub fn switch(path: &str) -> Markup {
    let units = current();
    let (other, label) = match units {
        Units::Us => (Units::Metric, "Show metric (kg)"),
        Units::Metric => (Units::Us, "Show US units (lb, $/cwt)"),
    };
    html! {
        form.units method="post" action="/settings/units" {
            "Units: " span id="units" data-units=(units.key()) { (match units { Units::Us => "US (lb, $/cwt)", Units::Metric => "metric (kg)" }) } " "
            input type="hidden" name="units" value=(other.key());
            input type="hidden" name="next" value=(path);
            button type="submit" { (label) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_prices_convert_to_the_readers_units() {
        assert!((Unit::Weight.convert(453.592_37, Units::Us) - 1_000.0).abs() < 1e-9);
        assert_eq!(Unit::Weight.convert(500.0, Units::Metric), 500.0);
        // $2/kg is $90.72/cwt.
        assert!((Unit::MoneyPerWeight.convert(2.0, Units::Us) - 90.718_474).abs() < 1e-6);
        // $200/t is $181.44 per short ton.
        assert!((Unit::MoneyPerTonne.convert(200.0, Units::Us) - 181.436_948).abs() < 1e-6);
        assert_eq!(Unit::None.convert(7.0, Units::Us), 7.0);
        assert_eq!(Units::parse("metric"), Some(Units::Metric));
        assert_eq!(Units::parse("imperial"), None);
    }

    #[test]
    fn only_paths_on_this_site_are_gone_back_to() {
        assert!(on_this_site("/feedlots/a/lots?sort=adg"));
        for elsewhere in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
        ] {
            assert!(!on_this_site(elsewhere), "{elsewhere}");
        }
    }
}
