"""Fixtures of the tenants unit tests: rollup rows written straight into the test session."""
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.tenants import reports
from portal.tenants.models import (
    DURATION_BOUNDS,
    DailyApiRequests,
    DailyFulfillment,
    DailyOrders,
    LowStock,
)


@pytest.fixture
def sent(monkeypatch):
    """Report ids whose build task would be sent (no worker in unit tests)."""
    ids = []
    monkeypatch.setattr(reports, "send", ids.append)
    return ids


@pytest.fixture
def rollup(session):
    """Write rollups for a tenant: `orders` per day per status, `fast`/`slow` fulfillments."""
    def write(tenant, *, days=3, orders=5, warehouse="newark", fast=4, slow=1, low_sku=None):
        today = utcnow().date()
        for i in range(days):
            day = today - timedelta(days=i)
            for status in ("fulfilled", "canceled"):
                session.add(DailyOrders(tenant_id=tenant.id, day=day, warehouse=warehouse,
                                        status=status, orders=orders, units=orders * 2))
            buckets = [0] * (len(DURATION_BOUNDS) + 1)
            buckets[2] += fast      # 60-120 s
            buckets[8] += slow      # 600-900 s
            session.add(DailyFulfillment(tenant_id=tenant.id, day=day, warehouse=warehouse,
                                         shipments=fast + slow, within_sla=fast,
                                         buckets=buckets))
        if low_sku:
            session.add(LowStock(tenant_id=tenant.id, sku=low_sku, warehouse=warehouse,
                                 on_hand=3, reserved=1, available=2, updated_at=utcnow()))
        session.commit()
    return write


@pytest.fixture
def api_rollup(session):
    """Write daily API request rollups: {days_ago: {service: (requests, 4xx, 5xx)}}."""
    def write(tenant, per_day: dict[int, dict[str, tuple[int, int, int]]]):
        today = utcnow().date()
        for days_ago, services in per_day.items():
            for service, (requests, client_errors, server_errors) in services.items():
                session.add(DailyApiRequests(
                    tenant_id=tenant.id, day=today - timedelta(days=days_ago), service=service,
                    requests=requests, client_errors=client_errors,
                    server_errors=server_errors))
        session.commit()
    return write
