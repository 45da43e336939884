"""The reservation path against real PostgreSQL and Redis: what it costs in statements,
and that the one-statement reservation keeps every line all-or-nothing, answers a
concurrent retry of the same reference with one reservation, and keeps the cache right."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, text

from platform_services.common.app import ApiError
from platform_services.common.tenant_cache import TenantCache
from platform_services.inventory.models import tenants
from tests.integration.services.servers import REDIS_URL, register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration

# Statements a reservation may cost once the tenant is known to the process: the
# reservation itself, in autocommit (no BEGIN or COMMIT round trip either).
RESERVATION_STATEMENTS = 1


@pytest.fixture
def inventory(config, run_service, tenant):
    service = run_service(config("inventory", redis_url=REDIS_URL))
    register(service.url, tenant)
    return service


class Statements:
    """Every statement the service's engine sends, with whether it ran in autocommit."""

    def __init__(self, engine) -> None:
        self.engine, self.seen = engine, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, _cursor, statement, _params, _context, _many) -> None:
        self.seen.append((statement, conn.connection.dbapi_connection.autocommit))

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def statements(inventory):
    recorder = Statements(inventory.service.engines[0])
    yield recorder
    recorder.close()


def _reserve(inventory, slug, reference, lines):
    return api.post(f"{inventory.url}/v1/tenants/{slug}/reservations", timeout=30,
                    json={"reference": reference, "lines": lines})


def test_a_reservation_is_one_autocommit_statement(inventory, tenant, statements):
    _, slug = tenant
    stock(inventory.url, slug, "us-east-1a", {"SKU-A": 10, "SKU-B": 10})
    assert _reserve(inventory, slug, "warm-up", [{"sku": "SKU-A", "quantity": 1}]) \
        .status_code == 201
    statements.seen.clear()

    lines = [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 3}]
    assert _reserve(inventory, slug, "order-1", lines).status_code == 201
    assert len(statements.seen) <= RESERVATION_STATEMENTS
    assert all(autocommit for _, autocommit in statements.seen)

    statements.seen.clear()
    assert _reserve(inventory, slug, "order-1", lines).status_code == 201  # a retry
    assert _reserve(inventory, slug, "order-2", [{"sku": "SKU-A", "quantity": 99}]) \
        .status_code == 409
    assert len(statements.seen) <= 2 * RESERVATION_STATEMENTS
    assert all(autocommit for _, autocommit in statements.seen)


def test_the_tenant_registry_is_remembered_per_process_for_its_ttl(inventory, tenant,
                                                                   services_db):
    tid, slug = tenant
    now = [0.0]
    engine = create_engine(services_db)
    recorder = Statements(engine)
    cache = TenantCache(engine, tenants, ttl=30, clock=lambda: now[0])
    try:
        assert cache.resolve(slug) == cache.resolve(slug) == tid
        assert cache.resolve(str(tid)) == tid
        assert len(recorder.seen) == 2  # once per spelling of the tenant
        with pytest.raises(ApiError) as unknown:
            cache.resolve("svc-not-yet")
        assert unknown.value.status == 404
        register(inventory.url, (tid + 50_000, "svc-not-yet"))
        assert cache.resolve("svc-not-yet") == tid + 50_000  # misses are not remembered
        recorder.seen.clear()
        now[0] = 31.0
        assert cache.resolve(slug) == tid
        assert len(recorder.seen) == 1  # expired: looked up again
    finally:
        recorder.close()
        engine.dispose()


def test_a_line_short_of_stock_reserves_no_line(inventory, tenant):
    _, slug = tenant
    stock(inventory.url, slug, "us-east-1a", {"SKU-A": 5, "SKU-B": 1})
    response = _reserve(inventory, slug, "o1", [{"sku": "SKU-A", "quantity": 2},
                                                {"sku": "SKU-B", "quantity": 2}])
    assert response.status_code == 409
    assert response.json()["error"] == "insufficient_stock" and "SKU-B" in \
        response.json()["message"]
    levels = api.get(f"{inventory.url}/v1/tenants/{slug}/stock", timeout=5).json()["stock"]
    assert [(r["sku"], r["reserved"]) for r in levels] == [("SKU-A", 0), ("SKU-B", 0)]


def test_each_line_comes_from_the_warehouse_with_most_available(inventory, tenant):
    _, slug = tenant
    stock(inventory.url, slug, "eu-west-1a", {"SKU-A": 3})
    stock(inventory.url, slug, "us-east-1a", {"SKU-A": 7})
    response = _reserve(inventory, slug, "o1", [{"sku": "SKU-A", "quantity": 5}])
    assert response.status_code == 201
    assert response.json()["reservations"] == [
        {"sku": "SKU-A", "quantity": 5, "warehouse": "us-east-1a", "status": "reserved"}]
    level = api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-A", timeout=5).json()
    assert level["source"] == "cache" and level["available"] == 5


def test_concurrent_retries_of_one_reference_reserve_once(inventory, tenant, services_db):
    tid, slug = tenant
    stock(inventory.url, slug, "us-east-1a", {"SKU-A": 100})
    lines = [{"sku": "SKU-A", "quantity": 3}]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: _reserve(inventory, slug, "same", lines),
                                range(20)))

    assert {a.status_code for a in answers} == {201}
    assert all(a.json()["reservations"] == [{"sku": "SKU-A", "quantity": 3,
                                             "warehouse": "us-east-1a", "status": "reserved"}]
               for a in answers)
    engine = create_engine(services_db)
    with engine.connect() as conn:
        reserved = conn.scalar(text("SELECT reserved FROM inventory.stock "
                                    "WHERE tenant_id = :t"), {"t": tid})
        rows = conn.scalar(text("SELECT count(*) FROM inventory.reservations "
                                "WHERE tenant_id = :t"), {"t": tid})
    engine.dispose()
    assert (reserved, rows) == (3, 1)
    level = api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-A", timeout=5).json()
    assert level["available"] == 97


def test_reservations_work_without_redis(config, run_service, tenant):
    """Redis down (here: nothing listening on its port): reservations and reads go on."""
    service = run_service(config("inventory", redis_url="redis://127.0.0.1:1/0"))
    register(service.url, tenant)
    _, slug = tenant
    stock(service.url, slug, "us-east-1a", {"SKU-A": 4})
    assert _reserve(service, slug, "o1", [{"sku": "SKU-A", "quantity": 3}]).status_code == 201
    assert _reserve(service, slug, "o2", [{"sku": "SKU-A", "quantity": 3}]).status_code == 409
    level = api.get(f"{service.url}/v1/tenants/{slug}/stock/SKU-A", timeout=5).json()
    assert level["source"] == "database" and level["available"] == 1
