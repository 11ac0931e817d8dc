#!/usr/bin/env bash
# PostgreSQL 15 (Debian's packages, cluster 15/main) on 127.0.0.1:5432, with one role per
# service owning that service's databases, and nothing else.
#
#   postgres.sh start    reuse a server already answering on PG_PORT, or install/start cluster
#                        15/PG_CLUSTER; then make sure the roles and databases are as below
#   postgres.sh stop     stop the cluster only if `start` started it (a marker in $INFRA_DIR)
#   postgres.sh status   exit 0 if the server on PG_PORT accepts connections
#
# Dev and CI machines already run this cluster (trust auth): it is reused and never stopped.
# PG_PORT and PG_CLUSTER (defaults 5432, main) point the script at another cluster, for
# developing it, or for the least-privilege test's own server.
#
# Two-phase commit's participants hold their vote in PostgreSQL prepared transactions
# (PREPARE TRANSACTION), which the server refuses while max_prepared_transactions is 0, its
# default. `start` raises it to PG_MAX_PREPARED_TRANSACTIONS (default 200) where it is lower,
# which takes a restart of the cluster: done once, then every later run finds it in force.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_VERSION=15
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_PORT="${PG_PORT:-5432}"
PG_LOG="/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
PG_STARTED_MARKER="$INFRA_DIR/postgres/started-by-infra-up"
# Three order shards plus one database per other service (see CONTRACT.md's defaults), each
# owned by its service's role: a service holding its own credentials still cannot even connect
# to another service's data.
declare -A PG_OWNERS=([orders_0]=order [orders_1]=order [orders_2]=order [payment]=payment [inventory]=inventory)
PG_DATABASES=(orders_0 orders_1 orders_2 payment inventory)
PG_SERVICE_ROLES=(order payment inventory)
# The tests' own role: it creates and owns the test suites' databases (test_saga, ...) and
# nothing of the services'. CREATEDB so tests need no superuser, which a server with password
# auth for 127.0.0.1 (a fresh Debian cluster) would not give them.
PG_TESTS_ROLE=tests
# Each in-doubt 2PC branch (voted yes, decision not yet applied) holds one; 200 leaves room for
# the test suites' and a benchmark's concurrent orders. Takes ~600 bytes of shared memory each.
PG_MAX_PREPARED_TRANSACTIONS="${PG_MAX_PREPARED_TRANSACTIONS:-200}"
# The role every service shared before (password `app`, in the repository's history): infra:up
# hands whatever it owns to the roles above and drops it.
PG_LEGACY_ROLE=app

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

pg_answers() {
  pg_isready -q -h "$HOST" -p "$PG_PORT"
}

