"""Tenant pages as a screen reader and the browser see them: unique ids, sound aria links."""
import re
from collections import Counter

import pytest

ID = re.compile(r'\sid="([^"]*)"')
ARIA = re.compile(r'\s(aria-[a-z]+)="([^"]*)"')


def _check(html: str) -> None:
    duplicates = [i for i, n in Counter(ID.findall(html)).items() if n > 1]
    assert duplicates == []
    ids = set(ID.findall(html))
    for name, value in ARIA.findall(html):
        assert value not in ("None", ""), name
        if name in ("aria-describedby", "aria-labelledby"):
            assert set(value.split()) <= ids, (name, value)


@pytest.fixture
def viewer(client, login_as, make_tenant, rollup, api_rollup):
    tenant = make_tenant()
    rollup(tenant, days=3, warehouse="newark", low_sku="SKU-1")
    api_rollup(tenant, {0: {"orders": (50, 1, 1)}})
    login_as("tenant_viewer", tenant=tenant)
    return tenant


@pytest.mark.parametrize("query", ["", "?range=7d&compare=1", "?warehouse=newark",
                                   "?from=2026-13-01", "?warehouse=reno&compare=x"])
def test_dashboard_ids_are_unique_and_aria_points_at_real_elements(query, client, viewer):
    for response in (client.get(f"/tenants/{viewer.slug}/dashboard{query}"),
                     client.htmx("GET", f"/tenants/{viewer.slug}/dashboard{query}")):
        assert response.status_code in (200, 422)
        _check(response.get_data(as_text=True))


def test_reports_page_ids_are_unique_with_and_without_errors(client, viewer, sent):
    _check(client.get(f"/tenants/{viewer.slug}/reports").get_data(as_text=True))
    bad_report = client.post_form(f"/tenants/{viewer.slug}/reports", {
        "kind": "payroll", "fmt": "xlsx", "date_from": "x", "date_to": "", "warehouse": "reno"})
    assert bad_report.status_code == 422
    html = bad_report.get_data(as_text=True)
    assert 'aria-describedby="warehouse-error"' in html
    _check(html)
    bad_schedule = client.post_form(f"/tenants/{viewer.slug}/schedules", {
        "kind": "orders", "fmt": "csv", "cadence": "hourly", "email": "not-mail"})
    assert bad_schedule.status_code == 422
    _check(bad_schedule.get_data(as_text=True))


def test_report_form_offers_only_the_tenants_warehouses(client, viewer, make_tenant, rollup):
    rollup(make_tenant(), days=1, warehouse="reno")
    html = client.get(f"/tenants/{viewer.slug}/reports").get_data(as_text=True)
    start = html.index('id="report-form"')
    form = html[start:html.index("</form>", start)]
    assert '<select id="warehouse" name="warehouse">' in form
    assert '<option value="newark">newark</option>' in form and "reno" not in form
