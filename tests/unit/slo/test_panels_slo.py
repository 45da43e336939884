"""The readiness facts of the SLO domain come from the SLO snapshot a page request has
read already, and follow every change of the SLOs."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.slo import status_cache
from portal.slo.models import Slo
from portal.slo.receivers import slo_facts
from portal.slo.slo_views import slo_service_panel
from tests.seeded_demo import counting
from tests.unit.slo.factories import make_service, make_slo


def _names(session, service) -> list[str]:
    return list(session.scalars(select(Slo.name).where(Slo.service_id == service.id)
                                .order_by(Slo.name)))


def test_facts_and_panel_share_one_read_per_request(app, session):
    service = make_service(session)
    make_slo(session, service, name="latency")
    make_slo(session, service, name="availability")
    other = make_service(session)
    make_slo(session, other, name="errors")
    session.commit()
    with app.test_request_context("/"):
        slo_service_panel(service)  # warms the snapshot of this version
    with app.test_request_context("/"), counting(session.connection()) as seen:
        facts = slo_facts(None, session=db.session, service=service)
        slo_service_panel(service)
        again = slo_facts(None, session=db.session, service=service)
    assert facts == again == {"slos": ["availability", "latency"]} == {
        "slos": _names(session, service)}
    assert len(seen) == 1  # the version, asked once for the request


def test_facts_change_with_the_slos(app, session):
    service = make_service(session)
    make_slo(session, service, name="latency")
    session.commit()
    with app.test_request_context("/"):
        assert slo_facts(None, session=db.session, service=service) == {"slos": ["latency"]}
    added = make_slo(session, service, name="availability")
    session.commit()
    with app.test_request_context("/"):
        assert slo_facts(None, session=db.session, service=service) == {
            "slos": ["availability", "latency"]}
    added.name = "uptime"
    session.commit()
    with app.test_request_context("/"):
        assert slo_facts(None, session=db.session, service=service) == {
            "slos": ["latency", "uptime"]}


def test_writing_requests_and_tasks_read_the_names_themselves(app, session):
    service = make_service(session)
    make_slo(session, service, name="latency")
    session.commit()
    with app.test_request_context("/", method="POST"):
        assert status_cache.for_request(session=db.session) is None
        assert slo_facts(None, session=db.session, service=service) == {"slos": ["latency"]}
    assert status_cache.for_request(session=session) is None  # no request at all
    assert slo_facts(None, session=session, service=service) == {"slos": ["latency"]}
