"""The dashboard: filters, percentiles, the cache, the page, its fragment and who sees it."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.tenants import cache, dashboard

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize("args,message", [
    ({"from": "2026-11-20", "to": "2026-11-01"}, "start date is after the end date"),
    ({"from": "2025-01-01", "to": "2026-11-01"}, "at most 366 days"),
    ({"from": "yesterday"}, "must be a date"),
    ({"warehouse": "x'; drop table"}, "warehouse name"),
])
def test_bad_filters_are_refused_with_a_reason(args, message):
    with pytest.raises(dashboard.FilterError, match=message):
        dashboard.parse_filters(args, today=TODAY)


def test_default_range_is_the_last_30_days_and_366_days_is_allowed():
    f = dashboard.parse_filters({}, today=TODAY)
    assert (f.date_from, f.date_to, f.warehouse) == (date(2026, 10, 23), TODAY, None)
    year = dashboard.parse_filters({"from": "2025-11-21", "to": "2026-11-21"}, today=TODAY)
    assert (year.date_to - year.date_from).days + 1 == 366


def test_quantiles_interpolate_inside_the_histogram_bucket():
    buckets = [0] * 21
    buckets[2] = 90   # 60..120 s
    buckets[8] = 10   # 600..900 s
    assert dashboard.quantile(buckets, .5) == pytest.approx(60 + 60 * 50 / 90)
    assert dashboard.quantile(buckets, .95) == pytest.approx(600 + 300 * 5 / 10)
    assert dashboard.quantile([0] * 21, .5) is None


def test_cache_keys_name_the_tenant_and_never_cross(app, session, make_tenant, rollup):
    a, b = make_tenant(), make_tenant()
    rollup(a, orders=7)
    rollup(b, orders=2)
    f = dashboard.parse_filters({}, today=dashboard.date.today())
    got_a = dashboard.aggregates(session=session, tenant_id=a.id, filters=f, today=f.date_to)
    got_b = dashboard.aggregates(session=session, tenant_id=b.id, filters=f, today=f.date_to)
    assert got_a["orders"]["totals"]["fulfilled"] == 21
    assert got_b["orders"]["totals"]["fulfilled"] == 6
    keys = cache.store().keys()
    assert {k.split(":")[3] for k in keys} == {str(a.id), str(b.id)}
    assert cache.key(a.id, "dashboard", 1) != cache.key(b.id, "dashboard", 1)
    with pytest.raises(TypeError):
        cache.key("acme", "dashboard")


def test_tenant_viewer_sees_charts_tables_and_freshness(client, login_as, make_tenant, rollup):
    tenant = make_tenant()
    rollup(tenant, low_sku="SKU-LOW-1")
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for chart in ("chart-orders-per-day", "chart-orders-by-status", "chart-fulfillment",
                  "chart-low-stock", "chart-sla", "/vendor/plotly.min.js"):
        assert chart in html
    for table in ("table-orders-per-day", "table-orders-by-status", "table-fulfillment",
                  "table-low-stock", "table-sla"):
        assert f'id="{table}"' in html
    assert "SKU-LOW-1" in html and 'id="data-as-of"' in html
    assert "80.0%" in html  # 4 of 5 fulfilled within 5 minutes, every day


def test_api_requests_per_day_and_service_with_error_rates(app, session, make_tenant,
                                                          api_rollup):
    tenant, other = make_tenant(), make_tenant()
    api_rollup(tenant, {0: {"order": (1000, 20, 5), "search": (3000, 0, 0)},
                        2: {"order": (500, 10, 0)}, 40: {"order": (9999, 0, 9999)}})
    api_rollup(other, {0: {"order": (7, 7, 7)}})
    f = dashboard.parse_filters({}, today=dashboard.date.today())
    api = dashboard.aggregates(session=session, tenant_id=tenant.id, filters=f,
                               today=f.date_to)["api"]
    assert api["requests"][-1] == 4000 and api["requests"][-3] == 500
    assert api["server_errors"][-1] == 5 and api["error_rate"][-1] == 0.125
    assert api["error_rate"][-2] is None  # no requests that day: no rate, not 0 %
    assert api["totals"] == {"requests": 4500, "client_errors": 30, "server_errors": 5,
                             "error_rate": 0.111, "client_error_rate": 0.667}
    assert api["by_service"] == [["search", 3000, 0, 0, 0.0], ["order", 1500, 30, 5, 0.333]]


def test_dashboard_page_shows_api_requests_as_chart_and_tables(client, login_as, make_tenant,
                                                               api_rollup):
    tenant = make_tenant()
    api_rollup(tenant, {0: {"order": (1200, 24, 6)}, 1: {"inventory": (800, 0, 0)}})
    login_as("tenant_viewer", tenant=tenant)
    html = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert "chart-api-requests" in html and 'id="table-api-per-day"' in html
    assert '<strong id="kpi-api-requests">2,000</strong>' in html
    assert '<strong id="kpi-api-error-rate">0.3%</strong>' in html
    assert "<td>order</td><td>1,200</td><td>24</td><td>6</td><td>0.5%</td>" in html


def test_a_tenant_without_api_traffic_is_told_so(client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    html = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert 'id="api-none"' in html and "chart-api-requests" not in html


def test_filter_change_returns_only_the_fragment(client, login_as, make_tenant, rollup):
    tenant = make_tenant()
    rollup(tenant, days=3, orders=5)
    login_as("tenant_viewer", tenant=tenant)
    today = dashboard.date.today()
    response = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?from={today}&to={today}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert '<strong id="kpi-orders">10</strong>' in html  # one day: 5 fulfilled + 5 canceled


@pytest.mark.parametrize("query", ["from=2026-11-20&to=2026-11-01",
                                   "from=2020-01-01&to=2026-11-01", "to=31-12-2026"])
def test_bad_ranges_are_a_clear_400_for_page_and_fragment(query, client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/dashboard?{query}")
    fragment = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?{query}")
    assert page.status_code == fragment.status_code == 400
    assert "<html" not in fragment.get_data(as_text=True)


@pytest.mark.parametrize("role,status", [("manager", 200), ("admin", 200),
                                         ("developer", 403), ("oncall", 403)])
def test_internal_access_to_a_dashboard_is_audited(role, status, client, login_as,
                                                   make_tenant, session):
    tenant = make_tenant()
    login_as(role)
    assert client.get(f"/tenants/{tenant.slug}/dashboard").status_code == status
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "tenants.data_viewed",
        AuditEntry.target_id == str(tenant.id))).all()
    assert len(entries) == (1 if status == 200 else 0)


def test_tenant_viewer_access_is_not_audited(client, login_as, make_tenant, session):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    assert client.get(f"/tenants/{tenant.slug}/dashboard").status_code == 200
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.action == "tenants.data_viewed",
        AuditEntry.target_id == str(tenant.id))).all() == []
