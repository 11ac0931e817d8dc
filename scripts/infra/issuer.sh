#!/usr/bin/env bash
# The project's OpenID Connect issuer (issuer/server.mjs, Node) on 127.0.0.1:ISSUER_PORT (3004).
#
#   issuer.sh start    reuse an issuer already serving discovery on the port, or generate its
#                      client secret and the operator's password (first time only) and start
#                      one; waits until its discovery document answers
#   issuer.sh stop     stop the issuer this script started; leaves others alone
#   issuer.sh status   exit 0 if an issuer answers discovery on the port
#
# Layout under $INFRA_DIR/issuer: issuer.pid, issuer.log. Its signing keys and cookie keys are
# secrets (issuer-jwks.json, issuer-cookie-keys in $SECRETS_DIR) that the issuer generates on
# its first start and reuses, so tokens stay valid across restarts.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ISSUER_DIR="$INFRA_DIR/issuer"
ISSUER_PIDFILE="$ISSUER_DIR/issuer.pid"
ISSUER_LOG="$ISSUER_DIR/issuer.log"
ISSUER_PORT="${ISSUER_PORT:-3004}"
ISSUER_SERVER="$REPO_ROOT/issuer/server.mjs"
# It starts in well under a second on a quiet machine; the margin is for a busy CI runner.
ISSUER_START_TIMEOUT=20

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

issuer_answers() {
  curl -fsS --max-time 2 "http://$HOST:$ISSUER_PORT/.well-known/openid-configuration" 2>/dev/null |
    grep -q '"token_endpoint"'
}

issuer_start() {
  local pid
  command -v curl >/dev/null || apt_install curl
  [[ -d "$REPO_ROOT/node_modules/oidc-provider" ]] ||
    die "node_modules/oidc-provider is missing (the issuer runs on it): run npm ci first"
  mkdir -p "$ISSUER_DIR"
  # One start at a time; the issuer does not inherit the lock.
  exec {lock}>"$ISSUER_DIR/start.lock"
  flock "$lock"
  pid="$(live_pid "$ISSUER_PIDFILE" issuer/server.mjs)"

  if issuer_answers; then
    if [[ -n "$pid" ]]; then
      report issuer reused "(ours, pid $pid)"
    else
      report issuer reused "(not ours: infra:down leaves it alone)"
    fi
    return 0
  fi
  if [[ -z "$pid" ]]; then
    if port_open "$ISSUER_PORT"; then
      die "127.0.0.1:$ISSUER_PORT is taken by something that is not an OpenID Connect issuer"
    fi
    # The tools client's secret and the operator's password: the issuer reads them from these
    # files, and so do the token script and the tests.
    secret issuer-tools >/dev/null
    secret operator-password >/dev/null

    # setsid + nohup: the issuer outlives this script and ignores the terminal's Ctrl-C.
    # SECRETS_DIR is passed because lib.sh may have derived it from INFRA_DIR.
    SECRETS_DIR="$SECRETS_DIR" ISSUER_PORT="$ISSUER_PORT" setsid nohup \
      node --max-old-space-size=64 "$ISSUER_SERVER" >>"$ISSUER_LOG" 2>&1 </dev/null {lock}>&- &
    pid=$!
    echo "$pid" >"$ISSUER_PIDFILE"
  fi
  # else: ours, alive, not answering yet (still starting): wait for it.

  if ! wait_until "$ISSUER_START_TIMEOUT" issuer_answers; then
    echo "infra: the issuer did not answer on $HOST:$ISSUER_PORT within ${ISSUER_START_TIMEOUT}s" >&2
    show_log_tail "$ISSUER_LOG"
    exit 1
  fi
  report issuer started "pid $pid, http://$HOST:$ISSUER_PORT, log $ISSUER_LOG"
}

issuer_stop() {
  local pid
  pid="$(live_pid "$ISSUER_PIDFILE" issuer/server.mjs)"
  if [[ -z "$pid" ]]; then
    if port_open "$ISSUER_PORT"; then
      report issuer left "(not started by infra:up)"
    else
      report issuer "not running"
    fi
    return 0
  fi
  stop_pid "$pid" 10
  rm -f "$ISSUER_PIDFILE"
  report issuer stopped "pid $pid"
}

[[ $# -eq 1 ]] || usage
case "$1" in
  start) issuer_start ;;
  stop) issuer_stop ;;
  status) issuer_answers ;;
  *) usage ;;
esac
