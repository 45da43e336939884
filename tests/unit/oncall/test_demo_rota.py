"""The demo rota: several people take turns on each layer, the first primary is on call
when the demo loads, someone else is next, and nobody holds both layers at once."""
from datetime import UTC, datetime

import pytest

from portal.oncall import demo
from portal.oncall import rotation as r

UTC = UTC


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 7, 14, 59, tzinfo=UTC),  # Monday 09:59 in New York: last week's shift
    datetime(2026, 12, 7, 15, 0, tzinfo=UTC),   # Monday 10:00: the hand-off
    datetime(2026, 11, 1, 12, 0, tzinfo=UTC),   # the Sunday New York falls back
    datetime(2026, 6, 13, 3, 0, tzinfo=UTC),
])
def test_the_first_primary_is_on_call_and_someone_else_is_next(now):
    start = demo.rotation_start(now)
    assert start.weekday() == 0
    primary = r.Rotation(demo.TIMEZONE, 0, demo.HANDOFF, start, tuple(demo.PRIMARY))
    assert r.on_call_at(primary, [], now).who == demo.PRIMARY[0]
    assert r.next_on_call(primary, [], now).who == demo.PRIMARY[1]


def test_several_people_rotate_and_never_hold_both_layers():
    assert len(set(demo.PRIMARY)) >= 3 and len(demo.PRIMARY) == len(demo.SECONDARY)
    assert all(p != s for p, s in zip(demo.PRIMARY, demo.SECONDARY))
