"""Budget math of OpenSLO calendar-aligned windows and time-slice budgeting, by hand."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.slo import openslo_windows as w
from portal.slo import samples
from portal.slo import service as slo_service
from portal.slo.models import Exclusion
from portal.slo.samples import Counts, MinuteSample
from tests.unit.slo.factories import make_service, make_slo

UTC = UTC


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("start,zone,duration,now,expected", [
    # The spec's example start; New York moves to summer time on 2026-03-08.
    ("2020-01-21 12:30", "America/New_York", "1M", "2026-03-10 12:00",
     ("2026-02-21 17:30", "2026-03-21 16:30")),
    ("2024-01-01 00:00", "Europe/Berlin", "1w", "2026-12-07 10:00",
     ("2026-12-06 23:00", "2026-12-13 23:00")),
    ("2024-01-01 00:00", "UTC", "1Q", "2026-05-15 08:00", ("2026-04-01 00:00", "2026-07-01 00:00")),
    ("2024-01-01 00:00", "UTC", "1Y", "2026-05-15 08:00", ("2026-01-01 00:00", "2027-01-01 00:00")),
    ("2024-01-01 00:00", "UTC", "2M", "2026-05-15 08:00", ("2026-05-01 00:00", "2026-07-01 00:00")),
    # The 31st becomes the last day of shorter months.
    ("2024-01-31 00:00", "UTC", "1M", "2024-03-01 00:00", ("2024-02-29 00:00", "2024-03-31 00:00")),
    # A start in the future still aligns the windows before it.
    ("2030-01-01 00:00", "UTC", "1M", "2029-12-15 00:00", ("2029-12-01 00:00", "2030-01-01 00:00")),
    ("2024-01-01 06:00", "UTC", "1d", "2026-05-15 05:59", ("2026-05-14 06:00", "2026-05-15 06:00")),
])
def test_calendar_period_contains_now(start, zone, duration, now, expected):
    period = w.calendar_period(start=datetime.fromisoformat(start), time_zone=zone,
                               duration=duration, now=at(now))
    assert period == (at(expected[0]), at(expected[1]))


@pytest.mark.parametrize("value,minutes", [("5m", 5), ("1h", 60), (10, 10), ("1d", 1440)])
def test_time_slice_windows(value, minutes):
    assert w.slice_minutes(value) == minutes


@pytest.mark.parametrize("value", ["0m", "5", "1M", "١m", "5 m", True, 10_000_000, "9999999m"])
def test_bad_time_slice_windows_are_refused(value):
    with pytest.raises(ValueError):
        w.slice_minutes(value)


def _calendar_month(session, service):
    slo = make_slo(session, service, objective="99")
    slo.window_duration, slo.calendar_start, slo.calendar_time_zone = (
        "1M", datetime(2026, 1, 1), "UTC")
    session.flush()
    return slo


def test_calendar_budget_counts_only_the_current_month(session):
    slo = _calendar_month(session, make_service(session))
    now = at("2026-12-07 12:00")
    # November was a disaster; it belongs to the previous period.
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(at("2026-11-30 23:00") + timedelta(minutes=i), 0, 100) for i in range(30)])
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(at("2026-12-01 00:00") + timedelta(minutes=i), 995, 1000)
        for i in range(100)])
    [status] = slo_service.evaluate(session=session, slos=[slo], now=now)
    assert status.budget.counts == Counts(99_500, 100_000)
    assert status.budget.window == timedelta(days=31)
    assert status.budget.consumed == Fraction(1, 2)
    # 1% of December's 44,640 minutes, half of it left.
    assert status.budget.total_minutes == Fraction(44_640, 100)
    assert status.budget.remaining_minutes == Fraction(22_320, 100)


def test_rolling_occurrences_still_take_the_rolling_window(session):
    slo = make_slo(session, make_service(session), objective="99", window_days=1)
    now = at("2026-12-07 12:00")
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(now - timedelta(days=1, minutes=i + 1), 0, 100) for i in range(10)] + [
        MinuteSample(now - timedelta(minutes=i + 1), 99, 100) for i in range(10)])
    [status] = slo_service.evaluate(session=session, slos=[slo], now=now)
    assert status.budget.counts == Counts(990, 1000)
    assert status.budget.window == timedelta(days=1)


def _sliced(session, method: str, target: str | None):
    slo = make_slo(session, make_service(session), objective="99", window_days=1)
    slo.budgeting_method, slo.time_slice_window = method, "5m"
    slo.time_slice_target = Decimal(target) if target else None
    session.flush()
    start = at("2026-12-07 11:00")
    # Six 5-minute slices at 100% good, six at 90% good, then a gap of 10 minutes.
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(start + timedelta(minutes=i), 100 if i < 30 else 90, 100)
        for i in range(60)])
    return slo


def test_timeslices_count_good_slices_against_the_slice_target(session):
    slo = _sliced(session, "Timeslices", "0.95")
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 12:10"))
    assert status.budget.counts == Counts(6, 12)
    # Half the slices were bad against a 1% allowance: the budget is spent 50 times over.
    assert status.budget.consumed == 50
    assert status.policy == "exhausted"
    # The last hour (11:10-12:10) holds ten slices, six of them bad.
    assert status.burn_rates["1h"] == Fraction(6, 10) / Fraction(1, 100)


def test_a_slice_at_exactly_the_target_is_good(session):
    slo = _sliced(session, "Timeslices", "0.9")
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 12:10"))
    assert status.budget.counts == Counts(12, 12)
    assert status.budget.consumed == 0


def test_ratio_timeslices_average_the_slices(session):
    slo = _sliced(session, "RatioTimeslices", None)
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 12:10"))
    assert Fraction(status.budget.counts.good, status.budget.counts.total) == Fraction(95, 100)
    assert status.budget.consumed == 5


def test_only_whole_slices_count(session):
    slo = _sliced(session, "Timeslices", "0.95")
    # At 11:58 the slice 11:55-12:00 is not complete yet: eleven slices, five bad.
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 11:58"))
    assert status.budget.counts == Counts(6, 11)


def test_excluded_minutes_leave_their_slices_out(session):
    slo = _sliced(session, "Timeslices", "0.95")
    # A maintenance window over the bad half hour: those slices are neither good nor bad.
    session.add(Exclusion(slo_id=slo.id, starts_local=datetime(2026, 12, 7, 11, 30),
                          time_zone="UTC", duration_minutes=30, rrule=None,
                          reason="database upgrade", created_by_email="m@x.example"))
    session.flush()
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 12:10"))
    assert status.budget.counts == Counts(6, 6)


@pytest.mark.parametrize("window,expected", [("1h", Counts(1, 2)), ("1d", Counts(0, 1))])
def test_hour_and_day_slices_read_the_rollups_exactly(session, window, expected):
    slo = make_slo(session, make_service(session), objective="99", window_days=3)
    slo.budgeting_method, slo.time_slice_window = "Timeslices", window
    slo.time_slice_target = Decimal("0.995")
    session.flush()
    # Hour 10:00 all good, hour 11:00 at 98%: a bad hour, and a day at 99%, below 99.5%.
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(at("2026-12-06 10:00") + timedelta(minutes=i), 100 if i < 60 else 98, 100)
        for i in range(120)])
    [status] = slo_service.evaluate(session=session, slos=[slo], now=at("2026-12-07 12:00"))
    assert status.budget.counts == expected
