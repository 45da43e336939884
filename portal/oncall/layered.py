"""Layered rotation math, pure and database-free: several recurring rotations stacked by
level, with overrides on top (the model of Grafana OnCall and Opsgenie schedules).

A rotation's shift n starts at `start` + n × (`interval` × `frequency`) on the wall clock of
the rotation's time zone, so a 09:00 hand-off stays at 09:00 across daylight-saving
changes; it lasts `duration` on that wall clock (None: until shift n+1 starts) and is held
by participants[n % len] — a participant is a tuple of people on call together. Shifts
starting after `until` do not exist. `windows` clip every shift to parts of the week.

Where rotations overlap, the highest level that has someone on call wins; rotations of that
level add up. An override beats every rotation; of overlapping overrides the newest wins,
together with overrides of exactly the same period (one multi-person override is stored as
one row per person).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule
from dateutil.relativedelta import relativedelta

from portal.oncall.importing.plan import Window
from portal.oncall.rotation import Cover, Shift

STEPS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
MAX_BACKTRACK = 10_000  # shifts longer than their step overlap; never walk back further


@dataclass(frozen=True)
class Layer:
    """One rotation: see the module docstring for the semantics."""
    level: int
    time_zone: str
    start: datetime  # aware
    frequency: str  # hourly | daily | weekly | monthly
    interval: int
    participants: tuple[tuple[Any, ...], ...]
    duration: timedelta | None = None
    until: datetime | None = None
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Piece:
    starts_at: datetime
    ends_at: datetime
    level: int
    who: tuple[Any, ...]


@lru_cache(maxsize=4096)
def _base(start: datetime, zone: str) -> datetime:
    return start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _local_start(rot: Layer, n: int) -> datetime:
    base = _base(rot.start, rot.time_zone)
    if rot.frequency == "monthly":
        return base + relativedelta(months=rot.interval * n)
    return base + STEPS[rot.frequency] * (rot.interval * n)


def _utc(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def shift_start(rot: Layer, n: int) -> datetime:
    """The UTC start of shift `n` (0 = the first)."""
    return _utc(_local_start(rot, n), rot.time_zone)


def shift_end(rot: Layer, n: int) -> datetime:
    """The UTC end of shift `n`: its wall-clock duration, or the next shift's start."""
    if rot.duration is None:
        return shift_start(rot, n + 1)
    return _utc(_local_start(rot, n) + rot.duration, rot.time_zone)


def _exists(rot: Layer, n: int) -> bool:
    return n >= 0 and (rot.until is None or shift_start(rot, n) <= rot.until)


