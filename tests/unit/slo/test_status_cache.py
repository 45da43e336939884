"""The SLO cache of the read-only pages stays exact: a change committed by another session
(another worker process) to an SLO, its samples, an exclusion or an override shows at once,
with the same numbers a fresh evaluation gives; a warm service panel costs one statement."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from portal.catalog.models import Service, Team
from portal.db import utcnow
from portal.extensions import db
from portal.slo import exclusions, samples
from portal.slo import service as slo_service
from portal.slo.models import Slo
from portal.slo.slo_views import slo_service_panel
from tests.unit.slo.factories import fill, make_service, make_slo


@pytest.fixture
def other(engine):
    """A session on its own connection that commits for real, like another process; what
    it created is deleted afterwards."""
    created: list[tuple[int, int]] = []
    with Session(bind=engine, expire_on_commit=False) as other:
        yield other, created
        other.rollback()
        for service_id, team_id in created:
            other.execute(delete(Service).where(Service.id == service_id))
            other.execute(delete(Team).where(Team.id == team_id))
        other.commit()


def _panel(app, service_id: int) -> dict:
    with app.test_request_context("/"):
        return slo_service_panel(db.session.get(Service, service_id))


def _fresh(session, slo_id: int, now: datetime) -> slo_service.SloStatus:
    session.expire_all()
    found = session.scalars(select(Slo).where(Slo.id == slo_id)).one()
    return slo_service.evaluate(session=session, slos=[found], now=now)[0]


def _same_numbers(cached: slo_service.SloStatus, fresh: slo_service.SloStatus) -> None:
    assert (cached.budget, cached.burn_rates, cached.alert, cached.policy, cached.exhausts_in) \
        == (fresh.budget, fresh.burn_rates, fresh.alert, fresh.policy, fresh.exhausts_in)


def test_changes_committed_elsewhere_show_at_once(app, session, other):
    writer, created = other
    now = samples.floor_minute(utcnow())
    service = make_service(writer)
    slo = make_slo(writer, service, objective="99.9")
    fill(writer, slo, end=now - timedelta(hours=2), minutes=30, good=90, total=100)
    writer.commit()
    created.append((service.id, service.team_id))

    def check(expect_state: str) -> dict:
        panel = _panel(app, service.id)
        assert panel["state"] == expect_state
        _same_numbers(panel["statuses"][0], _fresh(session, slo.id, utcnow()))
        return panel

    check("exhausted")
    assert _panel(app, service.id)["statuses"][0].slo.objective == Decimal("99.9")

    writer.execute(update(Slo).where(Slo.id == slo.id).values(objective=Decimal("50")))
    writer.commit()
    assert check("healthy")["statuses"][0].slo.objective == Decimal("50")

    fill(writer, slo, end=now - timedelta(minutes=5), minutes=30, good=0, total=100)
    writer.commit()
    assert check("exhausted")["statuses"][0].budget.counts.total == 6000

    start = (now - timedelta(hours=3)).replace(tzinfo=None)
    exclusions.create(session=writer, slo=slo, actor_email="ops@example.com",
                      data=exclusions.ExclusionData(
                          starts_local=start, time_zone="UTC", duration_minutes=170,
                          rrule=None, reason="planned maintenance"))
    writer.commit()
    assert check("exhausted")["statuses"][0].budget.counts.total == 500

    assert _panel(app, service.id)["override"] is None
    override = slo_service.grant_override(
        session=writer, service=service, justification="a reliability fix must ship now",
        hours=2, actor_email="boss@example.com")
    writer.commit()
    panel = _panel(app, service.id)
    assert panel["override"].id == override.id and panel["freeze"] is None

    slo_service.revoke_override(session=writer, override=override, actor_email="b@example.com")
    writer.commit()
    panel = _panel(app, service.id)
    assert panel["override"] is None and panel["freeze"]

    writer.execute(delete(Slo).where(Slo.id == slo.id))
    writer.commit()
    assert _panel(app, service.id)["statuses"] == []


def test_warm_service_panel_costs_one_statement(app, session):
    now = samples.floor_minute(utcnow())
    service = make_service(session)
    fill(session, make_slo(session, service), end=now, minutes=30, good=99, total=100)
    fill(session, make_slo(session, service, name="latency"), end=now, minutes=5, good=1,
         total=1)
    session.commit()
    _panel(app, service.id)  # loads the specs and evaluates them
    seen: list[str] = []
    engine = session.get_bind()

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/"):
            found = db.session.get(Service, service.id)
            seen.clear()
            panel = slo_service_panel(found)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [st.slo.name for st in panel["statuses"]] == ["availability", "latency"]
    assert len(seen) <= 2, seen
