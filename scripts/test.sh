#!/usr/bin/env bash
# Runs every test against real services: installs what is missing (Debian packages, tansu from
# crates.io), starts ClickHouse, checks the Helm chart and the monitoring files, then
# `cargo test --workspace`, then the schema and the tests' queries on a current ClickHouse. Tests
# start their own tansu brokers, socat pseudo-terminal pairs and replicated test clusters
# (scripts/cluster.sh). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/install-services.sh
bash scripts/install-cluster.sh
CLICKHOUSE_DIR=${CLICKHOUSE_DIR:-$(pwd)/.data/clickhouse-test}
export CLICKHOUSE_HTTP_PORT=${CLICKHOUSE_HTTP_PORT:-8123}
export CLICKHOUSE_URL="http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"
bash scripts/clickhouse.sh "$CLICKHOUSE_DIR"

# The chart: schema, render and manifests, offline (scripts/check-chart.sh, helm/README.md).
bash scripts/check-chart.sh
# Alerting rules (promtool check/test rules) and dashboards' metric names (docs/monitoring.md).
bash scripts/check-monitoring.sh

# --no-fail-fast: one failing test binary does not hide the others' results.
cargo test --workspace --locked --no-fail-fast "$@"
# The gateway's Debian package from the binary just built: install, upgrade, remove, purge
# (docs/edge-operations.md, "Installing on the gateway box"). It packages target/debug/edge as
# `cargo test --workspace` built it (a separate `cargo build -p edge` would resolve other
# features and build a second copy of the dependencies: time and disk CI does not have).
bash scripts/check-edge-deb.sh
# The same schema and the queries the tests just sent, on a current ClickHouse (chdb).
bash scripts/check-current-clickhouse.sh
