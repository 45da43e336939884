"""The schedule structure cache: constant statements however many schedules there are,
exact after changes committed by another session, and the same answers as the schedules'
own rows give."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import rotation, schedule_cache, service
from portal.oncall.models import LAYERS, LayerMember, Override, Schedule
from portal.oncall.rotation_models import LayeredRotation, RotationMember
from tests import oncall_rows
from tests.conftest import FAST_ARGON2

AT = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=12)


def _user(session: Session, tag: str) -> User:
    return accounts.create(session=session, email=f"sc-{tag}-{secrets.token_hex(3)}@test.example",
                           name=f"Cache {tag}", password="x" * 16, roles=["oncall"],
                           params=FAST_ARGON2)


def _schedule(session: Session, slug: str, primary: list[User], secondary: list[User],
              tz: str = "Europe/Berlin") -> Schedule:
    return oncall_rows.schedule(session, primary, secondary,
                                slug=f"{slug}-{secrets.token_hex(3)}", tz=tz)


def _count(session: Session):
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute",
                 lambda conn, cursor, statement, *a: seen.append(statement))
    return seen


def _ask(session: Session) -> None:
    service.who_is_on_call(session=session, at=AT)
    service.next_shift_of(session=session, user_id=0, start=AT, end=AT + timedelta(days=28))
    service.on_call_for_team(session=session, team_id=None, at=AT)


@pytest.mark.parametrize("schedules", [1, 10])
def test_statements_do_not_grow_with_schedules(session, schedules):
    people = [_user(session, f"p{i}") for i in range(4)]
    for i in range(schedules):
        made = _schedule(session, f"count{i}", people[:3], people[3:])
        session.add(Override(schedule_id=made.id, layer="primary", user=people[3],
                             starts_at=AT - timedelta(hours=1), ends_at=AT + timedelta(days=1)))
        rot = LayeredRotation(schedule_id=made.id, name="day", level=1, time_zone="UTC",
                              starts_at=AT - timedelta(days=3), frequency="daily", interval=1)
        rot.members = [RotationMember(position=p, user=u) for p, u in enumerate(people[:2])]
        session.add(rot)
    session.flush()
    seen = _count(session)
    _ask(session)
    # The version, then schedules, members, layered rotations, their members, overrides.
    assert len(seen) == 6, seen
    seen.clear()
    _ask(session)  # the same transaction, nothing flushed: nothing to read again
    assert seen == []
    session.add(Override(schedule_id=made.id, layer="secondary", user=people[0],
                         starts_at=AT, ends_at=AT + timedelta(hours=2)))
    session.flush()
    seen.clear()
    _ask(session)  # a flush in this transaction: the version again, and the new structure
    assert len(seen) == 6, seen
    session.execute(delete(Override).where(Override.schedule_id == made.id))
    seen.clear()
    _ask(session)  # so does a bulk delete, which flushes nothing
    assert len(seen) == 6, seen


def _same(found: rotation.Shift | None, expected: rotation.Shift | None) -> None:
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        assert (found.who.id, [p.id for p in found.also], found.starts_at, found.ends_at,
                found.source) == (expected.who.id, [p.id for p in expected.also],
                                  expected.starts_at, expected.ends_at, expected.source)


def test_answers_match_the_schedules_rows(session):
    a, b, c, d = (_user(session, tag) for tag in "abcd")
    weekly = _schedule(session, "weekly", [a, b, c], [d], tz="America/New_York")
    stacked = _schedule(session, "stacked", [a], [b, c])
    rot = LayeredRotation(schedule_id=stacked.id, name="nights", level=2, time_zone="UTC",
                          starts_at=AT - timedelta(days=10), frequency="daily", interval=1,
                          duration_seconds=12 * 3600)
    rot.members = [RotationMember(position=0, user=c), RotationMember(position=0, user=d),
                   RotationMember(position=1, user=b)]
    session.add(rot)
    for schedule in (weekly, stacked):
        session.add_all([
            Override(schedule_id=schedule.id, layer="primary", user=d,
                     starts_at=AT - timedelta(hours=3), ends_at=AT + timedelta(hours=5)),
            Override(schedule_id=schedule.id, layer="secondary", user=a,
                     starts_at=AT + timedelta(days=2), ends_at=AT + timedelta(days=3)),
            Override(schedule_id=schedule.id, layer="primary", user=b,
                     starts_at=AT + timedelta(days=9), ends_at=AT + timedelta(days=12))])
    session.flush()
    for at in (AT, AT + timedelta(hours=6), AT + timedelta(days=2, hours=1),
               AT + timedelta(days=9, minutes=5)):
        rows = {row.schedule.id: row for row in service.who_is_on_call(
            session=session, at=at, schedule_ids=[weekly.id, stacked.id])}
        for schedule in (weekly, stacked):
            row = rows[schedule.id]
            _same(row.primary, service.on_call(session=session, schedule=schedule,
                                               layer="primary", at=at))
            _same(row.secondary, service.on_call(session=session, schedule=schedule,
                                                 layer="secondary", at=at))
        _same(rows[weekly.id].next_primary, rotation.next_on_call(
            service.rotation_of(weekly, "primary"),
            service.covers(session=session, schedule=weekly, layer="primary", start=at,
                           end=at + timedelta(days=36)), at))
        for person in (a, b, c, d):
            found = service.next_shift_of(session=session, user_id=person.id, start=at,
                                          end=at + timedelta(days=28))
            expected = min(((shift.starts_at, schedule.id, layer, shift)
                            for schedule in (weekly, stacked) for layer in LAYERS
                            for shift in service.layer_timeline(
                                session=session, schedule=schedule, layer=layer, start=at,
                                end=at + timedelta(days=28))
                            if any(who.id == person.id for who in shift.everyone)),
                           default=None, key=lambda t: t[0])
            assert found is not None and expected is not None
            assert (found.starts_at, found.ends_at) == (expected[0], expected[3].ends_at)


@pytest.fixture
def committed(engine):
    """Rows committed for real (as another process would see them), removed after."""
    made: dict[str, list[int]] = {"users": [], "schedules": []}
    yield made
    with Session(engine) as cleanup:
        cleanup.execute(delete(Schedule).where(Schedule.id.in_(made["schedules"])))
        cleanup.execute(delete(User).where(User.id.in_(made["users"])))
        cleanup.commit()


def _primary(engine, schedule_id: int) -> tuple[str, str, int]:
    """Who is on the primary now, through a fresh session (a new request), and the
    statements that took."""
    with Session(engine) as reader:
        seen = _count(reader)
        row = service.who_is_on_call(session=reader, schedule_ids=[schedule_id])[0]
        assert row.primary is not None
        return row.primary.who.name, row.primary.source, len(seen)


def test_changes_committed_elsewhere_show_at_once(engine, committed):
    with Session(engine, expire_on_commit=False) as writer:
        a, b = _user(writer, "a"), _user(writer, "b")
        # b is on the secondary layer, so only the overrides tell their changes apart.
        schedule = _schedule(writer, "shared", [a], [b])
        writer.commit()
        committed["users"] += [a.id, b.id]
        committed["schedules"].append(schedule.id)
    assert _primary(engine, schedule.id)[:2] == (a.name, "rotation")
    assert _primary(engine, schedule.id)[2] == 1  # warm: the version only

    with Session(engine) as other:  # another worker adds an override
        other.add(Override(schedule_id=schedule.id, layer="primary", user_id=b.id,
                           starts_at=utcnow() - timedelta(hours=1),
                           ends_at=utcnow() + timedelta(hours=1)))
        other.commit()
    assert _primary(engine, schedule.id)[:2] == (b.name, "override")

    with Session(engine) as other:  # ... ends it, and renames the person on the rotation
        other.execute(delete(Override).where(Override.schedule_id == schedule.id))
        other.scalars(select(User).where(User.id == a.id)).one().name = "Renamed A"
        other.commit()
    assert _primary(engine, schedule.id)[:2] == ("Renamed A", "rotation")

    with Session(engine) as other:  # ... and puts someone else on the rotation
        member = other.scalars(select(LayerMember).where(LayerMember.schedule_id == schedule.id,
                                                         LayerMember.layer == "primary")).one()
        member.user_id = b.id
        other.commit()
    assert _primary(engine, schedule.id)[:2] == (b.name, "rotation")
    assert _primary(engine, schedule.id)[2] == 1


def test_an_old_moment_reads_the_overrides_it_needs(session):
    a, b = _user(session, "a"), _user(session, "b")
    schedule = _schedule(session, "old", [a], [])
    long_ago = utcnow() - schedule_cache.LOOKBACK - timedelta(days=30)
    session.add(Override(schedule_id=schedule.id, layer="primary", user=b,
                         starts_at=long_ago - timedelta(hours=1),
                         ends_at=long_ago + timedelta(hours=1)))
    session.flush()
    service.who_is_on_call(session=session)  # caches the structure of now
    row = service.who_is_on_call(session=session, at=long_ago, schedule_ids=[schedule.id])[0]
    assert row.primary is not None and row.primary.who.id == b.id
