"""Where SLI samples come from: one interface, two sources.

Both sources turn raw counter values sampled at minute boundaries into per-minute good and
total counts the same way: per series, the increase between two consecutive minutes is the
later value minus the earlier one, or the later value when the counter went down (a
restart), and a minute whose boundary values are not both known is a gap, never zero.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from portal.integrations import services
from portal.integrations.prometheus import PrometheusClient
from portal.slo import samples, selectors
from portal.slo.models import ScrapeCursor, Slo
from portal.slo.samples import MINUTE, MinuteSample, floor_minute

SeriesValues = dict[str, float]          # series key -> raw counter value


class SliQueries(Protocol):
    """What reading an SLO's minutes from Prometheus needs of it: an `Slo`, or a copy of its
    queries taken out of the session."""
    @property
    def good_query(self) -> str: ...
    @property
    def total_query(self) -> str: ...


class SliSource(Protocol):
    def collect(self, *, session: Session, slos: list[Slo], now: datetime
                ) -> dict[int, list[MinuteSample]]:
        """New complete minute samples per SLO id, up to the minute before `now`."""


def counter_increase(before: float, after: float) -> float:
    """Increase of a counter between two readings, treating a drop as a restart."""
    return after - before if after >= before else after


def minute_increases(points: Iterable[tuple[datetime, SeriesValues]], *,
                     complete: bool = False) -> dict[datetime, float]:
    """Summed per-series increases for each minute whose start and end values are known.

    `complete` says each reading is a whole exposition of one process (the portal's scrape):
    a series missing from the earlier reading did not exist yet, and since a client library
    creates a labelled series on its first increment, it started from zero (a service's
    first 5xx, a route's first request). Prometheus results are not complete in that sense:
    a series missing at a step may just be stale, so there only shared series count.
    """
    out: dict[datetime, float] = {}
    previous: tuple[datetime, SeriesValues] | None = None
    for at, values in points:
        if previous and at - previous[0] == MINUTE:
            before = previous[1]
            keys = values.keys() if complete else values.keys() & before.keys()
            if keys:
                out[previous[0]] = sum(counter_increase(before.get(k, 0.0), values[k])
                                       for k in keys)
        previous = (at, values)
    return out


def combine(good: dict[datetime, float], total: dict[datetime, float]) -> list[MinuteSample]:
    """Minute samples where both good and total are known, oldest first."""
    out = []
    for minute in sorted(good.keys() & total.keys()):
        g, t = round(good[minute]), round(total[minute])
        out.append(MinuteSample(minute, min(g, t), t))
    return out


def _series_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


class PrometheusSource:
    """Samples from Prometheus: `query_range` of each spec's selectors at a 60 s step."""

    def __init__(self, client: PrometheusClient, *, backfill: timedelta = timedelta(days=1)):
        self.client, self.backfill = client, backfill

    def samples(self, *, slo: SliQueries, start: datetime, end: datetime
                ) -> list[MinuteSample]:
        """Complete minutes in [start, end)."""
        start, end = floor_minute(start), floor_minute(end)
        if end <= start:
            return []
        return combine(self._increases(slo.good_query, start, end),
                       self._increases(slo.total_query, start, end))

    def _increases(self, query: str, start: datetime, end: datetime) -> dict[datetime, float]:
        by_time: dict[datetime, SeriesValues] = defaultdict(dict)
        for series in self.client.query_range(query, start=start, end=end, step_seconds=60):
            key = _series_key(series.labels)
            for at, value in series.points:
                by_time[at][key] = value
        return {m: v for m, v in minute_increases(sorted(by_time.items())).items()
                if start <= m < end}

    def collect(self, *, session: Session, slos: list[Slo], now: datetime
                ) -> dict[int, list[MinuteSample]]:
        """Minutes after each SLO's newest stored minute (or the backfill period)."""
        end = floor_minute(now)
        out = {}
        for slo in slos:
            last = samples.latest_minute(session=session, slo_id=slo.id)
            # Prometheus caps a range at 11,000 points; older gaps stay gaps.
            start = max(last + MINUTE, end - self.backfill) if last else end - self.backfill
            out[slo.id] = self.samples(slo=slo, start=start, end=end)
        return out


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Samples of a Prometheus text exposition as (name, labels, value)."""
    return [(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text) for s in family.samples]


def select_values(metrics: list[tuple[str, dict[str, str], float]],
                  selector: selectors.Selector) -> SeriesValues:
    """Raw values of the series a selector picks out of a scrape."""
    return {_series_key({"__name__": name, **labels}): value
            for name, labels, value in metrics if selector.matches(name, labels)}


def fetch_metrics(url: str, timeout: float) -> str:
    """GET a service's /metrics text (raises requests.RequestException when it is down);
    a platform service is sent the portal's token for it."""
    try:
        headers = services.auth_headers(url.rstrip("/"))
    except services.ServiceUnavailable as exc:
        raise requests.ConnectionError(str(exc)) from exc
    response = requests.get(f"{url.rstrip('/')}/metrics", timeout=timeout, headers=headers)
    response.raise_for_status()
    return response.text


class ScrapeSource:
    """Samples from the portal's own per-minute scrape of each service's /metrics."""

    def __init__(self, *, timeout: float = 5.0,
                 fetch: Callable[[str, float], str] = fetch_metrics):
        self.timeout, self.fetch = timeout, fetch

    def collect(self, *, session: Session, slos: list[Slo], now: datetime
                ) -> dict[int, list[MinuteSample]]:
        """Scrape each service once and turn counter readings into the previous minute."""
        now = floor_minute(now)
        by_service: dict[int, list[Slo]] = defaultdict(list)
        for slo in slos:
            if slo.service.base_url:
                by_service[slo.service_id].append(slo)
        out: dict[int, list[MinuteSample]] = {}
        for group in by_service.values():
            try:
                base_url = group[0].service.base_url
                assert base_url  # only entries with a base URL were grouped
                metrics = parse_metrics(self.fetch(base_url, self.timeout))
            except (requests.RequestException, ValueError):
                continue  # an unreachable service leaves a gap; the next scrape starts over
            for slo in group:
                out[slo.id] = self._advance(session, slo, metrics, now)
        return out

    @staticmethod
    def _advance(session: Session, slo: Slo, metrics, now: datetime) -> list[MinuteSample]:
        good = select_values(metrics, selectors.parse(slo.good_query))
        total = select_values(metrics, selectors.parse(slo.total_query))
        cursor = session.get(ScrapeCursor, slo.id)
        if cursor is None:
            session.add(ScrapeCursor(slo_id=slo.id, scraped_at=now, good_series=good,
                                     total_series=total))
            return []
        if cursor.scraped_at >= now:
            return []  # already scraped this minute
        before = cursor.scraped_at
        result = combine(
            minute_increases([(before, cursor.good_series), (now, good)], complete=True),
            minute_increases([(before, cursor.total_series), (now, total)], complete=True))
        cursor.scraped_at, cursor.good_series, cursor.total_series = now, good, total
        return result
