"""A handler that meets a database outage (through a cut proxy, many more times than
MAX_ATTEMPTS) still handles its message once the database is back, with no attempt
spent and nothing dead-lettered, while a message that fails on its own content goes to
the DLQ after its attempts: on RabbitMQ and on the PostgreSQL queue tables."""
from __future__ import annotations

import pika
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from platform_services.common import queue_table
from platform_services.common.messaging import Consumer, Subscription, publisher_for
from platform_services.common.observability import Metrics
from platform_services.common.resources import sqlalchemy_url
from tests.integration.services.servers import BROKER_URL
from tests.integration.services.test_messaging import wait_for

pytestmark = pytest.mark.integration
EXTRA_FAILURES = 4  # outage failures beyond MAX_ATTEMPTS before the database comes back


def _dead_lettered(config, transport: str) -> list[str]:
    """Message ids in the test queue's DLQ (read without removing them)."""
    dlq = f"{config.prefixed('test.events')}.dlq"
    if transport == "queue_table":
        engine = queue_table.engine_for(config.rabbitmq_url)
        with engine.connect() as conn:
            return list(conn.scalars(select(queue_table.messages.c.message_id)
                                     .where(queue_table.messages.c.queue == dlq)))
    conn = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    try:
        channel, ids = conn.channel(), []
        while (got := channel.basic_get(dlq))[0] is not None:
            ids.append(got[1].message_id)
        return ids  # unacked: they return to the DLQ when the connection closes
    finally:
        conn.close()


@pytest.mark.parametrize("transport", ["rabbitmq", "queue_table"])
def test_an_outage_spends_no_attempt_but_a_poison_message_is_dead_lettered(
        transport, config, services_db, fault_proxy):
    broker_url = BROKER_URL if transport == "rabbitmq" else services_db
    cfg = config("order", rabbitmq_url=broker_url, max_attempts=3, retry_base_delay=0.05)
    proxy = fault_proxy(make_url(services_db).port or 5432)
    database = create_engine(make_url(sqlalchemy_url(services_db)).set(port=proxy.port),
                             poolclass=NullPool)
    outage_attempts: list[int] = []
    poison_attempts: list[int] = []
    handled: list[str] = []

    def handler(delivery):
        if delivery.payload.get("poison"):
            poison_attempts.append(delivery.attempt)
            raise ValueError("an order without lines cannot be handled")
        try:
            with database.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError:
            outage_attempts.append(delivery.attempt)
            if len(outage_attempts) >= cfg.max_attempts + EXTRA_FAILURES:
                proxy.restore()  # the database is back
            raise
        handled.append(delivery.message_id)

    proxy.cut()
    consumer = Consumer(cfg, Metrics("order"), Subscription(
        "test.events", "orders.events", ("order.fault",), handler))
    consumer.start()
    try:
        wait_for(consumer.connected.is_set)
        publisher = publisher_for(cfg)
        publisher.publish("orders.events", "order.fault", {"n": 1}, message_id="outage-1")
        publisher.publish("orders.events", "order.fault", {"poison": True},
                          message_id="poison-1")
        publisher.close()
        wait_for(lambda: handled == ["outage-1"], timeout=60)
        wait_for(lambda: len(poison_attempts) == cfg.max_attempts, timeout=30)
        wait_for(lambda: _dead_lettered(cfg, transport) == ["poison-1"], timeout=30)
        assert consumer.is_alive() and consumer.health.problem() is None
    finally:
        consumer.stop()
        consumer.join(10)
        database.dispose()
    assert len(outage_attempts) == cfg.max_attempts + EXTRA_FAILURES
    assert set(outage_attempts) == {1}  # the outage never counted against the message
    assert poison_attempts == [1, 2, 3]
