"""Billing usage on the tenant dashboard against the real billing service
(platform_services.billing.api.build, served on a free loopback port as the account
services' tests do) on the services' migrated database; usage is metered through its own API.
No Redis for the meter (it then counts in PostgreSQL directly) and no Stripe: reading
usage needs neither."""
from datetime import UTC, datetime

import pytest

from platform_services.billing.api import build
from platform_services.common.config import ServiceConfig
from platform_services.common.runner import start
from portal.integrations.billing import BillingClient, BillingUnavailable
from portal.tenants import periods
from tests.integration.services import tokens
from tests.integration.services.tokens import api
from tests.integration.tenants import servers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform_auth(services_db):
    """The auth service the billing service trusts and the portal gets its token from."""
    yield from tokens.platform_auth(services_db)


@pytest.fixture(scope="module")
def billing(services_db, platform_auth):
    running = api.track(start(build(ServiceConfig(
        service="billing", database_url=services_db, log_format="text",
        **tokens.service_credentials(platform_auth.url)), log=False)))
    yield running.url
    running.stop()


@pytest.fixture
def billing_client(platform_auth):
    """A BillingClient factory with the test platform client's tokens."""
    source = tokens.credentials(platform_auth.url)
    return lambda url: BillingClient(url, token=source.token)


def _meter(url: str, tenant, usage: dict[str, int]) -> None:
    assert api.put(f"{url}/v1/tenants/{tenant.slug}",
                   json={"id": tenant.id, "name": tenant.name}, timeout=5).ok
    for meter, quantity in usage.items():
        response = api.post(f"{url}/v1/tenants/{tenant.slug}/usage",
                            json={"meter": meter, "quantity": quantity}, timeout=5)
        assert response.status_code == 202, response.text


def _fresh_cache(app) -> None:
    app.extensions.pop("tenants_cache", None)


def test_client_reads_the_usage_the_service_metered(billing, billing_client, live,
                                                     tenant_with_viewer):
    tenant, _ = tenant_with_viewer()
    _meter(billing, tenant, {"orders": 3, "api_calls": 1200})
    usage = billing_client(billing).usage(tenant.id)
    assert usage.registered and usage.period == datetime.now(UTC).strftime("%Y-%m")
    assert {(m.meter, m.total) for m in usage.meters} == {("orders", 3), ("api_calls", 1200)}
    assert billing_client(billing).usage(tenant.slug, period="2020-01").meters == ()


def test_client_tells_an_unknown_tenant_from_an_outage(billing, billing_client):
    assert billing_client(billing).usage(999_999_991).registered is False
    closed = f"http://127.0.0.1:{servers.closed_port()}"
    with pytest.raises(BillingUnavailable):
        BillingClient(closed, timeout=0.5, attempts=2, backoff=0).usage(1)
    with pytest.raises(ValueError):
        billing_client(billing).usage(1, period="2026-13")


def test_dashboard_shows_usage_to_date(billing, platform_auth, live, tenant_with_viewer,
                                      monkeypatch):
    app, _ = live
    monkeypatch.setitem(app.config, "BILLING_URL", billing)
    for key, value in tokens.portal_config(platform_auth.url).items():
        monkeypatch.setitem(app.config, key, value)
    _fresh_cache(app)
    tenant, client = tenant_with_viewer()
    _meter(billing, tenant, {"orders": 7, "notifications": 42})
    page = client.get(f"/tenants/{tenant.slug}/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="table-billing-usage"' in html
    assert "<td>Orders</td><td>7</td>" in html and "<td>Notifications</td><td>42</td>" in html
    assert f'<caption id="billing-period">Usage {_this_month()}</caption>' in html
    # Cached per tenant: a later meter reading shows only once the entry expires.
    _meter(billing, tenant, {"orders": 1})
    assert "<td>Orders</td><td>7</td>" in client.get(
        f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    _fresh_cache(app)
    assert "<td>Orders</td><td>8</td>" in client.get(
        f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)


def _this_month() -> str:
    today = datetime.now(UTC).date()
    return periods.label(*periods.month_bounds(today.year, today.month))


def test_dashboard_explains_a_period_without_usage(billing, platform_auth, live,
                                                  tenant_with_viewer, monkeypatch):
    """A tenant billing has never metered, then one it knows with nothing metered."""
    app, _ = live
    monkeypatch.setitem(app.config, "BILLING_URL", billing)
    for key, value in tokens.portal_config(platform_auth.url).items():
        monkeypatch.setitem(app.config, key, value)
    _fresh_cache(app)
    tenant, client = tenant_with_viewer()
    expected = f'id="billing-empty">No usage recorded this period yet ({_this_month()}).'
    html = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert expected in html and 'id="table-billing-usage"' not in html
    _meter(billing, tenant, {})
    _fresh_cache(app)
    assert expected in client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)


def test_dashboard_stays_up_when_billing_is_down(live, tenant_with_viewer, monkeypatch):
    app, _ = live
    monkeypatch.setitem(app.config, "BILLING_URL", f"http://127.0.0.1:{servers.closed_port()}")
    monkeypatch.setitem(app.config, "BILLING_TIMEOUT", 0.5)
    _fresh_cache(app)
    tenant, client = tenant_with_viewer()
    page = client.get(f"/tenants/{tenant.slug}/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="billing-unavailable"' in html and 'id="table-orders-by-status"' in html
    assert "Billing is unavailable right now; usage will show when it answers." in html
    assert 'id="table-billing-usage"' not in html
