#!/bin/sh
# The API refuses to start without its secret: the import generates one into .env.
set -eu
[ -n "${SECRET_KEY:-}" ] || { echo "api: SECRET_KEY is not set" >&2; exit 1; }
echo "api: ${GREETING:-hello}; secret of ${#SECRET_KEY} characters"
exec httpd -f -p 8080 -h /var/www
