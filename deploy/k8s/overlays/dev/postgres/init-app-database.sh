#!/bin/sh
# Run once by the postgres image's entry point on an empty data directory
# (/docker-entrypoint-initdb.d): the service's role and its database, owned by that role and
# closed to everyone else (security design: one role per service, CONNECT revoked from PUBLIC).
# A StatefulSet of shards names its database by the pod's ordinal: orders-db-1 holds orders_1.
set -eu
database="${APP_DATABASE:-${APP_DATABASE_PREFIX}${HOSTNAME##*-}}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v role="$APP_ROLE" -v password="$APP_PASSWORD" -v database="$database" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE CONNECT ON DATABASE :"database" FROM PUBLIC;
SQL
