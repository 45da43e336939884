"""Inventory against real PostgreSQL and Redis: row locks prevent overselling, the
write-through cache answers reads, warehouse sync refuses counts below reservations."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.integration.services.servers import REDIS_URL, register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


@pytest.fixture
def inventory(config, run_service, tenant):
    service = run_service(config("inventory", redis_url=REDIS_URL))
    register(service.url, tenant)
    return service


def test_200_concurrent_reservations_against_stock_of_50_reserve_exactly_50(
        inventory, tenant, services_db):
    tid, slug = tenant
    stock(inventory.url, slug, "us-east-1a", {"SKU-HOT": 50})

    def reserve(n: int) -> int:
        return api.post(f"{inventory.url}/v1/tenants/{slug}/reservations", timeout=60,
                        json={"reference": f"order-{n}",
                              "lines": [{"sku": "SKU-HOT", "quantity": 1}]}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(reserve, range(200)))

    assert codes.count(201) == 50
    assert codes.count(409) == 150
    engine = create_engine(services_db)
    with engine.connect() as conn:
        on_hand, reserved = conn.execute(text(
            "SELECT on_hand, reserved FROM inventory.stock WHERE tenant_id = :t"),
            {"t": tid}).one()
        held = conn.scalar(text("SELECT count(*) FROM inventory.reservations "
                                "WHERE tenant_id = :t AND status = 'reserved'"), {"t": tid})
    engine.dispose()
    assert (on_hand, reserved, held) == (50, 50, 50)
    level = api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-HOT", timeout=5).json()
    assert level["available"] == 0 and level["source"] == "cache"


def test_reservation_is_idempotent_per_reference_and_release_gives_stock_back(inventory, tenant):
    _, slug = tenant
    stock(inventory.url, slug, "eu-west-1a", {"SKU-A": 5})
    body = {"reference": "order-x", "lines": [{"sku": "SKU-A", "quantity": 3}]}
    url = f"{inventory.url}/v1/tenants/{slug}/reservations"
    first = api.post(url, json=body, timeout=5)
    again = api.post(url, json=body, timeout=5)
    assert first.status_code == again.status_code == 201
    assert first.json()["reservations"] == again.json()["reservations"]
    assert api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-A",
                   timeout=5).json()["available"] == 2
    assert api.post(f"{url}/order-x/release", timeout=5).status_code == 200
    assert api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-A",
                   timeout=5).json()["available"] == 5


def test_warehouse_sync_refuses_on_hand_below_reserved(inventory, tenant):
    _, slug = tenant
    stock(inventory.url, slug, "us-west-2b", {"SKU-B": 10})
    api.post(f"{inventory.url}/v1/tenants/{slug}/reservations", timeout=5,
             json={"reference": "o1", "lines": [{"sku": "SKU-B", "quantity": 8}]})
    response = api.put(f"{inventory.url}/v1/tenants/{slug}/warehouses/us-west-2b/stock",
                       json={"items": [{"sku": "SKU-B", "on_hand": 5}]}, timeout=5)
    assert response.status_code == 409 and response.json()["error"] == "below_reserved"
    levels = api.get(f"{inventory.url}/v1/tenants/{slug}/stock", timeout=5).json()
    assert levels["stock"][0]["on_hand"] == 10


@pytest.mark.parametrize("body, field", [
    ({"reference": "r", "lines": [{"sku": "SKU-A", "quantity": -2}]}, "lines[0].quantity"),
    ({"reference": "r", "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
    ({"reference": "r; drop", "lines": [{"sku": "SKU-A", "quantity": 1}]}, "reference"),
    ({"reference": "r", "lines": []}, "lines"),
])
def test_bad_reservations_are_refused_and_change_nothing(inventory, tenant, body, field):
    _, slug = tenant
    stock(inventory.url, slug, "us-east-1a", {"SKU-A": 4})
    response = api.post(f"{inventory.url}/v1/tenants/{slug}/reservations", json=body,
                        timeout=5)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert api.get(f"{inventory.url}/v1/tenants/{slug}/stock/SKU-A",
                   timeout=5).json()["available"] == 4
