"""The portal's own per-minute scrape of /metrics against a local HTTP server exposing
Prometheus text format (a real HTTP exchange; the server stands in for a platform service)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.slo import samples, selectors, specs
from portal.slo.models import ScrapeCursor
from portal.slo.samples import MinuteSample
from portal.slo.sources import ScrapeSource, counter_increase, minute_increases
from tests.unit.slo.factories import make_service, make_slo
from tests.unit.slo.metrics_server import FakeService, metrics_server

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _at(i: int) -> datetime:
    return T0 + timedelta(minutes=i, seconds=7)   # beat runs a few seconds late


def test_scrape_turns_counters_into_minutes_with_gaps_and_restarts(session):
    fake = FakeService("shop")
    with metrics_server(fake) as url:
        svc = make_service(session, base_url=url)
        fake.slug = svc.slug
        slo = make_slo(session, svc)
        other = make_slo(session, make_service(session), name="no-url")  # skipped: no base_url
        source = ScrapeSource(timeout=2)
        fake.serve(100, 0)
        assert specs.collect(session=session, source=source, now=_at(0)) == 0   # first reading
        fake.serve(95, 5)
        assert specs.collect(session=session, source=source, now=_at(1)) == 1
        assert specs.collect(session=session, source=source, now=_at(1)) == 0   # same minute
        fake.up = False
        specs.collect(session=session, source=source, now=_at(2))               # down: gap
        fake.up = True
        fake.serve(50, 50)
        specs.collect(session=session, source=source, now=_at(3))               # 2 min later: gap
        fake.restart()
        fake.serve(8, 2)
        specs.collect(session=session, source=source, now=_at(4))               # restart
    stored = samples.minute_series(session=session, slo_id=slo.id, start=T0,
                                   end=T0 + timedelta(hours=1))
    assert stored == [MinuteSample(T0, 95, 100), MinuteSample(T0 + timedelta(minutes=3), 8, 10)]
    assert samples.minute_series(session=session, slo_id=other.id, start=T0,
                                 end=T0 + timedelta(hours=1)) == []


def test_counter_semantics():
    assert counter_increase(10, 15) == 5
    assert counter_increase(10, 3) == 3
    t = [T0 + timedelta(minutes=i) for i in range(4)]
    got = minute_increases([(t[0], {"a": 1, "b": 5}), (t[1], {"a": 4, "b": 6}),
                            (t[3], {"a": 9, "b": 9})])
    assert got == {t[0]: 4}


def test_selectors_match_like_prometheus():
    sel = selectors.parse('http_requests_total{service="shop", code!~"5.."}')
    assert sel.matches("http_requests_total", {"service": "shop", "code": "200"})
    assert not sel.matches("http_requests_total", {"service": "shop", "code": "503"})
    assert not sel.matches("http_requests_total", {"service": "shopx", "code": "200"})
    assert selectors.parse("up").matches("up", {"job": "x"})
    for bad in ["", "rate(x[5m])", 'x{a=~"("}', "x{a=b}"]:
        try:
            selectors.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_series_born_between_scrapes_count_from_zero_but_not_in_prometheus_results():
    t = [T0 + timedelta(minutes=i) for i in range(2)]
    readings = [(t[0], {"200": 10}), (t[1], {"200": 14, "503": 3})]   # first 5xx ever
    assert minute_increases(readings, complete=True) == {t[0]: 7}
    # A Prometheus series missing at a step may be stale, not new: only shared ones count.
    assert minute_increases(readings) == {t[0]: 4}


def test_scrape_counts_the_first_requests_of_a_lazily_created_series(session):
    """prometheus_client creates a labelled series on its first increment, as the platform
    services' meridian_requests_total{code="503"} appears with the first 5xx."""
    fake = FakeService("shop")
    with metrics_server(fake) as url:
        svc = make_service(session, base_url=url)
        fake.slug = svc.slug
        slo = make_slo(session, svc)
        source = ScrapeSource(timeout=2)
        fake.requests.labels(svc.slug, "200").inc(10)
        specs.collect(session=session, source=source, now=_at(0))
        fake.requests.labels(svc.slug, "200").inc(4)
        fake.requests.labels(svc.slug, "503").inc(3)
        assert specs.collect(session=session, source=source, now=_at(1)) == 1
    assert samples.minute_series(session=session, slo_id=slo.id, start=T0,
                                 end=T0 + timedelta(hours=1)) == [MinuteSample(T0, 4, 7)]


def test_changing_a_specs_queries_restarts_its_scrape(session):
    fake = FakeService("shop")
    with metrics_server(fake) as url:
        svc = make_service(session, base_url=url)
        fake.slug = svc.slug
        slo = make_slo(session, svc)
        source = ScrapeSource(timeout=2)
        fake.serve(100, 0)
        specs.collect(session=session, source=source, now=_at(0))
        raw = {f: getattr(slo, f) for f in specs.FIELDS}
        specs.update(session=session, slo=slo, spec=specs.clean(raw))       # same queries
        assert session.get(ScrapeCursor, slo.id) is not None
        raw["good_query"] = f'http_requests_total{{service="{svc.slug}",code="200"}}'
        specs.update(session=session, slo=slo, spec=specs.clean(raw))
        assert session.get(ScrapeCursor, slo.id) is None
        fake.serve(5, 1)
        assert specs.collect(session=session, source=source, now=_at(1)) == 0  # first reading
