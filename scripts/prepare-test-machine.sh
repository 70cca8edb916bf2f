#!/usr/bin/env bash
# Prepares a machine for the test suite, then leaves: installs the tools the tests run that are
# missing (as root, with apt; otherwise it names the exact packages and exits 2) and starts a
# Redis on 127.0.0.1:6379 that keeps nothing on disk, unless one answers there already.
#   git, openssl                 Debian packages of the same names
#   redis-server, redis-cli      Debian package redis-server (pulls in redis-tools)
#   promtool                     Debian package prometheus
#   spin, gcc                    Debian packages spin and gcc (the model check compiles spin's verifier)
#   kubectl (kustomize v5)       not in the Debian archive at a version that embeds kustomize v5
#                                (kubernetes-client is older): it must come with the machine; when it
#                                is missing the script says so and exits 2
# `npm run test:ci` runs this and then `npm test`; `.ci/run` runs `npm run test:ci`.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

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
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing tools, and not root to install them. Install, then run again:"
    say "  apt-get install -y --no-install-recommends ${missing[*]}"
    exit 2
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The prometheus package may start a server; the tests only need promtool.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
fi

if ! command -v kubectl >/dev/null 2>&1; then
  say "kubectl (>= 1.27, which embeds kustomize v5) is needed for the GitOps checks and is not installed;"
  say "  the Debian archive's kubernetes-client is too old: install kubectl from the Kubernetes project"
  exit 2
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
say "ready: git, openssl, redis (on $REDIS_HOST:$REDIS_PORT), promtool, spin, gcc, kubectl"
