"""A new SLO gets its whole window of history from a real Prometheus: two days of counters
that ended over a day ago (invisible to the per-minute collection, which looks back one day)
are backfilled when the SLO is created, and the portal's 30-day budget then equals what
PromQL computes over the same 30 days."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.db import utcnow
from portal.integrations.prometheus import PrometheusClient
from portal.slo import backfill, samples, specs, tasks
from portal.slo import service as slo_service
from portal.slo.models import Slo
from portal.slo.samples import floor_minute
from portal.slo.sources import PrometheusSource
from tests.unit.slo.factories import make_service

MINUTES = 2 * 24 * 60
PER_MINUTE = 50
# Prometheus' 5-minute lookback repeats the last readings after the data ends: five more
# minutes with no events, which cost no budget.
STORED = MINUTES + 5


def history(slug: str, start: datetime) -> str:
    """OpenMetrics of 50 requests a minute for two days, every other minute with one 503."""
    good, bad, lines = 0, 0, ["# TYPE http_requests counter"]
    points = []
    for i in range(MINUTES + 1):
        points.append((int((start + timedelta(minutes=i)).timestamp()), good, bad))
        bad += i % 2
        good += PER_MINUTE - i % 2
    for code, pick in (("200", 1), ("503", 2)):
        lines += [f'http_requests_total{{service="{slug}",code="{code}"}} {p[pick]} {p[0]}'
                  for p in points]
    return "\n".join(lines) + "\n# EOF\n"


def promql_counts(client: PrometheusClient, slug: str) -> samples.Counts:
    """Exact good/total events over 30 days by PromQL (the counters never reset)."""
    def increase(selector: str) -> int:
        found = client.query(
            f"sum(max_over_time({selector}[30d]) - min_over_time({selector}[30d]))")
        return round(found[0].points[0][1])
    return samples.Counts(
        increase(f'http_requests_total{{service="{slug}",code!~"5.."}}'),
        increase(f'http_requests_total{{service="{slug}"}}'))


@pytest.fixture
def sent(monkeypatch):
    """The SLO ids whose backfill task the portal enqueued after its commit."""
    ids: list[int] = []
    monkeypatch.setattr(backfill, "send", ids.append)
    return ids


def test_creating_an_slo_backfills_its_window(app, client, login_as, session,
                                              backfilled_prometheus, sent):
    now = floor_minute(utcnow())
    svc = make_service(session)
    session.commit()
    url = backfilled_prometheus(history(svc.slug, now - timedelta(days=3, hours=1)))
    prom = PrometheusClient(url)
    assert promql_counts(prom, svc.slug) == samples.Counts(142_560, 144_000)
    app.config["PROMETHEUS_URL"] = url
    # What the per-minute collection alone sees: nothing, the data ended a day ago.
    assert specs.collect(session=session, source=PrometheusSource(prom), now=now) == 0

    login_as("developer")
    response = client.post_form("/slo/new", {
        "service": svc.slug, "name": "availability", "sli_kind": "ratio",
        "objective": "99.5", "window_days": "30", "owner": "", "description": "",
        "good_query": f'http_requests_total{{service="{svc.slug}",code!~"5.."}}',
        "total_query": f'http_requests_total{{service="{svc.slug}"}}',
        "latency_threshold_ms": ""})
    assert response.status_code == 303
    slo = session.query(Slo).filter_by(service_id=svc.id).one()
    assert sent == [slo.id]

    assert tasks.backfill_history.run(slo.id) == STORED
    status = slo_service.evaluate(session=session, slos=[slo])[0]
    assert status.budget.counts == promql_counts(prom, svc.slug)
    assert status.budget.consumed == pytest.approx(1440 / (0.005 * 144_000))

    # Run again (a redelivered task): every minute is replaced, nothing is counted twice.
    assert tasks.backfill_history.run(slo.id) == STORED
    session.expire_all()
    again = slo_service.evaluate(session=session, slos=[slo])[0]
    assert again.budget.counts == samples.Counts(142_560, 144_000)


def test_backfill_reads_a_long_window_in_chunks_prometheus_accepts(session,
                                                                   backfilled_prometheus):
    """A 90-day window is 129,600 minutes: one query_range of it would be refused."""
    now = floor_minute(utcnow())
    svc = make_service(session)
    url = backfilled_prometheus(history(svc.slug, now - timedelta(days=80)))
    slo = Slo(service_id=svc.id, name="availability", sli_kind="ratio", objective="99",
              window_days=90, owner="", description="",
              good_query=f'http_requests_total{{service="{svc.slug}",code!~"5.."}}',
              total_query=f'http_requests_total{{service="{svc.slug}"}}')
    session.add(slo)
    session.flush()
    stored = backfill.backfill(session=session, source=PrometheusSource(PrometheusClient(url)),
                               slo=slo, now=now)
    assert stored == STORED
    counts = samples.window_counts(session=session, slo_ids=[slo.id], end=now,
                                   windows={"slo": timedelta(days=90)})[slo.id]["slo"]
    assert counts == samples.Counts(142_560, 144_000)


def test_chunks_cover_the_range_without_overlap():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    parts = backfill.chunks(start, start + timedelta(days=30))
    assert parts[0][0] == start and parts[-1][1] == start + timedelta(days=30)
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert all(b - a <= backfill.CHUNK for a, b in parts) and len(parts) == 5


def test_no_backfill_is_scheduled_without_prometheus(app, client, login_as, session, sent):
    app.config["PROMETHEUS_URL"] = None
    svc = make_service(session)
    session.commit()
    login_as("manager")
    response = client.post_form("/slo/new", {
        "service": svc.slug, "name": "availability", "sli_kind": "ratio",
        "objective": "99.5", "window_days": "30", "owner": "", "description": "",
        "good_query": "http_requests_total{code=\"200\"}", "total_query": "http_requests_total",
        "latency_threshold_ms": ""})
    assert response.status_code == 303 and sent == []
