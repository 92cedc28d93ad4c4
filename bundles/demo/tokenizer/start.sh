#!/bin/sh
# Like a service using tiktoken: at start-up it needs cl100k_base, looked up as tiktoken does, by the sha1 of
# its URL under TIKTOKEN_CACHE_DIR, with the pinned sha256. Without it the service exits, as it would offline.
set -eu
file="${TIKTOKEN_CACHE_DIR:?TIKTOKEN_CACHE_DIR is not set}/9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
want=223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7
[ -f "$file" ] || { echo "tokenizer: $file missing: cannot load cl100k_base offline" >&2; exit 1; }
got=$(sha256sum "$file" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "tokenizer: $file has sha256 $got, expected $want" >&2; exit 1; }
mkdir -p /var/www
echo "{\"service\": \"tokenizer\", \"encoding\": \"cl100k_base\", \"ranks\": $(wc -l < "$file")}" > /var/www/index.html
echo "tokenizer: cl100k_base loaded from $file"
exec httpd -f -p 8080 -h /var/www
