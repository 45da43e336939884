"""Schedules: who is on call now and next, overrides, hand-off notes,
participants and escalation policies."""
from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from cachetools import LRUCache
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.oncall import layered, rotation, schedule_cache
from portal.oncall.models import (
    LAYERS,
    SEVERITIES,
    EscalationPolicy,
    EscalationStep,
    FeedToken,
    HandoffNote,
    LayerMember,
    Override,
    Schedule,
)
from portal.oncall.rotation_models import LayeredRotation


class OncallError(ValueError):
    """A request that breaks an on-call rule; the message is shown to the user."""


@dataclass(frozen=True)
class OnCallRow:
    schedule: schedule_cache.ScheduleInfo
    primary: rotation.Shift | None
    secondary: rotation.Shift | None
    next_primary: rotation.Shift | None


def list_schedules(*, session: Session) -> list[Schedule]:
    """Every schedule, by name, with its participants loaded."""
    return list(session.scalars(select(Schedule).options(joinedload(Schedule.members))
                                .order_by(Schedule.name)).unique())


def get_schedule(*, session: Session, slug: str) -> Schedule | None:
    """A schedule by slug."""
    return session.scalars(select(Schedule).where(Schedule.slug == slug)).unique().one_or_none()


def default_schedule(*, session: Session) -> Schedule | None:
    """The schedule paged when no team schedule applies."""
    return session.scalars(select(Schedule).where(Schedule.is_default)).unique().first()


def schedule_for_services(*, session: Session, service_slugs: list[str]) -> Schedule | None:
    """The schedule of the first listed service's team that has one, else the default."""
    for slug in service_slugs:
        service = catalog.get_service(session=session, slug=slug)
        if service is None:
            continue
        found = session.scalars(select(Schedule).where(Schedule.team_id == service.team_id)
                                ).unique().first()
        if found is not None:
            return found
    return default_schedule(session=session)


def rotation_of(schedule: Schedule, layer: str) -> rotation.Rotation:
    """The pure rotation of one layer of a schedule."""
    return rotation.Rotation(schedule.timezone, schedule.handoff_weekday, schedule.handoff_time,
                             schedule.rotation_start, tuple(schedule.participants(layer)))


def covers(*, session: Session, schedule: Schedule, layer: str, start: datetime,
           end: datetime) -> list[rotation.Cover]:
    """Overrides of a layer overlapping [start, end), oldest first (later ones win)."""
    stmt = (select(Override).where(Override.schedule_id == schedule.id, Override.layer == layer,
                                   Override.ends_at > start, Override.starts_at < end)
            .order_by(Override.id))
    return [rotation.Cover(o.user, o.starts_at, o.ends_at) for o in session.scalars(stmt)]


def _as_layer(row: LayeredRotation) -> layered.Layer:
    groups: dict[int, list[User]] = defaultdict(list)
    for member in row.members:
        groups[member.position].append(member.user)
    return schedule_cache.layer_of(row, tuple(tuple(groups[p]) for p in sorted(groups)))


def layers_of(*, session: Session, schedules: list[Schedule]) -> dict[int, list[layered.Layer]]:
    """The layered rotations of each schedule that has any, in one statement (two with
    their members); a schedule without them is missing from the answer."""
    found: dict[int, list[layered.Layer]] = defaultdict(list)
    if not schedules:
        return found
    stmt = (select(LayeredRotation)
            .where(LayeredRotation.schedule_id.in_([s.id for s in schedules]))
            .options(joinedload(LayeredRotation.members))
            .order_by(LayeredRotation.level, LayeredRotation.id))
    for row in session.scalars(stmt).unique():
        found[row.schedule_id].append(_as_layer(row))
    return found


def layered_primary(*, session: Session, schedule: Schedule,
                    layer: str) -> list[layered.Layer] | None:
    """The rotations answering `layer` of `schedule` when they replace the weekly rotation
    (imported schedules answer their primary layer from them), else None."""
    if layer != "primary":
        return None
    return layers_of(session=session, schedules=[schedule]).get(schedule.id) or None


