"""Opsgenie rotations in the portal's terms (see `opsgenie_schedules` for the whole picture).

A rotation's shift n starts at `startDate` + n × `length` hours/days/weeks on the wall clock
of the schedule's time zone and is held by `participants[n % len]`; that is what a
`PlanRotation` says. Two things of Opsgenie need a rewrite, because a stored rotation cannot
hold an empty slot and a plan's `until` only stops new shifts from starting:
- a `none` participant (nobody on call in that slot): the rotation becomes one rotation per
  filled slot, each repeating every len × length and lasting one length;
- `endDate` cuts the running shift short in Opsgenie: the rotation stops after the shift
  before, and that last shift becomes a one-shift rotation ending at `endDate`.
Both keep every hand-off where Opsgenie has it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.oncall.importing.plan import Frequency, PlanRotation, PlanTeam, Unmapped, Window

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STEPS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
DAY_MIN, WEEK_MIN = 24 * 60, 7 * 24 * 60
LEVEL = 1  # every rotation of a schedule: Opsgenie's rotations add up, none outranks another


class BadSource(ValueError):
    """A value in Opsgenie's answer that cannot be read; the message says which."""


def parse_time(value: object) -> datetime:
    """An Opsgenie date-time ("2017-02-06T05:00:00Z", offsets, fractions) as aware UTC."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadSource(f"{value!r} is not a date-time") from exc
    if parsed.tzinfo is None:
        raise BadSource(f"{value!r} has no time zone")
    return parsed


def zone_name(value: object) -> str | None:
    """The IANA zone name if the machine knows it."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return str(value)


