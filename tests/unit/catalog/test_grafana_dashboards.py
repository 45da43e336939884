"""The dashboards as code: committed files match the generator, queries are valid and read
series that exist, provisioning files use only Grafana's documented keys."""
import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml

from platform_services.common.observability import Metrics
from portal.catalog import grafana_dashboards as gd
from portal.catalog import grafana_provisioning as gp
from portal.catalog import service as catalog
from portal.config import PROJECT_ROOT
from portal.integrations import grafana_links

GRAFANA = PROJECT_ROOT / "infra" / "grafana"
# Dashboard variables as Grafana substitutes them before a query reaches Prometheus.
VARIABLES = {"$__rate_interval": "5m", "$service": "order", "$namespace": "meridian-prod"}
# Series of the Kubernetes exporters (node-exporter, kube-state-metrics, cAdvisor) and
# Prometheus itself that the Infrastructure and On-Call dashboards read.
EXTERNAL_SERIES = {"up", "ALERTS", "kube_node_status_condition", "node_cpu_seconds_total",
                   "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
                   "node_network_receive_bytes_total", "container_cpu_usage_seconds_total"}

# Grafana's provisioning reference (administration/provisioning): the keys of a dashboard
# provider and of a datasource entry.
PROVIDER_KEYS = {"name", "orgId", "folder", "folderUid", "type", "disableDeletion",
                 "updateIntervalSeconds", "allowUiUpdates", "options"}
PROVIDER_OPTION_KEYS = {"path", "foldersFromFilesStructure"}
DATASOURCE_KEYS = {"name", "type", "access", "orgId", "uid", "url", "user", "database",
                   "basicAuth", "basicAuthUser", "withCredentials", "isDefault", "jsonData",
                   "secureJsonData", "version", "editable"}


def _generated(tmp_path: Path) -> dict[str, str]:
    gd.write_all(tmp_path)
    return {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*")
            if p.is_file()}


def test_committed_files_are_what_the_generator_writes(tmp_path):
    fresh = _generated(tmp_path)
    committed = {str(p.relative_to(GRAFANA)): p.read_text() for p in GRAFANA.rglob("*")
                 if p.is_file()}
    assert set(fresh) == set(committed), "run scripts/generate-dashboards.sh"
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} drifted: run scripts/generate-dashboards.sh"


def test_the_five_key_dashboards_have_the_catalog_paths_as_uids():
    boards = {p.stem: json.loads(p.read_text()) for p in (GRAFANA / "dashboards").glob("*.json")}
    assert {f"/d/{uid}": b["title"] for uid, b in boards.items()} == {
        path: title for title, path, _ in catalog.dashboard_links()}
    for uid, board in boards.items():
        assert board["uid"] == uid and len(uid) <= 40
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)) and 0 not in ids
        assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in board["panels"])
    # The alert links open these dashboards by uid and slug.
    for _prefix, path, title in (*grafana_links.ALERT_DASHBOARDS,
                                 ("", *grafana_links.DEFAULT_DASHBOARD)):
        assert boards[path.removeprefix("/d/")]["title"] == title


def _panels_with_targets():
    for spec in gd.DASHBOARDS:
        board = gd.build(spec)
        for panel in board["panels"]:
            if panel["type"] != "row":
                yield spec.uid, board, panel


def _series(node) -> set[str]:
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name}
    found: set[str] = set()
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            found |= _series(child)
    for arg in getattr(node, "args", None) or []:
        found |= _series(arg)
    return found


SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def _known_series() -> set[str]:
    exposed = {family.name + suffix for family in Metrics("any").registry.collect()
               for suffix in SUFFIXES[family.type]}
    records = {rule["record"] for group in yaml.safe_load(
        (PROJECT_ROOT / "infra/prometheus/slo_rules.yml").read_text())["groups"]
        for rule in group["rules"] if "record" in rule}
    return exposed | records | {"meridian_dlq_messages"} | EXTERNAL_SERIES


def _substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, expr
    return expr


def test_every_promql_query_parses_and_reads_a_series_that_exists():
    known, checked = _known_series(), 0
    for uid, _board, panel in _panels_with_targets():
        if panel["datasource"]["type"] != "prometheus":
            continue
        assert panel["targets"], (uid, panel["title"])
        for target in panel["targets"]:
            assert target["refId"]
            tree = promql_parser.parse(_substitute(target["expr"]))
            series = _series(tree)
            assert series and series <= known, (uid, panel["title"], series - known)
            checked += 1
    assert checked >= 25


def test_promql_check_rejects_a_broken_query():
    with pytest.raises(ValueError):
        promql_parser.parse(_substitute("sum by (service (rate(x[$__rate_interval]))"))


def test_log_panels_select_streams_by_namespace_app_and_level():
    logs = [(uid, p) for uid, _b, p in _panels_with_targets()
            if p["datasource"]["type"] == "loki"]
    assert logs
    for _uid, panel in logs:
        expr = panel["targets"][0]["expr"]
        assert re.fullmatch(r'\{namespace=~"\$namespace", app=~"\$service", '
                            r'level=~"ERROR\|CRITICAL"\}', expr)


def test_variables_are_service_and_namespace():
    overview = gd.build(gd.DASHBOARDS[0])
    variables = {v["name"]: v for v in overview["templating"]["list"]}
    assert variables["service"]["query"] == "label_values(meridian_requests_total, service)"
    assert variables["service"]["datasource"]["uid"] == gp.DATASOURCE_UIDS["prometheus"]
    assert variables["namespace"]["type"] == "custom"


def test_provisioning_files_use_grafanas_documented_keys():
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/meridian.yaml").read_text())
    assert providers["apiVersion"] == 1
    for provider in providers["providers"]:
        assert set(provider) <= PROVIDER_KEYS and {"name", "type", "options"} <= set(provider)
        assert provider["type"] == "file"
        assert set(provider["options"]) <= PROVIDER_OPTION_KEYS and provider["options"]["path"]
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/meridian.yaml").read_text())
    assert sources["apiVersion"] == 1
    by_type = {}
    for source in sources["datasources"]:
        assert set(source) <= DATASOURCE_KEYS, set(source) - DATASOURCE_KEYS
        assert {"name", "type", "access", "uid", "url"} <= set(source)
        by_type[source["type"]] = source
    assert {t: s["uid"] for t, s in by_type.items()} == gp.DATASOURCE_UIDS
    assert sum(s.get("isDefault", False) for s in sources["datasources"]) == 1
    # Every datasource a dashboard or a variable names is provisioned.
    for _uid, board, panel in _panels_with_targets():
        assert panel["datasource"]["uid"] in gp.DATASOURCE_UIDS.values()
        for variable in board["templating"]["list"]:
            assert variable.get("datasource", {"uid": "prometheus"})["uid"] in \
                gp.DATASOURCE_UIDS.values()
    derived = by_type["loki"]["jsonData"]["derivedFields"][0]
    line = '{"ts": "x", "level": "ERROR", "trace_id": "' + "ab" * 16 + '"}'
    assert re.search(derived["matcherRegex"], line).group(1) == "ab" * 16
