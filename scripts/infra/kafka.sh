#!/usr/bin/env bash
# Single-node Apache Kafka 3.9.1 in KRaft mode on 127.0.0.1:9092 (controller on 9093).
# KAFKA_PORT and KAFKA_CONTROLLER_PORT move it (the chaos suite runs its own broker beside the
# shared one, with its own INFRA_DIR).
#
# Clients authenticate with SASL/SCRAM-SHA-512 (server.properties): the principals admin (super
# user), order, payment and inventory, with the passwords of the local secrets kafka-<name>
# ($SECRETS_DIR). After every start, kafka-access.mjs creates the order flow's topics and the
# ACLs that let each service do exactly its part.
#
#   kafka.sh start    reuse a broker that already serves 9092 (restarting ours first if its
#                     configuration changed), or fetch the jars (first time only), format the
#                     storage and start one; waits until it serves clients, then applies the ACLs
#   kafka.sh stop     stop the broker this script started: SIGTERM, wait, SIGKILL after 60 s
#   kafka.sh restart  stop, then start
#   kafka.sh status   exit 0 if a broker on 9092 answers a Metadata request from admin
#
# Layout under $INFRA_DIR/kafka: libs/ (the jars), data/ (log.dirs), logs/ (server.log and the
# JVM's own output), server.properties, cluster-id, scram-credentials.sha256, kafka.pid,
# maven.log.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$INFRA_DIR/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID="$KAFKA_DIR/cluster-id"
KAFKA_PROPERTIES="$KAFKA_DIR/server.properties"
KAFKA_SCRAM_MARK="$KAFKA_DIR/scram-credentials.sha256"
# The SASL/SCRAM principals, created with the storage. admin is the super user (infra scripts,
# tests); the services' grants are kafka-access.mjs's table.
KAFKA_PRINCIPALS=(admin order payment inventory)
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_BROKER="$HOST:$KAFKA_PORT"
KAFKA_POM="$INFRA_SCRIPTS_DIR/pom.xml"
# Enough for a first start on a slow 2-core CI machine; a healthy broker answers in ~10 s.
KAFKA_START_TIMEOUT=120
KAFKA_STOP_GRACE=60

usage() {
  echo "usage: $0 start|stop|restart|status" >&2
  exit 2
}

# The node scripts sign in as admin; the password travels in the environment, not in argv.
kafka_node() {
  [[ -d "$REPO_ROOT/node_modules/kafkajs" ]] ||
    die "node_modules/kafkajs is missing (Kafka's readiness check uses it): run npm ci first"
  KAFKA_ADMIN_PASSWORD="$(secret kafka-admin)" node "$INFRA_SCRIPTS_DIR/$1" --brokers "$KAFKA_BROKER" "${@:2}"
}

kafka_answers() {
  kafka_node kafka-ready.mjs --timeout "$1" "${@:2}"
}

# Topics and ACLs from the table in kafka-access.mjs (idempotent: a second run changes nothing).
apply_access() {
  local outcome
  if ! outcome="$(kafka_node kafka-access.mjs 2>&1)"; then
    echo "$outcome" >&2
    die "applying Kafka's topics and ACLs on $KAFKA_BROKER failed"
  fi
  report kafka-acl ok "$outcome"
}

# The jars are resolved for one version of pom.xml; a changed pom (say, a Kafka upgrade)
# invalidates them, so the pom's checksum is kept beside them.
jars_current() {
  [[ -f "$KAFKA_LIBS/.pom.sha256" ]] &&
    [[ "$(<"$KAFKA_LIBS/.pom.sha256")" == "$(sha256sum <"$KAFKA_POM")" ]]
}

