//! Money as the pages show it. Records, facts and the JSON API carry minor units (cents, yen,
//! fils); a page shows the major units of the amount's currency with as many decimals as the
//! currency has (ISO 4217: 2 for USD, 0 for JPY, 3 for KWD; [`schemas::minor_digits`], the
//! same table the gateway's forms read amounts with). A lot's money is in the lot's currency; a
//! yard's feed and pens are in the currency its lots share ([`yard_currency`]).

use super::table::{Cell, num};
use crate::analytics::LotMeasures;

/// Decimals of `currency` (2 for an unknown or empty code).
pub fn decimals(currency: &str) -> usize {
    schemas::minor_digits(currency) as usize
}

/// `minor` units of `currency` in its major units (cents as dollars, yen as yen).
pub fn major(minor: f64, currency: &str) -> f64 {
    minor / 10f64.powi(schemas::minor_digits(currency) as i32)
}

/// A table cell of `minor` units of `currency`, in its major units.
pub fn cell(minor: Option<f64>, currency: &str) -> Cell {
    num(minor.map(|m| major(m, currency)), decimals(currency))
}

/// A table cell of an exact amount (a record's own price, whole minor units): its CSV, which
/// gives a number one more place than the page, has just the currency's decimals.
pub fn exact_cell(minor: Option<f64>, currency: &str) -> Cell {
    num(
        minor.map(|m| major(m, currency)),
        decimals(currency).saturating_sub(1),
    )
}

/// `minor` units of `currency` as text in its major units (a dash for none).
pub fn text(minor: Option<f64>, currency: &str) -> String {
    minor
        .filter(|m| m.is_finite())
        .map(|m| format!("{:.d$}", major(m, currency), d = decimals(currency)))
        .unwrap_or_else(|| "–".into())
}

/// How labels name `currency`'s money (`Total $/hd`, `COG ¥/kg`): the sign a yard reads for
/// it where one is common and clear in its own pages (`$` for the dollars and pesos, `€`, `£`,
/// `¥` for yen and yuan, `₩`, `₹`, `R$`), else its ISO code; `$` for none (amounts whose
/// currency is not known, shown as before).
pub fn sign(currency: &str) -> String {
    match currency {
        "" | "USD" | "CAD" | "AUD" | "NZD" | "MXN" | "ARS" | "CLP" | "COP" | "UYU" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" | "CNY" => "¥".into(),
        "KRW" => "₩".into(),
        "INR" => "₹".into(),
        "BRL" => "R$".into(),
        other => other.to_owned(),
    }
}

/// The currency a yard's lots share: what its feed and pens cost in. Empty when it has no lot
/// or lots in several (then amounts show with 2 decimals and no code).
pub fn yard_currency(lots: &[LotMeasures]) -> String {
    let mut codes = lots.iter().map(|l| l.currency.as_str());
    match codes.next() {
        Some(first) if codes.all(|c| c == first) => first.to_owned(),
        _ => String::new(),
    }
}

/// A row of a table whose rows carry no currency (a yard's feed and pens), with the currency
/// its money is in.
#[derive(Debug, Clone)]
pub struct InCurrency<T> {
    /// The row.
    pub row: T,
    /// Its money's currency.
    pub currency: String,
}

/// `rows`, each with `currency`.
pub fn in_currency<T>(rows: Vec<T>, currency: &str) -> Vec<InCurrency<T>> {
    rows.into_iter()
        .map(|row| InCurrency {
            row,
            currency: currency.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_shows_with_its_currencys_decimals() {
        assert_eq!(cell(Some(12_345.0), "USD"), Cell::Num(Some(123.45), 2));
        assert_eq!(cell(Some(12_345.0), "JPY"), Cell::Num(Some(12_345.0), 0));
        assert_eq!(exact_cell(Some(2_000.0), "USD"), Cell::Num(Some(20.0), 1));
        assert_eq!(
            exact_cell(Some(2_000.0), "JPY"),
            Cell::Num(Some(2_000.0), 0)
        );
        assert_eq!(text(Some(12_345.0), "KWD"), "12.345");
        assert_eq!(text(Some(250_000.0), "JPY"), "250000");
        assert_eq!(text(Some(250_000.0), ""), "2500.00", "unknown: 2 decimals");
        assert_eq!(text(None, "USD"), "–");
    }

    #[test]
    fn labels_name_the_currency_by_its_sign_or_its_code() {
        assert_eq!(sign("USD"), "$");
        assert_eq!(sign("JPY"), "¥");
        assert_eq!(sign("KWD"), "KWD");
        assert_eq!(sign(""), "$", "unknown: as before");
    }

    #[test]
    fn a_yard_has_a_currency_only_when_its_lots_share_one() {
        let lot = |c: &str| LotMeasures {
            currency: c.into(),
            ..LotMeasures::default()
        };
        assert_eq!(yard_currency(&[lot("JPY"), lot("JPY")]), "JPY");
        assert_eq!(yard_currency(&[lot("JPY"), lot("USD")]), "");
        assert_eq!(yard_currency(&[]), "");
    }
}