def shift_pieces(*, session: Session, schedule: Schedule, layer: str,
                 covers: list[rotation.Cover], start: datetime,
                 end: datetime) -> list[rotation.Shift]:
    """A layer's timeline cut at every hand-off (calendar feeds: one event per shift)."""
    layers = layered_primary(session=session, schedule=schedule, layer=layer)
    if layers is not None:
        return layered.timeline(layers, covers, start, end)
    return rotation.shift_pieces(rotation_of(schedule, layer), covers, start, end)


def layer_timeline(*, session: Session, schedule: Schedule, layer: str, start: datetime,
                   end: datetime) -> list[rotation.Shift]:
    """Who is on call on one layer over [start, end), with overrides and gaps."""
    layers = layered_primary(session=session, schedule=schedule, layer=layer)
    if layers is not None:
        return layered.timeline(layers, covers(session=session, schedule=schedule,
                                               layer=layer, start=start, end=end), start, end)
    return rotation.timeline(rotation_of(schedule, layer),
                             covers(session=session, schedule=schedule, layer=layer,
                                    start=start, end=end), start, end)


@dataclass(frozen=True)
class UpcomingShift:
    schedule: schedule_cache.ScheduleInfo
    layer: str
    starts_at: datetime
    ends_at: datetime

    @property
    def now(self) -> bool:
        """Whether the shift is under way."""
        return self.starts_at <= utcnow() < self.ends_at


def next_shift_of(*, session: Session, user_id: int, start: datetime,
                  end: datetime) -> UpcomingShift | None:
    """A person's current or next shift within [start, end) over every schedule they are
    on (a layer member or in a layered rotation), overrides included."""
    found = schedule_cache.structure(session=session, since=start)
    best: UpcomingShift | None = None
    for schedule_id in found.rostered.get(user_id, ()):
        for layer in LAYERS:
            if not _may_hold(found, schedule_id, layer, user_id, start, end):
                continue
            shift = next((sh for sh in _timeline(found, schedule_id, layer, start, end)
                          if sh.ends_at > start and any(who.id == user_id
                                                        for who in sh.everyone)), None)
            if shift is not None and (best is None or shift.starts_at < best.starts_at):
                info = found.by_id(schedule_id)
                assert info is not None  # rostered lists only the structure's schedules
                best = UpcomingShift(info, layer, shift.starts_at, shift.ends_at)
    return best


def _may_hold(found: schedule_cache.Structure, schedule_id: int, layer: str, user_id: int,
              start: datetime, end: datetime) -> bool:
    """Whether the person can be on call on the layer over [start, end): everyone on its
    timeline comes from its rotation or its overrides, so a layer they are in neither of
    need not be worked out (most people are on one layer of a schedule)."""
    stack = found.stacks.get(schedule_id) if layer == "primary" else None
    if stack:
        rotating = any(person.id == user_id for level in stack
                       for group in level.participants for person in group)
    else:
        rotating = any(person.id == user_id
                       for person in found.rotations[(schedule_id, layer)].participants)
    return rotating or any(cover.who.id == user_id
                           for cover in found.covers(schedule_id, layer, start, end))


def _timeline(found: schedule_cache.Structure, schedule_id: int, layer: str, start: datetime,
              end: datetime) -> list[rotation.Shift]:
    covers_of = found.covers(schedule_id, layer, start, end)
    stack = found.stacks.get(schedule_id) if layer == "primary" else None
    if stack:
        return layered.timeline(stack, covers_of, start, end)
    return rotation.timeline(found.rotations[(schedule_id, layer)], covers_of, start, end)


def on_call(*, session: Session, schedule: Schedule, layer: str,
            at: datetime | None = None) -> rotation.Shift | None:
    """The shift of `layer` containing `at` (now by default), or None in a gap."""
    at = at or utcnow()
    layers = layered_primary(session=session, schedule=schedule, layer=layer)
    if layers is not None:
        return layered.on_call_at(layers, covers(session=session, schedule=schedule,
                                                 layer=layer, start=at - LOOKAROUND,
                                                 end=at + LOOKAROUND), at, LOOKAROUND)
    found = covers(session=session, schedule=schedule, layer=layer, start=at,
                   end=at + timedelta(days=36))
    return rotation.on_call_at(rotation_of(schedule, layer), found, at)