# Kafka comes from Maven Central rather than Apache's download site, which dev and CI
# machines cannot reach. Maven's default local repository (~/.m2) is used on purpose: CI
# runs from a fresh clone each time, so a Maven cache under .infra would download ~70 MB of
# Kafka and plugin jars again on every run, while with ~/.m2 only the first run downloads and
# later ones copy. What the broker runs from is the copy in $INFRA_DIR/kafka/libs.
fetch_jars() {
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  local partial="$KAFKA_DIR/libs.partial" log="$KAFKA_DIR/maven.log"
  rm -rf "$partial"
  mkdir -p "$KAFKA_DIR"
  if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$partial" >"$log" 2>&1; then
    echo "infra: resolving Kafka jars with Maven failed" >&2
    show_log_tail "$log"
    exit 1
  fi
  sha256sum <"$KAFKA_POM" >"$partial/.pom.sha256"
  # Swapped in whole, so an interrupted download is never mistaken for a complete one.
  rm -rf "$KAFKA_LIBS"
  mv "$partial" "$KAFKA_LIBS"
}

# Classpath and logging shared by the storage tool and the broker: both log through
# log4j.properties into $KAFKA_LOGS.
KAFKA_JAVA_OPTS=(
  -cp "$KAFKA_LIBS/*"
  -Dkafka.logs.dir="$KAFKA_LOGS"
  -Dlog4j.configuration="file:$INFRA_SCRIPTS_DIR/log4j.properties"
)

kafka_java() {
  java "${KAFKA_JAVA_OPTS[@]}" "$@"
}

# The broker's configuration as it should be now, written beside the one in use
# ($KAFKA_PROPERTIES.next): readable by root only, since it carries the admin password.
render_properties() {
  mkdir -p "$KAFKA_DIR"
  (
    umask 077
    sed -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_ADMIN_PASSWORD@|$(secret kafka-admin)|g" \
      "$INFRA_SCRIPTS_DIR/server.properties" >"$KAFKA_PROPERTIES.next"
  )
}

# Which credentials the storage was formatted with: a digest of every principal's password.
scram_fingerprint() {
  local name
  for name in "${KAFKA_PRINCIPALS[@]}"; do
    printf '%s=%s\n' "$name" "$(secret "kafka-$name")"
  done | sha256sum
}

# KRaft storage must be formatted once with a cluster id and the SCRAM credentials (they live in
# the metadata log, so the broker can check them before anyone could sign in to add them). The
# id is kept so that re-runs (and restarts after infra-down) format nothing and reuse the data.
format_storage() {
  local fingerprint name scram=()
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  if [[ ! -s "$KAFKA_CLUSTER_ID" ]]; then
    kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID.tmp"
    mv "$KAFKA_CLUSTER_ID.tmp" "$KAFKA_CLUSTER_ID"
  fi
  fingerprint="$(scram_fingerprint)"
  # Formatted storage has meta.properties: skip the format tool's JVM (seconds on a busy
  # machine; the chaos suite restarts the broker mid-run).
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    [[ -f "$KAFKA_SCRAM_MARK" && "$(<"$KAFKA_SCRAM_MARK")" == "$fingerprint" ]] && return 0
    # Storage formatted without these credentials: a broker from before SASL (PLAINTEXT, no
    # principals), or secrets generated anew. Nobody could sign in to it, so it is formatted
    # again: acceptable for this development broker, whose topics kafka-access.mjs recreates
    # and whose messages are test and demo traffic. (A production cluster would add the
    # credentials with kafka-configs --alter --add-config SCRAM-SHA-512=... instead.)
    report kafka reformat "(storage predates the SCRAM credentials in $SECRETS_DIR: its data is discarded)"
    rm -rf "$KAFKA_DATA"
    mkdir -p "$KAFKA_DATA"
  fi
  # The storage tool takes the passwords on its command line only: visible to `ps` for the few
  # seconds it runs, on a development machine where the secrets themselves are root's files.
  for name in "${KAFKA_PRINCIPALS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$(secret "kafka-$name")]")
  done
  if ! kafka_java kafka.tools.StorageTool format -t "$(<"$KAFKA_CLUSTER_ID")" \
    -c "$KAFKA_PROPERTIES" --ignore-formatted "${scram[@]}" >>"$KAFKA_LOGS/storage-format.log" 2>&1; then
    echo "infra: formatting Kafka storage in $KAFKA_DATA failed" >&2
    show_log_tail "$KAFKA_LOGS/storage-format.log"
    exit 1
  fi
  (
    umask 077
    echo "$fingerprint" >"$KAFKA_SCRAM_MARK"
  )
}

