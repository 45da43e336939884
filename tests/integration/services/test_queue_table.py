"""The embedded default's broker: with RABBITMQ_URL naming the PostgreSQL database, the
services' outboxes drain through the queue tables and a confirmed order is fulfilled with
no RabbitMQ anywhere (and no Redis or S3: objects go to a folder)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from platform_services.common import queue_table
from platform_services.common.config import ServiceConfig
from platform_services.common.messaging import Consumer, Subscription, TablePublisher
from platform_services.common.observability import Metrics
from tests.integration.services import servers, tokens
from tests.integration.services.servers import register, stock
from tests.integration.services.test_messaging import wait_for
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


@pytest.fixture
def table_config(services_db, run_prefix, tmp_path, platform_auth):
    """ServiceConfig builder whose broker is the services' own database."""
    return servers.config_factory(services_db, run_prefix, relay_interval=0.05,
                                  rabbitmq_url=services_db, object_store_dir=str(tmp_path),
                                  **tokens.service_credentials(platform_auth.url))


@pytest.mark.parametrize("pattern, key, expected", [
    ("order.confirmed", "order.confirmed", True), ("order.*", "order.confirmed", True),
    ("order.*", "order.confirmed.late", False), ("order.#", "order", True),
    ("#", "shipment.shipped", True), ("*.shipped", "shipment.shipped", True),
    ("order.confirmed", "order.cancelled", False), ("#.shipped", "a.b.shipped", True),
])
def test_topic_patterns_match_like_rabbitmq(pattern, key, expected):
    assert queue_table.topic_matches(pattern, key) is expected


def test_a_confirmed_order_is_fulfilled_without_rabbitmq(table_config, run_service, tenant):
    inventory = run_service(table_config("inventory"))
    order = run_service(table_config("order", inventory_url=inventory.url))
    fulfillment = run_service(table_config("fulfillment"))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "eu-west-1a", {"SKU-7": 10})
    # "ok", not "degraded": every consumer is connected, so its queue is bound.
    for service in (inventory, order, fulfillment):
        wait_for(lambda s=service: api.get(f"{s.url}/readyz", timeout=5)
                 .json()["status"] == "ok")
    base = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    made = api.post(base, json={"lines": [{"sku": "SKU-7", "quantity": 3}]},
                         timeout=10).json()
    api.post(f"{base}/{made['id']}/confirm", timeout=10).raise_for_status()

    wait_for(lambda: api.get(f"{base}/{made['id']}", timeout=5).json()["status"]
             == "fulfilled")
    shipment = api.get(f"{fulfillment.url}/v1/tenants/{tenant[1]}/shipments/{made['id']}",
                            timeout=5).json()
    assert shipment["status"] == "shipped" and shipment["warehouse"] == "eu-west-1a"
    wait_for(lambda: api.get(f"{inventory.url}/v1/tenants/{tenant[1]}/stock/SKU-7",
                                  timeout=5).json()["warehouses"][0]["on_hand"] == 7)
    # The fulfilled order's own event is relayed a moment after its status changes.
    wait_for(lambda: "meridian_outbox_pending{service=\"order\"} 0.0" in
             api.get(f"{order.url}/metrics", timeout=5).text)


def test_a_failing_message_is_retried_then_dead_lettered(table_config):
    config: ServiceConfig = table_config("order", max_attempts=2, retry_base_delay=0.05)
    attempts = []

    def handler(delivery):
        attempts.append(delivery.attempt)
        raise ValueError("cannot handle this one")

    consumer = Consumer(config, Metrics("order"), Subscription(
        "test.events", "orders.events", ("order.poison",), handler))
    consumer.start()
    try:
        wait_for(consumer.connected.is_set)
        TablePublisher(config).publish("orders.events", "order.poison", {"n": 1},
                                       message_id="poison-1")
        wait_for(lambda: len(attempts) == 2)
    finally:
        consumer.stop()
        consumer.join(10)
    engine = queue_table.engine_for(config.rabbitmq_url)
    dlq = f"{config.prefixed('test.events')}.dlq"
    wait_for(lambda: queue_table.depth(engine, dlq) == 1)
    with engine.connect() as conn:
        row = conn.execute(select(queue_table.messages).where(
            queue_table.messages.c.queue == dlq)).one()
    assert row.message_id == "poison-1" and "cannot handle this one" in row.last_error
    assert attempts == [1, 2]
    assert queue_table.depth(engine, config.prefixed("test.events")) == 0
