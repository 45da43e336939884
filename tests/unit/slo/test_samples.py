"""Sample storage: the hourly rollup stays the sum of its minutes and window sums are exact
at hour edges, with gaps counting as nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.slo import samples
from portal.slo.models import DailySample, HourlySample
from portal.slo.samples import Counts, MinuteSample
from tests.unit.slo.factories import make_service, make_slo

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def slo(session):
    return make_slo(session, make_service(session))


def _minutes(start, n, good=9, total=10):
    return [MinuteSample(start + timedelta(minutes=i), good, total) for i in range(n)]


def test_rollup_follows_minutes_and_replacements(session, slo):
    samples.record(session=session, slo_id=slo.id, samples=_minutes(T0, 90))
    samples.record(session=session, slo_id=slo.id, samples=[MinuteSample(T0, 0, 50)])
    hours = {h.hour: (h.good, h.total) for h in session.scalars(
        select(HourlySample).where(HourlySample.slo_id == slo.id))}
    assert hours == {T0: (59 * 9, 59 * 10 + 50), T0 + timedelta(hours=1): (30 * 9, 300)}
    days = {d.day: (d.good, d.total) for d in session.scalars(
        select(DailySample).where(DailySample.slo_id == slo.id))}
    assert days == {T0.replace(hour=0): (89 * 9, 89 * 10 + 50)}


def test_good_above_total_is_refused(session, slo):
    with pytest.raises(ValueError):
        samples.record(session=session, slo_id=slo.id, samples=[MinuteSample(T0, 11, 10)])


@pytest.mark.parametrize("end_offset,window,expected_minutes", [
    (timedelta(hours=3), timedelta(hours=3), 180),                   # hour aligned
    (timedelta(hours=3, minutes=17), timedelta(hours=2), 120),        # two partial edges
    (timedelta(minutes=30), timedelta(minutes=5), 5),                 # inside one hour
    (timedelta(hours=3, minutes=17), timedelta(days=1), 197),         # longer than the data
    (timedelta(hours=1, minutes=1), timedelta(minutes=2), 2),         # straddles an hour
    (timedelta(hours=14, minutes=3), timedelta(days=3), 200),         # crosses midnight
])
def test_window_sums_are_exact_at_edges(session, slo, end_offset, window, expected_minutes):
    samples.record(session=session, slo_id=slo.id, samples=_minutes(T0, 200))
    end = T0 + end_offset
    got = samples.window_counts(session=session, slo_ids=[slo.id], end=end, windows={"w": window})
    assert got[slo.id]["w"] == Counts(9 * expected_minutes, 10 * expected_minutes)


def test_split_uses_whole_days_hours_then_minutes():
    start = datetime(2026, 11, 1, 22, 50, tzinfo=UTC)
    end = datetime(2026, 11, 4, 1, 5, tzinfo=UTC)
    assert samples.split(start, end) == [
        (0, datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)),
        (1, datetime(2026, 11, 1, 23, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
        (2, start, datetime(2026, 11, 1, 23, tzinfo=UTC)),
        (1, datetime(2026, 11, 4, tzinfo=UTC), datetime(2026, 11, 4, 1, tzinfo=UTC)),
        (2, datetime(2026, 11, 4, 1, tzinfo=UTC), end)]


def test_gaps_count_as_nothing(session, slo):
    data = _minutes(T0, 60)
    del data[10:30]
    samples.record(session=session, slo_id=slo.id, samples=data)
    got = samples.window_counts(session=session, slo_ids=[slo.id], end=T0 + timedelta(hours=1),
                                windows={"1h": timedelta(hours=1), "5m": timedelta(minutes=5)})
    assert got[slo.id]["1h"] == Counts(40 * 9, 400)
    assert samples.window_counts(session=session, slo_ids=[slo.id], end=T0 + timedelta(minutes=30),
                                 windows={"5m": timedelta(minutes=5)})[slo.id]["5m"] == Counts()
