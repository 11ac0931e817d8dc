# shellcheck shell=bash
# A Docker engine of our own, in a network namespace of our own (sourced by run.sh, never run).
#
# These machines run Kafka, Postgres and Redis natively on the very ports docker-compose.yml
# publishes, and their network configuration must not change. So dockerd runs inside a private
# network namespace (`unshare --net`): its bridges, iptables rules and published ports exist only
# there. slirp4netns, a user-space NAT, gives the namespace the outbound access the machine has
# (the Debian mirror, npm, Maven Central) for image builds. Whoever wants the stack's ports enters
# the namespace: `engine_exec <command>` runs a command whose 127.0.0.1 is the namespace's.
#
# All state lives under $CI_DIR (data root, sockets, pidfiles, logs); images stay there between
# runs, which is the whole image cache. engine_stop ends exactly the processes engine_start
# recorded, checked against their command lines, never anything found by name.

ENGINE_PACKAGES=(docker.io docker-compose slirp4netns debootstrap iptables)

engine_install() {
  local missing=() package
  for package in "${ENGINE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "compose-ci: installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$CI_DIR/apt.log" 2>&1
  # Debian starts installed daemons unless policy-rc.d forbids it; ours must never run in the
  # host's namespace, so forbid it for the duration of the install if nothing else does.
  local policy=/usr/sbin/policy-rc.d ours=''
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$CI_DIR/apt.log" 2>&1 ||
    { [[ -n $ours ]] && rm -f "$policy"; tail -20 "$CI_DIR/apt.log"; return 1; }
  [[ -n $ours ]] && rm -f "$policy"
  return 0
}

# The pid in $CI_DIR/<name>.pid, if that process is alive and its command line contains $2.
recorded_pid() {
  local file="$CI_DIR/$1.pid" pid
  [[ -s $file ]] || return 1
  pid=$(cat "$file")
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2" &&
    echo "$pid"
}

engine_exec() {
  nsenter -t "$(cat "$CI_DIR/ns.pid")" -n "$@"
}

engine_start() {
  engine_stop # whatever a killed earlier run left behind (ours only)
  # dockerd 20.10 writes a trust key to /etc/docker/key.json; remove it afterwards if we made it.
  [[ -e /etc/docker/key.json ]] || touch "$CI_DIR/remove-key-json"
  # The namespace lives as long as this sleeping process.
  unshare --net -- sleep infinity &
  echo $! >"$CI_DIR/ns.pid"
  local ns=$!
  for _ in $(seq 50); do [[ -e /proc/$ns/ns/net ]] && break; sleep 0.1; done
  slirp4netns --configure --mtu=65520 --disable-host-loopback \
    --api-socket "$CI_DIR/slirp.sock" "$ns" tap0 >"$CI_DIR/slirp.log" 2>&1 &
  echo $! >"$CI_DIR/slirp.pid"
  rm -f "$CI_DIR/docker.sock"
  echo '{}' >"$CI_DIR/daemon.json" # not the host's /etc/docker/daemon.json, whatever it says
  nsenter -t "$ns" -n dockerd --config-file "$CI_DIR/daemon.json" --data-root "$CI_DIR/data" \
    --exec-root "$CI_DIR/exec" --pidfile "$CI_DIR/dockerd.pid" -H "unix://$CI_DIR/docker.sock" \
    >"$CI_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 150); do
    docker version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -20 "$CI_DIR/dockerd.log" >&2
  return 1
}

engine_stop() {
  local pid name
  # dockerd first (it stops its containers and its containerd), then the NAT, then the namespace.
  for name in dockerd slirp ns; do
    case $name in
      dockerd) pid=$(recorded_pid dockerd "$CI_DIR/data") || pid='' ;;
      slirp) pid=$(recorded_pid slirp "$CI_DIR/slirp.sock") || pid='' ;;
      ns) pid=$(recorded_pid ns 'sleep infinity') || pid='' ;;
    esac
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$CI_DIR/$name.pid"
  done
  # Mounts dockerd leaves under its roots when it dies hard (overlay, shm, netns files).
  local mount
  awk -v root="$CI_DIR/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true; done
  if [[ -e $CI_DIR/remove-key-json ]]; then
    rm -f /etc/docker/key.json "$CI_DIR/remove-key-json"
  fi
  return 0
}
