"""Offline checks of the feedlot chart, run by scripts/check-chart.sh inside its venv.

No cluster and no `helm` binary: the chart is rendered by Helm's own Go engine (Helm v4,
through the `helm-python-sdk` wheel, which bundles it as a shared library), its values are
validated against values.schema.json by both Python's `jsonschema` (draft-07) and Helm, and the
rendered manifests against the Kubernetes OpenAPI schemas that `kubernetes-validate` ships.

Usage: python check_chart.py REPO_ROOT OUT_DIR
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import sys
import time
import tomllib

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
import yamllint.config
import yamllint.linter

ROOT = pathlib.Path(sys.argv[1]).resolve()
OUT = pathlib.Path(sys.argv[2]).resolve()
CHART = ROOT / "helm" / "feedlot"
EXAMPLES = ROOT / "helm" / "examples"
TESTS = ROOT / "helm" / "tests"

# Kubernetes versions the manifests are validated against: the chart's kubeVersion floor and the
# newest schema kubernetes-validate carries.
KUBE_VERSIONS = ["1.25.0", kubernetes_validate.latest_version()]

# The config keys the binaries accept (their config structs use deny_unknown_fields, so a key
# outside these stops the process at start). Written down from the split's interface; keep in
# step with `ingest`'s and `dashboards`' config structs.
CLICKHOUSE_KEYS = {"url", "database", "user", "password", "cluster", "read_timeout_ms"}
CONFIG_KEYS = {
    "ingest.toml": {
        "kafka": {"brokers", "topic", "dead_letter_topic", "group_id", "partitions",
                  "replication_factor", "min_insync_replicas", "prefetch_max_kb",
                  "session_timeout_ms", "heartbeat_interval_ms"},
        "clickhouse": CLICKHOUSE_KEYS,
        "batch": {"max_rows", "max_wait_ms", "retry_initial_ms", "retry_max_ms",
                  "parallel_inserts"},
        "ops": {"listen"},
    },
    "dashboards.toml": {
        "clickhouse": CLICKHOUSE_KEYS,
        "web": {"listen", "ops_listen", "users_file", "session_secret", "session_hours",
                "session_idle_minutes", "secure_cookie", "cold_reports",
                "cold_reports_per_user", "cold_report_wait_ms", "report_cache_slots",
                "report_cache_slots_per_yard"},
        "analytics": {"target_sale_weight_kg", "target_live_weight_kg"},
        "benchmarks": {"enabled", "refresh_secs", "full_refresh_secs"},
    },
}
# Environment variables the binaries read (anything else in a container is a typo).
KNOWN_ENV = {
    "RUST_LOG", "SSL_CERT_FILE", "INGEST_CONFIG", "INGEST_KAFKA_BROKERS",
    "INGEST_KAFKA_PARTITIONS", "INGEST_KAFKA_REPLICATION_FACTOR",
    "INGEST_KAFKA_MIN_INSYNC_REPLICAS", "INGEST_CLICKHOUSE_URL", "INGEST_CLICKHOUSE_DATABASE",
    "INGEST_CLICKHOUSE_PASSWORD", "INGEST_CLICKHOUSE_CLUSTER", "INGEST_OPS_LISTEN",
    "DASHBOARDS_CONFIG", "DASHBOARDS_CLICKHOUSE_URL", "DASHBOARDS_CLICKHOUSE_DATABASE",
    "DASHBOARDS_CLICKHOUSE_PASSWORD", "DASHBOARDS_CLICKHOUSE_CLUSTER", "DASHBOARDS_WEB_LISTEN",
    "DASHBOARDS_WEB_USERS_FILE", "DASHBOARDS_WEB_SESSION_SECRET", "DASHBOARDS_WEB_OPS_LISTEN",
}

RENDERED_LINT = yamllint.config.YamlLintConfig(
    "rules: {key-duplicates: enable, anchors: enable, document-start: disable}")

passed = 0
failed = 0


def strict(node):
    """Kubernetes' strict field validation (kubectl's default): an object schema that lists its
    properties refuses others, unless it preserves unknown fields."""
    if isinstance(node, dict):
        node = {k: strict(v) for k, v in node.items()}
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict(x) for x in node]
    return node


# Schemas of the custom resources the examples and the chart use, from the operators' CRDs
# (crd-schemas/README.md says which releases).
CRD_SCHEMAS = {}
for f in sorted((pathlib.Path(__file__).parent / "crd-schemas").glob("*.json")):
    crd = json.loads(f.read_text())
    CRD_SCHEMAS[(crd["apiVersion"], crd["kind"])] = jsonschema.Draft4Validator(strict(crd["schema"]))


def validate_kube(doc: dict, version: str) -> str | None:
    """None when `doc` matches its schema; the reason otherwise. Custom resources are checked
    against the vendored CRD schemas; a kind known to neither raises SchemaNotFoundError."""
    crd = CRD_SCHEMAS.get((doc.get("apiVersion"), doc.get("kind")))
    if crd is not None:
        errs = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in crd.iter_errors(doc)]
        return "; ".join(errs) or None
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return e.message
    return None


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")
    return ok


def load(path: pathlib.Path):
    return yaml.safe_load(path.read_text()) or {}


def load_all(path: pathlib.Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def merge(base, over):
    """Helm's values merge: maps merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def rel(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT))


