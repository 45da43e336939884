"""Calendar feeds parsed back with icalendar: stable UIDs, one event per shift, local
hand-off hours with a TZID and VTIMEZONE on both sides of a DST change."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from portal.oncall import feeds, service

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
# Berlin moves from CET to CEST on Sunday 2026-03-29; two fetches a few days apart.
FIRST_FETCH = datetime(2026, 3, 18, 7, 30, tzinfo=UTC)
SECOND_FETCH = datetime(2026, 3, 21, 22, 5, tzinfo=UTC)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def elapsed(event) -> timedelta:
    """Real time between DTSTART and DTEND (same-zone subtraction in Python is wall-clock)."""
    return event.decoded("dtend").astimezone(UTC) - event.decoded("dtstart").astimezone(UTC)


def events(cal: Calendar, layer: str = "primary") -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT") if f"({layer})" in str(e["summary"])}


@pytest.fixture
def solo(session, make_user, make_schedule):
    """One person on the primary layer: every week is the same person, still one event each."""
    person = make_user("oncall")
    return make_schedule([person], slug="feed-solo", tz="Europe/Berlin", start=date(2026, 1, 5))


def test_uids_and_events_are_identical_across_fetches(session, solo):
    first = events(parse(feeds.schedule_feed(session=session, schedule=solo, now=FIRST_FETCH)))
    second = events(parse(feeds.schedule_feed(session=session, schedule=solo,
                                               now=SECOND_FETCH)))
    assert first.keys() == second.keys()
    for uid, event in first.items():
        assert event.to_ical() == second[uid].to_ical()


def test_one_event_per_weekly_shift_even_for_the_same_person(session, solo):
    found = events(parse(feeds.schedule_feed(session=session, schedule=solo, now=FIRST_FETCH)))
    starts = sorted(e.decoded("dtstart") for e in found.values())
    # Two weeks back to twelve ahead, widened to whole shifts: 15 Monday hand-offs.
    assert len(starts) == 15
    assert all(b - a == timedelta(days=7) for a, b in zip(starts, starts[1:]))  # local weeks
    for event in found.values():
        assert elapsed(event) in {timedelta(hours=167), timedelta(hours=168)}


def test_shift_boundaries_stay_at_ten_local_across_dst(session, solo):
    cal = parse(feeds.schedule_feed(session=session, schedule=solo, now=FIRST_FETCH))
    found = sorted(events(cal).values(), key=lambda e: e.decoded("dtstart"))
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    for event in found:
        assert event["dtstart"].params["TZID"] == "Europe/Berlin"
        start = event.decoded("dtstart")
        assert (start.weekday(), start.hour, start.minute) == (0, 10, 0)
    utc_hours = {e.decoded("dtstart").astimezone(UTC).date(): e.decoded("dtstart")
                 .astimezone(UTC).hour for e in found}
    assert utc_hours[date(2026, 3, 23)] == 9 and utc_hours[date(2026, 3, 30)] == 8
    spanning = next(e for e in found if e.decoded("dtstart").date() == date(2026, 3, 23))
    assert elapsed(spanning) == timedelta(hours=167)


def test_an_override_is_its_own_event_and_keeps_its_uid(session, solo, make_user):
    cover = make_user("oncall")
    starts = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    service.add_override(session=session, schedule=solo, layer="primary", user=cover,
                         starts_at=starts, ends_at=starts + timedelta(days=1), reason="",
                         actor=None)
    feeds_at = [events(parse(feeds.schedule_feed(session=session, schedule=solo, now=now)))
                for now in (FIRST_FETCH, SECOND_FETCH)]
    assert feeds_at[0].keys() == feeds_at[1].keys()
    uid = feeds.shift_uid(solo, "primary", starts)
    override = feeds_at[0][uid]
    assert cover.name in str(override["summary"])
    assert override.decoded("dtstart") == starts.astimezone(BERLIN)
    # The week around it is split in three: before, the override, after.
    assert feeds.shift_uid(solo, "primary", starts + timedelta(days=1)) in feeds_at[0]


def test_the_person_feed_has_only_their_shifts(session, make_user, make_schedule):
    ana, ben = make_user("oncall"), make_user("developer")
    make_schedule([ana, ben], slug="feed-pair", tz="America/New_York",
                             start=date(2026, 10, 5))
    cal = parse(feeds.person_feed(session=session, user=ben,
                                  now=datetime(2026, 10, 28, 12, 0, tzinfo=UTC)))
    found = cal.walk("VEVENT")
    assert found and all(ben.name in str(e["summary"]) for e in found)
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    # New York falls back on 2026-11-01: hand-offs stay at 10:00 local, 14:00 then 15:00 UTC.
    by_day = {e.decoded("dtstart").date(): e.decoded("dtstart") for e in found}
    assert by_day[date(2026, 10, 26)].hour == by_day[date(2026, 11, 9)].hour == 10
    assert by_day[date(2026, 10, 26)].astimezone(UTC).hour == 14
    assert by_day[date(2026, 11, 9)].astimezone(UTC).hour == 15
