"""Who is on call now (the home's on-call panel) is kept per schedules' version and
minute: asked again it is the same answer, and a change to the schedules shows at once."""
from __future__ import annotations

import secrets
from datetime import timedelta

from portal.auth import service as accounts
from portal.db import utcnow
from portal.oncall import service
from portal.oncall.models import Override
from tests import oncall_rows
from tests.conftest import FAST_ARGON2


def _user(session, tag):
    return accounts.create(session=session, email=f"who-{tag}-{secrets.token_hex(3)}@test.example",
                           name=f"Who {tag} {secrets.token_hex(2)}", password="x" * 16,
                           roles=["oncall"], params=FAST_ARGON2)


def _primary(rows, schedule_id):
    row = next(r for r in rows if r.schedule.id == schedule_id)
    return None if row.primary is None else row.primary.who.name


def test_now_rows_change_with_the_schedules(session):
    people = [_user(session, f"p{i}") for i in range(3)]
    cover = _user(session, "cover")
    made = oncall_rows.schedule(session, people[:2], people[2:],
                                slug=f"who-{secrets.token_hex(3)}", tz="UTC")
    session.commit()
    first = service.who_is_on_call(session=session)
    assert service.who_is_on_call(session=session) == first
    assert _primary(first, made.id) in {p.name for p in people[:2]}

    now = utcnow()
    session.add(Override(schedule_id=made.id, layer="primary", user=cover,
                         starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=5),
                         reason="covering"))
    session.flush()
    # The writing transaction sees its own override (nothing kept is used for it) ...
    assert _primary(service.who_is_on_call(session=session), made.id) == cover.name
    session.commit()
    # ... and so does every later ask once it is committed.
    assert _primary(service.who_is_on_call(session=session), made.id) == cover.name
    assert _primary(service.who_is_on_call(session=session, at=now + timedelta(hours=6)),
                    made.id) != cover.name


def test_next_shift_changes_with_the_schedules(session, make_user):
    from portal.home import now as home_now

    viewer = make_user("oncall")
    others = [_user(session, f"n{i}") for i in range(2)]
    oncall_rows.schedule(session, others, [], slug=f"next-{secrets.token_hex(3)}", tz="UTC")
    session.commit()
    now = utcnow()
    assert home_now.next_shift(session=session, user=viewer, now=now) is None
    made = oncall_rows.schedule(session, others, [viewer], slug=f"mine-{secrets.token_hex(3)}",
                                tz="UTC")
    session.commit()
    found = home_now.next_shift(session=session, user=viewer, now=now)
    assert found is not None and found.schedule.id == made.id and found.layer == "secondary"


def test_budgets_at_risk_change_with_the_samples(session):
    from portal.home import now as home_now
    from portal.slo import samples
    from tests.unit.slo.factories import fill, make_service, make_slo

    minute = samples.floor_minute(utcnow())
    service_ = make_service(session)
    made = make_slo(session, service_, objective="99.9")
    fill(session, made, end=minute - timedelta(days=2), minutes=30, good=100, total=100)
    session.commit()

    def state():
        rows = home_now._every_row(session, home_now.status_cache.current(session=session))
        return next(r["state"] for r in rows if r["slo"].id == made.id)

    assert state() == "healthy"
    fill(session, made, end=minute - timedelta(days=1), minutes=30, good=10, total=100)
    session.commit()
    assert state() == "exhausted"