# Runs the SQL on stdin as superuser in database ${1:-postgres}: the postgres OS user over the
# Unix socket (peer auth on a fresh Debian install, trust here), or the postgres role over TCP
# where the server is not a local Debian cluster but trusts it.
pg_admin() {
  local database="${1:-postgres}"
  if [[ -z "${PG_ADMIN_MODE:-}" ]]; then
    if (cd / && runuser -u postgres -- psql -X -qAt -p "$PG_PORT" -d postgres -c 'select 1') >/dev/null 2>&1; then
      PG_ADMIN_MODE=socket
    elif psql -X -qAt -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
      PG_ADMIN_MODE=tcp
    else
      die "cannot connect to PostgreSQL on port $PG_PORT as superuser (postgres) to create the services' roles and databases"
    fi
  fi
  if [[ $PG_ADMIN_MODE == socket ]]; then
    (cd / && runuser -u postgres -- psql -X -qAt -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$database")
  else
    psql -X -qAt -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres -d "$database"
  fi
}

# Each role's password: the generated secret postgres-<role>, read once, before any SQL runs.
# Secrets are URL-safe base64, so they go into SQL string literals (and URLs) as they are;
# anything else is refused here.
declare -A PG_PASSWORDS=()
load_passwords() {
  local role password
  for role in "${PG_SERVICE_ROLES[@]}" "$PG_TESTS_ROLE"; do
    password="$(secret "postgres-$role")"
    [[ "$password" =~ ^[A-Za-z0-9_-]+$ ]] || die "secret postgres-$role is not URL-safe base64: delete it and run again"
    PG_PASSWORDS[$role]="$password"
  done
}

# LOGIN and nothing else (no superuser, CREATEROLE, replication or RLS bypass, and CREATEDB
# only if asked for), whatever the role had before; the password is reset to the secret's on
# every run.
role_sql() {
  local role="$1" createdb="${2:-NOCREATEDB}"
  cat <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE "$role"; END IF;
END \$\$;
ALTER ROLE "$role" LOGIN NOSUPERUSER $createdb NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${PG_PASSWORDS[$role]}';
SQL
}

# Idempotent, and safe on a server provisioned by the earlier scripts (one shared role `app`
# owning everything): roles are created if missing and their attributes reset; databases are
# created if missing and handed to their owner whoever owned them; what the old role owned
# inside any database (the migrations' tables and sequences) goes to that database's owner
# (REASSIGN OWNED), and then the old role is dropped.
provision() {
  local db owners=""
  for db in "${PG_DATABASES[@]}"; do owners+="('$db','${PG_OWNERS[$db]}'),"; done
  owners="(VALUES ${owners%,}) AS owners(db, owner)"
  load_passwords

  {
    for role in "${PG_SERVICE_ROLES[@]}"; do role_sql "$role"; done
    role_sql "$PG_TESTS_ROLE" CREATEDB
    cat <<SQL
SELECT format('CREATE DATABASE %I OWNER %I', db, owner) FROM $owners
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = db) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', db, owner) FROM $owners
  JOIN pg_database ON datname = db WHERE datdba <> to_regrole(quote_ident(owner)) \gexec
-- What else the old role owned: more order shards (a rebalance's orders_3) go to the order
-- role, anything else was a test suite's database.
SELECT format('ALTER DATABASE %I OWNER TO %I', datname,
              CASE WHEN datname ~ '^orders_[0-9]+\$' THEN 'order' ELSE '$PG_TESTS_ROLE' END)
  FROM pg_database WHERE datdba = to_regrole('$PG_LEGACY_ROLE') \gexec
-- CONNECT (and TEMPORARY) is granted to PUBLIC by default: only the owner keeps it.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db),
       format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', db, owner) FROM $owners \gexec
SQL
  } | pg_admin

  # Inside each database: since PostgreSQL 15 only the owner of the public schema (by default
  # the database's owner) may create tables in it; set it explicitly for the services' ones.
  for db in "${PG_DATABASES[@]}"; do
    echo "ALTER SCHEMA public OWNER TO \"${PG_OWNERS[$db]}\";" | pg_admin "$db"
  done
  retire_legacy_role

  # What the services will do: password login over TCP. pg_hba is left as it is (trust here,
  # scram-sha-256 for 127.0.0.1 on a fresh Debian install; both accept this).
  local role error
  for db in "${PG_DATABASES[@]}"; do
    role="${PG_OWNERS[$db]}"
    if ! error="$(PGPASSWORD="${PG_PASSWORDS[$role]}" psql -X -qAt -h "$HOST" -p "$PG_PORT" -U "$role" -d "$db" -c 'select 1' 2>&1)"; then
      die "role $role cannot log in to $db over TCP ($error): check pg_hba.conf for host 127.0.0.1/32"
    fi
  done
}

# Hands what the old shared role owns in every database to that database's owner, revokes what
# was granted to it, and drops it. Nothing is left to use it: the services, scripts and tests
# all use their own roles now, and its password is in the repository's history.
retire_legacy_role() {
  local exists db
  exists="$(echo "SELECT 1 FROM pg_roles WHERE rolname = '$PG_LEGACY_ROLE'" | pg_admin)"
  [[ "$exists" == 1 ]] || return 0
  while read -r db; do
    [[ -n "$db" ]] || continue
    pg_admin "$db" <<SQL
SELECT format('REASSIGN OWNED BY $PG_LEGACY_ROLE TO %I', pg_get_userbyid(datdba)) FROM pg_database
 WHERE datname = current_database() \gexec
DROP OWNED BY $PG_LEGACY_ROLE;
SQL
  done < <(echo "SELECT datname FROM pg_database WHERE datallowconn" | pg_admin)
  echo "DROP ROLE $PG_LEGACY_ROLE;" | pg_admin
}

# pg_ctlcluster with no file descriptor of ours but stdin/out/err. The postmaster it starts
# lives on and would keep whatever it inherited open: run under `flock <lockfile>` (as the test
# suites' lock is taken), it would hold that lock for as long as the server runs.
pg_ctl_detached() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec pg_ctlcluster --skip-systemctl-redirect "$@"
  )
}

