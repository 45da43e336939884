"""The portal's live health panel against a real running order service (HTTP only: the
portal reads /readyz and /metrics from the catalog's base_url)."""
from __future__ import annotations

import pytest

from portal.catalog import service as catalog
from tests.integration.services import tokens
from tests.servers import closed_port

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def portal_reads_with_a_token(app, platform_auth):
    """The portal gets its tokens for the services' /readyz and /metrics from the auth
    service they trust."""
    app.config.update(tokens.portal_config(platform_auth.url))


@pytest.fixture
def probed(session, config, run_service):
    """A catalog service whose base_url is a live order service (no broker, no Redis)."""
    running = run_service(config("order"))
    team = catalog.upsert_team(session=session, slug="commerce-t", name="Commerce",
                               chat_channel=None)
    catalog.upsert_service(session=session, slug="order-t", team=team, name="Order Service",
                           base_url=running.url)
    session.commit()
    return running


@pytest.mark.parametrize("role, status", [("developer", 200), ("oncall", 200),
                                          ("manager", 200), ("admin", 200),
                                          ("tenant_viewer", 403)])
def test_panel_access_by_role(client, login_as, probed, role, status):
    login_as(role)
    assert client.get("/health/services/order-t").status_code == status


def test_panel_shows_readiness_and_red_numbers(client, login_as, probed):
    login_as("oncall")
    html = client.get("/health/services/order-t").get_data(as_text=True)
    assert 'class="badge ok">ok<' in html  # an optional broker left unset is not a failure
    assert "not configured (orders persist; events wait in orders.outbox)" in html
    assert "p99 latency" in html and "Outbox pending" in html


def test_service_page_includes_the_polling_panel(client, login_as, probed):
    login_as("developer")
    html = client.get("/catalog/services/order-t").get_data(as_text=True)
    assert 'hx-get="/health/services/order-t"' in html


def test_unreachable_service_is_reported_not_an_error(client, login_as, session):
    team = catalog.upsert_team(session=session, slug="data-t", name="Data", chat_channel=None)
    catalog.upsert_service(session=session, slug="gone-t", team=team, name="Gone",
                           base_url=f"http://127.0.0.1:{closed_port()}")
    catalog.upsert_service(session=session, slug="plain-t", team=team, name="No URL")
    session.commit()
    login_as("oncall")
    response = client.get("/health/services/gone-t")
    assert response.status_code == 200 and "unreachable" in response.get_data(as_text=True)
    assert client.get("/health/services/plain-t").status_code == 404
