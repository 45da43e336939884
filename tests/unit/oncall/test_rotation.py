"""Schedule math: weekly hand-offs at local wall-clock time across DST, overrides, gaps."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.oncall import rotation as r

UTC = UTC


def berlin(*people, start=date(2026, 3, 16)):
    return r.Rotation("Europe/Berlin", 0, time(10, 0), start, tuple(people))


def test_handoff_stays_at_ten_local_across_spring_forward():
    rot = berlin("ana", "ben")
    # Berlin moves from CET (+1) to CEST (+2) on Sunday 2026-03-29.
    assert r.handoff_at(rot, 1) == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    assert r.handoff_at(rot, 2) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    shifts = r.rotation_shifts(rot, r.handoff_at(rot, 1), r.handoff_at(rot, 3))
    assert [(s.who, s.ends_at - s.starts_at) for s in shifts] == [
        ("ben", timedelta(hours=167)), ("ana", timedelta(hours=168))]


def test_handoff_across_fall_back_in_new_york_is_169_hours():
    rot = r.Rotation("America/New_York", 0, time(10, 0), date(2026, 10, 26), ("a", "b"))
    # New York leaves EDT (-4) for EST (-5) on Sunday 2026-11-01.
    first, second = r.handoff_at(rot, 0), r.handoff_at(rot, 1)
    assert (first.hour, second.hour) == (14, 15)
    assert second - first == timedelta(hours=169)


def test_shift_number_switches_exactly_at_the_local_handoff():
    rot = berlin("ana", "ben", "cem")
    handoff = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert r.shift_number(rot, handoff - timedelta(seconds=1)) == 1
    assert r.shift_number(rot, handoff) == 2
    assert r.on_call_at(rot, [], handoff).who == "cem"
    assert r.on_call_at(rot, [], handoff - timedelta(seconds=1)).who == "ben"


def test_first_handoff_is_the_first_monday_on_or_after_the_start_date():
    rot = berlin("ana", start=date(2026, 3, 18))  # a Wednesday
    assert r.handoff_at(rot, 0) == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def test_before_the_rotation_starts_is_a_gap():
    rot = berlin("ana")
    before = datetime(2026, 3, 1, tzinfo=UTC)
    assert r.on_call_at(rot, [], before) is None
    pieces = r.timeline(rot, [], before, datetime(2026, 3, 20, tzinfo=UTC))
    assert pieces[0].who is None and pieces[0].source == "gap"
    assert pieces[0].ends_at == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    assert [g.source for g in r.gaps(pieces)] == ["gap"]


def test_empty_layer_is_all_gap():
    rot = berlin()
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 8, tzinfo=UTC)
    assert r.timeline(rot, [], start, end) == [r.Shift(None, start, end, "gap")]


def test_override_splits_a_shift_and_later_overrides_win():
    rot = berlin("ana", "ben")
    start = r.handoff_at(rot, 0)
    end = r.handoff_at(rot, 1)
    cover = r.Cover("zoe", start + timedelta(days=2), start + timedelta(days=3))
    later = r.Cover("yan", start + timedelta(days=2, hours=12), start + timedelta(days=4))
    pieces = r.timeline(rot, [cover, later], start, end)
    assert [(p.who, p.source, p.ends_at - p.starts_at) for p in pieces] == [
        ("ana", "rotation", timedelta(days=2)), ("zoe", "override", timedelta(hours=12)),
        ("yan", "override", timedelta(hours=36)), ("ana", "rotation", timedelta(days=3))]
    assert r.on_call_at(rot, [cover, later], start + timedelta(days=3)).who == "yan"


def test_override_filling_a_gap_makes_someone_on_call():
    rot = berlin()  # nobody in the layer
    at = datetime(2026, 4, 2, 12, tzinfo=UTC)
    cover = r.Cover("zoe", at - timedelta(hours=1), at + timedelta(hours=1))
    assert r.on_call_at(rot, [cover], at).who == "zoe"
    assert r.on_call_at(rot, [cover], at + timedelta(hours=2)) is None


def test_next_on_call_skips_the_current_person():
    rot = berlin("ana", "ben")
    now = r.handoff_at(rot, 0) + timedelta(days=1)
    nxt = r.next_on_call(rot, [], now)
    assert (nxt.who, nxt.starts_at) == ("ben", r.handoff_at(rot, 1))
    assert r.next_on_call(berlin("ana"), [], now) is None  # alone: nobody else comes next


@pytest.mark.parametrize("weeks", [1, 10, 52])
def test_participants_rotate_in_order(weeks):
    rot = berlin("ana", "ben", "cem")
    at = r.handoff_at(rot, weeks) + timedelta(hours=1)
    assert r.on_call_at(rot, [], at).who == ("ana", "ben", "cem")[weeks % 3]


def test_a_sole_participant_is_on_call_until_the_next_handoff():
    rot = berlin("ana")
    now = r.handoff_at(rot, 3) + timedelta(hours=5)
    shift = r.on_call_at(rot, [], now)
    assert (shift.who, shift.starts_at, shift.ends_at) == ("ana", r.handoff_at(rot, 3),
                                                           r.handoff_at(rot, 4))