def index_at(rot: Layer, at: datetime) -> int | None:
    """The last shift number starting at or before `at`, or None before the first."""
    if at < shift_start(rot, 0):
        return None
    zone = ZoneInfo(rot.time_zone)
    local, base = at.astimezone(zone).replace(tzinfo=None), _local_start(rot, 0)
    if rot.frequency == "monthly":
        months = (local.year - base.year) * 12 + local.month - base.month
        n = max(0, months // rot.interval)
    else:
        n = max(0, (local - base) // (STEPS[rot.frequency] * rot.interval))
    while shift_start(rot, n + 1) <= at:  # the wall-clock estimate is off near DST changes
        n += 1
    while n > 0 and shift_start(rot, n) > at:
        n -= 1
    return n


def _window_spans(rot: Layer, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The rotation's windows as UTC spans overlapping [start, end), in order."""
    zone = ZoneInfo(rot.time_zone)
    # From the day before `start`: a window running past midnight reaches into it.
    first = datetime.combine(start.astimezone(zone).date() - timedelta(days=1), time())
    last = datetime.combine(end.astimezone(zone).date(), time())
    spans = []
    for w in rot.windows:
        if not w.weekdays:  # an empty byweekday would mean every day to rrule
            continue
        for midnight in rrule.rrule(rrule.DAILY, byweekday=w.weekdays, dtstart=first,
                                    until=last):
            day = midnight.date()
            ends_on = day + timedelta(days=1) if w.end <= w.start else day
            a = _utc(datetime.combine(day, w.start), rot.time_zone)
            b = _utc(datetime.combine(ends_on, w.end), rot.time_zone)
            if a < end and b > start and a < b:
                spans.append((max(a, start), min(b, end)))
    return sorted(spans)


def pieces(rot: Layer, start: datetime, end: datetime) -> list[Piece]:
    """The rotation's shifts overlapping [start, end), clipped to it and to its windows."""
    if not rot.participants or end <= start:
        return []
    n = index_at(rot, start)
    if n is None:
        n = 0
    else:
        for _ in range(MAX_BACKTRACK):  # an earlier, longer shift may still be running
            if n == 0 or shift_end(rot, n - 1) <= start:
                break
            n -= 1
    found = []
    while _exists(rot, n) and (begin := shift_start(rot, n)) < end:
        finish = shift_end(rot, n)
        if finish > start and finish > begin:
            found.append(Piece(max(begin, start), min(finish, end), rot.level,
                               rot.participants[n % len(rot.participants)]))
        n += 1
    if not rot.windows:
        return found
    spans = _window_spans(rot, start, end)
    return [Piece(max(p.starts_at, a), min(p.ends_at, b), p.level, p.who)
            for p in found for a, b in spans if a < p.ends_at and b > p.starts_at]


def _dedupe(people: list[Any]) -> tuple[Any, ...]:
    seen, out = set(), []
    for person in people:
        key = getattr(person, "id", person)
        if key not in seen:
            seen.add(key)
            out.append(person)
    return tuple(out)


def _override_at(covers: Sequence[Cover], a: datetime, b: datetime) -> tuple[Any, ...]:
    for cover in reversed(covers):  # newest wins, with its same-period partners
        if cover.starts_at <= a and b <= cover.ends_at:
            return _dedupe([c.who for c in covers if (c.starts_at, c.ends_at)
                            == (cover.starts_at, cover.ends_at)])
    return ()


def _rotation_at(found: list[Piece], a: datetime, b: datetime) -> tuple[Any, ...]:
    active = [p for p in found if p.starts_at <= a and b <= p.ends_at]
    if not active:
        return ()
    top = max(p.level for p in active)
    return _dedupe([who for p in active if p.level == top for who in p.who])


def timeline(rotations: Sequence[Layer], covers: Sequence[Cover], start: datetime,
             end: datetime) -> list[Shift]:
    """Who is on call over [start, end): rotations by level, overrides on top, and gaps."""
    if end <= start:
        return []
    found = [p for rot in rotations for p in pieces(rot, start, end)]
    cuts = {start, end}
    for p in found:
        cuts |= {p.starts_at, p.ends_at}
    for c in covers:
        cuts |= {t for t in (c.starts_at, c.ends_at) if start < t < end}
    points = sorted(cuts)
    merged: list[Shift] = []
    for a, b in zip(points, points[1:]):
        people, source = _override_at(covers, a, b), "override"
        if not people:
            people, source = _rotation_at(found, a, b), "rotation"
        if not people:
            source = "gap"
        who, also = (people[0], people[1:]) if people else (None, ())
        last = merged[-1] if merged else None
        if last is not None and last.ends_at == a and (last.everyone, last.source) == (
                people, source):
            merged[-1] = Shift(who, last.starts_at, b, source, also)
        else:
            merged.append(Shift(who, a, b, source, also))
    return merged


def rotation_pieces(rotations: Sequence[Layer], start: datetime,
                    end: datetime) -> list[Shift]:
    """The rotations' own shifts (no overrides, no levels), for a calendar's rotation row."""
    return sorted((Shift(p.who[0], p.starts_at, p.ends_at, "rotation", p.who[1:])
                   for rot in rotations for p in pieces(rot, start, end) if p.who),
                  key=lambda s: s.starts_at)


def on_call_at(rotations: Sequence[Layer], covers: Sequence[Cover], at: datetime,
               horizon: timedelta = timedelta(days=35)) -> Shift | None:
    """The shift containing `at` (from its start to its end, within `horizon` either
    side), or None in a gap."""
    reach = min(timedelta(days=2), horizon)
    while True:  # most shifts end within days: look near first, wider only when cut off
        found = [s for s in timeline(rotations, covers, at - reach, at + reach)
                 if s.starts_at <= at < s.ends_at]
        shift = found[0] if found else None
        if shift is None or reach >= horizon or (
                at - reach < shift.starts_at and shift.ends_at < at + reach):
            return shift if shift is not None and shift.who is not None else None
        reach = min(reach * 4, horizon)


def next_on_call(rotations: Sequence[Layer], covers: Sequence[Cover], at: datetime,
                 horizon: timedelta = timedelta(days=35)) -> Shift | None:
    """The next shift after the one containing `at` with someone else on call."""
    found = timeline(rotations, covers, at, at + horizon)
    current = found[0].everyone if found else ()
    for piece in found[1:]:
        if piece.who is not None and piece.everyone != current:
            return piece
    return None