LOOKAROUND = timedelta(days=35)  # how far a layered shift is followed either side of `at`


# Every schedule's now and next, as the home and the on-call page ask it on each view: the
# answer for a version of the schedules holds for the minute it was worked out in.
_now_rows: LRUCache[tuple, tuple[OnCallRow, ...]] = LRUCache(maxsize=32)
_now_rows_lock = threading.Lock()


def who_is_on_call(*, session: Session, at: datetime | None = None,
                   schedule_ids: list[int] | None = None) -> list[OnCallRow]:
    """Now and next for each schedule (or those of `schedule_ids`, in that order), by
    name; one statement when the schedules have not changed since the last ask."""
    moment = at or utcnow()
    found = schedule_cache.structure(session=session, since=moment - LOOKAROUND)
    key = None
    if at is None and schedule_ids is None:
        version = schedule_cache.shared_version(session)
        if version is not None:
            key = (version, moment.replace(second=0, microsecond=0))
            with _now_rows_lock:
                kept = _now_rows.get(key)
            if kept is not None:
                return list(kept)
    if schedule_ids is None:
        infos = list(found.schedules)
    else:
        infos = [info for info in map(found.by_id, schedule_ids) if info is not None]
    rows = [_row(found, info, moment) for info in infos]
    if key is not None:
        with _now_rows_lock:
            _now_rows[key] = tuple(rows)
    return rows


def on_call_for_team(*, session: Session, team_id: int | None,
                     at: datetime | None = None) -> OnCallRow | None:
    """Now and next on the team's schedule, else the default one (where its pages go)."""
    at = at or utcnow()
    found = schedule_cache.structure(session=session, since=at - LOOKAROUND)
    info = found.for_team(team_id)
    return None if info is None else _row(found, info, at)


def _row(found: schedule_cache.Structure, info: schedule_cache.ScheduleInfo,
         at: datetime) -> OnCallRow:
    covers_1 = found.covers(info.id, "primary", at - LOOKAROUND, at + timedelta(days=36))
    covers_2 = found.covers(info.id, "secondary", at - LOOKAROUND, at + timedelta(days=36))
    secondary = found.rotations[(info.id, "secondary")]
    layers = found.stacks.get(info.id)
    if layers:  # imported layered rotations answer the primary layer
        return OnCallRow(info, layered.on_call_at(layers, covers_1, at, LOOKAROUND),
                         rotation.on_call_at(secondary, covers_2, at),
                         layered.next_on_call(layers, covers_1, at, LOOKAROUND))
    primary = found.rotations[(info.id, "primary")]
    # Overrides that ended before `at` never mattered to the weekly rotation's answer.
    covers_1 = [c for c in covers_1 if c.ends_at > at]
    covers_2 = [c for c in covers_2 if c.ends_at > at]
    return OnCallRow(info, rotation.on_call_at(primary, covers_1, at),
                     rotation.on_call_at(secondary, covers_2, at),
                     rotation.next_on_call(primary, covers_1, at))


def add_override(*, session: Session, schedule: Schedule, layer: str, user: User,
                 starts_at: datetime, ends_at: datetime, reason: str,
                 actor: User | None) -> Override:
    """Let `user` cover `layer` of `schedule` for a period."""
    if layer not in LAYERS:
        raise OncallError(f"Layer must be one of {', '.join(LAYERS)}.")
    if ends_at <= starts_at:
        raise OncallError("The override must end after it starts.")
    if ends_at - starts_at > timedelta(days=31):
        raise OncallError("An override lasts at most 31 days; change the rotation instead.")
    if not user.has_role("oncall", "manager") and not _on_schedule(schedule, user):
        raise OncallError(f"{user.email} neither holds the on-call role nor is on this "
                          "schedule.")
    override = Override(schedule_id=schedule.id, layer=layer, user=user, starts_at=starts_at,
                        ends_at=ends_at, reason=reason.strip()[:300],
                        created_by_id=actor.id if actor else None)
    session.add(override)
    session.flush()
    return override


def _on_schedule(schedule: Schedule, user: User) -> bool:
    return any(member.user_id == user.id for member in schedule.members)


