"""Layered rotation math: wall-clock recurrence across Berlin's DST changes, windows,
levels, groups on call together, `until`, monthly steps and overrides."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.oncall import layered as L
from portal.oncall.rotation import Cover

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


MARCH_2 = berlin(2026, 3, 2, 9)


def weekly(*people, start=MARCH_2, level=0, **kw) -> L.Layer:
    return L.Layer(level, "Europe/Berlin", start, "weekly", 1,
                   tuple((p,) if isinstance(p, str) else p for p in people), **kw)


def who(rots, at, covers=()):
    shift = L.on_call_at(rots, list(covers), at)
    return None if shift is None else shift.everyone


def test_weekly_handoff_stays_at_nine_across_march_dst():
    rot = weekly("ann", "bob", "cyd", "dan")
    # 2026-03-29 is the spring change: the Monday after, 09:00 local is 07:00 UTC.
    assert L.shift_start(rot, 4) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert L.shift_start(rot, 3) == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert who([rot], datetime(2026, 3, 30, 6, 59, tzinfo=UTC)) == ("dan",)
    assert who([rot], datetime(2026, 3, 30, 7, 0, tzinfo=UTC)) == ("ann",)
    shift = L.on_call_at([rot], [], datetime(2026, 3, 25, tzinfo=UTC))
    assert shift.ends_at - shift.starts_at == timedelta(hours=167)  # an hour shorter


def test_daily_handoff_across_october_dst_and_index_at():
    rot = L.Layer(0, "Europe/Berlin", berlin(2026, 10, 20, 8), "daily", 1, (("a",), ("b",)))
    # 2026-10-25 falls back: 08:00 local is 07:00 UTC after, 06:00 UTC before.
    assert L.shift_start(rot, 5) == datetime(2026, 10, 25, 7, tzinfo=UTC)
    assert L.shift_start(rot, 4) == datetime(2026, 10, 24, 6, tzinfo=UTC)
    assert L.index_at(rot, datetime(2026, 10, 25, 6, 30, tzinfo=UTC)) == 4
    assert L.index_at(rot, datetime(2026, 10, 25, 7, tzinfo=UTC)) == 5
    assert L.index_at(rot, berlin(2026, 10, 19, 8)) is None
    shift = L.on_call_at([rot], [], datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert shift.ends_at - shift.starts_at == timedelta(hours=25)


def test_windows_clip_to_business_hours_and_run_past_midnight():
    business = weekly("ann", windows=(L.Window((0, 1, 2, 3, 4), time(9), time(17)),))
    assert who([business], berlin(2026, 3, 3, 10)) == ("ann",)
    assert who([business], berlin(2026, 3, 3, 18)) is None
    assert who([business], berlin(2026, 3, 7, 10)) is None  # Saturday
    nights = weekly("bob", windows=(L.Window((4,), time(22), time(6)),))
    assert who([nights], berlin(2026, 3, 7, 5)) == ("bob",)  # Friday night into Saturday
    assert who([nights], berlin(2026, 3, 7, 7)) is None


def test_highest_level_wins_and_a_level_adds_up():
    base = weekly("ann")
    also = weekly(("bob", "cyd"))
    top = L.Layer(5, "Europe/Berlin", berlin(2026, 3, 4, 12), "daily", 1, (("eve",),),
                  duration=timedelta(hours=2), until=berlin(2026, 3, 4, 12))
    assert who([base, also, top], berlin(2026, 3, 4, 11)) == ("ann", "bob", "cyd")
    assert who([base, also, top], berlin(2026, 3, 4, 13)) == ("eve",)
    assert who([base, also, top], berlin(2026, 3, 5, 13)) == ("ann", "bob", "cyd")  # until


def test_duration_on_the_wall_clock_across_the_spring_change():
    night = L.Layer(0, "Europe/Berlin", berlin(2026, 3, 28, 20), "daily", 1, (("ann",),),
                    duration=timedelta(hours=12))
    shift = L.on_call_at([night], [], datetime(2026, 3, 29, 3, tzinfo=UTC))
    assert (shift.starts_at, shift.ends_at) == (berlin(2026, 3, 28, 20), berlin(2026, 3, 29, 8))
    assert who([night], berlin(2026, 3, 29, 9)) is None


def test_monthly_and_interval():
    rot = L.Layer(0, "UTC", datetime(2026, 1, 15, 12, tzinfo=UTC), "monthly", 2,
                  (("a",), ("b",)), duration=timedelta(hours=1))
    assert L.shift_start(rot, 1) == datetime(2026, 3, 15, 12, tzinfo=UTC)
    assert who([rot], datetime(2026, 3, 15, 12, 30, tzinfo=UTC)) == ("b",)
    assert who([rot], datetime(2026, 2, 15, 12, 30, tzinfo=UTC)) is None


def test_newest_override_wins_with_its_partners():
    rot = weekly("ann")
    a, b = berlin(2026, 3, 4, 10), berlin(2026, 3, 4, 14)
    covers = [Cover("old", a, b), Cover("bob", berlin(2026, 3, 4, 12), b),
              Cover("cyd", berlin(2026, 3, 4, 12), b)]
    assert who([rot], berlin(2026, 3, 4, 11), covers) == ("old",)
    assert who([rot], berlin(2026, 3, 4, 13), covers) == ("bob", "cyd")
    line = L.timeline([rot], covers, berlin(2026, 3, 4, 9), berlin(2026, 3, 4, 15))
    assert [(s.source, s.everyone) for s in line] == [
        ("rotation", ("ann",)), ("override", ("old",)), ("override", ("bob", "cyd")),
        ("rotation", ("ann",))]


def test_gaps_and_next_on_call():
    rot = weekly("ann", "bob", windows=(L.Window((0,), time(9), time(17)),))
    line = L.timeline([rot], [], berlin(2026, 3, 2, 0), berlin(2026, 3, 3, 0))
    assert [s.source for s in line] == ["gap", "rotation", "gap"]
    nxt = L.next_on_call([rot], [], berlin(2026, 3, 2, 10))
    assert nxt.who == "bob" and nxt.starts_at == berlin(2026, 3, 9, 9)
