//! Charts drawn on the server as inline SVG: no JavaScript needed to see them.

use maud::{Markup, html};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const PAD: f64 = 36.0;

/// A histogram of `values` in bins of `bin_width`, labelled on the x axis with `unit`.
pub fn histogram(id: &str, values: &[f64], bin_width: f64, unit: &str) -> Markup {
    if values.is_empty() || bin_width <= 0.0 {
        return html! { p { "Not enough data for a chart yet." } };
    }
    let lo = (values.iter().copied().fold(f64::INFINITY, f64::min) / bin_width).floor() * bin_width;
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bins = (((hi - lo) / bin_width).floor() as usize + 1).clamp(1, 200);
    let mut counts = vec![0usize; bins];
    for v in values {
        let i = (((v - lo) / bin_width).floor() as usize).min(bins - 1);
        counts[i] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bar_w = (WIDTH - 2.0 * PAD) / bins as f64;
    html! {
        svg id=(id) class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width=(WIDTH) height=(HEIGHT) role="img" {
            title { "Distribution (" (values.len()) " animals)" }
            @for (i, c) in counts.iter().enumerate() {
                @let h = (HEIGHT - 2.0 * PAD) * (*c as f64) / max;
                rect class="bar" x=(format!("{:.1}", PAD + i as f64 * bar_w)) y=(format!("{:.1}", HEIGHT - PAD - h))
                    width=(format!("{:.1}", (bar_w - 1.0).max(1.0))) height=(format!("{h:.1}")) fill="#4a7f4a" {
                    title { (format!("{:.2}–{:.2} {unit}: {c}", lo + i as f64 * bin_width, lo + (i + 1) as f64 * bin_width)) }
                }
            }
            line x1=(PAD) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) stroke="#333" {}
            text x=(PAD) y=(HEIGHT - 10.0) font-size="12" { (format!("{lo:.2}")) }
            text x=(WIDTH - PAD) y=(HEIGHT - 10.0) font-size="12" text-anchor="end" { (format!("{:.2} {unit}", lo + bins as f64 * bin_width)) }
        }
    }
}

/// A line through `points` (x = ms since epoch, y = kg), labelled with the first and last y.
pub fn line(id: &str, points: &[(u64, f64)], unit: &str) -> Markup {
    if points.len() < 2 {
        return html! { p { "The curve appears after a second weighing." } };
    }
    let (x0, x1) = (points[0].0 as f64, points[points.len() - 1].0 as f64);
    let y_lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let y_hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span_x = (x1 - x0).max(1.0);
    let span_y = (y_hi - y_lo).max(1.0);
    let xy = |p: &(u64, f64)| {
        (
            PAD + (p.0 as f64 - x0) / span_x * (WIDTH - 2.0 * PAD),
            HEIGHT - PAD - (p.1 - y_lo) / span_y * (HEIGHT - 2.0 * PAD),
        )
    };
    let path: Vec<String> = points
        .iter()
        .map(|p| {
            let (x, y) = xy(p);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg id=(id) class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width=(WIDTH) height=(HEIGHT) role="img" {
            title { "Weight curve" }
            polyline points=(path.join(" ")) fill="none" stroke="#2a5d8f" stroke-width="2" {}
            @for p in points {
                @let (x, y) = xy(p);
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" fill="#2a5d8f" {}
            }
            text x=(PAD) y=(HEIGHT - 10.0) font-size="12" { (format!("{y_lo:.0} {unit}")) }
            text x=(WIDTH - PAD) y="20" font-size="12" text-anchor="end" { (format!("{y_hi:.0} {unit}")) }
        }
    }
}

/// One row of a band chart: a label and p10/p25/p50/p75/p90, or None when the band is hidden
/// (the note then says why).
#[derive(Debug, Clone, PartialEq)]
pub struct BandRow<'a> {
    /// E.g. `Area (US-NE)`.
    pub label: &'a str,
    /// p10, p25, p50, p75, p90.
    pub quantiles: Option<[f64; 5]>,
    /// Shown instead of a box when hidden.
    pub note: String,
}

