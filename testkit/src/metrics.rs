//! Prometheus text expositions, for tests that hold a checked-in metric list to a registry or
//! read a metric's value.

/// The sample names a text exposition declares, from its `# TYPE` lines: a counter's
/// `_total`, a histogram's `_bucket`, `_sum` and `_count`, any other family's own name;
/// sorted.
pub fn sample_names(exposition: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in exposition.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let Some((name, kind)) = rest.split_once(' ') else {
            continue;
        };
        match kind {
            "counter" => names.push(format!("{}_total", name.trim_end_matches("_total"))),
            "histogram" => {
                names.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")))
            }
            _ => names.push(name.to_owned()),
        }
    }
    names.sort();
    names
}

/// The names in a checked-in list: one per line, blank lines and `#` comments skipped.
pub fn listed_names(list: &str) -> Vec<String> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The sum of every series of sample `name` in a text exposition (one value for an unlabelled
/// gauge or counter), or `None` when it has no series.
pub fn sample_sum(exposition: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = exposition
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_sum_adds_its_series_and_nothing_whose_name_only_begins_the_same() {
        let text = "# TYPE lag gauge\nlag 2.5\nlag_seconds 9\nstored_total{p=\"0\"} 3\nstored_total{p=\"1\"} 4\n";
        assert_eq!(sample_sum(text, "lag"), Some(2.5));
        assert_eq!(sample_sum(text, "stored_total"), Some(7.0));
        assert_eq!(sample_sum(text, "missing"), None);
    }
}
