#!/usr/bin/env bash
# One Redis node of the Redlock quorum, on 127.0.0.1:PORT.
#
#   redis.sh start PORT   reuse a server already answering on PORT, or start one (pidfile and
#                         log under $INFRA_DIR/redis/PORT); waits until it answers PING
#   redis.sh stop PORT    stop the server on PORT if this script started it; leaves others alone
#   redis.sh status PORT  exit 0 if something answers PING on PORT
#
# infra-up/infra-down use it for 6379-6381; chaos tests use it to take one node away and back.
# The three nodes are independent servers (no replication, no cluster): that is what Redlock's
# quorum assumes. A node this script starts requires the password in the generated secret
# `redis`; a node it only reuses (6379 on dev and CI machines) is left as it is, and clients
# that send the password to it still work (Redis answers AUTH with an error that redis-cli and
# ioredis report as a warning and go on).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 start|stop|status PORT" >&2
  exit 2
}

# redis-cli reads the password from REDISCLI_AUTH: on its command line (-a) every process on
# the machine could read it.
REDISCLI_AUTH="$(secret redis)"
export REDISCLI_AUTH

redis_answers() {
  [[ "$(redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" == PONG ]]
}

# True if the node answers PING without any password.
redis_open() {
  [[ "$(REDISCLI_AUTH='' redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" == PONG ]]
}

# Answering, or gone: not in between (starting up or shutting down).
redis_settled() {
  redis_answers "$1" || ! port_open "$1"
}

redis_start() {
  local port="$1" dir="$INFRA_DIR/redis/$1"
  local pidfile="$dir/redis.pid" log="$dir/redis.log" outcome=started

  command -v redis-cli >/dev/null || apt_install redis-tools
  mkdir -p "$dir"
  # Tests that stop and restart nodes may call this concurrently for the same port: one at a
  # time, or the loser's failed start would overwrite the winner's pidfile. (The server itself
  # must not inherit the lock, or it would hold it for its whole life.)
  exec {lock}>"$dir/start.lock"
  flock "$lock"

  # A node that chaos tests are stopping or starting has its port open without answering yet.
  if ! redis_settled "$port"; then wait_until 10 redis_settled "$port" || true; fi
  if redis_answers "$port"; then
    if [[ -n "$(live_pid "$pidfile" "redis-server $HOST:$port")" ]]; then
      # Started by an earlier version of this script, without a password: set it in place
      # (no restart, so the locks it holds stay valid).
      if redis_open "$port"; then
        printf '%s' "$REDISCLI_AUTH" | redis-cli -x -h "$HOST" -p "$port" config set requirepass >/dev/null 2>&1
        redis_open "$port" && die "could not set a password on redis:$port (ours, pid $(<"$pidfile"))"
        report "redis:$port" reused "(ours, pid $(<"$pidfile"), password set now)"
        return 0
      fi
      report "redis:$port" reused "(ours, pid $(<"$pidfile"))"
    else
      report "redis:$port" reused "(not ours: infra:down leaves it alone)"
    fi
    return 0
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is taken by something that does not answer Redis PING (with or without the password in secret redis)"
  fi

  if ! command -v redis-server >/dev/null; then
    apt_install redis-server
    outcome=installed
  fi

  rm -f "$pidfile"
  # No persistence (--save '' --appendonly no): tests and demos want a clean node after a
  # restart, and a lock store must not resurrect old locks from disk anyway. The password goes
  # in as configuration on stdin (`-`), not as an argument anyone could read in ps.
  printf 'requirepass %s\n' "$REDISCLI_AUTH" |
    redis-server - --daemonize yes --bind "$HOST" --port "$port" --save '' --appendonly no \
      --dir "$dir" --pidfile "$pidfile" --logfile "$log" >/dev/null {lock}>&-

  if ! wait_until 10 redis_answers "$port"; then
    echo "infra: redis on $port did not answer PING within 10s" >&2
    show_log_tail "$log"
    exit 1
  fi
  report "redis:$port" "$outcome" "pid $(<"$pidfile"), log $log"
}

redis_stop() {
  local port="$1" pid
  pid="$(live_pid "$INFRA_DIR/redis/$port/redis.pid" "redis-server $HOST:$port")"
  if [[ -z "$pid" ]]; then
    if redis_answers "$port"; then
      report "redis:$port" left "(not started by infra:up)"
    else
      report "redis:$port" "not running"
    fi
    return 0
  fi
  # SIGTERM is Redis's clean shutdown; with nothing to save it exits at once.
  stop_pid "$pid" 10
  rm -f "$INFRA_DIR/redis/$port/redis.pid"
  report "redis:$port" stopped "pid $pid"
}

# The nodes' URLs as the services' default REDIS_NODES (the local secret redis-nodes): with the
# password for a node that asks for one, without it for a node infra:up only reuses and that has
# none (6379 on dev and CI machines), which would otherwise answer the password with an error
# that ioredis prints as a non-JSON line in the services' logs.
redis_record_urls() {
  local port password urls=()
  password="$(secret redis)"
  for port in "$@"; do
    if [[ "$(env -u REDISCLI_AUTH redis-cli -h "$HOST" -p "$port" ping 2>/dev/null)" == PONG ]]; then
      urls+=("redis://$HOST:$port")
    else
      urls+=("redis://:$password@$HOST:$port")
    fi
  done
  (
    umask 077
    IFS=,
    printf '%s' "${urls[*]}" >"$SECRETS_DIR/redis-nodes.$$"
  )
  mv "$SECRETS_DIR/redis-nodes.$$" "$SECRETS_DIR/redis-nodes"
}

if [[ "${1:-}" == record-urls ]]; then
  shift
  redis_record_urls "$@"
  exit 0
fi

[[ $# -eq 2 && "$2" =~ ^[0-9]+$ ]] || usage
case "$1" in
  start) redis_start "$2" ;;
  stop) redis_stop "$2" ;;
  status) redis_answers "$2" ;;
  *) usage ;;
esac
