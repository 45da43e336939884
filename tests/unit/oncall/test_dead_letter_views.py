"""The dead-letter page's edges without a running service: hostile paths answer 400/404, an
unconfirmed action changes nothing, an unreachable service is shown as such (the page
still renders), and an action on it is a clear, audited failure."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from tests.servers import closed_port


@pytest.fixture
def gone(session):
    team = catalog.upsert_team(session=session, slug="ops-dl", name="Ops", chat_channel=None)
    catalog.upsert_service(session=session, slug="gone-dl", team=team, name="Gone",
                           base_url=f"http://127.0.0.1:{closed_port()}")
    session.commit()


@pytest.mark.parametrize("path", ["/health/dead-letters/a%00b",
                                  "/health/dead-letters/" + "9" * 400,
                                  "/health/dead-letters/ｇｏｎｅ"])
def test_hostile_slugs_are_4xx(client, login_as, path):
    login_as("oncall")
    assert client.get(path).status_code in (400, 404)


@pytest.mark.parametrize("path", ["/health/dead-letters/gone-dl/q%00/redrive",
                                  "/health/dead-letters/gone-dl/orders.shipments/explode",
                                  "/health/dead-letters/gone-dl/" + "q" * 300 + "/discard"])
def test_hostile_actions_are_4xx(client, login_as, gone, path):
    login_as("oncall")
    assert client.post_form(path, {"confirm": "yes"}).status_code in (400, 404)


def test_an_unconfirmed_action_is_refused(client, login_as, gone):
    login_as("oncall")
    response = client.post_form("/health/dead-letters/gone-dl/orders.shipments/discard")
    assert response.status_code == 422 and "confirm" in response.get_data(as_text=True)


def test_an_unreachable_service_renders_and_its_action_fails_audited(client, login_as,
                                                                      gone, session):
    login_as("manager")
    body = client.get("/health/dead-letters/gone-dl").get_data(as_text=True)
    assert "did not answer" in body and "unreachable" in body
    assert 'hx-get="/health/dead-letters/gone-dl"' in \
        client.get("/health/dead-letters/").get_data(as_text=True)
    response = client.post_form("/health/dead-letters/gone-dl/orders.shipments/redrive",
                                {"confirm": "yes"})
    assert response.status_code == 502 and "unreachable" in response.get_data(as_text=True)
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "health.dead_letters_redrive")).one()
    assert entry.outcome == "failure" and entry.target_id == "gone-dl/orders.shipments"


def test_tenant_viewers_and_developers_are_refused(client, login_as, gone):
    login_as("developer")
    assert client.get("/health/dead-letters/gone-dl").status_code == 403
