//! Prometheus text expositions, for tests that hold a checked-in metric list to a registry.

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
