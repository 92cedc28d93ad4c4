#!/usr/bin/env bash
# Installs the Debian packages that the tests, the demo and the benchmarks use, where any is missing:
# a Docker engine (docker.io), docker-compose v1, a registry v2, busybox-static for local base images,
# pigz and zstd for the compression comparisons, iproute2 for network namespaces, apache2-utils for htpasswd,
# curl to ping the engine, openssl for the registry TLS test's certificate, GNU time for the benchmarks' peak RSS.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v pigz >/dev/null 2>&1 || need+=(pigz)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v dash >/dev/null 2>&1 || need+=(dash)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/bin/time ] || need+=(time)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${need[*]} (install them, or run as root on Debian/Ubuntu)" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${need[@]}" >&2
