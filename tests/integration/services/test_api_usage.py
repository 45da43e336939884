"""Per-tenant API request counts written by a real order service to telemetry.api_requests
on PostgreSQL: what the tenant dashboard's request volume and error rate come from."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError, OperationalError

from platform_services.common.api_usage import ApiUsage
from platform_services.orders.models import tenants as order_tenants
from tests.integration.services.servers import REDIS_URL, register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


def _rows(db_url: str, tenant_id: int) -> list[tuple]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT service, requests, client_errors, server_errors FROM telemetry.api_requests "
            "WHERE tenant_id = :t ORDER BY service"), {"t": tenant_id}).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_a_service_counts_each_tenants_requests_by_outcome(config, run_service, tenant,
                                                            services_db):
    inventory = run_service(config("inventory", redis_url=REDIS_URL))
    order = run_service(config("order", redis_url=REDIS_URL, inventory_url=inventory.url,
                               api_usage_flush_seconds=3600))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100})
    base = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    assert api.post(base, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                    timeout=30).status_code == 201
    assert api.post(base, json={"lines": []}, timeout=30).status_code == 422
    by_id = f"{order.url}/v1/tenants/{tenant[0]}/orders"  # the id works like the slug
    assert api.get(f"{by_id}/00000000-0000-0000-0000-000000000000",
                   timeout=30).status_code == 404
    assert api.get(by_id, timeout=30).status_code == 200
    # Neither probes nor another tenant's unknown name are anyone's API usage.
    api.get(f"{order.url}/healthz", timeout=30)
    api.get(f"{order.url}/v1/tenants/no-such-tenant-here/orders", timeout=30)

    usage = order.service.app.extensions["api_usage"]
    assert usage.flush() == 1
    assert _rows(services_db, tenant[0]) == [("order", 4, 2, 0)]
    api.get(by_id, timeout=30)
    usage.flush()  # adds to the same hour's row
    assert _rows(services_db, tenant[0]) == [("order", 5, 2, 0)]


def test_stopping_a_service_flushes_what_it_counted(config, run_service, tenant, services_db):
    order = run_service(config("order", api_usage_flush_seconds=3600))
    register(order.url, tenant)
    api.get(f"{order.url}/v1/tenants/{tenant[1]}/orders", timeout=30)
    order.stop()  # the flusher's final run
    assert _rows(services_db, tenant[0]) == [("order", 1, 0, 0)]


def test_a_failed_flush_keeps_the_counts_for_the_next_one(services_db, tenant):
    broken = create_engine("postgresql+psycopg://127.0.0.1:1/nothing",
                           connect_args={"connect_timeout": 2})
    usage = ApiUsage("order", broken, order_tenants)
    usage.record(tenant[1], 500)
    for _ in range(3):  # an outage is waited out, however many flushes it lasts
        with pytest.raises(OperationalError):
            usage.flush()
    assert sum(c["server_errors"] for c in usage.pending().values()) == 1
    assert usage.dropped == 0
    broken.dispose()


def test_counts_the_database_refuses_are_dropped_after_a_second_try(
        config, run_service, tenant, services_db, caplog):
    """A value PostgreSQL refuses (here a service name longer than the column) is retried
    once, then dropped and logged, instead of failing every flush from then on."""
    register(run_service(config("order")).url, tenant)
    engine = create_engine(services_db)
    usage = ApiUsage("s" * 41, engine, order_tenants)
    usage.record(tenant[1], 200)
    for _ in range(2):
        with pytest.raises(DataError):
            usage.flush()
    assert usage.pending() == {} and usage.dropped == 1
    assert "dropping API usage" in caplog.text
    assert usage.flush() == 0  # nothing left to fail
    engine.dispose()


def test_paths_naming_no_possible_tenant_are_not_counted(config, run_service, tenant):
    """Unicode digits, ids beyond INTEGER and 20-digit ids answer 404 and never reach the
    buffer, so a flush cannot choke on them."""
    order = run_service(config("order", api_usage_flush_seconds=3600))
    register(order.url, tenant)
    for ref in ("²", "٢", "9" * 20, str(2**31), "0"):
        assert api.get(f"{order.url}/v1/tenants/{ref}/orders", timeout=10).status_code == 404
    api.get(f"{order.url}/v1/tenants/00{tenant[0]}/orders", timeout=10)  # the same tenant
    usage = order.service.app.extensions["api_usage"]
    assert {ref for ref, _ in usage.pending()} == {str(tenant[0])}
    assert usage.flush() == 1
