"""A small catalog shaped like Meridian's: the gateway in front of order and search, order
on a database; incidents declared through the incidents service; a webhook receiver."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import service as incidents
from tests.httpserver import LocalHTTPServer, QuietHandler

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(session, make_tenant):
    team = catalog.upsert_team(session=session, slug="sp-team", name="SP team",
                               chat_channel=None)
    made = {}
    for slug, name, kind, tier in (("api-gateway", "API Gateway", "service", 1),
                                   ("order", "Order Service", "service", 1),
                                   ("search", "Search Service", "service", 2),
                                   ("order-db", "Order database", "datastore", 1)):
        made[slug] = catalog.upsert_service(session=session, slug=slug, team=team, name=name,
                                            kind=kind, tier=tier)
    catalog.set_dependencies(session=session, service=made["api-gateway"],
                             depends_on={"order": "orders", "search": "search"},
                             degrading={"search"})
    catalog.set_dependencies(session=session, service=made["order"],
                             depends_on={"order-db": "storage"})
    session.commit()
    return {"services": made, "acme": make_tenant("acme-sp"), "globex": make_tenant("globex-sp")}


@pytest.fixture
def declare(session):
    """Declare a customer-facing incident at a given time, optionally resolved later."""
    def factory(*, services, tenants=(), severity="sev2", opened_at=None, resolved_at=None,
                customer_facing=True, title="Orders failing", summary=""):
        incident = incidents.declare(session=session, title=title, severity=severity,
                                     actor_email="oncall@test.example", summary=summary,
                                     customer_facing=customer_facing,
                                     service_slugs=list(services), tenant_slugs=list(tenants),
                                     opened_at=opened_at or min(NOW, utcnow())
                                     - timedelta(hours=1))
        if resolved_at is not None:
            incident.status, incident.resolved_at = "resolved", resolved_at
            incident.mitigated_at = resolved_at
        session.flush()
        return incident
    return factory


@pytest.fixture
def hook():
    """A customer's webhook endpoint: 200 for a JSON body with `event` and `text`, else 400."""
    received = []

    class Handler(QuietHandler):
        def do_POST(self):
            body = self.json_body()
            ok = (self.headers["Content-Type"] == "application/json"
                  and {"event", "text"} <= set(body or {}))
            received.append(body)
            self.reply(200 if ok else 400)

    with LocalHTTPServer(Handler) as server:
        yield f"{server.url}/status-hook", received
