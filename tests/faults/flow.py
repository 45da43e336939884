"""The order flow under faults: order, inventory and fulfillment started in-process, a
client thread that creates and confirms orders the way a careful client does (retrying
an outage with the same Idempotency-Key), and the checks that every accepted order was
fulfilled exactly once."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from sqlalchemy import create_engine, func, select, text

from platform_services.common.outbox import OutboxRelay
from platform_services.common.resources import sqlalchemy_url
from platform_services.fulfillment.models import shipments
from platform_services.orders.models import orders
from tests.integration.services.servers import register, stock
from tests.integration.services.test_messaging import wait_for
from tests.integration.services.tokens import api

SKU, STOCK = "SKU-F", 1000


@dataclass
class Flow:
    """The three running services and the tenant they serve."""
    inventory: object
    order: object
    fulfillment: object
    tenant: tuple[int, str]

    @property
    def orders_url(self) -> str:
        return f"{self.order.url}/v1/tenants/{self.tenant[1]}/orders"

    def relays(self) -> list[OutboxRelay]:
        """The outbox relays of the order and fulfillment services."""
        return [w for s in (self.order, self.fulfillment) for w in s.service.workers
                if isinstance(w, OutboxRelay)]

    def readyz(self) -> dict:
        """The order service's /readyz body (its status code is in `code`)."""
        response = api.get(f"{self.order.url}/readyz", timeout=10)
        return {**response.json(), "code": response.status_code}


def start_flow(run_service, config, tenant, **common) -> Flow:
    """Start inventory, order and fulfillment with `common` settings; stock the tenant."""
    inventory = run_service(config("inventory", **common))
    order = run_service(config("order", inventory_url=inventory.url, **common))
    fulfillment = run_service(config("fulfillment", **common))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "eu-west-1a", {SKU: STOCK})
    flow = Flow(inventory, order, fulfillment, tenant)
    for service in (inventory, order, fulfillment):
        wait_for(lambda s=service: api.get(f"{s.url}/readyz", timeout=5)
                 .json()["status"] == "ok")
    return flow


def _retrying(call, deadline: float, in_progress: bool = False):
    """`call()` until it answers below 500 (and, with `in_progress`, not 409: a try with the
    same key still runs); connection errors and 5xx are what an outage looks like."""
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = call()
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code < 500 and not (in_progress and response.status_code == 409):
                return response
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.2)
    raise AssertionError(f"still failing at the deadline: {last}")


@dataclass(eq=False)
class OrderLoad(threading.Thread):
    """Creates and confirms `count` orders, one every `every` seconds, until done."""
    flow: Flow
    count: int
    every: float = 0.1
    accepted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="order-load", daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + 60
        try:
            for _ in range(self.count):
                self.accepted.append(self._one(deadline))
                time.sleep(self.every)
        except Exception as exc:  # the test reports it; the thread must not die silently
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _one(self, deadline: float) -> str:
        key = uuid.uuid4().hex
        made = _retrying(lambda: api.post(
            self.flow.orders_url, json={"lines": [{"sku": SKU, "quantity": 1}]},
            headers={"Idempotency-Key": key}, timeout=10), deadline, in_progress=True)
        assert made.status_code in (200, 201), made.text
        order_id = made.json()["id"]
        while True:  # a confirm refused as illegal was committed before, its answer lost
            confirmed = _retrying(lambda: api.post(
                f"{self.flow.orders_url}/{order_id}/confirm", timeout=10), deadline)
            if confirmed.status_code == 200:
                return order_id
            state = _retrying(lambda: api.get(f"{self.flow.orders_url}/{order_id}",
                                              timeout=10), deadline).json()["status"]
            if state in ("confirmed", "fulfilled"):
                return order_id
            assert time.monotonic() < deadline, confirmed.text


def assert_every_order_fulfilled_once(flow: Flow, load: OrderLoad, database_url: str,
                                      timeout: float) -> None:
    """No order lost, duplicated or stranded, every outbox drained; each order shipped
    once and its stock taken once."""
    assert not load.errors, load.errors
    assert len(set(load.accepted)) == load.count
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        def states() -> dict[str, int]:
            with engine.connect() as conn:
                return dict(conn.execute(select(orders.c.status, func.count())
                                         .where(orders.c.tenant_id == flow.tenant[0])
                                         .group_by(orders.c.status)).all())
        def pending() -> int:
            with engine.connect() as conn:
                return conn.scalar(text(
                    "SELECT (SELECT count(*) FROM orders.outbox WHERE published_at IS NULL)"
                    " + (SELECT count(*) FROM fulfillment.outbox WHERE published_at IS NULL)"))
        wait_for(lambda: states() == {"fulfilled": load.count} and pending() == 0,
                 timeout=timeout, every=0.2)
        with engine.connect() as conn:
            ids = set(conn.scalars(select(orders.c.id)
                                   .where(orders.c.tenant_id == flow.tenant[0])))
            shipped = conn.execute(select(shipments.c.order_id, func.count())
                                   .where(shipments.c.tenant_id == flow.tenant[0])
                                   .group_by(shipments.c.order_id)).all()
        assert ids == set(load.accepted)
        assert {order_id for order_id, _ in shipped} == ids
        assert all(n == 1 for _, n in shipped)
    finally:
        engine.dispose()
    wait_for(lambda: api.get(f"{flow.inventory.url}/v1/tenants/{flow.tenant[1]}/stock/{SKU}",
                             timeout=5).json()["warehouses"][0]["on_hand"]
             == STOCK - load.count, timeout=30)
