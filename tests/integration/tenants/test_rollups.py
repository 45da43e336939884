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
                                           "inventory.stock"}
