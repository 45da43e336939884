"""Schedule math, pure and database-free: weekly hand-offs at a local wall-clock time,
overrides laid on top, gaps where nobody is on call.

Hand-offs are computed in the schedule's time zone (zoneinfo) and then converted to UTC,
so a "Monday 10:00 Europe/Berlin" hand-off stays at 10:00 local across daylight-saving
changes; the shift that spans a change is an hour shorter or longer than 168 h.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Rotation:
    timezone: str
    handoff_weekday: int  # 0 = Monday
    handoff_time: time
    start: date  # the first hand-off is on the first handoff_weekday on or after this date
    participants: tuple[Any, ...]


@dataclass(frozen=True)
class Cover:
    """An override: `who` covers [starts_at, ends_at); later covers win over earlier ones."""
    who: Any
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Shift:
    who: Any  # None for a gap
    starts_at: datetime
    ends_at: datetime
    source: str  # 'rotation' | 'override' | 'gap'
    # Others on call together with `who` (layered rotations can put a group on call);
    # `who` is the one paged first.
    also: tuple[Any, ...] = ()

    @property
    def everyone(self) -> tuple[Any, ...]:
        """Everyone on call in this shift, `who` first; empty in a gap."""
        return () if self.who is None else (self.who, *self.also)


# Pages ask for the same few hand-offs of the same schedules over and over, and each costs
# a time-zone conversion; the instant depends on nothing but these fields.
@lru_cache(maxsize=16384)
def _handoff(timezone: str, weekday: int, at: time, start: date, n: int) -> datetime:
    days = (weekday - start.weekday()) % 7
    local = datetime.combine(start + timedelta(days=days), at) + n * WEEK
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def handoff_at(rot: Rotation, n: int) -> datetime:
    """The UTC instant of hand-off number `n` (0 = the first), at local wall-clock time."""
    return _handoff(rot.timezone, rot.handoff_weekday, rot.handoff_time, rot.start, n)


def shift_number(rot: Rotation, at: datetime) -> int | None:
    """Which weekly shift contains `at`, or None before the rotation starts."""
    first = handoff_at(rot, 0)
    if at < first:
        return None
    # Weeks of UTC time are off by at most the zone's daylight-saving shift, which the
    # walks below correct against the exact (local wall-clock) hand-offs.
    n = max(0, (at - first) // WEEK)
    while handoff_at(rot, n + 1) <= at:
        n += 1
    while n > 0 and handoff_at(rot, n) > at:
        n -= 1
    return n


def rotation_shifts(rot: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """The rotation's own shifts overlapping [start, end), clipped to it."""
    if not rot.participants or end <= start:
        return []
    n = shift_number(rot, start)
    n = 0 if n is None else n
    shifts = []
    people, count = rot.participants, len(rot.participants)
    begin = handoff_at(rot, n)
    while begin < end:
        # Each shift ends at the next one's hand-off: each instant is looked up once.
        finish = handoff_at(rot, n + 1)
        shifts.append(Shift(people[n % count], max(begin, start), min(finish, end), "rotation"))
        begin, n = finish, n + 1
    return shifts


def timeline(rot: Rotation, covers: Sequence[Cover], start: datetime,
             end: datetime) -> list[Shift]:
    """Who is on call over [start, end): rotation, overrides on top, and gaps, merged."""
    base = rotation_shifts(rot, start, end)
    if not covers:
        return _without_covers(base, start, end)
    return _merged(base, covers, start, end)


def _without_covers(base: list[Shift], start: datetime, end: datetime) -> list[Shift]:
    # Most timelines pages ask for have no override in their window: the rotation's shifts,
    # which follow one another without a hole from the first hand-off on, are then the
    # answer once runs of the same person are joined, after a gap before the first hand-off.
    # Same result as _merged, without looking up who is on call piece by piece.
    if end <= start:
        return []
    if not base:
        return [Shift(None, start, end, "gap")]
    found = [] if base[0].starts_at == start else [Shift(None, start, base[0].starts_at, "gap")]
    who, begin, finish = base[0].who, base[0].starts_at, base[0].ends_at
    for s in base[1:]:
        if s.who == who and s.starts_at == finish:
            finish = s.ends_at
        else:
            found.append(Shift(who, begin, finish, "rotation"))
            who, begin, finish = s.who, s.starts_at, s.ends_at
    found.append(Shift(who, begin, finish, "rotation"))
    return found


