#!/usr/bin/env bash
# make demo-clean: stops and removes the demo stack, its images and folders, and the private engine that
# make demo left running (only one it started itself).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${OFFLINE_DOCKER_DIR:-/var/tmp/offline-test-docker}
if [ -z "${DOCKER_HOST:-}" ] && [ -S "$dir/docker.sock" ]; then export DOCKER_HOST="unix://$dir/docker.sock"; fi
if [ -f demo-out/target/docker-compose.yml ]; then
  (cd demo-out/target && docker-compose -p demo down --remove-orphans --volumes) || true
fi
docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -E '^offline-(demo|cache/demo)/' | xargs -r docker rmi -f >/dev/null 2>&1 || true
rm -rf demo-out
if [ -f "$dir/started-for-demo" ] && [ -f "$dir/dockerd.pid" ]; then
  kill "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
  rm -f "$dir/started-for-demo"
  echo "stopped the engine make demo started" >&2
fi
echo "demo cleaned" >&2
