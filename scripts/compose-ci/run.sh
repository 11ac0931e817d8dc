#!/usr/bin/env bash
# npm run test:compose: docker-compose.yml run for real, as users run it, and used through the
# ports it publishes.
#
#   1. a Docker engine of our own in a private network namespace (engine.sh);
#   2. the images no registry here serves: a debootstrapped Debian base and stand-ins for the
#      official images, cached by checksum (images.sh);
#   3. the project's Dockerfile built, and docker-compose.yml brought up with
#      docker-compose.ci.yml, which only swaps the stand-ins in;
#   4. every healthcheck awaited, then test/compose/*.compose.ts run inside the namespace;
#   5. `down -v`, and the engine stopped. Images stay under $COMPOSE_CI_DIR for the next run.
#
# One run at a time per machine (a lock): runs from several checkouts share the image cache.
# Figures (wall time, image size, time to healthy, memory) go to stdout and to
# $COMPOSE_CI_DIR/figures.json.
set -euo pipefail

CI_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$CI_SCRIPTS/../.." && pwd)"
CI_DIR="${COMPOSE_CI_DIR:-/var/tmp/nest-distributed-transactions-compose-ci}"
mkdir -p "$CI_DIR"
CI_DIR="$(cd "$CI_DIR" && pwd)"

export DOCKER_HOST="unix://$CI_DIR/docker.sock"
# Debian's docker.io 20.10 ships no buildx: the classic builder, whose layer cache is the image store.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export COMPOSE_PROJECT_NAME=composeci COMPOSE_HTTP_TIMEOUT=300
# Debian's client matches the engine; a newer client elsewhere on PATH would also do.
docker() { /usr/bin/docker "$@"; }
compose() {
  (cd "$PROJECT_DIR" && docker-compose -f docker-compose.yml -f "$CI_SCRIPTS/docker-compose.ci.yml" "$@")
}

# shellcheck source=engine.sh
source "$CI_SCRIPTS/engine.sh"
# shellcheck source=images.sh
source "$CI_SCRIPTS/images.sh"

started=$(date +%s)
declare -A figures=()
lap() {
  figures[$1]=$(($(date +%s) - ${2:-$started}))
  echo "compose-ci: $1 ${figures[$1]}s"
}

exec 9>"$CI_DIR/lock"
flock -w 1800 9 || { echo "compose-ci: another run holds $CI_DIR/lock" >&2; exit 1; }

teardown() {
  local status=$?
  set +e
  if [[ -S $CI_DIR/docker.sock ]]; then
    [[ $status -eq 0 ]] || compose logs --no-color --tail=60 >&2
    compose down -v --remove-orphans >"$CI_DIR/down.log" 2>&1
  fi
  engine_stop
  lap total_s
  local key json='{' separator=''
  for key in "${!figures[@]}"; do
    json+="$separator\"$key\": ${figures[$key]}"
    separator=', '
  done
  echo "$json}" >"$CI_DIR/figures.json"
  exit $status
}
trap teardown EXIT
trap 'exit 130' INT TERM

engine_install
engine_start
lap engine_s

build_base_image
lap base_image_s
build_standins
lap standins_s

# The passwords docker-compose.yml reads from .env (generated secrets, the native run's own).
bash "$PROJECT_DIR/scripts/compose-env.sh" >/dev/null

# The classic builder's cache is the image store, and a multi-stage build leaves its first
# stage untagged, so the pruning below (and in build_standins) would remove it and `npm ci` would
# run every time: build that stage under a tag of its own first, with the same argument as
# docker-compose.ci.yml. Then every service built from the Dockerfile shares one image: build it
# once (compose v1 would build it once per service); `up` finds it.
step=$(date +%s)
{
  docker build --target build --build-arg NODE_IMAGE=compose-ci/node:local \
    -t compose-ci/app-build-stage:local "$PROJECT_DIR" &&
    compose build order
} >"$CI_DIR/compose-build.log" 2>&1 || { tail -40 "$CI_DIR/compose-build.log"; exit 1; }
docker image prune -f >/dev/null # the previous build's images, replaced by this one
lap app_image_build_s "$step"
figures[app_image_mb]=$(($(docker image inspect -f '{{.Size}}' nest-distributed-transactions:local) / 1000000))

# Up, then until every container is healthy (or, for a one-shot step, exited 0). Compose v1 has
# no `up --wait`; `up -d` itself already waits for the depends_on conditions.
step=$(date +%s)
compose up -d >"$CI_DIR/compose-up.log" 2>&1 || { tail -40 "$CI_DIR/compose-up.log"; exit 1; }
containers() { docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"; }
states() {
  containers | xargs docker inspect -f \
    '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else if .State.Running}}running-without-healthcheck{{else}}exited-{{.State.ExitCode}}{{end}}'
}
deadline=$(($(date +%s) + 240))
until ! states | grep -vqE ' (healthy|exited-0)$'; do
  if states | grep -qE ' (unhealthy|exited-[1-9][0-9]*|running-without-healthcheck)$' ||
    (($(date +%s) > deadline)); then
    states >&2
    echo "compose-ci: not every container became healthy" >&2
    exit 1
  fi
  sleep 1
done
lap up_to_healthy_s "$step"

step=$(date +%s)
(cd "$PROJECT_DIR" && engine_exec env AUTH_ISSUER=http://127.0.0.1:3004 ISSUER_TOOLS_SECRET= \
  NODE_OPTIONS=--experimental-vm-modules \
  node_modules/.bin/jest --selectProjects compose)
lap tests_s "$step"

# The stack's memory after the tests, summed over containers (docker stats' MiB/GiB figures).
figures[stack_memory_mb]=$(docker stats --no-stream --format '{{.MemUsage}}' $(containers) |
  awk '{ v = $1; m = v ~ /GiB/ ? 1024 : v ~ /KiB/ ? 1 / 1024 : 1; sub(/[A-Za-z]+/, "", v); s += v * m }
       END { printf "%d", s }')
echo "compose-ci: stack_memory_mb ${figures[stack_memory_mb]} app_image_mb ${figures[app_image_mb]}"
