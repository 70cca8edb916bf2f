#!/usr/bin/env bash
# Prepares a machine for the test suite, then leaves: installs the tools the tests run that are
# missing (as root, with apt; otherwise it names the exact packages and exits 2) and starts a
# Redis on 127.0.0.1:6379 that keeps nothing on disk, unless one answers there already.
#   git, openssl                 Debian packages of the same names
#   redis-server, redis-cli      Debian package redis-server (pulls in redis-tools)
#   promtool                     Debian package prometheus
#   spin                         Debian package spin (the model checks)
#   gcc                          Debian package gcc (compiles spin's verifier)
#   kubectl (kustomize v5)       package kubectl from Google Cloud's apt repository
#                                (https://packages.cloud.google.com/apt, suite cloud-sdk-<codename>)
# `npm run test:ci` runs this and then `npm test`; `.ci/run` runs `npm run test:ci`.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
GCLOUD_APT_URL=https://packages.cloud.google.com/apt
GCLOUD_KEY_URL=https://packages.cloud.google.com/apt/doc/apt-key.gpg
GCLOUD_KEYRING=/usr/share/keyrings/cloud.google.gpg

say() { echo "prepare-test-machine: $*" >&2; }

# Command → Debian package, for what comes from the Debian archive.
declare -A PACKAGE_OF=(
  [git]=git
  [openssl]=openssl
  [redis-server]=redis-server
  [redis-cli]=redis-server
  [promtool]=prometheus
  [spin]=spin
  [gcc]=gcc
)

missing=()
for command in git openssl redis-server redis-cli promtool spin gcc; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$command]}")
done
# One of each (redis-server and redis-cli come from the same package).
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d' | sort -u)
need_kubectl=false
command -v kubectl >/dev/null 2>&1 || need_kubectl=true

codename() {
  # shellcheck disable=SC1091
  . /etc/os-release && echo "${VERSION_CODENAME:-bookworm}"
}

if [ ${#missing[@]} -gt 0 ] || [ "$need_kubectl" = true ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing tools, and not root to install them. Install, then run again:"
    [ ${#missing[@]} -gt 0 ] && say "  apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$need_kubectl" = true ]; then
      say "  kubectl: add the apt source 'deb [signed-by=$GCLOUD_KEYRING] $GCLOUD_APT_URL cloud-sdk-$(codename) main'"
      say "           (key: $GCLOUD_KEY_URL), then apt-get install -y kubectl"
    fi
    exit 2
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The prometheus package may start a server; the tests only need promtool.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
  fi
  if [ "$need_kubectl" = true ]; then
    say "installing kubectl from $GCLOUD_APT_URL"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates curl gnupg >/dev/null
    curl -fsSL "$GCLOUD_KEY_URL" | gpg --batch --yes --dearmor -o "$GCLOUD_KEYRING"
    echo "deb [signed-by=$GCLOUD_KEYRING] $GCLOUD_APT_URL cloud-sdk-$(codename) main" >/etc/apt/sources.list.d/google-cloud-sdk.list
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends kubectl >/dev/null
  fi
fi

if ! kubectl kustomize --help >/dev/null 2>&1; then
  say "kubectl has no 'kustomize' subcommand (kubectl >= 1.27 embeds kustomize v5): upgrade kubectl"
  exit 2
fi

# Redis for the coordination tests: use the one that answers, else start one that keeps
# nothing on disk.
if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  say "starting redis-server on $REDIS_HOST:$REDIS_PORT"
  runtime_dir="${TMPDIR:-/tmp}"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save '' --appendonly no \
    --pidfile "$runtime_dir/conductor-test-redis.pid" --logfile "$runtime_dir/conductor-test-redis.log"
  for _ in $(seq 1 100); do
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "redis-server did not answer on $REDIS_HOST:$REDIS_PORT (see $runtime_dir/conductor-test-redis.log)"
    exit 2
  fi
fi
say "ready: git, openssl, redis (on $REDIS_HOST:$REDIS_PORT), promtool, spin, kubectl"
