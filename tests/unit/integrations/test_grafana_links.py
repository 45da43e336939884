"""Grafana links: dashboard URLs with a service and a range, Explore URLs in Grafana's
`panes` format (decoded and checked), nothing at all without GRAFANA_URL, and no log or
trace link without LOKI_URL or TEMPO_URL."""
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import config
from portal.catalog import grafana_provisioning as gp
from portal.integrations import grafana_links as gl

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
SETTINGS = {"GRAFANA_URL": "https://grafana.example/", "GRAFANA_ORG_ID": 3,
            "GRAFANA_LOKI_UID": "loki-uid", "GRAFANA_TEMPO_UID": "tempo-uid",
            "LOKI_URL": "http://loki.monitoring:3100", "TEMPO_URL": "http://tempo.monitoring:3200"}
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ORDER = SimpleNamespace(slug="order", name="Order", namespace="meridian-prod", dashboards=[
    {"title": "System Overview", "path": "/d/system-overview"},
    {"title": "Order Pipeline", "path": "/d/order-pipeline"}])
INVENTORY = SimpleNamespace(slug="inventory", name="Inventory", namespace="meridian-prod",
                            dashboards=[])
RDS = SimpleNamespace(slug="postgresql", name="PostgreSQL", namespace="RDS (private subnet)",
                      dashboards=[{"title": "Infrastructure", "path": "/d/infra-overview"}])
# A LogQL stream selector, optional line filter: the structure the links must produce.
LOGQL = re.compile(r'^\{(?P<matchers>[a-z]+=~?"(?:[^"\\]|\\.)*"(?:, [a-z]+=~?"(?:[^"\\]|\\.)*")*)\}'
                   r'(?: \|= (?P<needle>"(?:[^"\\]|\\.)*"))?$')


def links(settings=SETTINGS) -> gl.PageLinks:
    return gl.page_links(settings, NOW)


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def explore_pane(url: str) -> tuple[dict, dict]:
    """The query string and the one pane of an Explore URL, decoded."""
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "grafana.example"
    assert parts.path == "/explore"
    query = parse_qs(parts.query, strict_parsing=True)
    assert query["schemaVersion"] == ["1"] and query["orgId"] == ["3"]
    panes = json.loads(query["panes"][0])
    assert len(panes) == 1
    return query, next(iter(panes.values()))


def logql_of(url: str) -> tuple[dict[str, str], str | None, dict]:
    _query, pane = explore_pane(url)
    assert pane["datasource"] == "loki-uid"
    (target,) = pane["queries"]
    assert target["refId"] == "A" and target["queryType"] == "range"
    assert target["datasource"] == {"type": "loki", "uid": "loki-uid"}
    match = LOGQL.match(target["expr"])
    assert match, target["expr"]
    matchers = dict(re.findall(r'([a-z]+=~?)("(?:[^"\\]|\\.)*")', match["matchers"]))
    needle = json.loads(match["needle"]) if match["needle"] else None
    return {k: json.loads(v) for k, v in matchers.items()}, needle, pane["range"]


def test_service_dashboards_carry_the_service_and_the_last_six_hours():
    (overview, pipeline) = links().service_dashboards(ORDER)
    parts = urlsplit(overview.url)
    assert overview.label == "System Overview"
    assert parts.netloc == "grafana.example" and parts.path == "/d/system-overview/system-overview"
    assert parse_qs(parts.query) == {"orgId": ["3"], "var-service": ["order"],
                                     "from": [ms(NOW - timedelta(hours=6))], "to": [ms(NOW)]}
    assert urlsplit(pipeline.url).path == "/d/order-pipeline/order-pipeline"


def test_service_logs_select_namespace_and_app_with_an_error_level_variant():
    all_logs, errors = links().service_logs(ORDER)
    matchers, needle, window = logql_of(all_logs.url)
    assert matchers == {"namespace=": "meridian-prod", "app=": "order"} and needle is None
    assert window == {"from": ms(NOW - timedelta(hours=6)), "to": ms(NOW)}
    matchers, _needle, _window = logql_of(errors.url)
    assert matchers["level=~"] == "ERROR|CRITICAL"


def test_a_service_outside_kubernetes_gets_dashboards_but_no_log_link():
    assert [link.label for link in links().service_dashboards(RDS)] == ["Infrastructure"]
    assert links().service_logs(RDS) == []


