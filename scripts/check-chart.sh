#!/usr/bin/env bash
# Checks the Helm chart offline, without a helm binary or a cluster (helm/README.md, "CI"):
#  - yamllint on the chart's values, Chart.yaml, the examples and the test values;
#  - values.yaml, helm/examples/values-production.yaml and the test values against
#    values.schema.json (Python jsonschema, draft-07, and Helm's own validation);
#  - every file in helm/tests/bad/ is refused, with the message it names;
#  - `helm lint --strict` and rendering by Helm's Go engine (helm-python-sdk bundles Helm v4 as a
#    library), as install and as upgrade;
#  - the rendered manifests against the Kubernetes schemas of 1.25 and the newest
#    kubernetes-validate carries (strict: unknown fields fail), ServiceMonitors and the examples'
#    custom resources against the operators' CRD schemas (helm/tests/crd-schemas/);
#  - the rendered config files are TOML with only keys the binaries know, env names are known;
#  - the production examples agree with values-production.yaml (names, topics, RF, shards).
# First run: a venv under .data/chart-venv from PyPI (~200 MB, under a minute); later runs reuse
# it. Prints "chart: N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CHART_VENV:-$(pwd)/.data/chart-venv}
REQUIREMENTS="helm-python-sdk==0.2.2 jsonschema==4.26.0 PyYAML==6.0.4 yamllint==1.38.0 kubernetes-validate==1.37.0"
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$REQUIREMENTS" ]; then
  echo "installing the chart checkers into $VENV (once)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # the list is meant to split
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $REQUIREMENTS
  echo "$REQUIREMENTS" > "$VENV/.requirements"
fi

export CHECK_CHART_START=$(date +%s)
echo "== yamllint"
"$VENV/bin/yamllint" --strict -c helm/.yamllint \
  helm/feedlot/Chart.yaml helm/feedlot/values.yaml helm/examples helm/tests
echo "ok    yamllint: $(find helm/feedlot/Chart.yaml helm/feedlot/values.yaml helm/examples helm/tests -name '*.yaml' | wc -l) files"

echo "== schema, render, Kubernetes schemas, examples"
exec "$VENV/bin/python" helm/tests/check_chart.py . .data/chart-render
