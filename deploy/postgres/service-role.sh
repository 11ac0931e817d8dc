#!/bin/sh
# Run once by the postgres image when it creates the database (/docker-entrypoint-initdb.d):
# the service's own role, LOGIN and nothing more, owning the database and its public schema,
# the only role besides the superuser that may connect to it. The same shape as
# scripts/infra/postgres.sh gives the native databases. SERVICE_ROLE and SERVICE_PASSWORD come
# from docker-compose.yml (the password from .env, made by `npm run compose:env`).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="$SERVICE_ROLE" -v password="$SERVICE_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
ALTER DATABASE :"db" OWNER TO :"role";
ALTER SCHEMA public OWNER TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
SQL
