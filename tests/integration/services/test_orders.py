"""The order service against real PostgreSQL, Redis and a running inventory service:
idempotency under concurrency, bad input writes nothing, the state machine, the breaker."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.integration.services.servers import REDIS_URL, register, stock
from tests.integration.services.tokens import api
from tests.servers import closed_port

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(config, run_service, tenant):
    """Inventory + order service (no broker: events stay in the outbox) for one tenant."""
    def make(redis_url: str | None = REDIS_URL):
        inventory = run_service(config("inventory", redis_url=redis_url))
        order = run_service(config("order", redis_url=redis_url, inventory_url=inventory.url))
        for service in (inventory, order):
            register(service.url, tenant)
        stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100, "SKU-2": 100})
        return order, inventory
    return make


def counts(db_url: str, tenant_id: int) -> tuple[int, int, int]:
    """(orders, outbox events, reserved units) of one tenant."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT (SELECT count(*) FROM orders.orders WHERE tenant_id = :t), "
            "(SELECT count(*) FROM orders.outbox WHERE (payload->>'tenant_id')::int = :t), "
            "(SELECT coalesce(sum(reserved), 0) FROM inventory.stock WHERE tenant_id = :t)"),
            {"t": tenant_id}).one()
    engine.dispose()
    return tuple(row)


@pytest.mark.parametrize("redis_url", [REDIS_URL, None], ids=["redis", "unique-constraint"])
def test_same_post_with_same_key_ten_times_concurrently_makes_one_order(
        stack, tenant, services_db, redis_url):
    order, _ = stack(redis_url)
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    body = {"lines": [{"sku": "SKU-1", "quantity": 2}], "customer_ref": "c-1"}

    def post(_):
        return api.post(url, json=body, headers={"Idempotency-Key": "key-1"}, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))

    assert [r.status_code for r in responses] == [201] * 10  # replays: the same response
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert len({r.json()["id"] for r in responses}) == 1
    assert counts(services_db, tenant[0]) == (1, 1, 2)


def test_same_key_with_a_different_body_is_refused(stack, tenant, services_db):
    order, _ = stack()
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    first = api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                     headers={"Idempotency-Key": "k2"}, timeout=10)
    other = api.post(url, json={"lines": [{"sku": "SKU-2", "quantity": 1}]},
                     headers={"Idempotency-Key": "k2"}, timeout=10)
    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert counts(services_db, tenant[0]) == (1, 1, 1)


@pytest.mark.parametrize("body, status, error", [
    (b"{not json", 400, "malformed_json"),
    (b'["a list"]', 422, "invalid"),
    (b'{"lines": [{"sku": "SKU-1", "quantity": -3}]}', 422, "invalid"),
    (b'{"lines": [{"sku": "SKU-1", "quantity": "2"}]}', 422, "invalid"),
    (b'{"lines": [{"sku": "SKU-404", "quantity": 1}]}', 422, "unknown_sku"),
    (b'{"lines": [{"sku": "SKU-1", "quantity": 1000}]}', 409, "insufficient_stock"),
    (b'{"lines": [{"sku": "SKU-1", "quantity": 1}], "price": 0}', 422, "invalid"),
])
def test_bad_input_is_a_clear_4xx_and_writes_nothing(stack, tenant, services_db, body, status,
                                                     error):
    order, _ = stack()
    response = api.post(f"{order.url}/v1/tenants/{tenant[1]}/orders", data=body,
                        headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["message"]
    assert counts(services_db, tenant[0]) == (0, 0, 0)


def test_unknown_tenant_and_other_tenants_order_are_404(stack, tenant, config, run_service):
    order, _ = stack()
    made = api.post(f"{order.url}/v1/tenants/{tenant[1]}/orders", timeout=10,
                    json={"lines": [{"sku": "SKU-1", "quantity": 1}]}).json()
    other = (tenant[0] + 50_000, tenant[1] + "-other")
    register(order.url, other)
    unknown = api.post(f"{order.url}/v1/tenants/nobody-here/orders", timeout=10,
                       json={"lines": [{"sku": "SKU-1", "quantity": 1}]})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_tenant"
    for path in (f"orders/{made['id']}", f"orders/{made['id']}/cancel", "orders/not-a-uuid"):
        method = api.post if path.endswith("cancel") else api.get
        response = method(f"{order.url}/v1/tenants/{other[1]}/{path}", timeout=10)
        assert response.status_code == 404, path
    assert api.get(f"{order.url}/v1/tenants/{tenant[1]}/orders/{made['id']}",
                   timeout=10).json()["status"] == "pending"


def test_state_machine_refuses_illegal_transitions(stack, tenant, services_db):
    order, inventory = stack()
    base = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    made = api.post(base, json={"lines": [{"sku": "SKU-2", "quantity": 4}]},
                    timeout=10).json()
    assert made["status"] == "pending" and made["lines"][0]["warehouse"] == "us-east-1a"
    assert api.post(f"{base}/{made['id']}/confirm", timeout=10).json()["status"] == \
        "confirmed"
    again = api.post(f"{base}/{made['id']}/confirm", timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "illegal_transition"
    assert api.post(f"{base}/{made['id']}/cancel", timeout=10).status_code == 200
    late = api.post(f"{base}/{made['id']}/confirm", timeout=10)
    assert late.status_code == 409 and "canceled" in late.json()["message"]
    assert api.post(f"{base}/{made['id']}/ship", timeout=10).status_code == 404
    engine = create_engine(services_db)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT routing_key FROM orders.outbox "
                                   "WHERE payload->>'order_id' = :o ORDER BY id"),
                              {"o": made["id"]}).scalars().all()
    engine.dispose()
    assert events == ["order.created", "order.confirmed", "order.canceled"]


def test_inventory_down_fails_fast_with_503_and_opens_the_breaker(config, run_service, tenant,
                                                                  services_db):
    dead = f"http://127.0.0.1:{closed_port()}"
    order = run_service(config("order", inventory_url=dead, breaker_fail_max=2))
    register(order.url, tenant)
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    codes = [api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                      timeout=10) for _ in range(3)]
    assert [r.status_code for r in codes] == [503, 503, 503]
    assert "breaker is open" in codes[-1].json()["message"]
    metrics = api.get(f"{order.url}/metrics", timeout=5).text
    assert 'meridian_circuit_breaker_open{dependency="inventory",service="order"} 1.0' in metrics
    assert counts(services_db, tenant[0])[0] == 0
