#!/usr/bin/env bash
# `npm run infra:down`: stops what `npm run infra:up` started (the issuer, Kafka, the Redis
# nodes it started, and Postgres only if infra:up had to start it), and leaves servers that were
# already running alone. Data stays in $INFRA_DIR, so the next infra:up starts where this one
# left off; `rm -rf .infra` after this forgets it all.
set -euo pipefail
INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")/infra" && pwd)"

main() {
  local started_at port
  started_at="$(date +%s%3N)"

  # Reverse order of infra:up.
  bash "$INFRA/issuer.sh" stop
  bash "$INFRA/kafka.sh" stop
  for port in 6381 6380 6379; do
    bash "$INFRA/redis.sh" stop "$port"
  done
  bash "$INFRA/postgres.sh" stop

  local elapsed_ms=$(($(date +%s%3N) - started_at))
  printf 'infra: down in %d.%ds\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
}

main "$@"