# --- the schema -------------------------------------------------------------------------------
schema = json.loads((CHART / "values.schema.json").read_text())
try:
    jsonschema.Draft7Validator.check_schema(schema)
    check("values.schema.json is a valid JSON Schema draft-07", True)
except jsonschema.SchemaError as e:
    check("values.schema.json is a valid JSON Schema draft-07", False, e.message)
validator = jsonschema.Draft7Validator(schema)
defaults = load(CHART / "values.yaml")


def schema_errors(values: dict) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(merge(defaults, values))]


# --- good values: schema, helm lint, render, Kubernetes schemas, config files ----------------
GOOD = {
    "default": CHART / "values.yaml",
    "production": EXAMPLES / "values-production.yaml",
    "all-on": TESTS / "values-all-on.yaml",
    "minimal": TESTS / "values-minimal.yaml",
}
OUT.mkdir(parents=True, exist_ok=True)
skipped_kinds: set[str] = set()

chart = helm.Chart.load(str(CHART))
for name, path in GOOD.items():
    values = load(path) if path != CHART / "values.yaml" else {}
    errs = schema_errors(values)
    check(f"{rel(path)} passes values.schema.json (jsonschema)", not errs, "; ".join(errs))
    try:
        chart.validate_schema(values)
        check(f"{rel(path)} passes values.schema.json (Helm)", True)
    except Exception as e:  # noqa: BLE001 - report whatever Helm says
        check(f"{rel(path)} passes values.schema.json (Helm)", False, str(e))

    report = helm.lint(str(CHART), values, strict=True, namespace="feedlot")
    problems = report["errors"] + [m["error"] for m in report["messages"] if m["severity"] >= 2]
    check(f"helm lint --strict with {rel(path)}", not problems, "; ".join(map(str, problems)))

    for install in (True, False):
        try:
            manifests = chart.render(values, name="feedlot", namespace="feedlot",
                                     is_install=install, is_upgrade=not install)
        except Exception as e:  # noqa: BLE001
            check(f"render with {rel(path)}", False, str(e))
            break
    else:
        check(f"render with {rel(path)} (install and upgrade)", True)
        docs: list[dict] = []
        text = []
        for tpl, body in sorted(manifests.items()):
            if body.strip():
                text.append(f"# Source: {tpl}\n{body.strip()}\n")
            docs += [d for d in yaml.safe_load_all(body) if d]
        # What `helm template` would print; a key given twice is a template bug that a YAML
        # loader would hide (the last one wins).
        rendered = "---\n".join(text)
        (OUT / f"{name}.yaml").write_text(rendered)
        problems = [f"{name}.yaml:{p.line}: {p.desc}" for p in
                    yamllint.linter.run(rendered, RENDERED_LINT) if p.level == "error"]
        check(f"rendered YAML from {rel(path)} has no duplicate keys or syntax errors",
              not problems, "; ".join(problems))

        bad = []
        for doc in docs:
            what = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            for version in KUBE_VERSIONS:
                try:
                    why = validate_kube(doc, version)
                except kubernetes_validate.SchemaNotFoundError:
                    skipped_kinds.add(f"{doc.get('apiVersion')} {doc.get('kind')}")
                    continue
                if why:
                    bad.append(f"{what} (k8s {version}): {why}")
        check(f"{len(docs)} manifests from {rel(path)} match the Kubernetes schemas "
              f"({', '.join(KUBE_VERSIONS)}, strict)", not bad, "; ".join(bad))

        extra_env = {e["name"] for tier in ("consumer", "web")
                     for e in (values.get(tier) or {}).get("extraEnv", [])}
        bad = []
        for doc in docs:
            if doc.get("kind") == "ConfigMap":
                for key, body in (doc.get("data") or {}).items():
                    if key not in CONFIG_KEYS:
                        continue
                    try:
                        cfg = tomllib.loads(body)
                    except tomllib.TOMLDecodeError as e:
                        bad.append(f"{doc['metadata']['name']}/{key}: {e}")
                        continue
                    for section, keys in cfg.items():
                        known = CONFIG_KEYS[key].get(section)
                        if known is None:
                            bad.append(f"{key}: unknown section [{section}]")
                        else:
                            bad += [f"{key}: unknown key {section}.{k}" for k in keys if k not in known]
            spec = (doc.get("spec") or {}).get("template", {}).get("spec", {})
            for c in spec.get("containers", []):
                bad += [f"{doc['metadata']['name']}: unknown env {e['name']}"
                        for e in c.get("env", []) if e["name"] not in KNOWN_ENV | extra_env]
        check(f"config files from {rel(path)} are TOML with only keys the binaries know; env names known",
              not bad, "; ".join(bad))

        # Monitoring (docs/monitoring.md): the PrometheusRule carries the rule files' groups as
        # they are (the files promtool tests), the ConfigMap every dashboard as it is.
        on = merge(defaults, values).get("monitoring", {})
        rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
        want_groups = [g for f in sorted((CHART / "files" / "prometheus" / "rules").glob("*.yml"))
                       for g in yaml.safe_load(f.read_text())["groups"]]
        check(f"PrometheusRule with {rel(path)}: the rule files' groups, if enabled",
              [r["spec"]["groups"] for r in rules]
              == ([want_groups] if on["prometheusRules"]["enabled"] else []),
              f"{len(rules)} PrometheusRule(s)")
        maps = [d for d in docs if d.get("kind") == "ConfigMap"
                and on["grafanaDashboards"]["label"] in d["metadata"].get("labels", {})]
        want_dashboards = {f"feedlot-{f.name}": json.loads(f.read_text())
                           for f in sorted((CHART / "dashboards").glob("*.json"))}
        got_dashboards = [{k: json.loads(v) for k, v in m.get("data", {}).items()} for m in maps]
        check(f"dashboards ConfigMap with {rel(path)}: every dashboard, if enabled",
              got_dashboards == ([want_dashboards] if on["grafanaDashboards"]["enabled"] else []),
              f"{len(maps)} ConfigMap(s): {[sorted(g) for g in got_dashboards]}")

