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


def _first_handoff_local(rot: Rotation) -> datetime:
    days = (rot.handoff_weekday - rot.start.weekday()) % 7
    return datetime.combine(rot.start + timedelta(days=days), rot.handoff_time)


def handoff_at(rot: Rotation, n: int) -> datetime:
    """The UTC instant of hand-off number `n` (0 = the first), at local wall-clock time."""
    local = _first_handoff_local(rot) + n * WEEK
    return local.replace(tzinfo=ZoneInfo(rot.timezone)).astimezone(UTC)


def shift_number(rot: Rotation, at: datetime) -> int | None:
    """Which weekly shift contains `at`, or None before the rotation starts."""
    first = handoff_at(rot, 0)
    if at < first:
        return None
    local = at.astimezone(ZoneInfo(rot.timezone)).replace(tzinfo=None)
    n = max(0, (local - _first_handoff_local(rot)) // WEEK)
    while handoff_at(rot, n + 1) <= at:  # wall-clock estimate can be off by one near DST
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
    while (begin := handoff_at(rot, n)) < end:
        finish = handoff_at(rot, n + 1)
        who = rot.participants[n % len(rot.participants)]
        shifts.append(Shift(who, max(begin, start), min(finish, end), "rotation"))
        n += 1
    return shifts


def timeline(rot: Rotation, covers: Sequence[Cover], start: datetime,
             end: datetime) -> list[Shift]:
    """Who is on call over [start, end): rotation, overrides on top, and gaps, merged."""
    base = rotation_shifts(rot, start, end)
    cuts = {start, end}
    for s in base:
        cuts |= {s.starts_at, s.ends_at}
    for c in covers:
        cuts |= {t for t in (c.starts_at, c.ends_at) if start < t < end}
    points = sorted(cuts)
    merged: list[Shift] = []
    for a, b in zip(points, points[1:]):
        piece = _who_during(base, covers, a, b)
        if merged and (merged[-1].who, merged[-1].source) == (piece.who, piece.source) \
                and merged[-1].ends_at == a:
            merged[-1] = Shift(piece.who, merged[-1].starts_at, b, piece.source)
        else:
            merged.append(piece)
    return merged


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
                b: datetime) -> Shift:
    for c in reversed(covers):
        if c.starts_at <= a and b <= c.ends_at:
            return Shift(c.who, a, b, "override")
    for s in base:
        if s.starts_at <= a and b <= s.ends_at:
            return Shift(s.who, a, b, "rotation")
    return Shift(None, a, b, "gap")


def on_call_at(rot: Rotation, covers: Sequence[Cover], at: datetime) -> Shift | None:
    """The shift (with its full extent from the rotation) containing `at`, or None."""
    pieces = timeline(rot, covers, at, at + WEEK + timedelta(hours=1))
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
