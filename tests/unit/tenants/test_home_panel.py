"""The tenants panel of the home page: a tenant viewer's dashboard link, latest reports
and SLA this month — their own tenant's only, and nobody else sees it."""
from datetime import date

import pytest

from portal.tenants import reports


def _report(session, tenant, kind="orders"):
    report = reports.request(session=session, tenant_id=tenant.id, kind=kind, fmt="csv",
                             date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    session.commit()
    return report


def test_tenant_viewer_sees_own_dashboard_link_reports_and_sla(client, session, login_as,
                                                              make_tenant, rollup, sent):
    mine, other = make_tenant(), make_tenant()
    rollup(mine, days=1, fast=4, slow=1)
    rollup(other, days=1, fast=1, slow=1)
    _report(session, mine, kind="inventory")
    _report(session, other, kind="fulfillment")
    login_as("tenant_viewer", tenant=mine)
    html = client.get("/").get_data(as_text=True)
    assert 'id="tenants-home-panel"' in html
    assert f'href="/tenants/{mine.slug}/dashboard"' in html
    assert 'id="home-sla-pct">80.0%' in html
    assert "Inventory (CSV)" in html and "Fulfillment (CSV)" not in html
    assert other.slug not in html


@pytest.mark.parametrize("role", ["manager", "oncall", "developer", "admin"])
def test_internal_users_do_not_get_the_tenant_panel(client, login_as, role):
    login_as(role)
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="tenants-home-panel"' not in page.get_data(as_text=True)
