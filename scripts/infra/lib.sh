# shellcheck shell=bash
# Shared helpers for the native infrastructure scripts (sourced, never run).
#
# Everything infra-up starts keeps its data, logs, jars and pidfiles under one git-ignored
# folder, $INFRA_DIR (default: <repo>/.infra), so `infra:down && rm -rf .infra` leaves nothing.
# A server we did not start (Postgres or Redis already answering on its port) is "reused":
# we never stop it, which is why every server we start leaves a pidfile or marker here.

INFRA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_SCRIPTS_DIR/../.." && pwd)"
INFRA_DIR="${INFRA_DIR:-$REPO_ROOT/.infra}"
# Absolute, so pidfiles and -D paths stay valid whatever the caller's working directory.
mkdir -p "$INFRA_DIR"
INFRA_DIR="$(cd "$INFRA_DIR" && pwd)"

HOST=127.0.0.1

# One short line per server: "<name> <what happened> <detail>".
report() {
  if [[ -n "${3:-}" ]]; then
    printf '%-10s %-9s %s\n' "$1" "$2" "$3"
  else
    printf '%-10s %s\n' "$1" "$2"
  fi
}

die() {
  echo "infra: $*" >&2
  exit 1
}

# The last lines of a server's log, printed when it fails to come up: the reason is almost
# always there, and CI logs are the only place anyone will see it.
show_log_tail() {
  local log="$1"
  if [[ -s "$log" ]]; then
    echo "----- last 40 lines of $log -----" >&2
    tail -n 40 "$log" >&2
    echo "-----" >&2
  else
    echo "(nothing in $log)" >&2
  fi
}

# True if something accepts TCP connections on HOST:port. Pure bash (/dev/tcp), so it works
# before any client is installed; `timeout` guards against a SYN that is never answered.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# Debian package installs, only for what is missing. The package lists are refreshed at most
# once an hour (a stamp in $INFRA_DIR), because infra-up runs one script per server and each
# may need a package on a fresh machine.
apt_install() {
  local packages=("$@") stamp="$INFRA_DIR/apt-updated"
  [[ ${#packages[@]} -gt 0 ]] || return 0
  echo "infra: installing ${packages[*]} (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]]; then
    apt-get update -q >>"$INFRA_DIR/apt.log" 2>&1 || die "apt-get update failed (see $INFRA_DIR/apt.log)"
    touch "$stamp"
  fi
  # Package scripts would start the Debian default daemons (a postgres and a redis on 6379)
  # wherever an init system lets them; infra-up starts and records its own servers instead,
  # so daemon starts are refused for the duration of the install (Debian's policy-rc.d hook).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  local status=0 log="$INFRA_DIR/apt.log"
  apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$log" 2>&1 || status=$?
  if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi
  if [[ $status -ne 0 ]]; then
    show_log_tail "$log"
    die "apt-get install ${packages[*]} failed (exit $status)"
  fi
}

# True if the process exists and has not exited. A process that has exited but was never
# reaped (a zombie) still passes `kill -0`; the servers we start are reparented to PID 1, which
# on some machines (this one: a firecracker init) never reaps them, so the state must be read.
pid_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # the command name, in parentheses, may contain spaces
  [[ -n "$stat" && "${stat%% *}" != Z ]]
}

# pid from a pidfile, if that process is alive and its command line still contains `pattern`
# (a pidfile outlives reboots and pids get reused: never signal a stranger). Empty otherwise.
live_pid() {
  local pidfile="$1" pattern="$2" pid
  [[ -s "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"; then
    echo "$pid"
  fi
}

# SIGTERM, wait up to `grace` seconds for the process to exit, then SIGKILL. Servers get the
# chance to shut down cleanly (Kafka flushes its logs and leaves the quorum), but a stuck one
# never blocks infra-down forever.
stop_pid() {
  local pid="$1" grace="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while pid_alive "$pid"; do
    if ((waited >= grace * 10)); then
      echo "infra: pid $pid still running after ${grace}s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # After SIGKILL the kernel still needs a moment to tear it down.
  while pid_alive "$pid"; do sleep 0.1; done
}

# Poll `check` (a command) every 0.2 s until it succeeds or `seconds` pass. A server that is
# still starting answers within a few seconds; the timeout only catches real failures.
wait_until() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Generated credentials (Kafka principals, Postgres roles, Redis, the issuer's clients and keys):
# one file per secret in $SECRETS_DIR (default $INFRA_DIR/secrets), readable by root only, made
# the first time something asks for it and never committed. A service started with no
# environment reads the same files (libs/dist-core/src/config/local-secrets.ts), which is how
# `npm run start:all` and `node dist/apps/<service>/main.js` find their credentials.
# SECRETS_DIR lets a second set of servers (the chaos suite's) share the first one's secrets.
SECRETS_DIR="${SECRETS_DIR:-$INFRA_DIR/secrets}"

# secret NAME: prints the secret NAME, generating it (24 random URL-safe characters) if missing.
secret() {
  local name="$1" file
  [[ "$name" =~ ^[a-z0-9-]+$ ]] || die "bad secret name '$name'"
  file="$SECRETS_DIR/$name"
  if [[ ! -s "$file" ]]; then
    (
      umask 077
      mkdir -p "$SECRETS_DIR"
      # Written aside and renamed: two scripts asking at once never see half a secret.
      head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' >"$file.$$"
      mv -n "$file.$$" "$file"
      rm -f "$file.$$"
    )
  fi
  cat "$file"
}