def test_incident_window_runs_from_an_hour_before_to_its_end_or_now():
    opened = NOW - timedelta(hours=3)
    open_incident = SimpleNamespace(opened_at=opened, resolved_at=None,
                                    services=[ORDER, INVENTORY, RDS])
    (dash, _pipeline) = links().incident_service(open_incident, ORDER)
    query = parse_qs(urlsplit(dash.url).query)
    assert query["from"] == [ms(opened - timedelta(hours=1))] and query["to"] == [ms(NOW)]
    (logs,) = links().incident(open_incident)
    matchers, _needle, window = logql_of(logs.url)
    assert matchers == {"namespace=": "meridian-prod", "app=~": "inventory|order",
                        "level=~": "ERROR|CRITICAL"}
    assert window == {"from": ms(opened - timedelta(hours=1)), "to": ms(NOW)}
    resolved = SimpleNamespace(opened_at=opened, resolved_at=opened + timedelta(minutes=40),
                               services=[ORDER])
    (logs,) = links().incident(resolved)
    assert logql_of(logs.url)[2]["to"] == ms(opened + timedelta(minutes=40))


def test_alert_opens_its_dashboard_and_logs_around_its_start():
    starts = NOW - timedelta(minutes=50)
    dash, logs = links().alert("ErrorBudgetBurn", "order", {"severity": "page"}, starts, "")
    parts = urlsplit(dash.url)
    assert parts.path == "/d/slo-burn-rate/slo-burn-rate"
    assert parse_qs(parts.query)["var-service"] == ["order"]
    assert parse_qs(parts.query)["from"] == [ms(starts - timedelta(minutes=30))]
    assert parse_qs(parts.query)["to"] == [ms(starts + timedelta(minutes=30))]
    matchers, _needle, _window = logql_of(logs.url)
    assert matchers == {"app=": "order", "level=~": "ERROR|CRITICAL"}
    other = links().alert("HighLatency", None, {"service": "search",
                                                "namespace": "meridian-prod"}, starts)
    assert urlsplit(other[0].url).path == "/d/system-overview/system-overview"
    assert logql_of(other[1].url)[0]["namespace="] == "meridian-prod"
    assert links().alert("HighLatency", "order", {}, None) == []


def test_a_trace_id_in_an_alert_or_timeline_entry_opens_tempo():
    starts = NOW - timedelta(minutes=5)
    *_rest, trace = links().alert("X", "order", {"trace_id": TRACE}, starts)
    _query, pane = explore_pane(trace.url)
    assert pane["datasource"] == "tempo-uid"
    assert pane["queries"] == [{"refId": "A", "datasource": {"type": "tempo", "uid": "tempo-uid"},
                                "queryType": "traceql", "query": TRACE}]
    entry = SimpleNamespace(at=starts, summary="checkout failed", details={},
                            body_md=f"see trace {TRACE} and {TRACE}")
    incident = SimpleNamespace(services=[ORDER])
    trace_link, logs = links().entry(entry, incident)
    assert trace_link.label.startswith("trace 4bf92f35") and TRACE in trace_link.url
    matchers, _needle, window = logql_of(logs.url)
    assert matchers == {"namespace=": "meridian-prod", "app=": "order"}
    assert window == {"from": ms(starts - timedelta(minutes=15)),
                      "to": ms(starts + timedelta(minutes=15))}
    assert links().entry(SimpleNamespace(at=starts, summary="x", body_md=None,
                                         details={}), None) == []


def test_job_logs_search_the_worker_for_the_job_id():
    job_id = uuid.uuid4()
    started = NOW - timedelta(minutes=20)
    job = SimpleNamespace(id=job_id, created_at=started - timedelta(minutes=1),
                          started_at=started, finished_at=None, service=ORDER)
    worker, service_logs = links().job(job)
    matchers, needle, window = logql_of(worker.url)
    assert matchers == {"namespace=": "platform-portal", "app=": "portal"}
    assert needle == str(job_id)
    assert window == {"from": ms(started - timedelta(minutes=5)), "to": ms(NOW)}
    assert logql_of(service_logs.url)[0]["app="] == "order"


