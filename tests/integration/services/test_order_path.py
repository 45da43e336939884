"""The order path against real PostgreSQL and a real inventory service whose reservation
requests a test can hold: inventory calls of one order process overlap, no pooled
connection is checked out while inventory works, and a failed insert gives the stock back."""
from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.integration.services.servers import register, stock
from tests.integration.services.test_orders import counts
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


class HeldReservations:
    """WSGI middleware in front of the inventory app: reservation requests wait at `gate`
    (a barrier) until all are in, record how many connections the order service has checked
    out while they all are, and go on together."""

    def __init__(self, app, gate: threading.Barrier) -> None:
        self.app, self.gate = app, gate
        self.order_engine = None
        self.checked_out: list[int] = []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/reservations"):
            self.gate.wait()
            self.checked_out.append(self.order_engine.pool.checkedout())
            self.gate.wait()
        return self.app(environ, start_response)


@pytest.fixture
def held_stack(config, run_service, tenant):
    """Inventory (reservations held at a two-party barrier) + order service."""
    inventory = run_service(config("inventory"))
    held = HeldReservations(inventory.service.app.wsgi_app, threading.Barrier(2, timeout=20))
    inventory.service.app.wsgi_app = held
    order = run_service(config("order", inventory_url=inventory.url,
                               api_usage_flush_seconds=3600))
    held.order_engine = order.service.engines[0]
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100})
    return order, held


def test_two_orders_reserve_at_the_same_time_with_no_connection_checked_out(
        held_stack, tenant, services_db):
    order, held = held_stack
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"

    def post(n: int):
        return api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                        headers={"Idempotency-Key": f"overlap-{n}"}, timeout=60)

    # Both reservations must be inside inventory at once to pass the barrier: a lock held
    # around the call (or a single connection serialising them) breaks it.
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post, range(2)))
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    assert held.checked_out == [0, 0]
    assert counts(services_db, tenant[0]) == (2, 2, 2)


def test_a_failed_insert_releases_the_reservation(config, run_service, tenant, services_db):
    inventory = run_service(config("inventory"))
    order = run_service(config("order", inventory_url=inventory.url))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100})
    poison = f"refused-{secrets.token_hex(4)}"
    engine = create_engine(services_db)
    # A real database failure after the order row is in: its lines are refused.
    with engine.begin() as conn:
        conn.execute(text(f"""
            CREATE FUNCTION orders.refuse_{poison.replace('-', '_')}() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
              IF (SELECT customer_ref FROM orders.orders WHERE id = NEW.order_id) = '{poison}'
              THEN RAISE EXCEPTION 'refused by test'; END IF;
              RETURN NEW; END $$;
            CREATE TRIGGER refuse_{poison.replace('-', '_')} BEFORE INSERT ON orders.order_lines
              FOR EACH ROW EXECUTE FUNCTION orders.refuse_{poison.replace('-', '_')}()"""))
    try:
        url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
        failed = api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 3}],
                                     "customer_ref": poison}, timeout=30)
        assert failed.status_code == 500
        assert counts(services_db, tenant[0]) == (0, 0, 0)  # order gone, stock given back
        made = api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 3}]}, timeout=30)
        assert made.status_code == 201
        assert counts(services_db, tenant[0]) == (1, 1, 3)
    finally:
        with engine.begin() as conn:
            name = poison.replace('-', '_')
            conn.execute(text(f"DROP TRIGGER refuse_{name} ON orders.order_lines; "
                              f"DROP FUNCTION orders.refuse_{name}()"))
        engine.dispose()
