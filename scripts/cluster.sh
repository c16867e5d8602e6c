#!/usr/bin/env bash
# A whole replicated test cluster on loopback, from Debian packages and the tansu broker:
#   zk1 zk2 zk3                        ZooKeeper 3.8 ensemble (java, Debian `zookeeper`)
#   ch-s1r1 ch-s1r2 ch-s2r1 ch-s2r2    ClickHouse 18.16, cluster `feedlot`, 2 shards x 2 replicas
#   pg                                 PostgreSQL 15 holding the brokers' storage (tansu schema)
#   broker1 broker2                    tansu 0.6.0 brokers sharing that PostgreSQL
#   consumer1 consumer2                `ingest consume`    (when INGEST_BIN is set)
#   web1 web2                          `dashboards serve`  (when DASHBOARDS_BIN is set)
#
# Usage: scripts/cluster.sh start [--no-apps] | stop | status | env | clean
#        scripts/cluster.sh kill|freeze|thaw|start-one NAME
#   kill = SIGKILL, freeze = SIGSTOP, thaw = SIGCONT, start-one = start NAME again on its data.
# Environment: CLUSTER_DIR (default .data/cluster: data, logs, pid files), CLUSTER_PORT_BASE
# (default 20000; the ports are listed by `env` and in docs/cluster.md), INGEST_BIN,
# DASHBOARDS_BIN, CLUSTER_DATABASE (default feedlot), CLUSTER_KAFKA_PARTITIONS (default 4),
# CLUSTER_KAFKA_REPLICATION_FACTOR (default 3), CLUSTER_KAFKA_MIN_INSYNC_REPLICAS (default 2),
# CLUSTER_WEB_USERS_FILE (default: a generated file with one user, token in `env`).
# Install what it needs once with scripts/install-cluster.sh. See docs/cluster.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)
export PATH="$HOME/.cargo/bin:$PATH"

DIR=${CLUSTER_DIR:-.data/cluster}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
BASE=${CLUSTER_PORT_BASE:-20000}
DATABASE=${CLUSTER_DATABASE:-feedlot}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
TANSU=${TANSU_BIN:-tansu}

ZKS=(zk1 zk2 zk3)
CHS=(ch-s1r1 ch-s1r2 ch-s2r1 ch-s2r2)
BROKERS=(broker1 broker2)
CONSUMERS=(consumer1 consumer2)
WEBS=(web1 web2)
ALL=("${ZKS[@]}" "${CHS[@]}" pg "${BROKERS[@]}" "${CONSUMERS[@]}" "${WEBS[@]}")

