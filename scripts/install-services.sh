#!/usr/bin/env bash
# Installs the real services the tests and the full demo use, from the package registries
# (and headless Chromium for the page tests).
# `install-services.sh clickhouse tansu` installs only those (what scripts/services.sh starts);
# no arguments: everything below.
# Idempotent: skips what is already there. ClickHouse, socat, mosquitto and Prometheus (prometheus,
# promtool: the alerting-rule tests and the scrape test, docs/monitoring.md) come from Debian;
# the Kafka-protocol broker (tansu) from crates.io (about 15 minutes to build the first time).
set -euo pipefail

want() { [[ " ${WANTED[*]} " == *" $1 "* ]]; }
WANTED=("$@")
if [ ${#WANTED[@]} -eq 0 ]; then WANTED=(clickhouse tansu socat mosquitto chromium prometheus adduser); fi

need_apt=()
# rdkafka's `ssl` feature (Kafka TLS/SASL, docs/security.md) builds against OpenSSL through
# pkg-config: the base image has both, a slimmer one may not.
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if want clickhouse; then command -v clickhouse-server >/dev/null || need_apt+=(clickhouse-server clickhouse-client); fi
if want socat; then command -v socat >/dev/null || need_apt+=(socat); fi
if want mosquitto; then command -v mosquitto >/dev/null || need_apt+=(mosquitto mosquitto-clients); fi
if want chromium; then [ -x /usr/bin/chromium ] || need_apt+=(chromium); fi
if want prometheus; then { [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || need_apt+=(prometheus); fi
# The gateway package's postinst creates its system user (scripts/check-edge-deb.sh).
if want adduser; then command -v adduser >/dev/null || need_apt+=(adduser); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from Debian: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if want tansu && ! command -v tansu >/dev/null; then
  echo "installing the tansu Kafka-protocol broker from crates.io (takes ~15 min once)"
  cargo install --locked tansu --version 0.6.0 --features libsql,postgres
fi