def is_rostered(*, session: Session, user: User) -> bool:
    """Whether `user` is on a layer of any schedule (whatever their role)."""
    return user.id in schedule_cache.structure(session=session, since=utcnow()).rostered


def may_respond(*, session: Session, user: User) -> bool:
    """On-call responders: the on-call and manager roles (admins too) and rostered people."""
    return user.has_role("oncall", "manager") or (
        user.is_internal and is_rostered(session=session, user=user))


SWAP_HORIZON = timedelta(weeks=12)


def swappable_shifts(*, schedule: Schedule, layer: str,
                     now: datetime | None = None) -> list[rotation.Shift]:
    """The rotation's shifts of `layer` that start within the next twelve weeks."""
    now = now or utcnow()
    end = now + SWAP_HORIZON
    shifts = rotation.rotation_shifts(rotation_of(schedule, layer), now, end)
    # Whole shifts only: the running one and the one cut off by the horizon are clipped.
    return [s for s in shifts if s.starts_at > now and s.ends_at < end]


def swap_shifts(*, session: Session, schedule: Schedule, layer: str, give: datetime,
                take: datetime, actor: User | None,
                now: datetime | None = None) -> tuple[Override, Override]:
    """Two people trade whole rotation shifts of one layer: two overrides made together.

    `give` and `take` are the start times of the two shifts; each person covers the
    other's. Only future shifts of different people can be swapped; an actor without the
    on-call role must own one of them.
    """
    if give == take:
        raise OncallError("Choose two different shifts.")
    shifts = {s.starts_at: s for s in swappable_shifts(schedule=schedule, layer=layer,
                                                       now=now)}
    mine, theirs = shifts.get(give), shifts.get(take)
    if mine is None or theirs is None:
        raise OncallError("Both shifts must be upcoming shifts of this layer "
                          "(within twelve weeks).")
    if mine.who.id == theirs.who.id:
        raise OncallError(f"Both shifts belong to {mine.who.name}; choose someone else's.")
    # Rostered people without the on-call role trade their own shifts, not others'.
    if actor is not None and not actor.has_role("oncall", "manager") \
            and actor.id not in (mine.who.id, theirs.who.id):
        raise OncallError("You can only swap one of your own shifts.")
    reason = f"swap: {mine.who.name} ↔ {theirs.who.name}"
    first = add_override(session=session, schedule=schedule, layer=layer, user=theirs.who,
                         starts_at=mine.starts_at, ends_at=mine.ends_at, reason=reason,
                         actor=actor)
    second = add_override(session=session, schedule=schedule, layer=layer, user=mine.who,
                          starts_at=theirs.starts_at, ends_at=theirs.ends_at, reason=reason,
                          actor=actor)
    return first, second


def list_overrides(*, session: Session, schedule: Schedule,
                   now: datetime | None = None) -> list[Override]:
    """Overrides of a schedule that have not ended yet, soonest first."""
    stmt = (select(Override).where(Override.schedule_id == schedule.id,
                                   Override.ends_at > (now or utcnow()))
            .order_by(Override.starts_at))
    return list(session.scalars(stmt))


def delete_override(*, session: Session, schedule: Schedule, override_id: int) -> Override:
    """Remove an override of `schedule`."""
    override = session.get(Override, override_id)
    if override is None or override.schedule_id != schedule.id:
        raise LookupError(override_id)
    session.delete(override)
    session.flush()
    return override


def add_note(*, session: Session, schedule: Schedule, author: User, body: str) -> HandoffNote:
    """Leave a hand-off note for the next person on call."""
    body = body.strip()
    if not body:
        raise OncallError("Write something in the hand-off note.")
    note = HandoffNote(schedule_id=schedule.id, author=author, body=body[:5000])
    session.add(note)
    session.flush()
    return note


def list_notes(*, session: Session, schedule: Schedule, limit: int = 10) -> list[HandoffNote]:
    """The newest hand-off notes of a schedule."""
    return list(session.scalars(select(HandoffNote).where(HandoffNote.schedule_id == schedule.id)
                                .order_by(HandoffNote.id.desc()).limit(limit)))


