#!/usr/bin/env bash
# Checks the fleet monitoring files offline, in a few seconds (docs/monitoring.md):
#  - `promtool check rules` on the alerting rules (helm/feedlot/files/prometheus/rules/);
#  - `promtool test rules` on their unit tests (helm/tests/prometheus/*.test.yml): each alert
#    fires for the series in trouble after its `for`, and not for the healthy ones;
#  - helm/tests/check_monitoring.py: every Grafana panel query (helm/feedlot/dashboards/) and
#    every rule names only metrics the services export (helm/feedlot/files/prometheus/exported/,
#    kept equal to the registries by unit tests in edge and ingest).
# promtool comes with Debian's `prometheus` package (scripts/install-services.sh). Python needs
# PyYAML: the chart venv of scripts/check-chart.sh when there is one, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$PROMTOOL" ]; then
  echo "no promtool: run scripts/install-services.sh (Debian package prometheus)" >&2
  exit 1
fi
PYTHON="${CHART_VENV:-$(pwd)/.data/chart-venv}/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3

echo "== promtool check rules"
"$PROMTOOL" check rules helm/feedlot/files/prometheus/rules/*.yml
echo "== promtool test rules"
(cd helm/tests && "$PROMTOOL" test rules prometheus/*.test.yml)
echo "== dashboards and rules name exported metrics"
"$PYTHON" helm/tests/check_monitoring.py .
