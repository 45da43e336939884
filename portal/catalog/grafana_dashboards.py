"""The five key Grafana dashboards as code, written as JSON into infra/grafana/dashboards/.

Run `python -m portal.catalog.grafana_dashboards [infra/grafana]` (or
scripts/generate-dashboards.sh) after changing a panel; a test regenerates them and fails
when the committed files differ. The uids are the `/d/<uid>` paths the catalog links to,
so they never change. PromQL reads the `meridian_*` series every platform service exposes
and the `slo:*` recording rules of infra/prometheus/slo_rules.yml; LogQL reads the Loki
labels namespace/app/level the log shipper sets from each pod.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grafana_foundation_sdk.builders import (
    dashboard,
    logs,
    loki,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from portal.catalog.grafana_provisioning import DATASOURCE_UIDS, write_provisioning

PROMETHEUS = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UIDS["prometheus"])
LOKI = DataSourceRef(type_val="loki", uid=DATASOURCE_UIDS["loki"])
RATE = "$__rate_interval"
SVC = 'service=~"$service"'
ERROR_LEVELS = "ERROR|CRITICAL"  # Python level names, as the services' JSON logs carry them
NAMESPACES = ("meridian-prod", "platform-portal")


@dataclass(frozen=True)
class PanelSpec:
    """One panel: a visualization, its queries (expression, legend) and a unit."""
    kind: str  # timeseries | stat | table | logs
    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]
    variables: tuple[str, ...] = ("service",)
    tags: tuple[str, ...] = field(default=("meridian",))


def _ratio_5xx(by: str) -> str:
    return (f'sum by ({by}) (rate(meridian_requests_total{{{SVC}, code=~"5.."}}[{RATE}])) / '
            f"sum by ({by}) (rate(meridian_requests_total{{{SVC}}}[{RATE}]))")


def _quantile(q: str, metric: str, by: str, matcher: str = SVC) -> str:
    return (f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{{matcher}}}[{RATE}])))")


def _events(event: str, by: str = "outcome") -> str:
    return f'sum by ({by}) (rate(meridian_business_events_total{{event="{event}"}}[{RATE}]))'


ERROR_LOGS = PanelSpec("logs", "Error logs", (
    (f'{{namespace=~"$namespace", app=~"$service", level=~"{ERROR_LEVELS}"}}', ""),))

DASHBOARDS: tuple[DashboardSpec, ...] = (
    DashboardSpec("system-overview", "System Overview", "High-level health of all services", (
        ("Traffic and errors", (
            PanelSpec("timeseries", "Requests per second", (
                (f"sum by (service) (rate(meridian_requests_total{{{SVC}}}[{RATE}]))",
                 "{{service}}"),), "reqps"),
            PanelSpec("timeseries", "5xx ratio", ((_ratio_5xx("service"), "{{service}}"),),
                      "percentunit"),
            PanelSpec("timeseries", "p95 latency", (
                (_quantile("0.95", "meridian_request_duration_seconds", "service"),
                 "{{service}}"),), "s"),
        )),
        ("Dependencies", (
            PanelSpec("table", "Dependencies down", (
                (f"min by (service, dependency) (meridian_dependency_up{{{SVC}}}) == 0", ""),)),
            PanelSpec("table", "Open circuit breakers", (
                (f"max by (service, dependency) (meridian_circuit_breaker_open{{{SVC}}}) > 0",
                 ""),)),
            PanelSpec("timeseries", "Background loop lag", (
                (f"max by (service, loop) (meridian_loop_lag_seconds{{{SVC}}})",
                 "{{service}} {{loop}}"),), "s"),
        )),
        ("Logs", (ERROR_LOGS,)),
    ), variables=("service", "namespace")),
    DashboardSpec("slo-burn-rate", "SLO Burn Rate", "Error budget consumption per service", (
        ("Error budget", (
            PanelSpec("stat", "Error budget remaining (30 days)", (
                (f"min by (slo) (slo:period_error_budget_remaining:ratio{{{SVC}}})",
                 "{{slo}}"),), "percentunit"),
            PanelSpec("timeseries", "Current burn rate (5m)", (
                (f"max by (slo) (slo:current_burn_rate:ratio{{{SVC}}})", "{{slo}}"),)),
            PanelSpec("timeseries", "Error ratio by window", tuple(
                (f"max by (slo) (slo:sli_error:ratio_rate{w}{{{SVC}}})", f"{{{{slo}}}} {w}")
                for w in ("5m", "1h", "6h", "3d"))),
        )),
        ("Alerts", (
            PanelSpec("table", "Burn-rate alerts firing", (
                (f'sum by (slo, severity) (ALERTS{{alertname="ErrorBudgetBurn", '
                 f'alertstate="firing", {SVC}}})', ""),)),
        )),
    )),
    DashboardSpec("order-pipeline", "Order Pipeline", "Order creation through fulfillment", (
        ("Orders", (
            PanelSpec("timeseries", "Orders created and rejected", (
                (_events("order_create"), "{{outcome}}"),), "ops"),
            PanelSpec("timeseries", "Stock reservations", (
                (_events("reservation"), "{{outcome}}"),), "ops"),
            PanelSpec("timeseries", "Shipping labels", ((_events("label"), "{{outcome}}"),),
                      "ops"),
        )),
        ("Messaging", (
            PanelSpec("timeseries", "Messages consumed", (
                (f"sum by (service, outcome) (rate(meridian_messages_consumed_total{{{SVC}}}"
                 f"[{RATE}]))", "{{service}} {{outcome}}"),), "ops"),
            PanelSpec("timeseries", "Outbox events waiting", (
                (f"max by (service) (meridian_outbox_pending{{{SVC}}})", "{{service}}"),)),
            PanelSpec("timeseries", "Dead-lettered messages", (
                (f"sum by (service, queue) (increase(meridian_messages_dead_lettered_total"
                 f"{{{SVC}}}[{RATE}]))", "{{service}} {{queue}}"),)),
            PanelSpec("timeseries", "p95 stage duration", (
                (_quantile("0.95", "meridian_stage_duration_seconds", "service, stage"),
                 "{{service}} {{stage}}"),), "s"),
        )),
    )),
    DashboardSpec("infra-overview", "Infrastructure", "Node health, resource usage, network", (
        ("Nodes", (
            PanelSpec("stat", "Nodes not ready", (
                ('sum(kube_node_status_condition{condition="Ready", status!="true"})', ""),)),
            PanelSpec("timeseries", "Node CPU busy", (
                (f'1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[{RATE}]))',
                 "{{instance}}"),), "percentunit"),
            PanelSpec("timeseries", "Node memory used", (
                ("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                 "{{instance}}"),), "percentunit"),
        )),
        ("Workloads and network", (
            PanelSpec("timeseries", "Container CPU by namespace", (
                (f'sum by (namespace) (rate(container_cpu_usage_seconds_total'
                 f'{{namespace=~"$namespace"}}[{RATE}]))', "{{namespace}}"),), "cores"),
            PanelSpec("timeseries", "Network received", (
                (f'sum by (instance) (rate(node_network_receive_bytes_total{{device!="lo"}}'
                 f'[{RATE}]))', "{{instance}}"),), "Bps"),
            PanelSpec("table", "Scrape targets down", (('up == 0', ""),)),
        )),
    ), variables=("namespace",)),
    DashboardSpec("oncall-summary", "On-Call Summary",
                  "Active alerts, recent incidents, handoff notes", (
        ("Alerts", (
            PanelSpec("stat", "Alerts firing by severity", (
                ('count by (severity) (ALERTS{alertstate="firing"})', "{{severity}}"),)),
            PanelSpec("table", "Firing alerts", (
                (f'max by (alertname, service, severity) (ALERTS{{alertstate="firing", {SVC}}})',
                 ""),)),
            PanelSpec("timeseries", "Alerts firing over time", (
                (f'count by (service) (ALERTS{{alertstate="firing", {SVC}}})', "{{service}}"),)),
        )),
        ("Queues", (
            PanelSpec("table", "Dead letters waiting", (
                (f"max by (service, queue) (meridian_dlq_messages{{{SVC}}}) > 0", ""),)),
        )),
    )),
)


def _target(spec: PanelSpec, index: int, expr: str, legend: str):
    ref = chr(ord("A") + index)
    if spec.kind == "logs":
        return loki.Dataquery().expr(expr).ref_id(ref)
    query = prometheus.Dataquery().expr(expr).ref_id(ref)
    if legend:
        query = query.legend_format(legend)
    return query.instant() if spec.kind == "table" else query.range()


def _panel(spec: PanelSpec, panel_id: int):
    kinds: dict[str, type[timeseries.Panel | stat.Panel | table.Panel | logs.Panel]] = {
        "timeseries": timeseries.Panel, "stat": stat.Panel, "table": table.Panel,
        "logs": logs.Panel}
    builder = kinds[spec.kind]()
    panel = builder.id(panel_id).title(spec.title).datasource(
        LOKI if spec.kind == "logs" else PROMETHEUS)
    if spec.kind == "logs":
        panel = panel.span(24)
    if spec.unit:
        panel = panel.unit(spec.unit)
    for index, (expr, legend) in enumerate(spec.queries):
        panel = panel.with_target(_target(spec, index, expr, legend))
    return panel


def _variable(name: str):
    if name == "service":
        return (dashboard.QueryVariable("service").label("Service").datasource(PROMETHEUS)
                .query("label_values(meridian_requests_total, service)").multi(True)
                .include_all(True).all_value(".*").refresh(VariableRefresh.ON_TIME_RANGE_CHANGED))
    return (dashboard.CustomVariable("namespace").label("Namespace")
            .values(",".join(NAMESPACES)).multi(True).include_all(True).all_value(".*"))


def build(spec: DashboardSpec) -> dict:
    """The dashboard model Grafana imports, as plain JSON-ready data."""
    board = (dashboard.Dashboard(spec.title).uid(spec.uid).description(spec.description)
             .tags(list(spec.tags)).refresh("1m").time("now-6h", "now").timezone("utc"))
    for name in spec.variables:
        board = board.with_variable(_variable(name))
    panel_id = 0
    for row_title, panels in spec.rows:
        panel_id += 1
        board = board.with_row(dashboard.Row(row_title).id(panel_id))
        for panel in panels:
            panel_id += 1
            board = board.with_panel(_panel(panel, panel_id))
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def render(spec: DashboardSpec) -> str:
    """The file content of one dashboard (stable key order, trailing newline)."""
    return json.dumps(build(spec), indent=2, sort_keys=True) + "\n"


def write_all(root: Path) -> list[Path]:
    """Write every dashboard and the provisioning files under `root` (infra/grafana)."""
    folder = root / "dashboards"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in DASHBOARDS:
        path = folder / f"{spec.uid}.json"
        path.write_text(render(spec))
        written.append(path)
    return written + write_provisioning(root)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "infra/grafana")
    for written_path in write_all(target):
        print(written_path)
