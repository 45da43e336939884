"""A Grafana OnCall on-call shift (as its HTTP API and its Terraform provider describe it)
in the portal's terms: a `PlanRotation`, a `PlanOverride`, or `Unmapped` with the reason.

Grafana OnCall shifts are iCalendar recurrences: `start` (local time in `time_zone`, or in
the schedule's zone when the shift has none), `frequency` × `interval`, optionally limited
to `by_day` (with `week_start`), each occurrence lasting `duration` seconds, none after
`until`. How each type maps:

- single_event: one shift (a rotation whose `until` is its own start);
- recurrent_event: every occurrence puts all `users` on call together;
- rolling_users: occurrence k of period k (k counts frequency × interval periods from the
  start, whole weeks from `week_start` for weekly shifts) is held by group
  rolling_users[(k + start_rotation_from_user_index) % len];
- override: a period in which its users replace everyone else.

`by_day` becomes a weekly window from the start's time of day for `duration`; weekly shifts
limited to days are anchored on the first day of the start's week. Grafana OnCall applies
`start` as a lower bound to days of that first week that precede it; the portal starts the
rotation with the week, so only days before the import's own start can differ. What the
portal cannot express (monthly shifts limited to days, `by_month`, `by_monthday`, days
limiting shifts longer than a day, monthly shifts on the 29th-31st) is reported unmapped.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal.oncall.importing.plan import (
    PlanOverride,
    PlanRotation,
    Unmapped,
    Window,
    known_zone,
)

DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
MAX_DURATION = timedelta(days=366)


class ShiftError(ValueError):
    """The shift cannot be mapped; the message says why."""


def local_time(value: Any, zone: str) -> datetime:
    """A Grafana OnCall time (naive: local in `zone`; or with an offset) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise ShiftError("it has no start time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ShiftError(f"its time {value[:40]!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _zone(shift: dict, schedule_zone: str) -> str:
    zone = shift.get("time_zone") or schedule_zone or "UTC"
    if not known_zone(zone):
        raise ShiftError(f"its time zone {str(zone)[:64]!r} is unknown")
    return zone


def _duration(shift: dict) -> timedelta:
    seconds = shift.get("duration")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise ShiftError("it has no positive duration")
    if seconds > MAX_DURATION.total_seconds():
        raise ShiftError("it lasts longer than a year")
    return timedelta(seconds=int(seconds))


def _ids(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple):
        return ()
    return tuple(str(v) for v in values if isinstance(v, str | int) and str(v))


def _groups(shift: dict) -> tuple[tuple[str, ...], ...]:
    if shift.get("type") == "rolling_users":
        raw = shift.get("rolling_users") or []
        groups = tuple(g for g in (_ids(group) for group in raw if isinstance(group, list)) if g)
        index = shift.get("start_rotation_from_user_index") or 0
        if groups and isinstance(index, int) and index > 0:
            index %= len(groups)
            groups = groups[index:] + groups[:index]
        return groups
    users = _ids(shift.get("users"))
    return (users,) if users else ()


def _wall_end(start: datetime, length: timedelta, zone: str) -> datetime:
    local = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) + length
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _window(days: tuple[int, ...], begin: time, length: timedelta) -> Window:
    end = (datetime.combine(datetime.min.date(), begin) + length).time()
    return Window(days, begin, end)


def _limited(shift: dict, zone: str, start: datetime, frequency: str, interval: int,
             length: timedelta) -> tuple[datetime, timedelta | None, tuple[Window, ...]]:
    """Start, shift length and windows of a shift limited to `by_day`."""
    raw = shift.get("by_day") or []
    days = tuple(sorted({DAYS[d] for d in raw if d in DAYS}))
    if not days or len(days) != len(set(raw)):
        raise ShiftError("its by_day has unknown days")
    if frequency == "monthly":
        raise ShiftError("monthly shifts limited to days are not supported")
    if length > timedelta(days=1):
        raise ShiftError("days limit a shift longer than a day")
    local = start.astimezone(ZoneInfo(zone))
    if frequency == "hourly":
        return start, length, (Window(days, time(0), time(0)),)
    windows = (_window(days, local.time().replace(tzinfo=None), length),)
    if frequency == "daily":
        return start, length, windows
    week_start = DAYS.get(shift.get("week_start") or "MO")
    if week_start is None:
        raise ShiftError("its week_start is not a day")
    anchor = local.replace(tzinfo=None) - timedelta(days=(local.weekday() - week_start) % 7)
    anchored = anchor.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return anchored, None if interval == 1 else timedelta(weeks=1), windows


def map_shift(shift: dict, *, schedule_zone: str) -> PlanRotation | PlanOverride:
    """The portal's form of one shift; raises ShiftError with the reason it has none."""
    kind = shift.get("type")
    zone = _zone(shift, schedule_zone)
    start, length = local_time(shift.get("start"), zone), _duration(shift)
    if kind == "override":
        people = _ids(shift.get("users")) or tuple(u for g in _groups(
            {**shift, "type": "rolling_users"}) for u in g)
        if not people:
            raise ShiftError("the override names nobody")
        return PlanOverride(people, start, _wall_end(start, length, zone))
    if kind not in ("single_event", "recurrent_event", "rolling_users"):
        raise ShiftError(f"its type {str(kind)[:40]!r} is unknown")
    groups = _groups(shift)
    if not groups:
        raise ShiftError("it names nobody")
    level = shift.get("level") or 0
    if not isinstance(level, int) or isinstance(level, bool):
        raise ShiftError("its level is not a number")
    name = str(shift.get("name") or shift.get("id") or "shift")[:200]
    if kind == "single_event":
        return PlanRotation(name, level, zone, start, "daily", 1, groups, duration=length,
                            until=start)
    if shift.get("by_month") or shift.get("by_monthday"):
        raise ShiftError("by_month and by_monthday are not supported")
    frequency, interval = shift.get("frequency"), shift.get("interval") or 1
    if frequency not in FREQUENCIES:
        raise ShiftError("it recurs without a known frequency")
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= 1000:
        raise ShiftError("its interval is not a positive number")
    if frequency == "monthly" and start.astimezone(ZoneInfo(zone)).day > 28:
        raise ShiftError("monthly shifts starting after the 28th are not supported")
    until = shift.get("until")
    until = local_time(until, zone) if until else None
    duration: timedelta | None = length
    windows: tuple[Window, ...] = ()
    if shift.get("by_day"):
        start, duration, windows = _limited(shift, zone, start, frequency, interval, length)
    return PlanRotation(name, level, zone, start, frequency, interval, groups,
                        duration=duration, until=until, windows=windows)


def shift_or_unmapped(shift: dict, *, schedule_zone: str
                      ) -> PlanRotation | PlanOverride | Unmapped:
    """`map_shift`, with a refusal turned into an `Unmapped` entry for the dry run."""
    try:
        return map_shift(shift, schedule_zone=schedule_zone)
    except ShiftError as exc:
        return Unmapped("on_call_shift", str(shift.get("id", "")), str(shift.get("name", "")),
                        f"Not imported: {exc}.")