show_kafka_logs() {
  show_log_tail "$KAFKA_LOGS/kafka.out"
  show_log_tail "$KAFKA_LOGS/server.log"
}

kafka_start() {
  local outcome=started pid port
  mkdir -p "$KAFKA_DIR"
  # One start at a time (two shells running infra:up at once must not start two brokers); the
  # broker does not inherit the lock.
  exec {lock}>"$KAFKA_DIR/start.lock"
  flock "$lock"
  pid="$(live_pid "$KAFKA_PIDFILE" kafka.Kafka)"
  render_properties

  # Ours, but started with another configuration (say, PLAINTEXT from before SASL, or another
  # admin password): it would never answer admin, so it is restarted with the new one.
  if [[ -n "$pid" ]] && ! cmp -s "$KAFKA_PROPERTIES.next" "$KAFKA_PROPERTIES"; then
    report kafka restart "(configuration changed: pid $pid)"
    stop_pid "$pid" "$KAFKA_STOP_GRACE"
    rm -f "$KAFKA_PIDFILE"
    pid=""
  fi

  if port_open "$KAFKA_PORT" && kafka_answers 10; then
    if [[ -n "$pid" ]]; then
      report kafka reused "(ours, pid $pid)"
    else
      report kafka reused "(not ours: infra:down leaves it alone)"
    fi
    apply_access
    return 0
  fi
  if [[ -z "$pid" ]]; then
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      if port_open "$port"; then
        die "127.0.0.1:$port is taken by something that is not our Kafka (or a broker that refuses admin's password in $SECRETS_DIR/kafka-admin)"
      fi
    done

    if ! jars_current; then
      fetch_jars
      outcome=installed
    fi
    mv "$KAFKA_PROPERTIES.next" "$KAFKA_PROPERTIES"
    format_storage

    # setsid + nohup: the broker must outlive this script and ignore the Ctrl-C or hang-up of
    # the terminal that ran infra-up. 512 MiB of heap is plenty for tests and demos and keeps
    # the 2-core CI machine's memory for the services. G1 with short pauses, as Kafka's own
    # start script does.
    setsid nohup java -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "${KAFKA_JAVA_OPTS[@]}" \
      kafka.Kafka "$KAFKA_PROPERTIES" >>"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null {lock}>&- &
    pid=$!
    echo "$pid" >"$KAFKA_PIDFILE"
  fi
  # else: a broker of ours is alive but not answering yet (still starting): wait for it.

  if ! kafka_answers "$KAFKA_START_TIMEOUT" --pid "$pid"; then
    echo "infra: Kafka did not become ready on $KAFKA_BROKER" >&2
    show_kafka_logs
    exit 1
  fi
  report kafka "$outcome" "pid $pid, log $KAFKA_LOGS/server.log"
  apply_access
}

kafka_stop() {
  local pid
  pid="$(live_pid "$KAFKA_PIDFILE" kafka.Kafka)"
  if [[ -z "$pid" ]]; then
    if port_open "$KAFKA_PORT"; then
      report kafka left "(not started by infra:up)"
    else
      report kafka "not running"
    fi
    return 0
  fi
  # SIGTERM runs Kafka's shutdown hook: a controlled shutdown that flushes the logs and
  # writes a clean-shutdown marker, so the next start skips log recovery.
  stop_pid "$pid" "$KAFKA_STOP_GRACE"
  rm -f "$KAFKA_PIDFILE"
  report kafka stopped "pid $pid"
}

[[ $# -eq 1 ]] || usage
case "$1" in
  start) kafka_start ;;
  stop) kafka_stop ;;
  restart)
    kafka_stop
    kafka_start
    ;;
  status) port_open "$KAFKA_PORT" && kafka_answers 5 ;;
  *) usage ;;
esac
