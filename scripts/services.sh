#!/usr/bin/env bash
# Starts the services the full demo pipeline uses, in the background, data under .data/:
# ClickHouse on :8123 and a tansu Kafka-protocol broker on :9092. Installs them first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/install-services.sh
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
