"""Helpers of the incidents tests: a catalog service, an incident factory, signal capture."""
from __future__ import annotations

import pytest

from portal import events
from portal.catalog import service as catalog
from portal.incidents import (
    receivers,  # noqa: F401  (connects the signal receivers)
    service,
)


@pytest.fixture
def svc(session):
    """A catalog service owned by a team, like the demo's Order Service."""
    team = catalog.upsert_team(session=session, slug="commerce-t", name="Commerce T",
                               chat_channel=None)
    return catalog.upsert_service(session=session, slug="order-t", team=team, name="Order T",
                                  tier=1, kind="service")


@pytest.fixture
def make_incident(session, svc):
    def factory(severity="sev2", *, customer_facing=False, tenants=(), services=None,
                actor="oncall@test.example", title="Orders failing"):
        incident = service.declare(session=session, title=title, severity=severity,
                                   actor_email=actor, customer_facing=customer_facing,
                                   tenant_slugs=list(tenants),
                                   service_slugs=[svc.slug] if services is None else services)
        session.commit()
        return incident
    return factory


@pytest.fixture
def opened_signals():
    """Every incident_opened signal sent during the test."""
    seen = []

    def receiver(sender=None, **kwargs):
        seen.append(kwargs)
    events.incident_opened.connect(receiver)
    yield seen
    events.incident_opened.disconnect(receiver)
