#!/usr/bin/env bash
# Runs the schema and the queries of the test suite on a current ClickHouse too (issue 16 item 4,
# docs/clickhouse.md "Current ClickHouse"): applies every migration on the engine PyPI's chdb
# embeds (chdb 4.4.0 = ClickHouse 26.9), then one query of each shape that the tests sent to the
# 18.16 test server at $CLICKHOUSE_URL (its system.query_log, switched on by scripts/clickhouse.sh).
# Run it after `cargo test`. First run: a venv under .data/chdb-venv from PyPI (~900 MB, under a
# minute here); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CHDB_VENV:-$(pwd)/.data/chdb-venv}
CHDB_VERSION=4.4.0
if ! "$VENV/bin/python" -c "import chdb, sys; sys.exit(chdb.__version__ != '$CHDB_VERSION')" 2>/dev/null; then
  echo "installing chdb $CHDB_VERSION (a current ClickHouse engine) into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "chdb==$CHDB_VERSION"
fi
"$VENV/bin/python" scripts/check_current_clickhouse.py "${CLICKHOUSE_URL:-http://127.0.0.1:8123}" .
