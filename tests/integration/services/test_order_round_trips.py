"""What one order costs the order service's database, and idempotency when Redis forgot a
key: the order, its lines and its event are one statement; with a key Redis vouches is
new nothing is read first, and a key Redis no longer knows still replays the stored order
(the unique index finds it) and gives the surplus reservation back."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.integration.services.servers import REDIS_URL, register, stock
from tests.integration.services.test_orders import counts
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
BODY = {"lines": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]}


@pytest.fixture
def order_stack(config, run_service, tenant):
    """Inventory + order service with Redis; (order url, order engine, stock of SKU-1)."""
    def make(units: int = 100):
        inventory = run_service(config("inventory", redis_url=REDIS_URL))
        order = run_service(config("order", redis_url=REDIS_URL, inventory_url=inventory.url))
        for service in (inventory, order):
            register(service.url, tenant)
        stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": units, "SKU-2": 100})
        return f"{order.url}/v1/tenants/{tenant[1]}/orders", order.service.engines[0]
    return make


def _statements(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split())[:60])
    return seen


def _post(url: str, key: str, body: dict = BODY):
    return api.post(url, json=body, headers={"Idempotency-Key": key}, timeout=30)


def test_a_new_order_is_one_statement(order_stack, tenant, services_db):
    url, engine = order_stack()
    assert _post(url, "warm-up").status_code == 201  # the tenant is now known in-process
    seen = _statements(engine)
    made = _post(url, "second")
    assert made.status_code == 201, made.text
    assert len(seen) == 1 and seen[0].startswith("WITH new_order AS ( INSERT INTO orders.orders")
    assert [line["sku"] for line in made.json()["lines"]] == ["SKU-1", "SKU-2"]
    # The statement reads the lines from the event's JSON: the stored rows match the answer.
    assert api.get(f"{url}/{made.json()['id']}", timeout=30).json()["lines"] == \
        made.json()["lines"]
    assert counts(services_db, tenant[0]) == (2, 2, 6)  # orders, events, reserved units


def test_a_key_redis_forgot_replays_the_stored_order_and_returns_the_surplus_stock(
        order_stack, tenant, services_db, redis_client, run_prefix):
    url, _ = order_stack()
    first = _post(url, "forgotten")
    redis_client.delete(f"{run_prefix}idem:order:{tenant[0]}:forgotten")
    again = _post(url, "forgotten")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert counts(services_db, tenant[0]) == (1, 1, 3)  # the retry's reservation released


def test_a_key_redis_forgot_replays_even_when_the_stock_is_gone(
        order_stack, tenant, services_db, redis_client, run_prefix):
    url, _ = order_stack(units=2)
    first = _post(url, "sold-out")
    assert first.status_code == 201, first.text
    redis_client.delete(f"{run_prefix}idem:order:{tenant[0]}:sold-out")
    again = _post(url, "sold-out")  # the reservation is refused, the stored order answers
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert _post(url, "new-key").status_code == 409  # a new order is refused as before


def test_a_forgotten_key_reused_for_another_order_is_refused_with_its_stock_back(
        order_stack, tenant, services_db, redis_client, run_prefix):
    url, _ = order_stack()
    assert _post(url, "reused").status_code == 201
    redis_client.delete(f"{run_prefix}idem:order:{tenant[0]}:reused")
    other = _post(url, "reused", {"lines": [{"sku": "SKU-2", "quantity": 5}]})
    assert other.status_code == 422, other.text
    assert other.json()["error"] == "idempotency_key_reused"
    assert counts(services_db, tenant[0]) == (1, 1, 3)
