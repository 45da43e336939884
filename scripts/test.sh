#!/usr/bin/env bash
# The whole test suite: installs what it needs, makes sure PostgreSQL, Redis and RabbitMQ
# answer (starting them if not), lints (ruff, import-linter, mypy), then runs pytest (unit,
# integration, faults, Playwright e2e).
# Extra arguments go to pytest, e.g. scripts/test.sh -k audit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
scripts/bootstrap.sh
# Lint and the import contracts (pyproject.toml) before any test runs.
.venv/bin/ruff check .
.venv/bin/lint-imports
# Static types (files and settings in pyproject.toml); warm runs reuse .mypy_cache.
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
