"""Incremental rollups from the services' real tables on PostgreSQL."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.tenants import rollups
from portal.tenants.models import DailyFulfillment, DailyOrders, LowStock
from tests.integration.tenants.conftest import add_order, today_noon

pytestmark = pytest.mark.integration


def _refresh(app):
    with app.app_context(), db.session_scope() as session:
        return rollups.refresh(session=session, source=session.connection(),
                               low_stock_threshold=10)


def _orders(app, tenant_id):
    with app.app_context(), db.session_scope() as session:
        rows = session.execute(select(DailyOrders.warehouse, DailyOrders.status,
                                      DailyOrders.orders, DailyOrders.units)
                               .where(DailyOrders.tenant_id == tenant_id)).all()
        return {(w, s): (n, u) for w, s, n, u in rows}


def test_rollups_follow_new_orders_and_status_changes(live, tenant_with_viewer):
    app, _ = live
    tenant, _ = tenant_with_viewer()
    day = today_noon()
    with app.app_context(), db.session_scope() as session:
        add_order(session, tenant.id, created=day, status="fulfilled",
                  fulfilled_after=timedelta(seconds=90))
        add_order(session, tenant.id, created=day, status="fulfilled", warehouse="reno",
                  fulfilled_after=timedelta(minutes=20))
        pending = add_order(session, tenant.id, created=day, units=5)
    first = _refresh(app)
    assert first.days_recomputed >= 1 and first.sources_missing == ()
    assert _orders(app, tenant.id) == {("newark", "fulfilled"): (1, 2),
                                       ("reno", "fulfilled"): (1, 2),
                                       ("newark", "pending"): (1, 5)}
    with app.app_context(), db.session_scope() as session:
        fulfilled = session.execute(select(DailyFulfillment.warehouse, DailyFulfillment.shipments,
                                           DailyFulfillment.within_sla).where(
            DailyFulfillment.tenant_id == tenant.id)).all()
        assert sorted(fulfilled) == [("newark", 1, 1), ("reno", 1, 0)]
        session.execute(text("UPDATE orders.orders SET status = 'canceled', updated_at = now() "
                             "WHERE id = :id"), {"id": pending})
    _refresh(app)
    got = _orders(app, tenant.id)
    assert got[("newark", "canceled")] == (1, 5) and ("newark", "pending") not in got


def test_low_stock_rows_come_and_go_with_inventory(live, tenant_with_viewer):
    app, _ = live
    tenant, _ = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        session.execute(text(
            "INSERT INTO inventory.stock (tenant_id, sku, warehouse, on_hand, reserved) VALUES "
            "(:t, 'LOW-1', 'newark', 8, 3), (:t, 'OK-1', 'newark', 500, 0)"), {"t": tenant.id})
    _refresh(app)
    with app.app_context(), db.session_scope() as session:
        low = session.scalars(select(LowStock.sku).where(LowStock.tenant_id == tenant.id)).all()
        assert low == ["LOW-1"]
        session.execute(text("UPDATE inventory.stock SET on_hand = 200, updated_at = now() "
                             "WHERE tenant_id = :t AND sku = 'LOW-1'"), {"t": tenant.id})
    _refresh(app)
    with app.app_context(), db.session_scope() as session:
        assert session.scalars(select(LowStock).where(LowStock.tenant_id == tenant.id)).all() == []


def test_a_database_without_the_services_tables_is_reported_not_fatal(app, session):
    result = rollups.refresh(session=session, source=session.connection(), low_stock_threshold=10)
    assert set(result.sources_missing) == {"orders.orders", "fulfillment.shipments",
                                           "inventory.stock", "telemetry.api_requests"}


def _api_hour(session, tenant_id, hour, service="order", requests=10, client=1, server=0):
    session.execute(text(
        "INSERT INTO telemetry.api_requests (tenant_id, hour, service, requests, client_errors, "
        "server_errors) VALUES (:t, :h, :s, :r, :c, :e) ON CONFLICT (tenant_id, hour, service) "
        "DO UPDATE SET requests = telemetry.api_requests.requests + excluded.requests, "
        "updated_at = now()"),
        {"t": tenant_id, "h": hour, "s": service, "r": requests, "c": client, "e": server})


def _api_days(app, tenant_id):
    from portal.tenants.models import DailyApiRequests as A
    with app.app_context(), db.session_scope() as session:
        rows = session.execute(select(A.day, A.service, A.requests, A.client_errors,
                                      A.server_errors).where(A.tenant_id == tenant_id)).all()
        return {(d, s): (r, c, e) for d, s, r, c, e in rows}


def test_api_requests_roll_up_per_day_and_follow_later_counts(live, tenant_with_viewer):
    app, _ = live
    tenant, client = tenant_with_viewer()
    other, _ = tenant_with_viewer()
    noon = today_noon()
    with app.app_context(), db.session_scope() as session:
        _api_hour(session, tenant.id, noon, requests=100, client=4, server=2)
        _api_hour(session, tenant.id, noon + timedelta(hours=3), requests=50)
        _api_hour(session, tenant.id, noon, service="search", requests=300, client=0)
        _api_hour(session, tenant.id, noon - timedelta(days=1), requests=7, client=0)
        _api_hour(session, other.id, noon, requests=999, server=999)
        _api_hour(session, 987_654_321, noon, requests=1)  # unknown to the portal: skipped
    assert _refresh(app).api_days_recomputed >= 3
    day = noon.date()
    assert _api_days(app, tenant.id) == {(day, "order"): (150, 5, 2),
                                         (day, "search"): (300, 0, 0),
                                         (day - timedelta(days=1), "order"): (7, 0, 0)}
    with app.app_context(), db.session_scope() as session:
        _api_hour(session, tenant.id, noon + timedelta(hours=3), requests=25)
    _refresh(app)
    assert _api_days(app, tenant.id)[(day, "order")] == (175, 5, 2)

    html = client.get(f"/tenants/{tenant.slug}/dashboard").get_data(as_text=True)
    assert '<strong id="kpi-api-requests">482</strong>' in html
    assert "999" not in html  # the other tenant's traffic never shows


def _snapshot(app, tenant_id):
    with app.app_context(), db.session_scope() as session:
        orders = session.execute(select(DailyOrders.day, DailyOrders.warehouse,
                                        DailyOrders.status, DailyOrders.orders,
                                        DailyOrders.units)
                                 .where(DailyOrders.tenant_id == tenant_id)).all()
        fulfilled = session.execute(select(DailyFulfillment.day, DailyFulfillment.warehouse,
                                           DailyFulfillment.shipments,
                                           DailyFulfillment.within_sla,
                                           DailyFulfillment.buckets)
                                    .where(DailyFulfillment.tenant_id == tenant_id)).all()
        return sorted(map(tuple, orders)), sorted(map(tuple, fulfilled))


@pytest.mark.parametrize("chunk", [10_000, 2], ids=["one-chunk", "many-chunks"])
def test_the_first_full_backfill_equals_recomputing_day_by_day(live, tenant_with_viewer,
                                                                monkeypatch, chunk):
    from portal.tenants import sources
    from portal.tenants.models import Watermark
    monkeypatch.setattr(rollups, "CHUNK", chunk)
    app, _ = live
    tenant, _ = tenant_with_viewer()
    noon = today_noon()
    with app.app_context(), db.session_scope() as session:
        for days_ago, status, warehouse, after in [
                (0, "fulfilled", "newark", timedelta(seconds=50)),
                (0, "fulfilled", "reno", timedelta(minutes=7)),
                (0, "fulfilled", "reno", timedelta(hours=2)),
                (1, "canceled", "newark", None), (1, "pending", "reno", None),
                (2, "fulfilled", "newark", timedelta(minutes=4))]:
            add_order(session, tenant.id, created=noon - timedelta(days=days_ago),
                      status=status, warehouse=warehouse, fulfilled_after=after)
        session.execute(text("DELETE FROM tenants_rollup_watermarks WHERE source = :s"),
                        {"s": sources.ORDERS})
    _refresh(app)  # no watermark: the one-pass backfill
    backfilled = _snapshot(app, tenant.id)
    assert len(backfilled[0]) == 5 and len(backfilled[1]) == 3
    with app.app_context(), db.session_scope() as session:
        assert session.get(Watermark, sources.ORDERS).watermark is not None
        days = [(tenant.id, (noon - timedelta(days=n)).date()) for n in range(3)]
        for model in (DailyOrders, DailyFulfillment):
            session.execute(text(f"DELETE FROM {model.__tablename__} WHERE tenant_id = :t"),
                            {"t": tenant.id})
        rollups.recompute_days(session=session, source=session.connection(), pairs=days)
    assert _snapshot(app, tenant.id) == backfilled


def test_the_first_api_backfill_equals_the_incremental_rollup(live, tenant_with_viewer):
    from portal.tenants import sources
    app, _ = live
    tenant, _ = tenant_with_viewer()
    noon = today_noon()
    with app.app_context(), db.session_scope() as session:
        for hours, service, requests in [(0, "order", 40), (5, "order", 2), (-20, "search", 9)]:
            _api_hour(session, tenant.id, noon + timedelta(hours=hours), service=service,
                      requests=requests, client=1, server=1)
    _refresh(app)
    incremental = _api_days(app, tenant.id)
    with app.app_context(), db.session_scope() as session:
        session.execute(text("DELETE FROM tenants_rollup_watermarks WHERE source = :s"),
                        {"s": sources.API_REQUESTS})
        session.execute(text("UPDATE tenants_daily_api_requests SET requests = 0"))
    _refresh(app)  # no watermark: the one-pass backfill replaces every row
    assert _api_days(app, tenant.id) == incremental
    assert incremental[(noon.date(), "order")] == (42, 2, 2)


def test_a_first_stock_refresh_over_many_rows_keeps_only_the_low_ones(live, tenant_with_viewer):
    from portal.tenants import sources
    app, _ = live
    tenant, _ = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        # 12,000 SKUs, every 100th at or below the threshold of 10 available units.
        session.execute(text(
            "INSERT INTO inventory.stock (tenant_id, sku, warehouse, on_hand, reserved) "
            "SELECT :t, 'BULK-' || n, 'newark', CASE WHEN n % 100 = 0 THEN 5 ELSE 500 END, 0 "
            "FROM generate_series(1, 12000) n"), {"t": tenant.id})
        session.execute(text("DELETE FROM tenants_rollup_watermarks WHERE source = :s"),
                        {"s": sources.STOCK})
    assert _refresh(app).stock_rows_seen >= 12_000
    with app.app_context(), db.session_scope() as session:
        low = session.scalars(select(LowStock.sku).where(LowStock.tenant_id == tenant.id,
                                                         LowStock.sku.like("BULK-%"))).all()
        assert len(low) == 120
        session.execute(text("UPDATE inventory.stock SET on_hand = 500, updated_at = now() "
                             "WHERE tenant_id = :t AND sku LIKE 'BULK-%'"), {"t": tenant.id})
    _refresh(app)
    with app.app_context(), db.session_scope() as session:
        assert session.scalars(select(LowStock.sku).where(
            LowStock.tenant_id == tenant.id, LowStock.sku.like("BULK-%"))).all() == []
