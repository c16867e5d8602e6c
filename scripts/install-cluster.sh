#!/usr/bin/env bash
# Installs what scripts/cluster.sh needs beyond scripts/install-services.sh, from the package
# registries: ZooKeeper 3.8 (Debian `zookeeper`, run directly with java) and PostgreSQL 15
# (Debian `postgresql`, a private cluster via initdb/pg_ctl), plus ClickHouse and tansu (built
# with its PostgreSQL storage) through install-services.sh.
# Idempotent: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

need_apt=()
[ -f /usr/share/java/zookeeper.jar ] || need_apt+=(zookeeper)
command -v java >/dev/null || need_apt+=(default-jre-headless)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v clickhouse-server >/dev/null || need_apt+=(clickhouse-server clickhouse-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from Debian: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # No service is started here: postgresql's package may create and start a system cluster on
  # :5432 where systemd runs; cluster.sh never uses it.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The brokers need tansu's PostgreSQL storage engine (not a default feature): `tansu --help`
# ends with the storage engines built in.
if ! command -v tansu >/dev/null || ! tansu --help 2>/dev/null | grep -q "Storage engines:.*postgres"; then
  echo "installing the tansu Kafka-protocol broker with PostgreSQL storage from crates.io (~15 min once)"
  cargo install --locked --force tansu --version 0.6.0 --features libsql,postgres
fi
