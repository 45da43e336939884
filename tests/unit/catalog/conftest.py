"""Catalog fixtures: the seeded Meridian catalog inside the test's rolled-back transaction."""
from datetime import date, time
from pathlib import Path

import pytest

from portal.catalog import demo
from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog

CHARTS = Path(__file__).parent / "charts"


@pytest.fixture
def seeded(app, session):
    """Teams, every catalog entry with its facts and dependencies, runbooks, first scores.

    `app` loads every domain, so the readiness checks hear the SLO and on-call receivers
    whatever tests ran before.
    """
    seed_catalog(session=session)
    demo.seed(session=session)
    session.commit()
    return session


@pytest.fixture
def operated(seeded, make_user):
    """Also what the SLO and on-call checks read: the platform services' SLO specs (no
    samples) and, for every team, a schedule with one person in its primary layer."""
    from portal.oncall.models import LayerMember, Schedule
    from portal.slo import specs
    from portal.slo.demo import SEED_SLOS
    for slug, raws in SEED_SLOS.items():
        service = catalog.get_service(session=seeded, slug=slug)
        for raw in raws:
            specs.upsert(session=seeded, service=service, spec=specs.clean(raw))
    person = make_user("oncall")
    for team in catalog.list_teams(session=seeded):
        schedule = Schedule(slug=team.slug, name=f"{team.name} on-call", team_id=team.id,
                            timezone="UTC", handoff_weekday=0, handoff_time=time(10, 0),
                            rotation_start=date(2026, 1, 5))
        schedule.members.append(LayerMember(layer="primary", position=1, user=person))
        seeded.add(schedule)
    seeded.commit()
    return seeded


@pytest.fixture
def order(seeded):
    return catalog.get_service(session=seeded, slug="order")
