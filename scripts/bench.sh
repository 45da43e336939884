#!/usr/bin/env bash
# Run every benchmark under tests/bench, one after the other, printing their ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
scripts/bootstrap.sh
for bench in tests/bench/bench_*.py; do
  echo "=== $bench"
  .venv/bin/python "$bench"
done
