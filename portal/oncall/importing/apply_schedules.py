"""Write one planned schedule: the schedule row, its layered rotations and its overrides.

Rotations are compared as a whole: when the stored ones already say what the plan says
nothing is touched, otherwise they are replaced (they have no identity a person relies on;
overrides do, so those are matched one by one and only imported ones are ever removed).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog.models import Team
from portal.db import utcnow
from portal.oncall.importing import mappings
from portal.oncall.importing.apply_result import ApplyResult
from portal.oncall.importing.plan import PlanRotation, PlanSchedule, known_zone
from portal.oncall.models import Override, Schedule
from portal.oncall.rotation_models import LayeredRotation, RotationMember

SOURCE_NAMES = {"grafana-oncall": "Grafana OnCall", "opsgenie": "Opsgenie"}


def slug_of(name: str, limit: int = 63) -> str:
    """A lower-case slug of letters, digits and hyphens (never empty)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:limit].strip("-")
    return slug or "imported"



def _unique_slug(session: Session, name: str) -> str:
    base = slug_of(name, 55)
    taken = set(session.scalars(select(Schedule.slug).where(Schedule.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _schedule_row(session: Session, source: str, planned: PlanSchedule, team: Team | None,
                  result: ApplyResult) -> Schedule:
    known = mappings.find(session=session, source=source, kind="schedule",
                          external_id=planned.external_id)
    schedule = session.get(Schedule, known) if known is not None else None
    if schedule is None:
        # A team has at most one schedule: a second one stays unattached.
        free = team is not None and session.scalar(
            select(Schedule.id).where(Schedule.team_id == team.id)) is None
        if team is not None and not free:
            result.notes.append(f"Schedule {planned.name!r}: team {team.name} already has a "
                                "schedule, so this one is not attached to it.")
        schedule = Schedule(slug=_unique_slug(session, planned.name), name=planned.name[:120],
                            timezone=planned.time_zone, handoff_weekday=0,
                            handoff_time=time(10, 0), rotation_start=utcnow().date(),
                            team_id=team.id if free and team is not None else None)
        session.add(schedule)
        session.flush()
        result.count("schedules", "created")
    elif (schedule.name, schedule.timezone) != (planned.name[:120], planned.time_zone):
        schedule.name, schedule.timezone = planned.name[:120], planned.time_zone
        result.count("schedules", "updated")
    else:
        result.count("schedules", "unchanged")
    mappings.remember(session=session, source=source, kind="schedule",
                      external_id=planned.external_id, local_id=schedule.id)
    return schedule


def _iso(moment) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _desired(planned: PlanSchedule, users: dict[str, User],
             result: ApplyResult) -> list[dict]:
    wanted = []
    for rot in planned.rotations:
        groups = [[users[i].id for i in group if i in users] for group in rot.participants]
        groups = [g for g in groups if g]
        if not groups or not known_zone(rot.time_zone):
            result.notes.append(f"Rotation {rot.name!r} of {planned.name!r} has "
                                f"{'no known people' if not groups else 'an unknown time zone'}"
                                "; skipped.")
            continue
        wanted.append(_canonical(rot, groups))
    return wanted


def _canonical(rot: PlanRotation, groups: list[list[int]]) -> dict:
    return {"name": rot.name[:200], "level": rot.level, "time_zone": rot.time_zone,
            "starts_at": _iso(rot.start), "frequency": rot.frequency,
            "interval": rot.interval,
            "duration_seconds": None if rot.duration is None
            else int(rot.duration.total_seconds()),
            "until": _iso(rot.until),
            "windows": [{"weekdays": list(w.weekdays), "start": w.start.isoformat("minutes"),
                         "end": w.end.isoformat("minutes")} for w in rot.windows],
            "groups": groups}


def _stored(row: LayeredRotation) -> dict:
    groups: dict[int, list[int]] = {}
    for member in row.members:
        groups.setdefault(member.position, []).append(member.user_id)
    return {"name": row.name, "level": row.level, "time_zone": row.time_zone,
            "starts_at": _iso(row.starts_at), "frequency": row.frequency,
            "interval": row.interval, "duration_seconds": row.duration_seconds,
            "until": _iso(row.until), "windows": row.windows,
            "groups": [groups[p] for p in sorted(groups)]}


def _rotations(session: Session, schedule: Schedule, wanted: list[dict],
               result: ApplyResult) -> None:
    stored = list(session.scalars(select(LayeredRotation)
                                  .where(LayeredRotation.schedule_id == schedule.id)
                                  .order_by(LayeredRotation.id)))
    if [_stored(r) for r in stored] == wanted:
        for _ in wanted:
            result.count("rotations", "unchanged")
        return
    for row in stored:
        session.delete(row)
    session.flush()
    for spec in wanted:
        row = LayeredRotation(
            schedule_id=schedule.id, name=spec["name"], level=spec["level"],
            time_zone=spec["time_zone"], starts_at=datetime.fromisoformat(spec["starts_at"]),
            frequency=spec["frequency"], interval=spec["interval"],
            duration_seconds=spec["duration_seconds"],
            until=spec["until"] and datetime.fromisoformat(spec["until"]),
            windows=spec["windows"])
        row.members = [RotationMember(position=p, user_id=uid)
                       for p, group in enumerate(spec["groups"]) for uid in group]
        session.add(row)
        result.count("rotations", "updated" if stored else "created")
    session.flush()


def _overrides(session: Session, source: str, planned: PlanSchedule, schedule: Schedule,
               users: dict[str, User], result: ApplyResult, actor: User | None) -> None:
    prefix = f"{planned.external_id}|"
    known = mappings.local_ids(session=session, source=source, kind="override", prefix=prefix)
    # Two years of a large account is thousands of overrides per schedule: which imported
    # ones still exist is one query (overrides never change schedule), and the new ones
    # and their mappings are written in batches, not one round trip each.
    alive = set(session.scalars(select(Override.id).where(
        Override.schedule_id == schedule.id))) if known else set()
    wanted: set[str] = set()
    new: dict[str, Override] = {}
    for override in planned.overrides:
        for user_id in override.user_ids:
            key = f"{prefix}{_iso(override.starts_at)}|{_iso(override.ends_at)}|{user_id}"
            if user_id not in users or override.ends_at <= override.starts_at \
                    or key in wanted:
                continue
            wanted.add(key)
            if known.get(key) in alive:
                result.count("overrides", "unchanged")
                continue
            new[key] = Override(schedule_id=schedule.id, layer="primary", user=users[user_id],
                                starts_at=override.starts_at, ends_at=override.ends_at,
                                reason=f"Imported from {SOURCE_NAMES.get(source, source)}",
                                created_by_id=actor.id if actor else None)
            result.count("overrides", "created")
    session.add_all(new.values())
    session.flush()
    mappings.remember_many(session=session, source=source, kind="override",
                           local_ids={key: row.id for key, row in new.items()})
    gone = [key for key in known if key not in wanted]
    for key in gone:
        row = session.get(Override, known[key])
        if row is not None:
            session.delete(row)
            result.count("overrides", "updated")
    mappings.forget(session=session, source=source, kind="override", external_ids=gone)
    session.flush()


def apply_schedule(*, session: Session, source: str, planned: PlanSchedule,
                   users: dict[str, User], teams: dict[str, Team], result: ApplyResult,
                   actor: User | None) -> Schedule | None:
    """Create or update one schedule with its rotations and overrides."""
    if not known_zone(planned.time_zone):
        result.notes.append(f"Schedule {planned.name!r} has an unknown time zone "
                            f"{planned.time_zone!r}; skipped.")
        return None
    team = teams.get(planned.team_id) if planned.team_id else None
    schedule = _schedule_row(session, source, planned, team, result)
    _rotations(session, schedule, _desired(planned, users, result), result)
    _overrides(session, source, planned, schedule, users, result, actor)
    return schedule
