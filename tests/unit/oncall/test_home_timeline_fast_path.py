"""The home asks for dozens of timelines per view, most with no override in their window;
those take a shorter path, which must give exactly what the general merge gives."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from portal.oncall import rotation


def _rotation(rng: random.Random) -> rotation.Rotation:
    people = ("ann", "bob", "cy")[:rng.randint(0, 3)]
    if people and rng.random() < 0.3:
        people = people + people[:1]          # the same person twice in a row around the loop
    return rotation.Rotation(rng.choice(["UTC", "Europe/Berlin", "America/New_York"]),
                             rng.randint(0, 6), time(rng.randint(0, 23), rng.choice([0, 30])),
                             date(2026, 1, 1) + timedelta(days=rng.randint(0, 300)),
                             tuple(people))


def test_without_overrides_the_short_path_matches_the_general_merge():
    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        rot = _rotation(rng)
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 400))
        end = start + timedelta(minutes=rng.randint(0, 60 * 24 * 50))
        base = rotation.rotation_shifts(rot, start, end)
        expected = rotation._merged(base, [], start, end)
        assert rotation.timeline(rot, [], start, end) == expected, (rot, start, end)
        checked += bool(expected)
    assert checked > 2000


def test_an_override_still_shows():
    rot = rotation.Rotation("UTC", 0, time(9), date(2026, 1, 5), ("ann", "bob"))
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    cover = rotation.Cover("cy", start + timedelta(hours=1), start + timedelta(hours=3))
    pieces = rotation.timeline(rot, [cover], start, start + timedelta(days=1))
    assert [(p.who, p.source) for p in pieces] == [
        ("ann" if pieces[0].who == "ann" else "bob", "rotation"), ("cy", "override"),
        (pieces[0].who, "rotation")]
    assert rotation.timeline(rot, [], start, start + timedelta(days=1)) == [
        rotation.Shift(pieces[0].who, start, start + timedelta(days=1), "rotation")]


def _on_call_at_from_the_timeline(rot, at):
    # on_call_at as the week's timeline gives it (the general path).
    pieces = rotation._merged(rotation.rotation_shifts(rot, at, at + rotation.WEEK
                                                       + timedelta(hours=1)),
                              [], at, at + rotation.WEEK + timedelta(hours=1))
    first = pieces[0] if pieces else None
    if first is None or first.who is None:
        return None
    n = rotation.shift_number(rot, at)
    return rotation.Shift(first.who, rotation.handoff_at(rot, n),
                          min(first.ends_at, rotation.handoff_at(rot, n + 1)), first.source)


def test_who_is_on_call_without_overrides_matches_the_timeline():
    rng = random.Random(11)
    someone = 0
    for _ in range(3000):
        rot = _rotation(rng)
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 400))
        expected = _on_call_at_from_the_timeline(rot, at)
        assert rotation.on_call_at(rot, [], at) == expected, (rot, at)
        someone += expected is not None
    assert someone > 1000