def _merged(base: list[Shift], covers: Sequence[Cover], start: datetime,
            end: datetime) -> list[Shift]:
    cuts = {start, end}
    for s in base:
        cuts |= {s.starts_at, s.ends_at}
    for c in covers:
        cuts |= {t for t in (c.starts_at, c.ends_at) if start < t < end}
    points = sorted(cuts)
    # Runs of the same person and source are merged before any Shift is made: pages ask
    # for many timelines, and most pieces join the run before them.
    runs: list[list[Any]] = []  # [who, source, starts_at, ends_at]
    for a, b in zip(points, points[1:]):
        who, source = _who_during(base, covers, a, b)
        last = runs[-1] if runs else None
        if last is not None and (last[0], last[1]) == (who, source) and last[3] == a:
            last[0], last[3] = who, b
        else:
            runs.append([who, source, a, b])
    return [Shift(who, a, b, source) for who, source, a, b in runs]


def handoffs_between(rot: Rotation, start: datetime, end: datetime) -> list[datetime]:
    """The hand-off instants strictly inside (start, end)."""
    n = shift_number(rot, start)
    n = 0 if n is None else n + 1
    found = []
    while (at := handoff_at(rot, n)) < end:
        if at > start:
            found.append(at)
        n += 1
    return found


def shift_pieces(rot: Rotation, covers: Sequence[Cover], start: datetime,
                 end: datetime) -> list[Shift]:
    """Like `timeline`, but cut at every hand-off: a person's consecutive shifts stay apart."""
    points = [start, *handoffs_between(rot, start, end), end]
    return [piece for a, b in zip(points, points[1:]) for piece in timeline(rot, covers, a, b)]


def _who_during(base: list[Shift], covers: Sequence[Cover], a: datetime,
                b: datetime) -> tuple[Any, str]:
    for c in reversed(covers):
        if c.starts_at <= a and b <= c.ends_at:
            return c.who, "override"
    for s in base:
        if s.starts_at <= a and b <= s.ends_at:
            return s.who, "rotation"
    return None, "gap"


def on_call_at(rot: Rotation, covers: Sequence[Cover], at: datetime) -> Shift | None:
    """The shift (with its full extent from the rotation) containing `at`, or None."""
    window_end = at + WEEK + timedelta(hours=1)
    if not covers:
        # Without overrides the first piece is the rotation's shift number n (or a gap):
        # the answer `timeline` would give, without building the week's pieces.
        n = shift_number(rot, at)
        if n is None or not rot.participants:
            return None
        return Shift(rot.participants[n % len(rot.participants)], handoff_at(rot, n),
                     min(handoff_at(rot, n + 1), window_end), "rotation")
    pieces = timeline(rot, covers, at, window_end)
    first = pieces[0] if pieces else None
    if first is None or first.who is None:
        return None
    n = shift_number(rot, at)
    if n is None or first.source != "rotation":
        return first
    # A rotation shift runs hand-off to hand-off, even when the same person is on again.
    return Shift(first.who, handoff_at(rot, n),
                 min(first.ends_at, handoff_at(rot, n + 1)), first.source)


def next_on_call(rot: Rotation, covers: Sequence[Cover], at: datetime) -> Shift | None:
    """The next shift after the one containing `at` that has someone else on call."""
    pieces = timeline(rot, covers, at, at + 5 * WEEK)
    current = pieces[0].who if pieces else None
    for piece in pieces[1:]:
        if piece.who is not None and piece.who != current:
            return piece
    return None


def gaps(shifts: Sequence[Shift]) -> list[Shift]:
    """The pieces of a timeline where nobody is on call."""
    return [s for s in shifts if s.who is None]
