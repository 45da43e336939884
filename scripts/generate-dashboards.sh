#!/usr/bin/env sh
# Regenerate the Grafana dashboards and provisioning files in infra/grafana/ from
# portal/catalog/grafana_dashboards.py (a test fails while the committed files differ).
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
exec "$PY" -m portal.catalog.grafana_dashboards infra/grafana