# max_prepared_transactions only changes at a server start. Below what we need: ALTER SYSTEM,
# then restart the cluster if it is a local Debian one (fast mode: open sessions are cut, the
# other services reconnect); a server we cannot restart keeps running as it is, with a warning
# saying what to do. Prints what it did; a server already configured costs one query.
ensure_prepared_transactions() {
  local current
  current="$(echo 'SHOW max_prepared_transactions' | pg_admin)"
  if ((current >= PG_MAX_PREPARED_TRANSACTIONS)); then
    echo "max_prepared_transactions = $current"
    return 0
  fi
  echo "ALTER SYSTEM SET max_prepared_transactions = $PG_MAX_PREPARED_TRANSACTIONS;" | pg_admin
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" -v p="$PG_PORT" \
    '$1 == v && $2 == c && $3 == p { found = 1 } END { exit !found }'; then
    # Not a cluster of ours to restart (another server answering on the port): the rest of the
    # system works without it, so say what to do rather than stop.
    echo "infra: max_prepared_transactions is $current; 2PC orders need $PG_MAX_PREPARED_TRANSACTIONS: set for the next start, restart the server on port $PG_PORT" >&2
    echo "max_prepared_transactions = $current (2PC needs $PG_MAX_PREPARED_TRANSACTIONS after a restart)"
    return 0
  fi
  if ! pg_ctl_detached "$PG_VERSION" "$PG_CLUSTER" restart -m fast >&2; then
    show_log_tail "$PG_LOG"
    die "pg_ctlcluster could not restart cluster $PG_VERSION/$PG_CLUSTER"
  fi
  wait_until 30 pg_answers || die "PostgreSQL did not accept connections within 30s of its restart"
  current="$(echo 'SHOW max_prepared_transactions' | pg_admin)"
  ((current >= PG_MAX_PREPARED_TRANSACTIONS)) || die "max_prepared_transactions is still $current after the restart"
  echo "max_prepared_transactions = $current (raised: cluster $PG_VERSION/$PG_CLUSTER restarted)"
}

pg_start() {
  local outcome=reused detail="(not ours: infra:down leaves it alone)"
  if ! command -v pg_isready >/dev/null || ! command -v psql >/dev/null; then
    apt_install "postgresql-client-$PG_VERSION"
  fi

  # A server that is still starting up has its port open but rejects connections for a few
  # seconds: give it that time rather than starting a second one.
  if ! pg_answers && port_open "$PG_PORT"; then
    wait_until 30 pg_answers || die "127.0.0.1:$PG_PORT is open but PostgreSQL does not accept connections"
  fi

  if ! pg_answers; then
    outcome=started
    if [[ ! -x /usr/lib/postgresql/$PG_VERSION/bin/postgres ]]; then
      apt_install "postgresql-$PG_VERSION"
      outcome=installed
    fi
    # The package creates cluster 15/main on install; create it only if it was dropped.
    if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
      pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT" >/dev/null
    fi
    # No systemd on these machines: pg_ctlcluster starts the postmaster itself.
    if ! pg_ctl_detached "$PG_VERSION" "$PG_CLUSTER" start; then
      show_log_tail "$PG_LOG"
      die "pg_ctlcluster could not start cluster $PG_VERSION/$PG_CLUSTER"
    fi
    mkdir -p "$(dirname "$PG_STARTED_MARKER")"
    touch "$PG_STARTED_MARKER"
    if ! wait_until 30 pg_answers; then
      echo "infra: PostgreSQL did not accept connections on 127.0.0.1:$PG_PORT within 30s" >&2
      show_log_tail "$PG_LOG"
      exit 1
    fi
    detail="(cluster $PG_VERSION/$PG_CLUSTER, log $PG_LOG)"
  elif [[ -f "$PG_STARTED_MARKER" ]]; then
    detail="(ours)"
  fi

  local prepared
  prepared="$(ensure_prepared_transactions)"
  provision
  report postgres "$outcome" "$detail, roles ${PG_SERVICE_ROLES[*]} $PG_TESTS_ROLE, ${#PG_DATABASES[@]} databases, $prepared"
}

pg_stop() {
  if [[ ! -f "$PG_STARTED_MARKER" ]]; then
    if pg_answers 2>/dev/null; then report postgres left "(not started by infra:up)"; else report postgres "not running"; fi
    return 0
  fi
  if pg_answers; then
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" stop
    report postgres stopped "(cluster $PG_VERSION/$PG_CLUSTER)"
  else
    report postgres "not running"
  fi
  rm -f "$PG_STARTED_MARKER"
}

[[ $# -eq 1 ]] || usage
case "$1" in
  start) pg_start ;;
  stop) pg_stop ;;
  status) pg_answers ;;
  *) usage ;;
esac