# --- bad values are refused ---------------------------------------------------------------------
for path in sorted((TESTS / "bad").glob("*.yaml")):
    first = path.read_text().splitlines()[0]
    expect = first.removeprefix("# expect:").strip()
    values = load(path)
    by_schema = bool(schema_errors(values))
    try:
        chart.render(values, name="feedlot", namespace="feedlot", is_install=True)
        check(f"{rel(path)} is refused", False, "it rendered")
    except Exception as e:  # noqa: BLE001
        msg = str(e)
        layer = "by the schema" if by_schema else "at render time"
        check(f"{rel(path)} is refused {layer} ({expect})", expect in msg,
              f"refused, but the message lacks {expect!r}: {msg}")
chart.close()

# --- the production examples agree with values-production.yaml ---------------------------------
prod = merge(defaults, load(EXAMPLES / "values-production.yaml"))
kinds: dict[str, list[dict]] = {}
for f in sorted(EXAMPLES.glob("*.yaml")):
    if f.name.startswith("values-"):
        continue
    for doc in load_all(f):
        ok = all(doc.get(k) for k in ("apiVersion", "kind")) and doc.get("metadata", {}).get("name")
        if not check(f"{rel(f)}: a document has apiVersion, kind, metadata.name", bool(ok), str(doc)[:80]):
            continue
        kinds.setdefault(doc["kind"], []).append(doc)
        try:
            why = validate_kube(doc, KUBE_VERSIONS[-1])
            check(f"{rel(f)}: {doc['kind']}/{doc['metadata']['name']} matches its schema (strict)",
                  not why, why or "")
        except kubernetes_validate.SchemaNotFoundError:
            skipped_kinds.add(f"{doc['apiVersion']} {doc['kind']}")

