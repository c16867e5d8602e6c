#!/usr/bin/env bash
# Starts a ClickHouse server in the background with its data under DIR (default .data/clickhouse)
# and HTTP on CLICKHOUSE_HTTP_PORT (default 8123); waits until it answers. Safe to run twice.
set -euo pipefail
DIR=${1:-${CLICKHOUSE_DIR:-.data/clickhouse}}
HTTP_PORT=${CLICKHOUSE_HTTP_PORT:-8123}
TCP_PORT=${CLICKHOUSE_TCP_PORT:-9000}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

if curl -fsS "http://127.0.0.1:$HTTP_PORT/ping" >/dev/null 2>&1; then
  echo "ClickHouse already answers on :$HTTP_PORT"; exit 0
fi

mkdir -p "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/format_schemas" "$DIR/log"
sed -e "s#<path>/var/lib/clickhouse/</path>#<path>$DIR/data/</path>#" \
    -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$DIR/tmp/</tmp_path>#" \
    -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$DIR/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$DIR/format_schemas/</format_schema_path>#" \
    -e "s#<log>.*</log>#<log>$DIR/log/server.log</log>#" \
    -e "s#<errorlog>.*</errorlog>#<errorlog>$DIR/log/server.err.log</errorlog>#" \
    -e "s#<http_port>8123</http_port>#<http_port>$HTTP_PORT</http_port>#" \
    -e "s#<tcp_port>9000</tcp_port>#<tcp_port>$TCP_PORT</tcp_port>#" \
    -e "s#<interserver_http_port>9009</interserver_http_port>#<interserver_http_port>$((TCP_PORT + 9))</interserver_http_port>#" \
    -e "s#<listen_host>::1</listen_host>##" \
    /etc/clickhouse-server/config.xml > "$DIR/config.xml"
# Every query goes to system.query_log, so scripts/check-current-clickhouse.sh can run what the
# tests sent on a current ClickHouse too (docs/clickhouse.md, "Current ClickHouse").
sed -e '0,/<default>/s##<default>\n            <log_queries>1</log_queries>#' \
    /etc/clickhouse-server/users.xml > "$DIR/users.xml"

nohup clickhouse-server --config-file="$DIR/config.xml" >"$DIR/log/stdout.log" 2>&1 &
echo $! > "$DIR/pid"
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$HTTP_PORT/ping" >/dev/null 2>&1; then
    echo "ClickHouse answers on http://127.0.0.1:$HTTP_PORT (data in $DIR)"; exit 0
  fi
  sleep 0.5
done
echo "ClickHouse did not start; see $DIR/log" >&2
tail -20 "$DIR/log/stdout.log" "$DIR/log/server.err.log" >&2 || true
exit 1
