"""Where the dashboard's billing panel finds the billing service, and what it says when
there is none (the client itself is tested against the real service in integration)."""
from datetime import date

from portal.catalog import service as catalog
from portal.tenants import billing_usage
from tests import servers


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


def test_period_labels_name_the_whole_billing_month():
    assert billing_usage.period_label("2026-12", today=date(2027, 1, 5)) == "1–31 Dec 2026"
    assert billing_usage.period_label("2028-02", today=date(2028, 2, 3)) == "1–29 Feb 2028"
    assert billing_usage.period_label("", today=date(2026, 11, 30)) == "1–30 Nov 2026"


def test_a_dead_billing_service_is_explained_not_an_empty_panel(app, client, login_as,
                                                               make_tenant, monkeypatch):
    monkeypatch.setitem(app.config, "BILLING_URL", f"http://127.0.0.1:{servers.closed_port()}")
    monkeypatch.setitem(app.config, "BILLING_TIMEOUT", 0.5)
    assert billing_usage.fetch(url=app.config["BILLING_URL"], tenant_id=1, timeout=0.5,
                               today=date(2026, 12, 7)) == {"state": "unavailable"}
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    html = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert "Billing is unavailable right now; usage will show when it answers." in html
