"""RabbitMQ for real: no order lost while the broker is unreachable, each event published
exactly once when it is back, poison messages dead-lettered after 3 attempts, and the
whole order -> fulfillment -> inventory flow with labels in moto's S3 server."""
from __future__ import annotations

import json
import re
import time

import pika
import pytest

from tests.integration.services.servers import BROKER_URL, TcpProxy, register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


def wait_for(predicate, timeout: float = 30.0, every: float = 0.1):
    """Poll until `predicate()` is truthy (a readiness wait, not a performance bound)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def outbox_pending(url: str) -> float:
    """The order service's meridian_outbox_pending gauge."""
    text = api.get(f"{url}/metrics", timeout=5).text
    return float(re.search(r'^meridian_outbox_pending\{service="order"\} (\S+)$', text,
                           re.M).group(1))


def _got(result):
    """basic_get's (method, props, body) when a message came, else None."""
    return result if result[0] is not None else None


@pytest.fixture
def listener(broker, run_prefix):
    """A queue of this test bound to an exchange, read back as a list of deliveries."""
    conn = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    channel = conn.channel()

    def bind(exchange: str, key: str) -> str:
        channel.exchange_declare(f"{run_prefix}{exchange}", "topic", durable=True)
        queue = f"{run_prefix}test.events"
        channel.queue_declare(queue, durable=True)
        channel.queue_purge(queue)
        channel.queue_bind(queue, f"{run_prefix}{exchange}", key)
        return queue

    def drain(queue: str, idle: float = 1.0) -> list[tuple[str, dict]]:
        got = []
        for method, props, body in channel.consume(queue, inactivity_timeout=idle):
            if method is None:
                break
            got.append((props.message_id, json.loads(body)))
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
        return got

    yield bind, drain, channel
    conn.close()


def test_orders_made_while_the_broker_is_down_are_all_published_exactly_once(
        config, run_service, tenant, listener):
    bind, drain, _ = listener
    queue = bind("orders.events", "order.created")
    proxy = TcpProxy()
    proxy.down()
    try:
        inventory = run_service(config("inventory"))
        order = run_service(config("order", rabbitmq_url=proxy.url(),
                                   inventory_url=inventory.url))
        for service in (inventory, order):
            register(service.url, tenant)
        stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100})
        before = outbox_pending(order.url)  # earlier broker-less tests left events too
        made = [api.post(f"{order.url}/v1/tenants/{tenant[1]}/orders", timeout=10,
                         json={"lines": [{"sku": "SKU-1", "quantity": 1}]})
                for _ in range(20)]
        assert {r.status_code for r in made} == {201}
        ready = api.get(f"{order.url}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert "rabbitmq" in ready.json()["failed"]
        assert outbox_pending(order.url) == before + 20
        assert drain(queue, idle=0.5) == []

        proxy.up()
        wait_for(lambda: outbox_pending(order.url) == 0)
        delivered = [(m, p) for m, p in drain(queue) if p["tenant_id"] == tenant[0]]
    finally:
        proxy.close()
    ids = sorted(payload["order_id"] for _, payload in delivered)
    assert ids == sorted(r.json()["id"] for r in made)  # all 20, none twice
    assert len({message_id for message_id, _ in delivered}) == 20


def test_poison_message_goes_to_the_dlq_after_3_attempts_and_shows_in_metrics(
        config, run_service, listener, run_prefix):
    _, _, channel = listener
    order = run_service(config("order", rabbitmq_url=BROKER_URL))
    wait_for(lambda: api.get(f"{order.url}/readyz", timeout=5).json()["status"] == "ok")
    channel.basic_publish(f"{run_prefix}fulfillment.events", "shipment.shipped", b"{oops",
                          pika.BasicProperties(message_id="poison-1", delivery_mode=2))
    dlq = f"{run_prefix}orders.shipments.dlq"
    method, props, body = wait_for(lambda: _got(channel.basic_get(dlq, auto_ack=True)))
    assert body == b"{oops" and props.headers["x-attempts"] == 3
    assert "JSONDecodeError" in props.headers["x-last-error"]
    metrics = api.get(f"{order.url}/metrics", timeout=5).text
    assert ('meridian_messages_dead_lettered_total{queue="orders.shipments",service="order"} '
            '1.0') in metrics
    assert ('meridian_messages_consumed_total{outcome="retried",queue="orders.shipments",'
            'service="order"} 2.0') in metrics
