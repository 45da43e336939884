#!/usr/bin/env bash
# Copy the shared library chart infra/helm/meridian-lib into charts/ of every chart that
# depends on it, so `helm template` and `helm lint` work offline and the portal's
# scorecards can render the charts from a read-only checkout. Run it after editing the
# library; tests/unit/catalog/test_helm_charts.py fails while a copy differs.
# (`helm dependency build <chart>` does the same from the file:// dependency, as a .tgz.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)/infra/helm"
for chart in "$root"/*/; do
    chart="${chart%/}"
    grep -q 'repository: file://../meridian-lib' "$chart/Chart.yaml" 2>/dev/null || continue
    rm -rf "$chart/charts/meridian-lib"
    mkdir -p "$chart/charts"
    cp -R "$root/meridian-lib" "$chart/charts/meridian-lib"
    echo "vendored meridian-lib into ${chart#"$root"/}"
done