# ---- ports -------------------------------------------------------------------------------------
zk_port() { echo $((BASE + ${1#zk})); }            # client: BASE+1..3
zk_peer() { echo $((BASE + 10 + ${1#zk})); }       # quorum: BASE+11..13
zk_elect() { echo $((BASE + 20 + ${1#zk})); }      # leader election: BASE+21..23
ch_index() { case $1 in ch-s1r1) echo 1 ;; ch-s1r2) echo 2 ;; ch-s2r1) echo 3 ;; ch-s2r2) echo 4 ;; esac; }
ch_http() { echo $((BASE + 100 + $(ch_index "$1"))); }  # BASE+101..104
ch_tcp() { echo $((BASE + 110 + $(ch_index "$1"))); }   # BASE+111..114
ch_inter() { echo $((BASE + 120 + $(ch_index "$1"))); } # BASE+121..124
PG_PORT=$((BASE + 200))
broker_port() { echo $((BASE + 300 + ${1#broker})); }       # BASE+301..302
consumer_port() { echo $((BASE + 400 + ${1#consumer})); }   # ops: BASE+401..402
web_port() { echo $((BASE + 500 + ${1#web})); }             # BASE+501..502
PG_URL="postgres://tansu:tansu@127.0.0.1:$PG_PORT/tansu"

join() { local IFS=,; echo "$*"; }
kafka_brokers() { local b out=(); for b in "${BROKERS[@]}"; do out+=("127.0.0.1:$(broker_port "$b")"); done; join "${out[@]}"; }
ch_urls() { local c out=(); for c in "${CHS[@]}"; do out+=("http://127.0.0.1:$(ch_http "$c")"); done; join "${out[@]}"; }

# ---- processes ---------------------------------------------------------------------------------
# Every process runs with its own directory as working directory (PostgreSQL: its data dir);
# a pid file counts only while that pid is alive, not a zombie, and has that working directory,
# so a stale pid file or a reused pid is never signalled.
home() { if [ "$1" = pg ]; then echo "$DIR/pg/data"; else echo "$DIR/$1"; fi; }
pid_of() {
  local name=$1 file pid
  if [ "$name" = pg ]; then file="$DIR/pg/data/postmaster.pid"; else file="$DIR/$name/pid"; fi
  [ -f "$file" ] || return 1
  pid=$(head -1 "$file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -d "/proc/$pid" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(home "$name")" ] || return 1
  echo "$pid"
}
running() { pid_of "$1" >/dev/null; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
die() { echo "cluster: $*" >&2; exit 1; }
elapsed() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $end ] || { echo "cluster: timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.2
  done
}
# launch NAME COMMAND...: runs COMMAND in NAME's directory, output to NAME/NAME.log.
launch() {
  local name=$1; shift
  mkdir -p "$DIR/$name"
  (cd "$DIR/$name" && exec nohup "$@" >>"$DIR/$name/$name.log" 2>&1 </dev/null) &
  echo $! >"$DIR/$name/pid"
}

# ---- ZooKeeper ---------------------------------------------------------------------------------
zk_config() {
  local name=$1 z
  mkdir -p "$DIR/$name/data"
  echo "${name#zk}" >"$DIR/$name/data/myid"
  {
    echo "tickTime=1000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$DIR/$name/data"
    echo "clientPort=$(zk_port "$name")"
    echo "clientPortAddress=127.0.0.1"
    echo "maxClientCnxns=200"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=ruok,srvr,mntr,stat"
    echo "autopurge.snapRetainCount=3"
    echo "autopurge.purgeInterval=1"
    for z in "${ZKS[@]}"; do echo "server.${z#zk}=127.0.0.1:$(zk_peer "$z"):$(zk_elect "$z")"; done
  } >"$DIR/$name/zoo.cfg"
}
zk_start() {
  local name=$1
  running "$name" && return 0
  zk_config "$name"
  launch "$name" java -Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dzookeeper.admin.enableServer=false \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/$name/zoo.cfg"
}
# zk_cmd NAME WORD: a four-letter-word command over bash's /dev/tcp.
zk_cmd() {
  local port; port=$(zk_port "$1")
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf '$2' >&3 && cat <&3" 2>/dev/null
}
zk_serving() { zk_cmd "$1" srvr | grep -Eq '^Mode: (leader|follower)'; }

# ---- ClickHouse --------------------------------------------------------------------------------
ch_config() {
  local name=$1 d="$DIR/$1" shard replica c z
  shard=0${name:4:1}; replica=${name#ch-}
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas" "$d/log"
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/cluster.sh: $name of the test cluster "feedlot". -->
<yandex>
    <logger>
        <level>information</level>
        <log>$d/log/server.log</log>
        <errorlog>$d/log/server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <http_port>$(ch_http "$name")</http_port>
    <tcp_port>$(ch_tcp "$name")</tcp_port>
    <interserver_http_port>$(ch_inter "$name")</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <remote_servers>
        <feedlot>
EOF
  for shard_no in 1 2; do
    echo "            <shard>" >>"$d/config.xml"
    echo "                <internal_replication>true</internal_replication>" >>"$d/config.xml"
    for c in "${CHS[@]}"; do
      [ "${c:4:1}" = "$shard_no" ] || continue
      echo "                <replica><host>127.0.0.1</host><port>$(ch_tcp "$c")</port></replica>" >>"$d/config.xml"
    done
    echo "            </shard>" >>"$d/config.xml"
  done
  {
    echo "        </feedlot>"
    echo "    </remote_servers>"
    echo "    <zookeeper>"
    for z in "${ZKS[@]}"; do
      echo "        <node index=\"${z#zk}\"><host>127.0.0.1</host><port>$(zk_port "$z")</port></node>"
    done
    echo "        <session_timeout_ms>10000</session_timeout_ms>"
    echo "    </zookeeper>"
    cat <<EOF
    <macros>
        <cluster>feedlot</cluster>
        <shard>$shard</shard>
        <replica>$replica</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
    <merge_tree>
        <!-- Replicated tables drop an INSERT block identical to one of the last N (default 100),
             so a consumer re-inserting a batch after a crash stores it once. -->
        <replicated_deduplication_window>1000</replicated_deduplication_window>
        <!-- A replica killed between a merge and its record in ZooKeeper comes back with a merged
             part ZooKeeper does not know. 18.16 refuses to start when such parts hold more than
             this share of the table's rows (default 0.5; a table merged into one part trips it),
             and stays down until someone touches flags/force_restore_data. At 1 it sets those
             parts aside (detached/ignored_*) and fetches the table's parts from its replica. -->
        <replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts>
    </merge_tree>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
</yandex>
EOF
  } >>"$d/config.xml"
  cat >"$d/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/cluster.sh. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <!-- Fail over between replicas at once; a hung replica costs seconds, not 300 s. -->
            <load_balancing>random</load_balancing>
            <connect_timeout_with_failover_ms>50</connect_timeout_with_failover_ms>
            <receive_timeout>5</receive_timeout>
            <send_timeout>5</send_timeout>
            <!-- An INSERT into a Distributed table returns once every shard has it. -->
            <insert_distributed_sync>1</insert_distributed_sync>
            <distributed_ddl_task_timeout>60</distributed_ddl_task_timeout>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}
ch_start() {
  local name=$1
  running "$name" && return 0
  ch_config "$name"
  launch "$name" clickhouse-server --config-file="$DIR/$name/config.xml"
}
ch_ping() { curl -fsS -m 2 "http://127.0.0.1:$(ch_http "$1")/ping" >/dev/null 2>&1; }
# ch_query NAME SQL: runs SQL on NAME over HTTP, prints the result.
ch_query() { curl -fsS -m 30 "http://127.0.0.1:$(ch_http "$1")/" --data-binary "$2"; }
ch_sees_cluster() {
  [ "$(ch_query "$1" "SELECT count() FROM system.clusters WHERE cluster = 'feedlot'" 2>/dev/null)" = 4 ]
}
ch_zk_ok() { ch_query "$1" "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null 2>&1; }
# One table of each kind the pipeline uses, ON CLUSTER; a row inserted through the Distributed
# table must come back from every server. Idempotent (dedup drops the repeated block).
ch_smoke() {
  local c n
  ch_query ch-s1r1 "CREATE DATABASE IF NOT EXISTS cluster_smoke ON CLUSTER feedlot" >/dev/null &&
    ch_query ch-s1r1 "CREATE TABLE IF NOT EXISTS cluster_smoke.probe_local ON CLUSTER feedlot
      (k String, v UInt64) ENGINE = ReplicatedReplacingMergeTree(
      '/clickhouse/tables/{shard}/cluster_smoke/probe_local', '{replica}', v) ORDER BY k" >/dev/null &&
    ch_query ch-s1r1 "CREATE TABLE IF NOT EXISTS cluster_smoke.probe ON CLUSTER feedlot
      AS cluster_smoke.probe_local
      ENGINE = Distributed(feedlot, cluster_smoke, probe_local, cityHash64(k))" >/dev/null &&
    ch_query ch-s2r2 "INSERT INTO cluster_smoke.probe VALUES ('a', 1), ('b', 1), ('c', 1), ('d', 1)" >/dev/null ||
    return 1
  for c in "${CHS[@]}"; do
    n=$(ch_query "$c" "SELECT count() FROM cluster_smoke.probe FINAL") || return 1
    [ "$n" = 4 ] || return 1 # replication is asynchronous: the caller retries
  done
}

# ---- PostgreSQL --------------------------------------------------------------------------------
# PostgreSQL refuses to run as root: as root, the cluster's files belong to `postgres` and its
# commands run as that user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_init() {
  [ -f "$DIR/pg/data/PG_VERSION" ] && return 0
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL (run scripts/install-cluster.sh)"
  mkdir -p "$DIR/pg"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$DIR/pg"
  as_pg test -w "$DIR/pg" || die "the postgres user cannot write $DIR/pg (is a parent directory private?)"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres -A trust -E UTF8 --no-locale >"$DIR/pg/initdb.log" 2>&1 ||
    { cat "$DIR/pg/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DIR/pg/data/postgresql.conf" <<EOF
# scripts/cluster.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DIR/pg'
max_connections = 200
shared_buffers = 64MB
logging_collector = off
# After a crash, sync the data directory with one syncfs() rather than a fsync() per file:
# seconds faster on restart after a crash (cluster.sh kill pg).
recovery_init_sync_method = syncfs
EOF
  PG_FRESH=1
}
pg_start() {
  running pg && return 0
  pg_init
  # After a SIGKILL the old postmaster may linger as a zombie (PostgreSQL would take its lock
  # file as held) and its backends may hold its shared memory for a moment (PostgreSQL checks
  # that itself; we retry).
  rm -f "$DIR/pg/data/postmaster.pid"
  local tries=0
  until as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/pg.log" -w -t 20 start >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 10 ] || { tail -20 "$DIR/pg/pg.log" >&2; die "PostgreSQL did not start"; }
    sleep 0.5
  done
  if [ "${PG_FRESH:-0}" = 1 ] || ! pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = 'tansu'" | grep -q 1; then
    pg_sql postgres "CREATE ROLE tansu LOGIN PASSWORD 'tansu'" >/dev/null 2>&1 || true
    pg_sql postgres "CREATE DATABASE tansu OWNER tansu" >/dev/null
  fi
  # The tansu schema (see the file's header for where it comes from); idempotent.
  PGOPTIONS="-c client_min_messages=warning" as_pg "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$DIR/pg" -p "$PG_PORT" -U tansu -d tansu \
    -f - <"$REPO/scripts/tansu-postgres-schema.sql" >/dev/null
}
pg_sql() { as_pg "$PG_BIN/psql" -qAt -h "$DIR/pg" -p "$PG_PORT" -U postgres -d "$1" -c "$2"; }
pg_ready() { as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
pg_stop() {
  running pg || return 0
  local pid; pid=$(pid_of pg)
  kill -CONT "$pid" $(pgrep -P "$pid") 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
}

# ---- brokers -----------------------------------------------------------------------------------
broker_start() {
  local name=$1 url
  running "$name" && return 0
  command -v "$TANSU" >/dev/null || die "no tansu (run scripts/install-cluster.sh)"
  url="tcp://127.0.0.1:$(broker_port "$name")"
  # tansu also reads CLUSTER_ID, LISTENER_URL, STORAGE_ENGINE, ... from the environment: every
  # setting is given here so nothing leaks in.
  launch "$name" env -u CLUSTER_ID -u LISTENER_URL -u ADVERTISED_LISTENER_URL -u STORAGE_ENGINE \
    "$TANSU" broker --cluster-id feedlot-test --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine "$PG_URL"
}

# ---- applications ------------------------------------------------------------------------------
apps_wanted() { [ "${NO_APPS:-0}" != 1 ]; }
web_users_file() {
  if [ -n "${CLUSTER_WEB_USERS_FILE:-}" ]; then echo "$CLUSTER_WEB_USERS_FILE"; return; fi
  local f="$DIR/web-users.toml"
  if [ ! -f "$f" ]; then
    local hash; hash=$(printf '%s' "$(web_token)" | sha256sum | cut -d' ' -f1)
    printf '[[users]]\nname = "cluster-test"\ntoken_sha256 = "%s"\nfeedlots = ["%s"]\n' \
      "$hash" "${CLUSTER_WEB_FEEDLOTS:-sandhills}" >"$f"
  fi
  echo "$f"
}
web_token() { echo "${CLUSTER_WEB_TOKEN:-cluster-test-token}"; }
session_secret() {
  [ -f "$DIR/web-session-secret" ] || head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1 >"$DIR/web-session-secret"
  cat "$DIR/web-session-secret"
}
consumer_start() {
  local name=$1
  running "$name" && return 0
  [ -x "${INGEST_BIN:-}" ] || die "INGEST_BIN is not an executable: '${INGEST_BIN:-}'"
  launch "$name" env \
    INGEST_KAFKA_BROKERS="$(kafka_brokers)" \
    INGEST_CLICKHOUSE_URL="$(ch_urls)" \
    INGEST_CLICKHOUSE_DATABASE="$DATABASE" \
    INGEST_CLICKHOUSE_CLUSTER=feedlot \
    INGEST_OPS_LISTEN="127.0.0.1:$(consumer_port "$name")" \
    INGEST_KAFKA_REPLICATION_FACTOR="${CLUSTER_KAFKA_REPLICATION_FACTOR:-3}" \
    INGEST_KAFKA_MIN_INSYNC_REPLICAS="${CLUSTER_KAFKA_MIN_INSYNC_REPLICAS:-2}" \
    INGEST_KAFKA_PARTITIONS="${CLUSTER_KAFKA_PARTITIONS:-4}" \
    INGEST_KAFKA_SESSION_TIMEOUT_MS="${CLUSTER_KAFKA_SESSION_TIMEOUT_MS:-3000}" \
    INGEST_KAFKA_HEARTBEAT_INTERVAL_MS="${CLUSTER_KAFKA_HEARTBEAT_INTERVAL_MS:-1000}" \
    "$INGEST_BIN" consume
}
web_start() {
  local name=$1
  running "$name" && return 0
  [ -x "${DASHBOARDS_BIN:-}" ] || die "DASHBOARDS_BIN is not an executable: '${DASHBOARDS_BIN:-}'"
  launch "$name" env \
    DASHBOARDS_CLICKHOUSE_URL="$(ch_urls)" \
    DASHBOARDS_CLICKHOUSE_DATABASE="$DATABASE" \
    DASHBOARDS_CLICKHOUSE_CLUSTER=feedlot \
    DASHBOARDS_WEB_LISTEN="127.0.0.1:$(web_port "$name")" \
    DASHBOARDS_WEB_USERS_FILE="$(web_users_file)" \
    DASHBOARDS_WEB_SESSION_SECRET="$(session_secret)" \
    "$DASHBOARDS_BIN" serve
}
healthz() { curl -fsS -m 2 "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; }
app_port() {
  case $1 in consumer*) consumer_port "$1" ;; web*) web_port "$1" ;; esac
}

# ---- one part by name --------------------------------------------------------------------------
valid() { local n; for n in "${ALL[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
start_part() {
  case $1 in
    zk*) zk_start "$1" ;;
    ch-*) ch_start "$1" ;;
    pg) pg_start ;;
    broker*) broker_start "$1" ;;
    consumer*) consumer_start "$1" ;;
    web*) web_start "$1" ;;
  esac
}
# ready NAME: whether NAME answers as it should.
ready() {
  case $1 in
    zk*) zk_serving "$1" ;;
    ch-*) ch_ping "$1" && ch_sees_cluster "$1" && ch_zk_ok "$1" ;;
    pg) pg_ready ;;
    broker*) listening "$(broker_port "$1")" ;;
    consumer* | web*) healthz "$(app_port "$1")" ;;
  esac
}
# why_not NAME: what is known about a part that is not ready (stderr): its process, each
# readiness probe for a ClickHouse server, the tails of its logs and the machine's memory.
why_not() {
  local name=$1 pid f
  if pid=$(pid_of "$name"); then
    ps -o pid=,stat=,etime=,rss=,args= -p "$pid" 2>/dev/null | cut -c1-160 | sed "s/^/cluster: $name process: /" >&2
  else
    echo "cluster: $name has no running process" >&2
  fi
  case $name in
    ch-*)
      ch_ping "$name" && echo "cluster: $name answers /ping" >&2 || echo "cluster: $name does not answer /ping" >&2
      echo "cluster: $name sees $(ch_query "$name" "SELECT count() FROM system.clusters WHERE cluster = 'feedlot'" 2>&1 | head -c 300) of 4 servers" >&2
      ch_query "$name" "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null 2>&1 ||
        echo "cluster: $name cannot read system.zookeeper: $(ch_query "$name" "SELECT count() FROM system.zookeeper WHERE path = '/'" 2>&1 | head -c 300)" >&2
      ;;
  esac
  for f in "$DIR/$name/$name.log" "$DIR/$name/log/server.err.log" "$DIR/$name/log/server.log"; do
    [ -s "$f" ] && { echo "cluster: last lines of $f:"; tail -n 15 "$f" | cut -c1-400; } >&2
  done
  # A server's reason for exiting is the exception's own line, above its stack trace.
  f="$DIR/$name/log/server.err.log"
  [ -s "$f" ] && { echo "cluster: last errors of $f:"; grep -E '<Error>|Exception' "$f" | grep -v '^[0-9]*\. ' | tail -n 6 | cut -c1-800; } >&2
  free -m 2>/dev/null | sed 's/^/cluster: memory: /' >&2 || true
}
# wait_ready NAME [SECONDS]: waits for NAME to pass its readiness probe. A ClickHouse server
# that exits while starting is started again, once, with the reason shown.
wait_ready() {
  local name=$1 secs=${2:-60} end relaunched=""
  end=$((SECONDS + secs))
  until ready "$name" 2>/dev/null; do
    if [ $SECONDS -ge $end ]; then
      echo "cluster: timed out after ${secs}s waiting for $name" >&2
      why_not "$name"
      return 1
    fi
    if [[ $name == ch-* ]] && ! running "$name" && [ -z "$relaunched" ]; then
      echo "cluster: $name exited while starting; starting it again" >&2
      why_not "$name"
      relaunched=yes
      ch_start "$name"
      end=$((SECONDS + secs))
    fi
    sleep 0.2
  done
}
stop_part() {
  local name=$1 pid
  [ "$name" = pg ] && { pg_stop; return 0; }
  pid=$(pid_of "$name") || { rm -f "$DIR/$name/pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a frozen process handles TERM only once thawed
  wait_for 15 "$name to exit" bash -c "! [ -d /proc/$pid ] || [ \"\$(awk '{print \$3}' /proc/$pid/stat 2>/dev/null)\" = Z ]" 2>/dev/null ||
    kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/$name/pid"
}
signal_part() {
  local sig=$1 name=$2 pid
  pid=$(pid_of "$name") || die "$name is not running"
  if [ "$name" = pg ] && [ "$sig" != KILL ]; then
    # PostgreSQL is a postmaster and its backends: freeze/thaw them all.
    kill -"$sig" "$pid" $(pgrep -P "$pid") 2>/dev/null || true
  else
    kill -"$sig" "$pid"
  fi
  echo "$name: SIG$sig sent to $pid"
}

# ---- commands ----------------------------------------------------------------------------------
cmd_env() {
  local c b n
  echo "CLUSTER_DIR=$DIR"
  echo "KAFKA_BROKERS=$(kafka_brokers)"
  for b in "${BROKERS[@]}"; do echo "KAFKA_${b^^}=127.0.0.1:$(broker_port "$b")"; done
  echo "CLICKHOUSE_URLS=$(ch_urls)"
  echo "CLICKHOUSE_CLUSTER=feedlot"
  echo "CLICKHOUSE_DATABASE=$DATABASE"
  for c in "${CHS[@]}"; do
    n=${c#ch-}; echo "CLICKHOUSE_${n^^}_URL=http://127.0.0.1:$(ch_http "$c")"
    echo "CLICKHOUSE_${n^^}_TCP=127.0.0.1:$(ch_tcp "$c")"
  done
  echo "ZOOKEEPER=$(join $(for z in "${ZKS[@]}"; do echo "127.0.0.1:$(zk_port "$z")"; done))"
  echo "POSTGRES_URL=$PG_URL"
  echo "CONSUMER_OPS_URLS=$(join $(for c in "${CONSUMERS[@]}"; do echo "http://127.0.0.1:$(consumer_port "$c")"; done))"
  echo "WEB_URLS=$(join $(for w in "${WEBS[@]}"; do echo "http://127.0.0.1:$(web_port "$w")"; done))"
  echo "WEB_TOKEN=$(web_token)"
}
cmd_status() {
  local n pid state
  for n in "${ALL[@]}"; do
    if pid=$(pid_of "$n"); then
      state=$(awk '{print $3}' "/proc/$pid/stat")
      if [ "$state" = T ]; then echo "$n running pid $pid FROZEN"
      elif ready "$n" 2>/dev/null; then echo "$n running pid $pid ready"
      else echo "$n running pid $pid not answering"; fi
    else
      echo "$n stopped"
    fi
  done
}
cmd_start() {
  local t0 n rss
  t0=$(date +%s.%N)
  local pg_job
  for n in "${ZKS[@]}"; do zk_start "$n"; done
  pg_start &
  pg_job=$!
  # ClickHouse 18.16 exits at startup when it has Replicated tables and reaches no ZooKeeper.
  for n in "${ZKS[@]}"; do wait_ready "$n" 60 || die "$n did not become ready"; done
  for n in "${CHS[@]}"; do ch_start "$n"; done
  wait "$pg_job" || die "PostgreSQL did not start"
  for n in "${BROKERS[@]}"; do broker_start "$n"; done
  for n in pg "${BROKERS[@]}"; do wait_ready "$n" 60 || die "$n did not become ready"; done
  for n in "${CHS[@]}"; do wait_ready "$n" 120 || die "$n did not become ready"; done
  wait_for 120 "the ON CLUSTER smoke test" ch_smoke || die "the ClickHouse smoke test failed"
  if apps_wanted && [ -n "${INGEST_BIN:-}" ]; then
    # As the chart's pre-install hook does: the schema once, before the consumers start.
    env INGEST_CLICKHOUSE_URL="$(ch_urls)" INGEST_CLICKHOUSE_DATABASE="$DATABASE" \
      INGEST_CLICKHOUSE_CLUSTER=feedlot "$INGEST_BIN" migrate >"$DIR/migrate.log" 2>&1 \
      || die "ingest migrate failed; see $DIR/migrate.log"
    for n in "${CONSUMERS[@]}"; do consumer_start "$n"; done
    for n in "${CONSUMERS[@]}"; do wait_ready "$n" 60 || die "$n did not become ready"; done
  fi
  if apps_wanted && [ -n "${DASHBOARDS_BIN:-}" ]; then
    for n in "${WEBS[@]}"; do web_start "$n"; done
    for n in "${WEBS[@]}"; do wait_ready "$n" 60 || die "$n did not become ready"; done
  fi
  rss=$(cmd_rss)
  printf 'cluster ready in %.1f s (RSS %s MiB); data in %s\n' \
    "$(elapsed "$t0")" "$rss" "$DIR"
  cmd_env
}
cmd_rss() {
  local n pid kb=0 p
  for n in "${ALL[@]}"; do
    pid=$(pid_of "$n") || continue
    for p in $pid $( [ "$n" = pg ] && pgrep -P "$pid" ); do
      kb=$((kb + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
  done
  echo $((kb / 1024))
}
cmd_stop() {
  local tier n
  # Tier by tier, the parts of a tier together: applications, brokers, PostgreSQL, ClickHouse,
  # ZooKeeper (so nothing loses its dependency while it still runs).
  for tier in "${WEBS[*]} ${CONSUMERS[*]}" "${BROKERS[*]}" pg "${CHS[*]}" "${ZKS[*]}"; do
    for n in $tier; do stop_part "$n" & done
    wait
  done
  echo "cluster stopped"
}

case "${1:-}" in
  start)
    [ "${2:-}" = --no-apps ] && NO_APPS=1
    cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  rss) cmd_rss ;;
  clean) cmd_stop; rm -rf "$DIR"; echo "removed $DIR" ;;
  kill | freeze | thaw)
    [ -n "${2:-}" ] && valid "$2" || die "usage: $0 $1 NAME (one of: ${ALL[*]})"
    case $1 in kill) signal_part KILL "$2" ;; freeze) signal_part STOP "$2" ;; thaw) signal_part CONT "$2" ;; esac ;;
  start-one)
    [ -n "${2:-}" ] && valid "$2" || die "usage: $0 start-one NAME (one of: ${ALL[*]})"
    t0=$(date +%s.%N)
    start_part "$2"
    wait_ready "$2" 90 || die "$2 did not become ready"
    printf '%s ready in %.1f s\n' "$2" "$(elapsed "$t0")" ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
