#!/usr/bin/env bash
# PgBouncer (Debian package pgbouncer) for tests/integration/services/test_pgbouncer.py,
# which runs the services through it. Installs it with apt when it can (root, apt-get
# present, a reachable mirror); otherwise it says so and carries on: that test then
# installs it itself or is skipped.
set -uo pipefail

command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: pgbouncer not installed; its integration test will be skipped" \
       "(install it, e.g. sudo apt-get install pgbouncer)" >&2
  exit 0
fi
echo "installing pgbouncer for the connection-pooling tests..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends pgbouncer >/dev/null; }; then
  echo "note: could not install pgbouncer; its integration test will be skipped" >&2
fi
exit 0
