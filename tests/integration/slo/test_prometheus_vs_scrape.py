"""The Prometheus source (query_range on a real, backfilled Prometheus) and the portal's own
scrape (real HTTP against a local /metrics server) give the same numbers on the same
synthetic traffic: per-minute good/total counts, the window budget and the burn rates."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily

from portal.db import utcnow
from portal.integrations.prometheus import (
    PrometheusClient,
    PrometheusRejected,
    PrometheusUnavailable,
)
from portal.slo import samples, specs
from portal.slo import service as slo_service
from portal.slo.samples import floor_minute
from portal.slo.sources import PrometheusSource, ScrapeSource
from tests.httpserver import LocalHTTPServer, QuietHandler
from tests.unit.slo.factories import make_service, make_slo

MINUTES = 240


def traffic(slug: str) -> list[dict[tuple[str, str], float]]:
    """Cumulative counters per minute: diurnal-ish load, an error burst, a restart."""
    values, good, bad = [], 0.0, 0.0
    for i in range(MINUTES + 1):
        if i == 150:
            good, bad = 0.0, 0.0          # the service restarted: counters start over
        good += 900 + (i * 37) % 200
        bad += 40 if 60 <= i < 80 else (i * 7) % 3
        values.append({(slug, "200"): good, (slug, "503"): bad})
    return values


def openmetrics(slug: str, start: datetime, values) -> str:
    lines = ["# TYPE http_requests counter"]
    for code in ("200", "503"):
        for i, v in enumerate(values):
            ts = int((start + timedelta(minutes=i)).timestamp())
            lines.append(f'http_requests_total{{service="{slug}",code="{code}"}} {v[(slug, code)]} {ts}')
    return "\n".join(lines) + "\n# EOF\n"


class Counters:
    """A collector exposing whatever the test sets as current counter values."""

    def __init__(self):
        self.current: dict[tuple[str, str], float] = {}

    def collect(self):
        family = CounterMetricFamily("http_requests", "Requests", labels=["service", "code"])
        for (service, code), value in self.current.items():
            family.add_metric([service, code], value)
        yield family


def serve(registry) -> LocalHTTPServer:
    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802
            self.reply(200, generate_latest(registry))

    return LocalHTTPServer(Handler).start()


def test_both_sources_agree(session, backfilled_prometheus):
    start = floor_minute(utcnow()) - timedelta(minutes=MINUTES + 10)
    end = start + timedelta(minutes=MINUTES)
    counters, registry = Counters(), CollectorRegistry()
    registry.register(counters)
    server = serve(registry)
    try:
        svc = make_service(session, base_url=server.url)
        slo = make_slo(session, svc, objective="99")
        values = traffic(svc.slug)
        url = backfilled_prometheus(openmetrics(svc.slug, start, values))
        scrape = ScrapeSource(timeout=2)
        for i, current in enumerate(values):     # what Celery beat does once a minute
            counters.current = current
            specs.collect(session=session, source=scrape,
                          now=start + timedelta(minutes=i, seconds=5))
    finally:
        server.stop()
    scraped = samples.minute_series(session=session, slo_id=slo.id, start=start, end=end)
    prom = PrometheusSource(PrometheusClient(url)).samples(slo=slo, start=start, end=end)
    assert len(prom) == MINUTES and sum(m.total - m.good for m in prom) > 0
    assert prom == scraped
    prom_counts = samples.Counts(sum(m.good for m in prom), sum(m.total for m in prom))
    windows = {"w": timedelta(minutes=MINUTES), **slo_service.BURN_WINDOWS}
    db_counts = samples.window_counts(session=session, slo_ids=[slo.id], end=end,
                                      windows=windows)[slo.id]
    assert db_counts["w"] == prom_counts
    for name, length in slo_service.BURN_WINDOWS.items():
        in_window = [m for m in prom if m.minute >= end - length]
        expected = samples.Counts(sum(m.good for m in in_window), sum(m.total for m in in_window))
        assert db_counts[name] == expected, name


def test_client_errors_are_typed(backfilled_prometheus):
    url = backfilled_prometheus("# TYPE x counter\nx_total 1 1700000000\n# EOF\n")
    client = PrometheusClient(url, retries=0)
    with pytest.raises(PrometheusRejected):
        client.query("sum(")
    with pytest.raises(PrometheusUnavailable):
        PrometheusClient("http://127.0.0.1:9", retries=1, backoff=0).query("up")
