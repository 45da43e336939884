"""Where the dashboard's billing panel finds the billing service, and what it says when
there is none (the client itself is tested against the real service in integration)."""
from portal.catalog import service as catalog
from portal.tenants import billing_usage


def test_base_url_prefers_the_setting_then_the_catalog(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "BILLING_URL", None)
    team = catalog.upsert_team(session=session, slug="payments-t", name="Payments",
                               chat_channel=None)
    entry = catalog.upsert_service(session=session, slug="billing", team=team, name="Billing",
                                   base_url=None)
    assert billing_usage.base_url(session=session) is None
    entry.base_url = "http://127.0.0.1:8107"
    assert billing_usage.base_url(session=session) == "http://127.0.0.1:8107"
    monkeypatch.setitem(app.config, "BILLING_URL", "http://billing.internal:8080")
    assert billing_usage.base_url(session=session) == "http://billing.internal:8080"


def test_dashboard_says_when_no_billing_service_is_configured(app, client, session, login_as,
                                                             make_tenant, monkeypatch):
    monkeypatch.setitem(app.config, "BILLING_URL", None)
    if (entry := catalog.get_service(session=session, slug="billing")) is not None:
        entry.base_url = None
        session.flush()
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/dashboard")
    assert page.status_code == 200
    assert 'id="billing-unconfigured"' in page.get_data(as_text=True)