/// Box-and-whisker bands, one row each: whiskers p10..p90, a box p25..p75, a median line,
/// and the yard's own value as a vertical line across all rows.
pub fn bands(id: &str, rows: &[BandRow<'_>], own: Option<f64>, unit: &str) -> Markup {
    const ROW_H: f64 = 36.0;
    const LABEL_W: f64 = 150.0;
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.quantiles)
        .flat_map(|q| [q[0], q[4]])
        .chain(own)
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else {
        let pad = ((hi - lo) * 0.05).max(hi.abs().max(1e-9) * 0.01);
        (lo - pad, hi + pad)
    };
    let height = PAD + ROW_H * rows.len() as f64 + PAD;
    let x = |v: f64| LABEL_W + (v - lo) / (hi - lo) * (WIDTH - LABEL_W - PAD);
    let f = |v: f64| format!("{v:.1}");
    html! {
        svg id=(id) class="chart bands" viewBox={"0 0 " (WIDTH) " " (height)} width=(WIDTH) height=(height) role="img" {
            title { "Percentile bands (" (unit) ")" }
            @for (i, row) in rows.iter().enumerate() {
                @let mid = PAD + ROW_H * (i as f64 + 0.5);
                text x="4" y=(f(mid + 4.0)) font-size="12" { (row.label) }
                @if let Some(q) = row.quantiles {
                    g class="band" data-p10=(q[0]) data-p25=(q[1]) data-p50=(q[2]) data-p75=(q[3]) data-p90=(q[4]) {
                        line class="whisker" x1=(f(x(q[0]))) y1=(f(mid)) x2=(f(x(q[4]))) y2=(f(mid)) stroke="#555" {}
                        rect class="box" x=(f(x(q[1]))) y=(f(mid - 10.0)) width=(f((x(q[3]) - x(q[1])).max(1.0))) height="20" fill="#cfe0cf" stroke="#4a7f4a" {}
                        line class="median" x1=(f(x(q[2]))) y1=(f(mid - 10.0)) x2=(f(x(q[2]))) y2=(f(mid + 10.0)) stroke="#1d3d1d" stroke-width="2" {}
                    }
                } @else {
                    text class="hidden-band" x=(LABEL_W) y=(f(mid + 4.0)) font-size="12" fill="#777" { (row.note) }
                }
            }
            @if let Some(v) = own.filter(|v| v.is_finite()) {
                line class="own" data-value=(v) x1=(f(x(v))) y1=(f(PAD - 6.0)) x2=(f(x(v))) y2=(f(height - PAD + 6.0)) stroke="#c0392b" stroke-width="2" {}
                text x=(f(x(v))) y=(f(PAD - 10.0)) font-size="12" text-anchor="middle" fill="#c0392b" { "your yard" }
            }
            text x=(LABEL_W) y=(f(height - 8.0)) font-size="12" { (format!("{lo:.2}")) }
            text x=(WIDTH - PAD) y=(f(height - 8.0)) font-size="12" text-anchor="end" { (format!("{hi:.2} {unit}")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_draws_one_bar_per_bin_with_counts_in_titles() {
        let svg = histogram("h", &[1.0, 1.05, 1.5, 1.55, 1.58], 0.1, "kg/d").into_string();
        assert_eq!(svg.matches("<rect").count(), 6, "{svg}");
        assert!(svg.contains(": 3</title>"), "1.5-1.6 holds three: {svg}");
    }

    #[test]
    fn a_band_chart_draws_a_box_per_shown_row_and_a_note_for_a_hidden_one() {
        let rows = [
            BandRow {
                label: "Area",
                quantiles: None,
                note: "hidden: 4 yards".into(),
            },
            BandRow {
                label: "World",
                quantiles: Some([1.0, 1.2, 1.4, 1.6, 1.8]),
                note: String::new(),
            },
        ];
        let svg = bands("b", &rows, Some(1.5), "kg/d").into_string();
        assert_eq!(svg.matches("class=\"box\"").count(), 1, "{svg}");
        assert!(
            svg.contains("hidden: 4 yards") && svg.contains("class=\"own\""),
            "{svg}"
        );
        assert!(svg.contains("data-p50=\"1.4\""), "{svg}");
    }

    #[test]
    fn a_curve_needs_two_points() {
        assert!(
            !line("c", &[(0, 300.0)], "kg")
                .into_string()
                .contains("<polyline")
        );
        assert!(
            line("c", &[(0, 300.0), (86_400_000, 302.0)], "kg")
                .into_string()
                .contains("<polyline")
        );
    }
}
