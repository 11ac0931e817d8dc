#!/usr/bin/env bash
# `npm run infra:up`: PostgreSQL 15, three Redis nodes, a single-node Kafka (KRaft) and the
# project's OpenID Connect issuer on 127.0.0.1, natively, for tests, benchmarks and
# `npm run start:all`.
#
# Each server is reused if it already answers on its port (dev and CI machines run Postgres
# and Redis 6379 before the session starts), otherwise started, and installed with apt-get
# first if its binaries are missing. Data, logs, jars and pidfiles live in $INFRA_DIR
# (default .infra/). Idempotent: with everything up it only checks, in about a second.
# Each step lives in scripts/infra/<server>.sh, which chaos tests also call directly.
set -euo pipefail
INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")/infra" && pwd)"

# apt-get, pg_ctlcluster and Debian's package names are what this script relies on; elsewhere
# the same servers come from docker-compose.yml.
require_debian_root() {
  local problem=""
  if [[ ! -f /etc/debian_version ]]; then
    problem="this machine is not Debian"
  elif [[ "$(id -u)" -ne 0 ]]; then
    problem="running as uid $(id -u), not root"
  fi
  if [[ -n "$problem" ]]; then
    echo "infra:up installs and starts servers natively on Debian as root only ($problem): use \`docker compose up --build\` instead." >&2
    exit 1
  fi
}

main() {
  require_debian_root
  local started_at port
  started_at="$(date +%s%3N)"

  bash "$INFRA/postgres.sh" start
  for port in 6379 6380 6381; do
    bash "$INFRA/redis.sh" start "$port"
  done
  bash "$INFRA/redis.sh" record-urls 6379 6380 6381
  bash "$INFRA/kafka.sh" start
  bash "$INFRA/issuer.sh" start

  local elapsed_ms=$(($(date +%s%3N) - started_at))
  printf 'infra: up in %d.%ds\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
}

main "$@"
