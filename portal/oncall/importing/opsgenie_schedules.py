"""Opsgenie schedules in the portal's terms: rotations, time restrictions and overrides.

What Opsgenie means, and how it lands here:
- A rotation's shift n starts at `startDate` + n × `length` hours/days/weeks and is held by
  `participants[n % len]`; the portal's `PlanRotation` says the same (frequency, interval),
  recurring on the schedule time zone's wall clock, so a 08:00 hand-off stays at 08:00
  across daylight-saving changes. `endDate` ends the rotation, cutting the shift running
  then (see `opsgenie_rotations` for how empty slots and that cut are expressed).
- A `timeRestriction` clips every shift to parts of the day (`time-of-day`) or of the week
  (`weekday-and-time-of-day`); these become `Window`s. A span longer than a day is cut at
  midnights, since a `Window` covers at most one day-crossing.
- Participants: `user` is that user; `none` is a deliberate hole (nobody on call in that
  slot, kept as one); `team` becomes all the team's members on call together (Opsgenie hands the slot to
  the team, the portal cannot, so it is reported); `escalation` cannot be a rotation slot
  here, so the slot becomes a hole and is reported.
- Opsgenie has no precedence between rotations: when two are active at once, everyone on
  call in either is notified ("cumulative"). Rotations of one level add up in the portal
  too, so all rotations of a schedule get the same `LEVEL`; the list order is kept.
- Overrides win over every rotation in both tools. An Opsgenie override limited to some of
  the rotations is imported for the whole schedule, and reported.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from portal.oncall.importing.opsgenie_rotations import (
    BadSource,
    parse_time,
    rotations,
    zone_name,
)
from portal.oncall.importing.plan import PlanOverride, PlanSchedule, PlanTeam, Unmapped


def override(raw: Mapping, *, schedule_name: str, rotation_ids: set[str],
             teams: Mapping[str, PlanTeam], notes: list[Unmapped]) -> PlanOverride | None:
    """One Opsgenie override, or None (with a note) when it cannot be imported."""
    alias = str(raw.get("alias") or "")
    user = found if isinstance(found := raw.get("user"), Mapping) else {}
    who = user.get("username") or user.get("name") or user.get("id") or "?"
    where = f"{schedule_name}: override by {who}"
    try:
        starts_at, ends_at = parse_time(raw.get("startDate")), parse_time(raw.get("endDate"))
    except BadSource as exc:
        notes.append(Unmapped("override", alias, where, f"Not imported: {exc}."))
        return None
    if ends_at <= starts_at:
        notes.append(Unmapped("override", alias, where, "Not imported: it ends before it starts."))
        return None
    if user.get("type") == "user" and user.get("id"):
        user_ids: tuple[str, ...] = (str(user["id"]),)
    elif user.get("type") == "team" and str(user.get("id")) in teams:
        user_ids = teams[str(user["id"])].member_ids
    else:
        notes.append(Unmapped("override", alias, where,
                              f"Not imported: an override by a {user.get('type')} cannot be "
                              f"expressed; only people can cover a schedule in the portal."))
        return None
    limited = {str(r.get("id")) for r in raw.get("rotations") or () if isinstance(r, Mapping)}
    if limited and len(rotation_ids) > 1 and not rotation_ids <= limited:
        notes.append(Unmapped("override", alias, where,
                              "Opsgenie applies this override to some rotations only; the "
                              "portal applies it to the whole schedule."))
    return PlanOverride(user_ids=user_ids, starts_at=starts_at, ends_at=ends_at)


def schedule(raw: Mapping, overrides: Sequence[Mapping], *, teams: Mapping[str, PlanTeam],
             now: datetime, notes: list[Unmapped]) -> PlanSchedule | None:
    """One Opsgenie schedule (fetched with `expand=rotation`) with its overrides."""
    sid, name = str(raw.get("id") or ""), str(raw.get("name") or raw.get("id") or "schedule")
    if raw.get("enabled") is False:
        notes.append(Unmapped("schedule", sid, name,
                              "Not imported: the schedule is disabled in Opsgenie."))
        return None
    tz = zone_name(raw.get("timezone") or "UTC")
    if tz is None:
        notes.append(Unmapped("schedule", sid, name,
                              f"Not imported: time zone {raw.get('timezone')!r} is unknown."))
        return None
    planned = [r for number, item in enumerate(raw.get("rotations") or (), start=1)
               if isinstance(item, Mapping)
               for r in rotations(item, number=number, time_zone=tz, schedule_name=name,
                                  teams=teams, notes=notes)]
    rotation_ids = {str(r.get("id")) for r in raw.get("rotations") or ()
                    if isinstance(r, Mapping)}
    covers = [o for item in overrides if isinstance(item, Mapping)
              and (o := override(item, schedule_name=name, rotation_ids=rotation_ids,
                                 teams=teams, notes=notes)) is not None
              and o.ends_at > now]  # a cover that is over changes nothing
    owner = found if isinstance(found := raw.get("ownerTeam"), Mapping) else {}
    return PlanSchedule(external_id=sid, name=name, time_zone=tz,
                        team_id=str(owner["id"]) if owner.get("id") else None,
                        rotations=tuple(planned), overrides=tuple(covers))
