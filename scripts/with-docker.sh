#!/usr/bin/env bash
# Runs a command with a reachable Docker engine in DOCKER_HOST.
# Uses DOCKER_HOST or /var/run/docker.sock when an engine answers there. Otherwise, installs Debian's docker.io
# if needed and starts a private dockerd (own data root and unix socket under OFFLINE_DOCKER_DIR), runs the
# command, and stops that daemon again: it leaves no daemon running that it did not find running (unless
# OFFLINE_KEEP_DOCKER=1, which `make demo` sets so that the demo stack stays up until `make demo-clean`).
set -euo pipefail

ping_engine() { curl -fsS --max-time 5 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }

socket_of() { case "$1" in unix://*) echo "${1#unix://}" ;; *) echo "" ;; esac; }

if [ -n "${DOCKER_HOST:-}" ]; then
  sock=$(socket_of "$DOCKER_HOST")
  if [ -z "$sock" ] || ping_engine "$sock"; then
    exec "$@"
  fi
  echo "with-docker: DOCKER_HOST=$DOCKER_HOST does not answer; starting a private engine" >&2
elif ping_engine /var/run/docker.sock; then
  export DOCKER_HOST=unix:///var/run/docker.sock
  exec "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
bash "$here/install-system-deps.sh"

dir=${OFFLINE_DOCKER_DIR:-/var/tmp/offline-test-docker}
mkdir -p "$dir"
sock="$dir/docker.sock"
export DOCKER_HOST="unix://$sock"
if ping_engine "$sock"; then
  # A private engine from an earlier run of this script is still up (e.g. a developer's loop): use it as found.
  exec "$@"
fi

echo "with-docker: starting dockerd (data root $dir/root, socket $sock)" >&2
rm -f "$sock" "$dir/dockerd.pid"
dockerd --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
  -H "unix://$sock" >"$dir/dockerd.log" 2>&1 &
daemon=$!
stop() {
  if [ "${OFFLINE_KEEP_DOCKER:-}" = 1 ]; then
    # make demo leaves its engine running so the stack stays up; make demo-clean stops it.
    echo "with-docker: leaving dockerd running (pid $daemon, DOCKER_HOST=$DOCKER_HOST)" >&2
    touch "$dir/started-for-demo"
    return
  fi
  kill "$daemon" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$daemon" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 120); do
  ping_engine "$sock" && break
  kill -0 "$daemon" 2>/dev/null || { echo "with-docker: dockerd exited; its log:" >&2; tail -n 30 "$dir/dockerd.log" >&2; exit 1; }
  sleep 0.5
done
ping_engine "$sock" || { echo "with-docker: dockerd did not answer within 60 s" >&2; tail -n 30 "$dir/dockerd.log" >&2; exit 1; }

status=0
"$@" || status=$?
exit "$status"
