#!/usr/bin/env bash
# Starts the services the full demo pipeline uses, in the background, data under .data/:
# ClickHouse on :8123 and a tansu Kafka-protocol broker on :9092. Installs them first if missing.
# They keep running until `bash scripts/services.sh stop`, which stops what this script started
# (the processes named by .data/clickhouse/pid and .data/tansu/pid), nothing else.
# `firmware-sim demo` runs this script itself when the services do not answer.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ "${1:-}" = "stop" ]; then
  for name in clickhouse tansu; do
    pidfile=.data/$name/pid
    if [ -f "$pidfile" ] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "$name (pid $pid) still running after 10 s" >&2
      else
        echo "stopped $name (pid $pid)"
      fi
    else
      echo "$name: not started by this script (no live .data/$name/pid)"
    fi
    rm -f "$pidfile"
  done
  exit 0
fi

# Only what this script starts; install-services.sh with no arguments installs the test tools too.
bash scripts/install-services.sh clickhouse tansu
bash scripts/clickhouse.sh .data/clickhouse

PORT=${KAFKA_PORT:-9092}
if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
  echo "a broker already listens on :$PORT"
else
  mkdir -p .data/tansu
  # tansu resolves the SQLite path relative to its working directory.
  (cd .data/tansu && {
    nohup tansu broker --listener-url "tcp://127.0.0.1:$PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine "sqlite://tansu.db" \
      > broker.log 2>&1 &
    echo $! > pid
  })
  for _ in $(seq 1 40); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.25; done
  echo "tansu answers on 127.0.0.1:$PORT (data in .data/tansu)"
fi