def _minute(hour: Any, minute: Any) -> int:
    h, m = int(hour or 0), int(minute or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > DAY_MIN:
        raise BadSource(f"{h:02}:{m:02} is not a time of day")
    return h * 60 + m


def _clock(minutes: int) -> time:
    minutes %= DAY_MIN
    return time(minutes // 60, minutes % 60)


def _span_windows(start: int, end: int) -> list[tuple[int, time, time]]:
    """Week minutes [start, end) (end may pass the week's end) as (weekday, from, to)."""
    if end - start <= DAY_MIN:  # one window, possibly past midnight
        return [(start // DAY_MIN % 7, _clock(start), _clock(end))]
    out, cursor = [], start
    while cursor < end:
        seg_end = min(end, (cursor // DAY_MIN + 1) * DAY_MIN)
        out.append((cursor // DAY_MIN % 7, _clock(cursor), _clock(seg_end)))
        cursor = seg_end
    return out


def windows(restriction: Mapping | None) -> tuple[Window, ...]:
    """Opsgenie's `timeRestriction` as windows; () when the rotation is not restricted."""
    if not restriction:
        return ()
    kind = restriction.get("type")
    if kind == "time-of-day":
        r = restriction.get("restriction") or {}
        start = _minute(r.get("startHour"), r.get("startMin"))
        end = _minute(r.get("endHour"), r.get("endMin"))
        return (Window(tuple(range(7)), _clock(start), _clock(end)),)
    if kind != "weekday-and-time-of-day":
        raise BadSource(f"time restriction type {kind!r} is unknown")
    pieces: list[tuple[int, time, time]] = []
    for r in restriction.get("restrictions") or ():
        try:
            start = DAYS.index(str(r.get("startDay")).lower()) * DAY_MIN + \
                _minute(r.get("startHour"), r.get("startMin"))
            end = DAYS.index(str(r.get("endDay")).lower()) * DAY_MIN + \
                _minute(r.get("endHour"), r.get("endMin"))
        except ValueError as exc:
            raise BadSource(f"restriction {r!r} names an unknown day") from exc
        if end <= start:  # e.g. friday 18:00 → monday 08:00 wraps over the week's end
            end += WEEK_MIN
        pieces += _span_windows(start, end)
    by_hours: dict[tuple[time, time], list[int]] = {}
    for day, start_t, end_t in pieces:
        by_hours.setdefault((start_t, end_t), []).append(day)
    return tuple(Window(tuple(sorted(set(days))), s, e) for (s, e), days in by_hours.items())


def _participant(raw: Mapping, teams: Mapping[str, PlanTeam], where: str,
                 notes: list[Unmapped]) -> tuple[str, ...]:
    kind, pid = raw.get("type"), str(raw.get("id") or "")
    label = raw.get("name") or raw.get("username") or pid
    if kind == "user" and pid:
        return (pid,)
    if kind == "none":
        return ()
    if kind == "team" and pid in teams:
        team = teams[pid]
        notes.append(Unmapped("rotation participant", pid, f"{where}: team {team.name}",
                              f"Opsgenie gives this slot to team {team.name}; the portal puts "
                              f"its {len(team.member_ids)} members on call together."))
        return team.member_ids
    notes.append(Unmapped("rotation participant", pid, f"{where}: {kind} {label}",
                          f"A {kind or 'unknown'} participant cannot hold a rotation slot in "
                          f"the portal; nobody is on call in that slot until it is replaced."))
    return ()


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _utc(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def without_gaps(rot: PlanRotation) -> list[PlanRotation]:
    """The rotation as rotations without empty slots: slot j of k repeats every k shifts."""
    count = len(rot.participants)
    if all(rot.participants):
        return [rot]
    step, base = STEPS[rot.frequency] * rot.interval, _local(rot.start, rot.time_zone)
    return [replace(rot, name=f"{rot.name} (slot {j + 1} of {count})",
                    start=_utc(base + j * step, rot.time_zone), interval=rot.interval * count,
                    participants=(who,), duration=step)
            for j, who in enumerate(rot.participants) if who]


def ended(rot: PlanRotation, end: datetime) -> list[PlanRotation]:
    """The rotation stopping at `end` (Opsgenie's `endDate`), the shift running then cut."""
    step, base = STEPS[rot.frequency] * rot.interval, _local(rot.start, rot.time_zone)
    last = max(0, (_local(end, rot.time_zone) - base) // step)

    def start(n: int) -> datetime:
        return _utc(base + n * step, rot.time_zone)

    while last > 0 and start(last) >= end:  # the wall-clock estimate is off near DST
        last -= 1
    while start(last + 1) < end:
        last += 1
    if start(last) >= end:
        return []  # it ends before its first shift
    length = rot.duration or step
    if _utc(base + last * step + length, rot.time_zone) <= end:
        return [replace(rot, until=start(last))]
    kept = [replace(rot, until=start(last - 1))] if last > 0 else []
    cut = replace(rot, name=f"{rot.name} (last shift)", start=start(last),
                  participants=(rot.participants[last % len(rot.participants)],),
                  duration=_local(end, rot.time_zone) - (base + last * step), until=start(last))
    return [*kept, cut]


def rotations(raw: Mapping, *, number: int, time_zone: str, schedule_name: str,
              teams: Mapping[str, PlanTeam], notes: list[Unmapped]) -> list[PlanRotation]:
    """The `number`th Opsgenie rotation of a schedule as plan rotations (usually one; none,
    with a note, when it cannot be read)."""
    name = str(raw.get("name") or f"Rotation {number}")
    where = f"{schedule_name} / {name}"
    try:
        frequency = str(raw.get("type"))
        if frequency not in STEPS:
            raise BadSource(f"rotation type {frequency!r} is unknown")
        length = int(raw.get("length") or 1)
        if length < 1:
            raise BadSource(f"length {length} is not positive")
        start = parse_time(raw.get("startDate"))
        until = parse_time(raw["endDate"]) if raw.get("endDate") else None
        wins = windows(raw.get("timeRestriction"))
    except (BadSource, TypeError, ValueError) as exc:
        notes.append(Unmapped("rotation", str(raw.get("id") or ""), where,
                              f"Not imported: {exc}."))
        return []
    participants = tuple(_participant(p, teams, where, notes)
                         for p in raw.get("participants") or () if isinstance(p, Mapping))
    if not any(participants):
        notes.append(Unmapped("rotation", str(raw.get("id") or ""), where,
                              "Not imported: nobody is ever on call in this rotation."))
        return []
    whole = PlanRotation(name=name, level=LEVEL, time_zone=time_zone, start=start,
                         frequency=cast(Frequency, frequency),  # one of STEPS, checked above
                         interval=length, participants=participants,
                         windows=wins)
    parts = without_gaps(whole)
    return parts if until is None else [cut for part in parts for cut in ended(part, until)]
