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
