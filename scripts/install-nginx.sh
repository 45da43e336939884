#!/usr/bin/env bash
# nginx for the edge of `portal dev` and its tests (Debian package nginx; only the binary
# is used, each run starts its own instance with its own prefix). Installs it with apt
# when it can (root, apt-get present, a reachable mirror); otherwise it says so and
# carries on: `portal dev` then sends traffic to the services directly and the edge
# tests skip, saying why.
set -uo pipefail

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: nginx not installed; portal dev will run without its edge" \
       "(install it, e.g. sudo apt-get install nginx)" >&2
  exit 0
fi
echo "installing nginx for the edge of portal dev..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends nginx >/dev/null; }; then
  echo "note: could not install nginx; portal dev will run without its edge" >&2
fi
exit 0
