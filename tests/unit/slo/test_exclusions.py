"""Maintenance exclusions in the budget math: a weekly Sunday 03:00 Berlin window follows the
wall clock across the spring DST change, and its minutes leave the window sums, the burn
rates, the hourly chart series and the minute series; validation of the form's fields."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.slo import exclusions, samples
from portal.slo import service as slo_service
from portal.slo.exclusions import ExclusionData, ExclusionInvalid
from portal.slo.samples import Counts, MinuteSample
from tests.unit.slo.factories import make_service, make_slo

UTC, BERLIN = UTC, ZoneInfo("Europe/Berlin")
# Three Sundays around the change to summer time on 2026-03-29.
SUNDAYS = [datetime(2026, 3, 22, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC),
           datetime(2026, 4, 5, tzinfo=UTC)]
NOW = datetime(2026, 4, 6, tzinfo=UTC)
WEEKLY = ExclusionData(starts_local=datetime(2026, 3, 1, 3, 0), time_zone="Europe/Berlin",
                       duration_minutes=120, rrule="FREQ=WEEKLY;BYDAY=SU",
                       reason="Weekly database maintenance")


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def in_maintenance(minute: datetime) -> bool:
    """The truth, computed independently: Sundays 03:00-05:00 on Berlin's wall clock."""
    local = minute.astimezone(BERLIN)
    return local.weekday() == 6 and 3 <= local.hour < 5


def traffic() -> list[MinuteSample]:
    """Saturday 22:00 to Sunday 08:00 UTC each weekend: 100 events a minute, all of them
    bad during maintenance and 1 bad otherwise."""
    out = []
    for sunday in SUNDAYS:
        minute = sunday - timedelta(hours=2)
        while minute < sunday + timedelta(hours=8):
            out.append(MinuteSample(minute, 0 if in_maintenance(minute) else 99, 100))
            minute += samples.MINUTE
    return out


@pytest.fixture
def slo(session):
    found = make_slo(session, make_service(session), objective="99")
    samples.record(session=session, slo_id=found.id, samples=traffic())
    return found


def test_the_weekly_window_follows_the_wall_clock_across_dst(session, slo):
    made = exclusions.create(session=session, slo=slo, data=WEEKLY, actor_email="m@x")
    spans = exclusions.occurrences(made, SUNDAYS[0], NOW)
    # 03:00 CET is 02:00 UTC; from March 29, 03:00 CEST is 01:00 UTC.
    assert spans == [(at(3, 22, 2), at(3, 22, 4)), (at(3, 29, 1), at(3, 29, 3)),
                     (at(4, 5, 1), at(4, 5, 3))]
    clipped = exclusions.occurrences(made, at(3, 29, 2), NOW)
    assert clipped[0] == (at(3, 29, 2), at(3, 29, 3))


def test_excluded_minutes_leave_budget_burn_rates_and_series(session, slo):
    everything = traffic()
    kept = [m for m in everything if not in_maintenance(m.minute)]
    assert len(everything) - len(kept) == 3 * 120
    before = slo_service.evaluate(session=session, slos=[slo], now=NOW)[0]
    assert before.budget.counts == Counts(sum(m.good for m in everything), 100 * len(everything))
    assert before.budget.remaining < 0          # the maintenance alone overspent the budget

    exclusions.create(session=session, slo=slo, data=WEEKLY, actor_email="m@x")
    after = slo_service.evaluate(session=session, slos=[slo], now=NOW)[0]
    assert after.budget.counts == Counts(99 * len(kept), 100 * len(kept))
    assert after.budget.consumed == 1            # 1% bad of a 1% budget, exactly
    assert after.burn_rates["1d"] == 1           # the last Sunday's window is out too
    since = SUNDAYS[0] - timedelta(days=1)
    hours = samples.hourly_series(session=session, slo_id=slo.id, start=since, end=NOW)
    assert sum((c for _, c in hours), Counts()) == after.budget.counts
    assert all(c.good == 99 * c.total // 100 for _, c in hours)
    minutes = samples.minute_series(session=session, slo_id=slo.id, start=since, end=NOW)
    assert minutes == kept


def test_deleting_the_exclusion_brings_the_minutes_back(session, slo):
    made = exclusions.create(session=session, slo=slo, data=WEEKLY, actor_email="m@x")
    exclusions.delete(session=session, exclusion=made)
    again = slo_service.evaluate(session=session, slos=[slo], now=NOW)[0]
    assert again.budget.counts.total == 100 * len(traffic())


def test_a_one_off_window_excludes_every_minute_it_touches(session, slo):
    data = exclusions.clean({"starts": "2026-04-05 09:00", "ends": "2026-04-05 09:30",
                             "time_zone": "Europe/Berlin", "reason": "Failover drill"})
    assert (data.duration_minutes, data.rrule) == (30, None)
    exclusions.create(session=session, slo=slo, data=data, actor_email="m@x")
    found = samples.minute_series(session=session, slo_id=slo.id, start=at(4, 5, 6),
                                  end=at(4, 5, 8))
    # 09:00-09:30 CEST is 07:00-07:30 UTC
    assert len(found) == 120 - 30
    assert not any(at(4, 5, 7) <= m.minute < at(4, 5, 7) + timedelta(minutes=30) for m in found)


@pytest.mark.parametrize("over,field,message", [
    ({"rrule": "FREQ=SOMETIMES"}, "rrule", "DAILY, WEEKLY, MONTHLY or YEARLY"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "not a valid RRULE"),
    ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "never matches"),
    ({"rrule": "FREQ=WEEKLY;DTSTART=20260101T000000"}, "rrule", "unsupported rule part DTSTART"),
    ({"rrule": "FREQ=MINUTELY"}, "rrule", "DAILY, WEEKLY"),
    ({"rrule": "FREQ=WEEKLY;UNTIL=20261231"}, "rrule", "UTC"),
    ({"duration_minutes": "١٢٠"}, "duration_minutes", "whole number"),
    ({"duration_minutes": "999999"}, "duration_minutes", "90 days"),
    ({"duration_minutes": "0"}, "duration_minutes", "one minute"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "IANA"),
    ({"starts": "２０２６-03-01 03:00"}, "starts", "YYYY-MM-DD"),
    ({"starts": "1900-03-01 03:00"}, "starts", "2000 to 2100"),
    ({"reason": "x"}, "reason", "between 3"),
    ({"rrule": "", "ends": "2026-03-01 02:00"}, "ends", "after the start"),
    ({"rrule": "", "ends": ""}, "ends", "YYYY-MM-DD"),
])
def test_clean_rejects_with_a_message_per_field(over, field, message):
    raw = {"starts": "2026-03-01 03:00", "time_zone": "Europe/Berlin", "reason": "Upgrade",
           "rrule": "FREQ=WEEKLY;BYDAY=SU", "duration_minutes": "120", **over}
    with pytest.raises(ExclusionInvalid) as caught:
        exclusions.clean(raw)
    assert message in caught.value.errors[field]


def test_one_off_duration_is_elapsed_time_across_dst():
    """01:00 to 04:00 local on the night the clocks go forward is two real hours."""
    data = exclusions.clean({"starts": "2026-03-29T01:00", "ends": "2026-03-29T04:00",
                             "time_zone": "Europe/Berlin", "reason": "Migration"})
    assert data.duration_minutes == 120
