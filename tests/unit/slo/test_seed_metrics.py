"""The seeded SLO specs read metrics the platform services really expose: every service is
built as `python -m platform_services serve` builds it (no server, no database connection),
its routes come from the app's URL map, and its own Metrics registry is exercised and
rendered in the Prometheus text format the portal's scrape reads."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml
from prometheus_client import generate_latest

from platform_services.common.config import DEFAULT_PORTS, SERVICES, ServiceConfig
from platform_services.common.observability import LATENCY_BUCKETS
from platform_services.registry import build
from portal.config import PROJECT_ROOT
from portal.slo import demo, selectors
from portal.slo.sources import parse_metrics, select_values

UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:9/never_connected"
# A good and a bad outcome of each business event an SLO counts (emitted by
# platform_services/notification/service.py and platform_services/worker/service.py).
EVENT_OUTCOMES = {("notification", "notification"): ("sent", "delivery_failed"),
                  ("worker", "job"): ("succeeded", "failed")}


def _matcher(selector: selectors.Selector, label: str) -> str | None:
    return next((m.value for m in selector.matchers if m.label == label), None)


@pytest.fixture(scope="module")
def apps():
    built = {name: build(ServiceConfig(service=name, database_url=UNREACHABLE_DB), log=False)
             for name in SERVICES}
    yield {name: service.app for name, service in built.items()}
    for service in built.values():
        for engine in service.engines:
            engine.dispose()


def _exercise(app, service: str) -> str:
    """One fast 200 and one slow 503 on every route, and a good and a bad outcome of the
    counted events, through the service's own metric objects; the /metrics text."""
    metrics = app.extensions["metrics"]
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for code, seconds in (("200", 0.001), ("503", 30.0)):
                metrics.requests.labels(service, rule.rule, method, code).inc()
                metrics.latency.labels(service, rule.rule).observe(seconds)
    for (name, event), outcomes in EVENT_OUTCOMES.items():
        if name == service:
            for outcome in outcomes:
                metrics.event(event, outcome)
    # Only the SLI families: the registry's gauges (outbox backlog) query the database.
    sli_families = SimpleNamespace(collect=lambda: [family for metric in (
        metrics.requests, metrics.latency, metrics.events) for family in metric.collect()])
    return generate_latest(sli_families).decode()


@pytest.mark.parametrize("service", SERVICES)
def test_every_seeded_slo_of_a_running_service_selects_its_real_series(apps, service):
    app = apps[service]
    scraped = parse_metrics(_exercise(app, service))
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    seeded = demo.SEED_SLOS[service]
    assert seeded, f"{service} runs here but has no seeded SLO"
    for raw in seeded:
        good_sel, total_sel = selectors.parse(raw["good_query"]), selectors.parse(raw["total_query"])
        assert _matcher(total_sel, "service") == service
        route = _matcher(total_sel, "route")
        assert route is None or route in routes, f"{raw['name']}: no route {route}"
        good = sum(select_values(scraped, good_sel).values())
        total = sum(select_values(scraped, total_sel).values())
        # Each selected route/event saw one good and one bad observation.
        assert 0 < good < total, (raw["name"], good, total)
        if raw["sli_kind"] == "latency":
            le = float(_matcher(good_sel, "le"))
            assert le in LATENCY_BUCKETS and le * 1000 == raw["latency_threshold_ms"]
            assert good * 2 == total


def test_the_gateway_is_the_only_seeded_service_that_does_not_run_here():
    assert set(demo.SEED_SLOS) - set(SERVICES) == {"api-gateway"}
    for raw in demo.SEED_SLOS["api-gateway"]:
        assert raw["good_query"].startswith("kong_") and raw["total_query"].startswith("kong_")


def test_kong_added_latency_reads_a_real_kong_bucket():
    """Kong 3.x kong_kong_latency_ms bucket bounds (ms), from its Prometheus plugin."""
    kong_bounds = (1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000)
    raw = next(r for r in demo.SEED_SLOS["api-gateway"] if r["sli_kind"] == "latency")
    le = _matcher(selectors.parse(raw["good_query"]), "le")
    assert int(le) in kong_bounds and int(le) == raw["latency_threshold_ms"]


def test_prometheus_scrapes_every_service_at_its_default_port():
    config = yaml.safe_load((PROJECT_ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "platform-services")
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:{port}" for name, port in DEFAULT_PORTS.items()}
