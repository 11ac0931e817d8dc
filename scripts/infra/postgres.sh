#!/usr/bin/env bash
# PostgreSQL 15 (Debian's packages, cluster 15/main) on 127.0.0.1:5432, with the role and
# databases the services expect.
#
#   postgres.sh start    reuse a server already answering on 5432, or install/start cluster
#                        15/main; then make sure role app/app and the databases exist
#   postgres.sh stop     stop the cluster only if `start` started it (a marker in $INFRA_DIR)
#   postgres.sh status   exit 0 if the server on 5432 accepts connections
#
# Dev and CI machines already run this cluster (trust auth): it is reused and never stopped.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_VERSION=15
PG_CLUSTER=main
PG_PORT=5432
PG_LOG="/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
PG_STARTED_MARKER="$INFRA_DIR/postgres/started-by-infra-up"
# Three order shards plus one database per other service (see CONTRACT.md's defaults).
PG_DATABASES=(orders_0 orders_1 orders_2 payment inventory)

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

pg_answers() {
  pg_isready -q -h "$HOST" -p "$PG_PORT"
}

# Runs the SQL on stdin as superuser: the postgres OS user over the Unix socket (peer auth on a
# fresh Debian install, trust here), or the postgres role over TCP where the server is not a
# local Debian cluster but trusts it.
pg_admin() {
  if [[ -z "${PG_ADMIN_MODE:-}" ]]; then
    if (cd / && runuser -u postgres -- psql -X -qAt -p "$PG_PORT" -d postgres -c 'select 1') >/dev/null 2>&1; then
      PG_ADMIN_MODE=socket
    elif psql -X -qAt -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
      PG_ADMIN_MODE=tcp
    else
      die "cannot connect to PostgreSQL as superuser (postgres) to create role app and its databases"
    fi
  fi
  if [[ $PG_ADMIN_MODE == socket ]]; then
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres)
  else
    psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres -d postgres
  fi
}

# Idempotent: the role is created if missing and its attributes reset to what the services
# expect; each database is created only if missing. Ownership is set either way because since
# PostgreSQL 15 only the database owner may create tables in its public schema, and a database
# created earlier by hand (as postgres) would leave the app unable to migrate.
provision() {
  local list
  list="$(printf "'%s'," "${PG_DATABASES[@]}")"
  pg_admin <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN
    CREATE ROLE app LOGIN CREATEDB PASSWORD 'app';
  END IF;
END \$\$;
ALTER ROLE app LOGIN CREATEDB PASSWORD 'app';
SELECT format('CREATE DATABASE %I OWNER app', name) FROM unnest(ARRAY[${list%,}]) AS name
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec
SELECT format('ALTER DATABASE %I OWNER TO app', datname) FROM pg_database
 WHERE datname = ANY (ARRAY[${list%,}]) AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = 'app') \gexec
SQL
  # What the services will do: password login over TCP. pg_hba is left as it is (trust here,
  # scram-sha-256 for 127.0.0.1 on a fresh Debian install; both accept this).
  local error
  if ! error="$(PGPASSWORD=app psql -X -qAt -h "$HOST" -p "$PG_PORT" -U app -d "${PG_DATABASES[0]}" -c 'select 1' 2>&1)"; then
    die "role app cannot log in over TCP ($error): check pg_hba.conf for host 127.0.0.1/32"
  fi
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
    if ! pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start; then
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

  provision
  report postgres "$outcome" "$detail, role app, ${#PG_DATABASES[@]} databases"
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
