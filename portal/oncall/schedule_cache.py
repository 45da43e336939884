"""Every schedule's structure (layers, members, overrides, layered rotations), cached per
version of the tables it is read from.

The home page, the on-call page and each catalog service page ask who is on call, and
loading schedules with their members and overrides as ORM rows cost a dozen statements and
most of those pages' time, while schedules change a few times a week. Each request reads
the version in one cheap statement and reuses the structure loaded for that version, so
every process stays exact without invalidation messages. The structure holds plain,
immutable snapshots (never ORM rows), so it is safe to share between requests and threads.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from cachetools import LRUCache
from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, noload

from portal.auth.models import User
from portal.db import rows_version_sql, utcnow
from portal.oncall import layered, rotation
from portal.oncall.models import LAYERS, LayerMember, Override, Schedule
from portal.oncall.rotation_models import LayeredRotation, RotationMember

# Changes with any change to what the structure is read from (see db.rows_version_sql).
# People are read for their names: only those on a schedule count, so signing in elsewhere
# in the portal does not reload schedules. The transaction's own id, when it has written
# anything, keeps what it sees (uncommitted, perhaps rolled back) out of what other
# transactions share.
# The version's SQL expression on its own, so that a page's combined statement may read it
# too (see seed_version).
VERSION_SQL = rows_version_sql(
    "oncall_schedules", "oncall_layer_members", "oncall_overrides", "oncall_rotations",
    "oncall_rotation_members",
    ("users", "WHERE id IN (SELECT user_id FROM oncall_layer_members UNION "
              "SELECT user_id FROM oncall_rotation_members UNION "
              "SELECT user_id FROM oncall_overrides)"))
_VERSION = text("SELECT " + VERSION_SQL + ", txid_current_if_assigned()")

# Overrides that ended this long before the structure was loaded are left out: every answer
# looks back at most LOOKBACK from a moment no earlier than the load (older moments load
# what they need without the cache).
LOOKBACK = timedelta(days=60)


@dataclass(frozen=True)
class Person:
    """Someone on a schedule, as pages show them."""
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule's own fields, as pages show and link them."""
    id: int
    slug: str
    name: str
    team_id: int | None
    timezone: str
    is_default: bool