def update_schedule(*, session: Session, schedule: Schedule, timezone: str,
                    handoff_weekday: int, handoff_time: time,
                    participants: dict[str, list[User]]) -> Schedule:
    """Change the hand-off rule and the participants of each layer, in order."""
    if timezone not in available_timezones():
        raise OncallError(f"Unknown time zone {timezone!r}; use an IANA name like Europe/Berlin.")
    if not 0 <= handoff_weekday <= 6:
        raise OncallError("The hand-off day must be Monday to Sunday.")
    if not participants.get("primary"):
        raise OncallError("The primary layer needs at least one participant.")
    schedule.timezone, schedule.handoff_weekday = timezone, handoff_weekday
    schedule.handoff_time = handoff_time
    schedule.members.clear()
    session.flush()
    for layer, users in participants.items():
        for position, user in enumerate(users, start=1):
            schedule.members.append(LayerMember(layer=layer, position=position, user=user))
    session.flush()
    return schedule


def local_now(schedule: Schedule, now: datetime | None = None) -> datetime:
    """Now in the schedule's time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(schedule.timezone))


def eligible_people(*, session: Session) -> list[User]:
    """Active staff who may be put on call (on-call, manager or admin role)."""
    # portal.auth.service has no user listing yet; this read-only query is the one place
    # on-call reads the users table directly.
    # ARRAY's any(); SQLAlchemy's stubs only know the relationship any(criterion).
    roles = or_(*(User.roles.any(role)  # type: ignore[arg-type]
                  for role in ("oncall", "manager", "admin")))
    stmt = select(User).where(User.is_active, roles).order_by(User.name)
    return list(session.scalars(stmt).unique())


def feed_token(*, session: Session, user: User) -> FeedToken | None:
    """The user's calendar-feed token, if they created one."""
    return session.get(FeedToken, user.id)


def rotate_feed_token(*, session: Session, user: User) -> FeedToken:
    """Create or replace the user's calendar-feed token (old feed URLs stop working)."""
    token = session.get(FeedToken, user.id) or FeedToken(user_id=user.id)
    token.token, token.created_at = secrets.token_urlsafe(32), utcnow()
    session.add(token)
    session.flush()
    return token


def user_for_feed(*, session: Session, token: str) -> User | None:
    """The active internal user owning a feed token, or None."""
    found = session.scalar(select(FeedToken).where(FeedToken.token == token))
    if found is None or not found.user.is_active \
            or not may_respond(session=session, user=found.user):
        return None
    return found.user


def list_policies(*, session: Session) -> list[EscalationPolicy]:
    """The escalation policies, Sev1 first."""
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.severity)))


def get_policy(*, session: Session, severity: str) -> EscalationPolicy | None:
    """The policy of one severity."""
    return session.scalar(select(EscalationPolicy).where(EscalationPolicy.severity == severity))


def set_policy(*, session: Session, severity: str, description: str, ack_minutes: int,
               next_business_day: bool, steps: list[tuple[int, str, User | None, str]]
               ) -> EscalationPolicy:
    """Create or replace a severity's policy; steps are (after_minutes, target, user, label)."""
    if severity not in SEVERITIES:
        raise OncallError(f"Unknown severity {severity!r}.")
    if not steps or steps[0][0] != 0 or steps[0][1] != "primary":
        raise OncallError("The first step pages the primary at minute 0.")
    offsets = [s[0] for s in steps]
    if offsets != sorted(set(offsets)):
        raise OncallError("Step times must strictly increase.")
    if any(target == "user" and user is None for _, target, user, _ in steps):
        raise OncallError("A step that pages a person needs that person.")
    policy = get_policy(session=session, severity=severity) or EscalationPolicy(severity=severity)
    policy.description, policy.ack_minutes = description, ack_minutes
    policy.next_business_day = next_business_day
    policy.steps.clear()
    session.add(policy)
    session.flush()
    for position, (after, target, user, label) in enumerate(steps, start=1):
        policy.steps.append(EscalationStep(position=position, after_minutes=after, target=target,
                                           user=user if target == "user" else None, label=label))
    session.flush()
    return policy
