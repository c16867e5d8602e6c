//! A stacked horizontal bar chart (inline SVG): one bar per row, one coloured part per cost.

use maud::{Markup, html};

const WIDTH: f64 = 640.0;
const LABEL: f64 = 110.0;
const BAR: f64 = 22.0;
const GAP: f64 = 8.0;
const COLOURS: [&str; 6] = [
    "#2a5d8f", "#e0a030", "#6aa84f", "#c0504d", "#8064a2", "#4bacc6",
];

/// One part of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// What it is (legend).
    pub label: &'static str,
    /// Its value (non-negative).
    pub value: f64,
}

impl Part {
    /// A part; negative or non-finite values draw as zero.
    pub fn new(label: &'static str, value: f64) -> Self {
        Self {
            label,
            value: if value.is_finite() {
                value.max(0.0)
            } else {
                0.0
            },
        }
    }
}

/// A bar laid out: each part's x and width, where the bar ends, and its total.
struct Laid {
    spans: Vec<(f64, f64)>,
    end: f64,
    total: f64,
}

/// Bars of `rows` (label, parts: amounts in `currency`'s major units), scaled to the largest
/// total; each part has a `<title>` with its value, in the currency's decimals and code.
pub fn stacked_bars(id: &str, rows: &[(String, Vec<Part>)], currency: &str) -> Markup {
    let d = super::money::decimals(currency);
    let max = rows
        .iter()
        .map(|(_, parts)| parts.iter().map(|p| p.value).sum::<f64>())
        .fold(0.0_f64, f64::max);
    let legend: Vec<&'static str> = rows
        .first()
        .map(|(_, parts)| parts.iter().map(|p| p.label).collect())
        .unwrap_or_default();
    let height = rows.len() as f64 * (BAR + GAP) + 40.0;
    let scale = if max > 0.0 {
        (WIDTH - LABEL - 90.0) / max
    } else {
        0.0
    };
    // Each part's x and width, laid end to end; then the total's x.
    let laid: Vec<Laid> = rows
        .iter()
        .map(|(_, parts)| {
            let mut x = LABEL;
            let spans = parts
                .iter()
                .map(|p| {
                    let span = (x, p.value * scale);
                    x += span.1;
                    span
                })
                .collect();
            Laid {
                spans,
                end: x,
                total: parts.iter().map(|p| p.value).sum(),
            }
        })
        .collect();
    html! {
        svg id=(id) class="chart" viewBox={"0 0 " (WIDTH) " " (height)} width=(WIDTH) height=(height) role="img" {
            title { "Cost breakdown" }
            @for (i, ((label, parts), Laid { spans, end, total })) in rows.iter().zip(&laid).enumerate() {
                @let y = 30.0 + i as f64 * (BAR + GAP);
                text x="0" y=(format!("{:.1}", y + BAR * 0.7)) font-size="12" { (label) }
                @for (j, (part, (x, w))) in parts.iter().zip(spans).enumerate() {
                    rect class="part" x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{w:.1}")) height=(BAR) fill=(COLOURS[j % COLOURS.len()]) {
                        title { (label) " " (part.label) ": " (format!("{:.d$}", part.value)) " " (currency) }
                    }
                }
                text x=(format!("{:.1}", end + 6.0)) y=(format!("{:.1}", y + BAR * 0.7)) font-size="12" {
                    (format!("{total:.d$}")) " " (currency)
                }
            }
            @for (j, label) in legend.iter().enumerate() {
                rect x=(format!("{:.1}", LABEL + j as f64 * 100.0)) y="4" width="12" height="12" fill=(COLOURS[j % COLOURS.len()]) {}
                text x=(format!("{:.1}", LABEL + 16.0 + j as f64 * 100.0)) y="14" font-size="12" { (label) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_draws_one_part_per_cost_with_its_value() {
        let svg = stacked_bars(
            "c",
            &[
                (
                    "L1".into(),
                    vec![Part::new("Feed", 120.0), Part::new("Yardage", 30.5)],
                ),
                (
                    "L2".into(),
                    vec![Part::new("Feed", 80.0), Part::new("Yardage", f64::NAN)],
                ),
            ],
            "USD",
        )
        .into_string();
        assert_eq!(svg.matches("class=\"part\"").count(), 4, "{svg}");
        assert!(svg.contains("L1 Yardage: 30.50 USD"), "{svg}");
        assert!(svg.contains("150.50 USD"), "L1's total: {svg}");
        let yen = stacked_bars(
            "c",
            &[("L1".into(), vec![Part::new("Feed", 1_200.0)])],
            "JPY",
        );
        assert!(yen.into_string().contains("L1 Feed: 1200 JPY"));
    }
}
