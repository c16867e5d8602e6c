"""Checks the chart's monitoring files, run by scripts/check-monitoring.sh (docs/monitoring.md).

Every query of every Grafana dashboard panel (helm/feedlot/dashboards/*.json) and every alerting
rule expression (helm/feedlot/files/prometheus/rules/*.yml) may name only metrics the services
export: the lists in helm/feedlot/files/prometheus/exported/, which unit tests in edge and
ingest keep equal to their registries (`the_chart_list_of_exported_metrics_is_what_the_registry_
exports`), and a firmware-sim end-to-end test checks against what a real Prometheus scraped;
plus the series Prometheus makes itself (`up`, `ALERTS`). Also: each dashboard has a unique uid,
each panel a unique id, a query, and the `${datasource}` variable as its data source.

Usage: python check_monitoring.py REPO_ROOT
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1]).resolve()
CHART = ROOT / "helm" / "feedlot"
PROMETHEUS_MADE = {"up", "ALERTS", "ALERTS_FOR_STATE"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "atan2"}

failures: list[str] = []
checked = 0


def check(what: str, ok: bool, detail: str = "") -> None:
    global checked
    checked += 1
    if not ok:
        failures.append(f"{what}: {detail}")
        print(f"FAIL  {what}: {detail}")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, labels, keywords)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    names = set(re.findall(r'\{[^}]*__name__\s*=\s*"([^"]*)"', expr))
    e = re.sub(r"\{[^}]*\}", " ", e)          # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)         # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    for m in re.finditer(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name in KEYWORDS or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


# The extraction itself, on expressions whose answer is known.
for expr, want in [
    ('sum by (le) (rate(a_bucket{x="y", le!="b_c"}[5m])) / on (job) b', {"a_bucket", "b"}),
    ('count(up{job="feedlot-edge"} == 0) or vector(0)', {"up"}),
    ('histogram_quantile(0.99, sum(rate(c_total[$__rate_interval]))) > 1e3', {"c_total"}),
    ('d offset 5m and ignoring (instance) e{yard=~"$yard"}', {"d", "e"}),
]:
    got = metric_names(expr)
    check(f"metric_names({expr!r})", got == want, f"{sorted(got)} != {sorted(want)}")

exported: dict[str, set[str]] = {}
for f in sorted((CHART / "files" / "prometheus" / "exported").glob("*.txt")):
    exported[f.stem] = {l for l in f.read_text().splitlines() if l and not l.startswith("#")}
check("lists of exported metrics for edge and ingest", set(exported) >= {"edge", "ingest"},
      str(sorted(exported)))
known = set().union(*exported.values()) | PROMETHEUS_MADE


def unknown(expr: str) -> set[str]:
    return metric_names(expr) - known


dashboards = sorted((CHART / "dashboards").glob("*.json"))
check("dashboards exist", len(dashboards) >= 2, str(dashboards))
uids = set()
queries = 0
for f in dashboards:
    d = json.loads(f.read_text())
    check(f"{f.name}: a unique uid", d.get("uid") and d["uid"] not in uids, str(d.get("uid")))
    uids.add(d.get("uid"))
    for var in d.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if var.get("type") == "query" and q:
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", q)
            check(f"{f.name}: variable {var['name']} names exported metrics",
                  m is not None and not unknown(m.group(1)), q)
    panels = list(d.get("panels", []))
    ids = set()
    while panels:
        p = panels.pop()
        panels.extend(p.get("panels", []))     # rows
        if p.get("type") == "row":
            continue
        what = f"{f.name}: panel {p.get('id')} {p.get('title')!r}"
        check(f"{what}: a unique id", p.get("id") not in ids, str(p.get("id")))
        ids.add(p.get("id"))
        check(f"{what}: the ${{datasource}} data source",
              (p.get("datasource") or {}).get("uid") == "${datasource}", str(p.get("datasource")))
        targets = p.get("targets") or []
        check(f"{what}: has a query", bool(targets) and all(t.get("expr") for t in targets))
        for t in targets:
            queries += 1
            bad = unknown(t.get("expr", ""))
            check(f"{what}: {t.get('expr')!r} names only exported metrics", not bad,
                  f"not exported: {sorted(bad)}")

rules = 0
for f in sorted((CHART / "files" / "prometheus" / "rules").glob("*.yml")):
    for group in yaml.safe_load(f.read_text())["groups"]:
        for rule in group["rules"]:
            rules += 1
            what = f"{f.name}: {rule.get('alert') or rule.get('record')}"
            bad = unknown(rule["expr"])
            check(f"{what}: names only exported metrics", not bad, f"not exported: {sorted(bad)}")
            if "alert" in rule:
                check(f"{what}: a severity", rule.get("labels", {}).get("severity")
                      in {"critical", "warning", "info"}, str(rule.get("labels")))
                ann = rule.get("annotations", {})
                check(f"{what}: summary and description", bool(ann.get("summary"))
                      and bool(ann.get("description")), str(ann))
                if f.name == "gateways.yml":
                    check(f"{what}: the summary names the yard and the gateway",
                          "$labels.yard" in ann.get("summary", "")
                          and "$labels.gateway" in ann.get("summary", ""), ann.get("summary", ""))

print(f"monitoring: {len(dashboards)} dashboards, {queries} panel queries, {rules} rules; "
      f"{checked - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
