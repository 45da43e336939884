"""The dashboard: filters, percentiles, the cache, the page, its fragment and who sees it."""
import json
import re
from datetime import date
from html import unescape

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


@pytest.mark.parametrize("query,field,message", [
    ("from=2026-11-20&to=2026-11-01", "from", "start date is after the end date"),
    ("from=2020-01-01&to=2026-11-01", "from", "at most 366 days"),
    ("to=31-12-2026", "to", "must be a date"),
    ("to=2026-11-0", "to", "must be a date"),                       # half typed
    ("from=\uff12\uff10\uff12\uff16-11-01", "from", "must be a date"),  # fullwidth digits
    ("to=" + "9" * 5000, "to", "must be a date"),
    ("to=99999-01-01", "to", "must be a date"),
    ("warehouse=x%27;drop", "warehouse", "letters, digits"),
    ("warehouse=nowhere", "warehouse", "No warehouse 'nowhere'"),
    ("range=1y", "range", "Choose a range"),
    ("compare=maybe", "compare", "either on or off"),
])
def test_bad_filters_are_a_422_with_the_message_beside_the_field(
        query, field, message, client, login_as, make_tenant, rollup):
    """A fragment carries only the filter form (the charts on screen stay); a page shows the
    messages above the default range's charts. Never a bare 400 or a 500."""
    tenant = make_tenant()
    rollup(tenant, days=2, warehouse="newark")
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/dashboard?{query}")
    fragment = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?{query}")
    assert page.status_code == fragment.status_code == 422
    html, whole = fragment.get_data(as_text=True), page.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#dashboard-filters"
    assert fragment.headers["HX-Reswap"] == "outerHTML"
    assert "<html" not in html and "data-plotly-figure" not in html
    assert f'id="filter-{field}-error"' in html and message in unescape(html)
    if field != "range":
        assert f'aria-describedby="filter-{field}-error"' in html
    assert f'id="filter-{field}-error"' in whole and "data-plotly-figure" in whole


@pytest.mark.parametrize("query", ["from=%00%00", "range=%00", "warehouse=a%00b"])
def test_nul_bytes_in_a_filter_are_refused_at_the_edge_with_a_message(query, client, login_as,
                                                                        make_tenant):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    response = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?{query}")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_presets_resolve_to_days_and_are_recognised_from_dates():
    assert dashboard.parse_filters({"range": "24h"}, today=TODAY).date_from == date(2026, 11, 20)
    week = dashboard.parse_filters({"range": "7d", "from": "2020-01-01"}, today=TODAY)
    assert (week.date_from, week.date_to, week.preset) == (date(2026, 11, 15), TODAY, "7d")
    month = dashboard.parse_filters({"from": "2026-11-01", "to": "2026-11-21"}, today=TODAY)
    assert month.preset == "month"
    assert dashboard.parse_filters({"from": "2026-11-02"}, today=TODAY).preset == "custom"
    assert dashboard.parse_filters({}, today=TODAY).preset == "30d"


def test_only_the_tenants_own_warehouses_are_offered_and_accepted(
        client, login_as, make_tenant, rollup):
    mine, other = make_tenant(), make_tenant()
    rollup(mine, days=1, warehouse="newark")
    rollup(other, days=1, warehouse="reno")
    login_as("tenant_viewer", tenant=mine)
    html = client.get(f"/tenants/{mine.slug}/dashboard").get_data(as_text=True)
    assert '<option value="newark"' in html and "reno" not in html
    assert client.get(f"/tenants/{mine.slug}/dashboard?warehouse=newark").status_code == 200
    refused = client.htmx("GET", f"/tenants/{mine.slug}/dashboard?warehouse=reno")
    assert refused.status_code == 422
    assert "No warehouse 'reno'" in unescape(refused.get_data(as_text=True))


def test_a_preset_link_swaps_the_panels_and_refreshes_the_form(client, login_as, make_tenant,
                                                              rollup):
    tenant = make_tenant()
    rollup(tenant, days=3, orders=5)
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert all(f'id="preset-{p}"' in page for p in dashboard.PRESETS)
    assert 'hx-trigger="change delay:600ms, submit"' in page   # debounced, never per key
    html = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?range=24h").get_data(as_text=True)
    today = dashboard.date.today()
    assert '<div id="dashboard-filters" hx-swap-oob="true">' in html
    assert f'id="filter-from" name="from" value="{today - dashboard.timedelta(days=1)}"' in html
    assert 'id="preset-24h"' in html and 'aria-current="true">24 h' in html
    assert '<strong id="kpi-orders">20</strong>' in html   # two days of 5 + 5


def test_compare_adds_dashed_previous_series_and_deltas(client, login_as, make_tenant, rollup,
                                                       api_rollup):
    tenant = make_tenant()
    rollup(tenant, days=4, orders=5)          # 2 days in this period, 2 in the previous
    api_rollup(tenant, {0: {"orders": (300, 0, 3)}, 2: {"orders": (100, 0, 0)}})
    login_as("tenant_viewer", tenant=tenant)
    plain = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?range=24h")
    assert ", previous period" not in plain.get_data(as_text=True)
    assert "vs previous period" not in plain.get_data(as_text=True)
    html = client.htmx("GET", f"/tenants/{tenant.slug}/dashboard?range=24h&compare=1"
                       ).get_data(as_text=True)
    figures = {name: _figure(html, name) for name in
               ("chart-orders-per-day", "chart-fulfillment", "chart-api-requests")}
    for name, figure in figures.items():
        dashed = [t for t in figure["data"] if t.get("line", {}).get("dash") == "dash"]
        assert dashed and all(t["name"].endswith("previous period") for t in dashed), name
    orders_before = next(t for t in figures["chart-orders-per-day"]["data"]
                         if t["name"] == "orders, previous period")
    assert orders_before["y"] == [10, 10]
    requests_before = next(t for t in figures["chart-api-requests"]["data"]
                           if t["name"] == "requests, previous period")
    assert requests_before["y"] == [0, 100]     # 3 and 2 days ago
    assert '<small class="delta flat" id="delta-orders">+0 (+0%) vs previous period' in html
    assert '<small class="delta up" id="delta-api_requests">+200 (+200%) vs previous' in html
    assert 'id="filter-compare" name="compare" value="1" checked' in html


def _figure(html: str, div_id: str) -> dict:
    spec = re.search(rf'id="{div_id}"[^>]*data-plotly-figure="([^"]*)"', html).group(1)
    return json.loads(unescape(spec))


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