(kafka,) = kinds["Kafka"]
kname, kns = kafka["metadata"]["name"], kafka["metadata"]["namespace"]
plain = [l for l in kafka["spec"]["kafka"]["listeners"] if not l.get("tls")]
check("Strimzi: a PLAINTEXT listener exists (the only kind ingest speaks)", bool(plain))
check("values-production kafka.brokers is the Strimzi bootstrap Service of that listener",
      plain and prod["kafka"]["brokers"] == f"{kname}-kafka-bootstrap.{kns}.svc:{plain[0]['port']}",
      prod["kafka"]["brokers"])
pools = [p for p in kinds["KafkaNodePool"] if p["metadata"]["labels"]["strimzi.io/cluster"] == kname]
brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
check("Strimzi: at least replicationFactor brokers", brokers >= prod["kafka"]["replicationFactor"],
      f"{brokers} brokers")
kcfg = kafka["spec"]["kafka"]["config"]
check("Strimzi: broker defaults RF/min.insync.replicas match the values",
      kcfg.get("default.replication.factor") == prod["kafka"]["replicationFactor"]
      and kcfg.get("min.insync.replicas") == prod["kafka"]["minInsyncReplicas"], str(kcfg))
topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in kinds["KafkaTopic"]}
for topic in (prod["kafka"]["topic"], prod["kafka"]["deadLetterTopic"]):
    t = topics.get(topic)
    check(f"Strimzi: KafkaTopic {topic} exists on cluster {kname}",
          bool(t) and t["metadata"]["labels"]["strimzi.io/cluster"] == kname)
    if t:
        s = t["spec"]
        check(f"Strimzi: {topic} has RF {prod['kafka']['replicationFactor']} and min.insync.replicas "
              f"{prod['kafka']['minInsyncReplicas']}",
              s["replicas"] == prod["kafka"]["replicationFactor"]
              and int(s["config"]["min.insync.replicas"]) == prod["kafka"]["minInsyncReplicas"], str(s))
events = topics.get(prod["kafka"]["topic"])
check("Strimzi: the events topic has kafka.partitions partitions",
      bool(events) and events["spec"]["partitions"] == prod["kafka"]["partitions"])

(chi,) = kinds["ClickHouseInstallation"]
iname, ins = chi["metadata"]["name"], chi["metadata"]["namespace"]
(cluster,) = chi["spec"]["configuration"]["clusters"]
layout = cluster["layout"]
check("CHI: 2 shards x 2 replicas", (layout["shardsCount"], layout["replicasCount"]) == (2, 2), str(layout))
check("values-production clickhouse.cluster is the CHI's cluster name",
      prod["clickhouse"]["cluster"] == cluster["name"], prod["clickhouse"]["cluster"])
want = {f"http://chi-{iname}-{cluster['name']}-{s}-{r}.{ins}.svc:8123"
        for s in range(layout["shardsCount"]) for r in range(layout["replicasCount"])}
check("values-production clickhouse.urls lists every replica's Service",
      set(prod["clickhouse"]["urls"]) == want, f"want {sorted(want)}")
users = chi["spec"]["configuration"]["users"]
user = prod["clickhouse"]["user"]
check(f"CHI: user {user} is defined", any(k.startswith(f"{user}/") for k in users))
ref = users.get(f"{user}/password", {}).get("valueFrom", {}).get("secretKeyRef", {})
check("CHI: the user's password comes from the Secret the chart reads",
      ref.get("name") == prod["clickhouse"]["passwordSecret"]["name"]
      and ref.get("key") == prod["clickhouse"]["passwordSecret"]["key"], str(ref))
(chk,) = kinds["ClickHouseKeeperInstallation"]
keepers = chk["spec"]["configuration"]["clusters"][0]["layout"]["replicasCount"]
check("Keeper: an odd number of at least 3 nodes", keepers >= 3 and keepers % 2 == 1, str(keepers))
(node,) = chi["spec"]["configuration"]["zookeeper"]["nodes"]
check("CHI: zookeeper points at the Keeper's Service and port",
      node["host"] == f"keeper-{chk['metadata']['name']}.{chk['metadata']['namespace']}.svc"
      and str(node["port"]) == chk["spec"]["configuration"]["settings"]["keeper_server/tcp_port"],
      str(node))

print(f"not validated against a schema (no schema for the kind): "
      f"{', '.join(sorted(skipped_kinds)) or 'none'}")
print(f"rendered manifests: {rel(OUT) if OUT.is_relative_to(ROOT) else OUT}/*.yaml")
if "CHECK_CHART_START" in os.environ:
    print(f"took {time.time() - int(os.environ['CHECK_CHART_START']):.0f} s (yamllint included)")
print(f"chart: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