def test_hostile_values_are_escaped_or_dropped():
    assert gl.logql(apps=['order"} |= "x']) is None
    assert gl.logql(namespaces=["meridian-prod\x00"]) is None
    query = gl.logql(apps=["order"], contains='a"b\\c\nd')
    assert LOGQL.match(query) and json.loads(query.split(" |= ", 1)[1]) == 'a"b\\c\nd'
    assert gl.explore_trace(gl.GrafanaConfig.from_settings(SETTINGS), "zz" * 16, NOW, NOW) is None
    assert links().dashboard("javascript:alert(1)", "x") is None
    assert links().dashboard("/d/../admin", "x") is None


@pytest.mark.parametrize("settings", [{}, {"GRAFANA_URL": None}])
def test_without_grafana_url_there_is_no_link(settings):
    page = links(settings)
    incident = SimpleNamespace(opened_at=NOW, resolved_at=None, services=[ORDER])
    entry = SimpleNamespace(at=NOW, summary=TRACE, body_md=None, details={})
    job = SimpleNamespace(id=uuid.uuid4(), created_at=NOW, started_at=None, finished_at=None,
                          service=ORDER)
    assert not page.enabled
    assert page.service_dashboards(ORDER) == [] and page.service_logs(ORDER) == []
    assert page.incident(incident) == [] and page.entry(entry, incident) == []
    assert page.alert("ErrorBudgetBurn", "order", {}, NOW) == [] and page.job(job) == []
    assert page.dashboard("/d/system-overview", "System Overview") is None


def _everything(page: gl.PageLinks) -> list[gl.Link]:
    starts = NOW - timedelta(minutes=5)
    incident = SimpleNamespace(opened_at=starts, resolved_at=None, services=[ORDER])
    entry = SimpleNamespace(at=starts, summary=f"trace {TRACE}", body_md=None, details={})
    job = SimpleNamespace(id=uuid.uuid4(), created_at=starts, started_at=starts,
                          finished_at=None, service=ORDER)
    return [*page.service_dashboards(ORDER), *page.service_logs(ORDER),
            *page.incident(incident), *page.incident_service(incident, ORDER),
            *page.entry(entry, incident), *page.job(job),
            *page.alert("HighLatency", "order", {"trace_id": TRACE}, starts)]


def _kinds(links: list[gl.Link]) -> set[str]:
    """Which datasources the Explore links open; "dashboard" for dashboard links."""
    kinds = set()
    for link in links:
        if "/explore?" not in link.url:
            kinds.add("dashboard")
            continue
        _query, pane = explore_pane(link.url)
        kinds.add(pane["queries"][0]["datasource"]["type"])
    return kinds


@pytest.mark.parametrize(("unset", "left"), [
    ((), {"dashboard", "loki", "tempo"}),
    (("LOKI_URL",), {"dashboard", "tempo"}),
    (("TEMPO_URL",), {"dashboard", "loki"}),
    (("LOKI_URL", "TEMPO_URL"), {"dashboard"})])
def test_log_and_trace_links_need_their_datasource_address(unset, left):
    settings = {k: v for k, v in SETTINGS.items() if k not in unset}
    assert _kinds(_everything(links(settings))) == left
    empty = {**SETTINGS, **{name: None for name in unset}}  # set but empty: not configured
    assert _kinds(_everything(links(empty))) == left


def test_the_datasource_addresses_and_uids_are_the_provisioned_ones():
    """Grafana's provisioned datasources read the variables named like the portal's settings,
    and the portal's default uids are the provisioned ones."""
    by_name = {s.name: s for s in config.all_settings()}
    sources = {s["type"]: s for s in gp.DATASOURCES["datasources"]}
    for kind, variable in gp.URL_SETTINGS.items():
        assert variable in by_name and sources[kind]["url"] == "${" + variable + "}"
    assert by_name["GRAFANA_LOKI_UID"].default == sources["loki"]["uid"]
    assert by_name["GRAFANA_TEMPO_UID"].default == sources["tempo"]["uid"]
    defaults = gl.GrafanaConfig.from_settings({"GRAFANA_URL": "https://g.example",
                                               "LOKI_URL": "http://loki:3100"})
    (pane,) = json.loads(parse_qs(urlsplit(gl.explore_logs(
        defaults, '{app="order"}', NOW, NOW)).query)["panes"][0]).values()
    assert pane["datasource"] == gp.DATASOURCE_UIDS["loki"]