@dataclass(frozen=True)
class Structure:
    """Every schedule (by name, as the on-call page lists them) with what answers it."""
    schedules: tuple[ScheduleInfo, ...]
    rotations: dict[tuple[int, str], rotation.Rotation]  # (schedule id, layer)
    stacks: dict[int, tuple[layered.Layer, ...]]  # layered rotations answering the primary
    overrides: dict[tuple[int, str], tuple[tuple[int, rotation.Cover], ...]]  # (id, cover)
    covers_since: datetime | None  # overrides ending before this are left out
    rostered: dict[int, tuple[int, ...]] = field(default_factory=dict)  # user → schedule ids
    _by_id: dict[int, ScheduleInfo] = field(default_factory=dict, init=False, repr=False,
                                            compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((s.id, s) for s in self.schedules)

    def by_id(self, schedule_id: int) -> ScheduleInfo | None:
        return self._by_id.get(schedule_id)

    def for_team(self, team_id: int | None) -> ScheduleInfo | None:
        """The team's schedule, else the default one (what a team's pages go to)."""
        found = None if team_id is None else next(
            (s for s in self.schedules if s.team_id == team_id), None)
        return found if found is not None else next(
            (s for s in sorted(self.schedules, key=lambda s: s.id) if s.is_default), None)

    def covers(self, schedule_id: int, layer: str, start: datetime,
               end: datetime) -> list[rotation.Cover]:
        """Overrides of a layer overlapping [start, end), oldest first (later ones win)."""
        return [c for _, c in self.overrides.get((schedule_id, layer), ())
                if c.ends_at > start and c.starts_at < end]


def _person(row) -> Person:
    return Person(row.user_id, row.user_name, row.user_email)


_USER = (User.id.label("user_id"), User.name.label("user_name"), User.email.label("user_email"))


def _weekly(session: Session, schedules: Iterable[ScheduleInfo],
            fields: dict[int, tuple[int, time, date]]) -> dict[tuple[int, str], rotation.Rotation]:
    members: dict[tuple[int, str], list[Person]] = defaultdict(list)
    rows = session.execute(select(LayerMember.schedule_id, LayerMember.layer, *_USER)
                           .join(User, User.id == LayerMember.user_id)
                           .order_by(LayerMember.schedule_id, LayerMember.layer,
                                     LayerMember.position))
    for row in rows:
        members[(row.schedule_id, row.layer)].append(_person(row))
    return {(s.id, layer): rotation.Rotation(s.timezone, *fields[s.id],
                                              tuple(members[(s.id, layer)]))
            for s in schedules for layer in LAYERS}


def _stacks(session: Session) -> dict[int, tuple[layered.Layer, ...]]:
    groups: dict[int, dict[int, list[Person]]] = defaultdict(lambda: defaultdict(list))
    for row in session.execute(select(RotationMember.rotation_id, RotationMember.position, *_USER)
                               .join(User, User.id == RotationMember.user_id)
                               .order_by(RotationMember.position, RotationMember.id)):
        groups[row.rotation_id][row.position].append(_person(row))
    found: dict[int, list[layered.Layer]] = defaultdict(list)
    # Members came with their people above; the relationship's own load would repeat them.
    for rot in session.scalars(select(LayeredRotation).options(noload(LayeredRotation.members))
                               .order_by(LayeredRotation.level, LayeredRotation.id)):
        people = groups[rot.id]
        found[rot.schedule_id].append(layer_of(
            rot, tuple(tuple(people[p]) for p in sorted(people))))
    return {schedule_id: tuple(layers) for schedule_id, layers in found.items()}


def layer_of(row: LayeredRotation, participants: tuple[tuple[Any, ...], ...]) -> layered.Layer:
    """The pure layer of a layered rotation, held by `participants` in order."""
    return layered.Layer(
        level=row.level, time_zone=row.time_zone, start=row.starts_at,
        frequency=row.frequency, interval=row.interval, participants=participants,
        duration=None if row.duration_seconds is None else timedelta(seconds=row.duration_seconds),
        until=row.until,
        windows=tuple(layered.Window(tuple(w["weekdays"]), time.fromisoformat(w["start"]),
                                     time.fromisoformat(w["end"])) for w in row.windows))


def _overrides(session: Session, since: datetime | None
               ) -> dict[tuple[int, str], tuple[tuple[int, rotation.Cover], ...]]:
    stmt = (select(Override.id, Override.schedule_id, Override.layer, Override.starts_at,
                   Override.ends_at, *_USER).join(User, User.id == Override.user_id)
            .order_by(Override.id))
    if since is not None:
        stmt = stmt.where(Override.ends_at > since)
    found: dict[tuple[int, str], list[tuple[int, rotation.Cover]]] = defaultdict(list)
    for row in session.execute(stmt):
        found[(row.schedule_id, row.layer)].append(
            (row.id, rotation.Cover(_person(row), row.starts_at, row.ends_at)))
    return {key: tuple(covers) for key, covers in found.items()}


def load(*, session: Session, covers_since: datetime | None) -> Structure:
    """Every schedule's structure, in five statements however many schedules there are."""
    schedules, fields = [], {}
    for s in session.execute(select(Schedule.id, Schedule.slug, Schedule.name, Schedule.team_id,
                                    Schedule.timezone, Schedule.is_default,
                                    Schedule.handoff_weekday, Schedule.handoff_time,
                                    Schedule.rotation_start).order_by(Schedule.name)):
        schedules.append(ScheduleInfo(s.id, s.slug, s.name, s.team_id, s.timezone, s.is_default))
        fields[s.id] = (s.handoff_weekday, s.handoff_time, s.rotation_start)
    rotations = _weekly(session, schedules, fields)
    stacks = _stacks(session)
    rostered: dict[int, set[int]] = defaultdict(set)
    for (schedule_id, _), rot in rotations.items():
        for person in rot.participants:
            rostered[person.id].add(schedule_id)
    for schedule_id, layers in stacks.items():
        for layer in layers:
            for group in layer.participants:
                for person in group:
                    rostered[person.id].add(schedule_id)
    return Structure(tuple(schedules), rotations, stacks, _overrides(session, covers_since),
                     covers_since, {user: tuple(sorted(ids)) for user, ids in rostered.items()})


_shared: LRUCache = LRUCache(maxsize=4)  # committed versions: old ones age out
_private: LRUCache = LRUCache(maxsize=4)  # versions seen by transactions that wrote
_lock = threading.Lock()
_MEMO = "oncall.schedule_cache"


@event.listens_for(Session, "after_flush")
def _forget_version(session: Session, _flush_context) -> None:
    # A flush may change schedules: the next read in this transaction asks again.
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_version_on_write(state: ORMExecuteState) -> None:
    # So may an INSERT, UPDATE or DELETE statement, which does not flush.
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info.pop(_MEMO, None)


def _version(session: Session) -> tuple[str, int | None]:
    """The version (read once per transaction until it flushes) and the writing
    transaction's id, if any."""
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is not None and transaction is not None and memo[0] is transaction:
        return memo[1]
    if session.autoflush:
        session.flush()
    row = session.execute(_VERSION).one()
    found = (str(row[0]), None if row[1] is None else int(row[1]))
    session.info[_MEMO] = (session.get_transaction(), found)
    return found


def shared_version(session: Session) -> tuple[str, str] | None:
    """The database and the schedules' version, as a cache key for answers derived from the
    structure; None while this transaction has written (its answers are its own)."""
    version, writer = _version(session)
    return None if writer is not None else (str(session.get_bind().engine.url), version)


def seed_version(session: Session, version: object, writer: object) -> None:
    """Keep a version that another statement of this transaction read (`VERSION_SQL` and
    txid_current_if_assigned()), so that `_version` need not ask again. Only while nothing
    waits to be flushed: `_version` would flush first, and the flush may change schedules."""
    transaction = session.get_transaction()
    if transaction is None or session.new or session.dirty or session.deleted:
        return
    memo = session.info.get(_MEMO)
    if memo is not None and memo[0] is transaction:
        return
    session.info[_MEMO] = (transaction,
                           (str(version), None if writer is None else int(str(writer))))


def structure(*, session: Session, since: datetime) -> Structure:
    """Every schedule's structure now, with (at least) the overrides that end after
    `since`, the earliest moment the caller looks at."""
    version, writer = _version(session)
    key = (str(session.get_bind().engine.url), version, writer)
    cache = _shared if writer is None else _private
    with _lock:
        found = cache.get(key)
    if found is not None and (found.covers_since is None or since >= found.covers_since):
        return found
    if since < utcnow() - LOOKBACK:
        return load(session=session, covers_since=since)  # an old moment: not worth keeping
    found = load(session=session, covers_since=utcnow() - LOOKBACK)
    with _lock:
        cache[key] = found
    return found
