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

/// The UTC date of `ms` since the epoch, `2026-03-01`.
fn date(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A time series titled `title`: `points` (x = ms since the epoch UTC, y in `unit`) joined by
/// a line, on a dated x axis (the first, middle and last dates, UTC) and a y axis marked at its
/// low, middle and high values with `unit`. Each point carries its moment and value
/// (`data-ms`, `data-value`) and a tooltip. With fewer than two points, `too_few` instead.
pub fn time_series(
    id: &str,
    title: &str,
    points: &[(u64, f64)],
    unit: &str,
    too_few: &str,
) -> Markup {
    let points: Vec<(u64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
    if points.len() < 2 {
        return html! { p id=(id) { (too_few) } };
    }
    let (x0, x1) = (points[0].0 as f64, points[points.len() - 1].0 as f64);
    let y_lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let y_hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span_x = (x1 - x0).max(1.0);
    let span_y = (y_hi - y_lo).max(1e-9);
    let left = PAD * 2.0;
    let x_of = |ms: f64| left + (ms - x0) / span_x * (WIDTH - left - PAD);
    let y_of = |v: f64| HEIGHT - PAD - (v - y_lo) / span_y * (HEIGHT - 2.0 * PAD);
    let path: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x_of(p.0 as f64), y_of(p.1)))
        .collect();
    let x_ticks = [x0, (x0 + x1) / 2.0, x1].map(|ms| (ms, date(ms as u64)));
    let y_ticks = [y_lo, (y_lo + y_hi) / 2.0, y_hi];
    let f = |v: f64| format!("{v:.1}");
    html! {
        svg id=(id) class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width=(WIDTH) height=(HEIGHT) role="img" {
            title { (title) " (" (unit) ")" }
            line x1=(left) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) stroke="#333" {}
            line x1=(left) y1=(PAD) x2=(left) y2=(HEIGHT - PAD) stroke="#333" {}
            @for (ms, label) in &x_ticks {
                text class="x-tick" data-ms=(format!("{ms:.0}")) x=(f(x_of(*ms))) y=(HEIGHT - PAD + 16.0) font-size="11" text-anchor="middle" { (label) }
            }
            @for v in y_ticks {
                text class="y-tick" data-value=(v) x=(left - 4.0) y=(f(y_of(v) + 4.0)) font-size="11" text-anchor="end" { (format!("{v:.1} {unit}")) }
            }
            polyline points=(path.join(" ")) fill="none" stroke="#2a5d8f" stroke-width="2" {}
            @for p in &points {
                circle class="point" data-ms=(p.0) data-value=(p.1) cx=(f(x_of(p.0 as f64))) cy=(f(y_of(p.1))) r="3" fill="#2a5d8f" {
                    title { (date(p.0)) ": " (format!("{:.2} {unit}", p.1)) }
                }
            }
        }
    }
}

/// One line of a [`lines`] chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// What it is (its tooltip), e.g. a lot id.
    pub label: String,
    /// (x, y) points, x ascending.
    pub points: Vec<(f64, f64)>,
    /// Drawn bold and coloured; the others thin and grey, for comparison.
    pub highlight: bool,
}

/// Several lines on shared axes labelled with `x_unit` and `y_unit` (low, middle and high
/// values): one highlighted, the rest grey beside it. Points carry `data-x` and `data-y`.
pub fn lines(id: &str, title: &str, lines: &[Line], x_unit: &str, y_unit: &str) -> Markup {
    let all: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    if all.len() < 2 {
        return html! { p id=(id) { "Not enough data for a chart yet." } };
    }
    let lo = |f: fn(&(f64, f64)) -> f64| all.iter().map(f).fold(f64::INFINITY, f64::min);
    let hi = |f: fn(&(f64, f64)) -> f64| all.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1, y0, y1) = (lo(|p| p.0), hi(|p| p.0), lo(|p| p.1), hi(|p| p.1));
    let left = PAD * 2.0;
    let x_of = |x: f64| left + (x - x0) / (x1 - x0).max(1e-9) * (WIDTH - left - PAD);
    let y_of = |y: f64| HEIGHT - PAD - (y - y0) / (y1 - y0).max(1e-9) * (HEIGHT - 2.0 * PAD);
    let f = |v: f64| format!("{v:.1}");
    let path = |l: &Line| {
        l.points
            .iter()
            .map(|p| format!("{},{}", f(x_of(p.0)), f(y_of(p.1))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg id=(id) class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width=(WIDTH) height=(HEIGHT) role="img" {
            title { (title) " (" (y_unit) " by " (x_unit) ")" }
            line x1=(left) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) stroke="#333" {}
            line x1=(left) y1=(PAD) x2=(left) y2=(HEIGHT - PAD) stroke="#333" {}
            @for x in [x0, (x0 + x1) / 2.0, x1] {
                text class="x-tick" x=(f(x_of(x))) y=(HEIGHT - PAD + 16.0) font-size="11" text-anchor="middle" { (format!("{x:.0} {x_unit}")) }
            }
            @for y in [y0, (y0 + y1) / 2.0, y1] {
                text class="y-tick" x=(left - 4.0) y=(f(y_of(y) + 4.0)) font-size="11" text-anchor="end" { (format!("{y:.0} {y_unit}")) }
            }
            @for l in lines.iter().filter(|l| !l.highlight) {
                polyline class="other" points=(path(l)) fill="none" stroke="#bbb" stroke-width="1" { title { (l.label) } }
            }
            @for l in lines.iter().filter(|l| l.highlight) {
                polyline class="highlight" points=(path(l)) fill="none" stroke="#c0392b" stroke-width="2.5" { title { (l.label) } }
                @for p in &l.points {
                    circle class="point" data-x=(p.0) data-y=(p.1) cx=(f(x_of(p.0))) cy=(f(y_of(p.1))) r="3" fill="#c0392b" {}
                }
            }
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
    fn a_series_needs_two_points_and_shows_its_dates_and_values_with_the_unit() {
        let one = time_series(
            "c",
            "Weight",
            &[(0, 300.0)],
            "kg",
            "after a second weighing",
        )
        .into_string();
        assert!(
            !one.contains("<polyline") && one.contains("after a second"),
            "{one}"
        );
        let day = 86_400_000;
        let svg = time_series(
            "c",
            "Weight",
            &[(0, 300.0), (day, 302.0), (2 * day, 304.0)],
            "lb",
            "",
        )
        .into_string();
        assert!(svg.contains("<polyline"), "{svg}");
        for label in [
            "1970-01-01",
            "1970-01-02",
            "1970-01-03",
            "300.0 lb",
            "304.0 lb",
        ] {
            assert!(svg.contains(&format!(">{label}<")), "{label}: {svg}");
        }
        assert!(
            svg.contains("data-ms=\"86400000\" data-value=\"302\""),
            "{svg}"
        );
    }
}
