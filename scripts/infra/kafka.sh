#!/usr/bin/env bash
# Single-node Apache Kafka 3.9.1 in KRaft mode on 127.0.0.1:9092 (controller on 9093).
# KAFKA_PORT and KAFKA_CONTROLLER_PORT move it (the chaos suite runs its own broker beside the
# shared one, with its own INFRA_DIR).
#
#   kafka.sh start    reuse a broker that already serves 9092, or fetch the jars (first time
#                     only), format the storage and start one; waits until it serves clients
#   kafka.sh stop     stop the broker this script started: SIGTERM, wait, SIGKILL after 60 s
#   kafka.sh restart  stop, then start
#   kafka.sh status   exit 0 if a broker on 9092 answers a Metadata request
#
# Layout under $INFRA_DIR/kafka: libs/ (the jars), data/ (log.dirs), logs/ (server.log and the
# JVM's own output), server.properties, cluster-id, kafka.pid, maven.log.
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

kafka_answers() {
  [[ -d "$REPO_ROOT/node_modules/kafkajs" ]] ||
    die "node_modules/kafkajs is missing (Kafka's readiness check uses it): run npm ci first"
  node "$INFRA_SCRIPTS_DIR/kafka-ready.mjs" --brokers "$KAFKA_BROKER" --timeout "$1" "${@:2}"
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

# KRaft storage must be formatted once with a cluster id. The id is kept so that re-runs
# (and restarts after infra-down) format nothing and reuse the same data.
format_storage() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  sed -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    "$INFRA_SCRIPTS_DIR/server.properties" >"$KAFKA_PROPERTIES"
  if [[ ! -s "$KAFKA_CLUSTER_ID" ]]; then
    kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID.tmp"
    mv "$KAFKA_CLUSTER_ID.tmp" "$KAFKA_CLUSTER_ID"
  fi
  # Formatted storage has meta.properties: skip the format tool's JVM (seconds on a busy
  # machine; the chaos suite restarts the broker mid-run).
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  if ! kafka_java kafka.tools.StorageTool format -t "$(<"$KAFKA_CLUSTER_ID")" \
    -c "$KAFKA_PROPERTIES" --ignore-formatted >>"$KAFKA_LOGS/storage-format.log" 2>&1; then
    echo "infra: formatting Kafka storage in $KAFKA_DATA failed" >&2
    show_log_tail "$KAFKA_LOGS/storage-format.log"
    exit 1
  fi
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

  if port_open "$KAFKA_PORT" && kafka_answers 10; then
    if [[ -n "$pid" ]]; then
      report kafka reused "(ours, pid $pid)"
    else
      report kafka reused "(not ours: infra:down leaves it alone)"
    fi
    return 0
  fi
  if [[ -z "$pid" ]]; then
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      if port_open "$port"; then die "127.0.0.1:$port is taken by something that is not our Kafka"; fi
    done

    if ! jars_current; then
      fetch_jars
      outcome=installed
    fi
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
