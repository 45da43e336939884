"""RabbitMQ with pika: Meridian's topic exchanges, confirmed publishing, and consumers with
manual acks, back-off retries and a `<queue>.dlq` after MAX_ATTEMPTS failed deliveries.
When RABBITMQ_URL is a PostgreSQL URL (the embedded default of `portal dev`) the same
publishers and consumers run on the queue tables of queue_table.py instead.

Retry works through a `<queue>.retry` queue that dead-letters back into `<queue>` when a
message's per-message TTL (the back-off) expires, so a failing message never blocks the
consumer and the attempt count travels in the `x-attempts` header. A handler failing on an
outage (supervision.is_transient) takes the same way back without spending an attempt.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.exc import InterfaceError, OperationalError

from platform_services.common import queue_table
from platform_services.common.config import ServiceConfig
from platform_services.common.observability import Metrics
from platform_services.common.supervision import Backoff, LoopHealth, is_transient, supervise

log = logging.getLogger(__name__)
EXCHANGES = ("orders.events", "inventory.events", "fulfillment.events", "notifications",
             "reports.scheduled")
# What an unreachable broker raises: AMQP and socket errors, and for the queue tables the
# database's connection errors (never its integrity or programming errors).
BROKER_ERRORS = (pika.exceptions.AMQPError, OSError, OperationalError, InterfaceError)
# Longest wait of a message whose handler met an outage (it then comes back this often).
TRANSIENT_RETRY_CAP = 5.0


def connect(config: ServiceConfig) -> pika.BlockingConnection:
    """A blocking connection with short timeouts so an outage is noticed quickly."""
    assert config.rabbitmq_url is not None  # only called when RabbitMQ is configured
    params = pika.URLParameters(config.rabbitmq_url)
    params.socket_timeout = 5
    params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    params.heartbeat = 60
    return pika.BlockingConnection(params)


def declare_exchanges(channel: BlockingChannel, config: ServiceConfig) -> None:
    """Declare Meridian's durable topic exchanges (idempotent)."""
    for name in EXCHANGES:
        channel.exchange_declare(config.prefixed(name), exchange_type="topic", durable=True)


class Publisher:
    """Publishes with broker confirms on a connection of its own (one per thread)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _ensure(self) -> BlockingChannel:
        if self._channel is None or self._channel.is_closed:
            self.close()
            self._conn = connect(self.config)
            self._channel = self._conn.channel()
            self._channel.confirm_delivery()
            declare_exchanges(self._channel, self.config)
        return self._channel

    def publish(self, exchange: str, routing_key: str, payload: dict[str, Any],
                message_id: str, headers: dict[str, Any] | None = None) -> None:
        """Publish persistently; returns only once the broker confirmed the message."""
        channel = self._ensure()
        try:
            channel.basic_publish(
                self.config.prefixed(exchange), routing_key, json.dumps(payload).encode(),
                pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                     message_id=message_id, headers=headers or {}))
        except BROKER_ERRORS:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection, ignoring errors of an already broken one."""
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except BROKER_ERRORS:
                log.debug("closing a broken broker connection failed", exc_info=True)


class TablePublisher:
    """Publishes to the queue tables; a message is "confirmed" once its rows are committed."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config

    def publish(self, exchange: str, routing_key: str, payload: dict[str, Any],
                message_id: str, headers: dict[str, Any] | None = None) -> None:
        """Route the message to the bound queues in one transaction."""
        assert self.config.rabbitmq_url is not None  # built for a queue-table URL only
        queue_table.publish(queue_table.engine_for(self.config.rabbitmq_url),
                            exchange=self.config.prefixed(exchange), routing_key=routing_key,
                            payload=payload, message_id=message_id)

    def close(self) -> None:
        """Nothing to close: the engine's pool is shared by the process."""


def publisher_for(config: ServiceConfig) -> Publisher | TablePublisher:
    """The publisher of the configured broker: RabbitMQ, or the queue tables."""
    if queue_table.is_table_url(config.rabbitmq_url):
        return TablePublisher(config)
    return Publisher(config)


@dataclass(frozen=True)
class Delivery:
    """One message handed to a handler."""
    message_id: str
    routing_key: str
    payload: dict[str, Any]
    attempt: int


@dataclass(frozen=True)
class Subscription:
    queue: str
    exchange: str
    routing_keys: tuple[str, ...]
    handler: Callable[[Delivery], object]  # what it returns is ignored


def _decode(body: bytes) -> dict[str, Any]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("message body is not a JSON object")
    return payload


class Consumer(threading.Thread):
    """Consumes one queue with manual acks until `stop()`; supervised, so it reconnects
    after any outage. A handler failing on an outage (is_transient) sends the message back
    after a back-off without spending an attempt; only a failure of the message itself
    counts towards MAX_ATTEMPTS and the DLQ."""

    def __init__(self, config: ServiceConfig, metrics: Metrics, sub: Subscription) -> None:
        super().__init__(name=f"consumer-{sub.queue}", daemon=True)
        self.config, self.metrics, self.sub = config, metrics, sub
        self.queue = config.prefixed(sub.queue)
        self.connected = threading.Event()
        self.health = LoopHealth(f"consumer-{sub.queue}", config.loop_stale_seconds)
        self._stopping = threading.Event()
        # Consecutive transient failures: their back-off grows while an outage lasts.
        self._outage = Backoff(config.retry_base_delay, TRANSIENT_RETRY_CAP)
        self._table_bound = False
        # Queue-table settlements (ack, retry, release) the database refused: done first
        # when it is back, so no message waits out its lease or loses its attempt count.
        self._unsettled: list[Callable[[], None]] = []
        self._settle_error: Exception | None = None

    def stop(self) -> None:
        """Ask the loop to finish after the message in hand (graceful shutdown)."""
        self._stopping.set()

    def run(self) -> None:
        self.metrics.watch(self.health)
        body = self._poll_table if queue_table.is_table_url(self.config.rabbitmq_url) \
            else self._consume
        supervise(self.health, self._stopping, body)
        self.connected.clear()

    def declare(self, channel: BlockingChannel) -> None:
        """Declare the queue, its retry queue and its DLQ, and bind the queue."""
        declare_exchanges(channel, self.config)
        channel.queue_declare(self.queue, durable=True)
        channel.queue_declare(f"{self.queue}.retry", durable=True, arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue})
        channel.queue_declare(f"{self.queue}.dlq", durable=True)
        for key in self.sub.routing_keys:
            channel.queue_bind(self.queue, self.config.prefixed(self.sub.exchange), key)

    def _consume(self) -> None:
        conn = connect(self.config)
        try:
            channel = conn.channel()
            self.declare(channel)
            channel.basic_qos(prefetch_count=10)
            self.connected.set()
            for method, props, body in channel.consume(self.queue, inactivity_timeout=0.5):
                if self._stopping.is_set():
                    break
                if method is not None and body is not None:  # a delivery always has a body
                    self._handle(channel, method, props, body)
                elif not self._outage.failures:
                    self.health.ok()
            channel.cancel()
        finally:
            self.connected.clear()
            if conn.is_open:
                try:
                    conn.close()
                except BROKER_ERRORS:
                    log.debug("closing a broken broker connection failed", exc_info=True)

    def _poll_table(self) -> None:
        """One poll of the queue table: quickly while there is work, up to 1 s when idle."""
        assert self.config.rabbitmq_url is not None  # polled for a queue-table URL only
        engine = queue_table.engine_for(self.config.rabbitmq_url)
        while self._unsettled:
            self._unsettled[0]()
            self._unsettled.pop(0)
        if not self._table_bound:
            queue_table.bind(engine, queue=self.queue,
                             exchange=self.config.prefixed(self.sub.exchange),
                             patterns=self.sub.routing_keys)
            self._table_bound = True
        self.connected.set()
        claimed = queue_table.claim(engine, queue=self.queue)
        for message in claimed:
            self._handle_claimed(engine, message)
        if self._unsettled and self._settle_error is not None:  # set with each unsettled
            raise self._settle_error
        if not self._outage.failures:
            self.health.ok(lag=queue_table.oldest_due_age(engine, self.queue))
        if not claimed:
            self._stopping.wait(min(1.0, max(self.config.relay_interval, 0.05) * 4))

    def _settle(self, action: Callable[[], None]) -> None:
        """Run a queue-table settlement; when the database refuses, keep it for later (the
        rest of the batch is still handled, so none of it waits out its lease)."""
        try:
            action()
        except Exception as exc:  # retried before the next claim, after a back-off
            self._settle_error = exc
            self._unsettled.append(action)

    def _handle_claimed(self, engine, message: queue_table.Claimed) -> None:
        try:
            self.sub.handler(Delivery(message.message_id, message.routing_key,
                                      message.payload, message.attempt))
        except Exception as exc:  # an outage waits, a bad message is retried then parked
            error = f"{type(exc).__name__}: {exc}"
            if is_transient(exc):
                delay = self._transient_failure(message.message_id, exc)
                self._settle(lambda: queue_table.release(engine, message, delay=delay,
                                                         error=error))
            elif message.attempt >= self.config.max_attempts:
                log.error("message %s dead-lettered after %d attempts: %s",
                          message.message_id, message.attempt, exc)
                self._settle(lambda: queue_table.dead_letter(engine, message,
                                                             queue=self.queue, error=error))
                self._count("dead_lettered")
                self.metrics.dead_lettered.labels(self.metrics.service, self.sub.queue).inc()
            else:
                delay = self.config.retry_base_delay * 2 ** (message.attempt - 1)
                log.warning("message %s failed (attempt %d), retrying in %.1f s: %s",
                            message.message_id, message.attempt, delay, exc)
                self._settle(lambda: queue_table.retry_later(engine, message, delay=delay,
                                                             error=error))
                self._count("retried")
            return
        self._outage.reset()
        self._settle(lambda: queue_table.ack(engine, message))
        self._count("ok")

    def _transient_failure(self, message_id: str, exc: Exception) -> float:
        """Record an outage met by the handler; the delay before the message comes back."""
        delay = self._outage.next()
        self.health.failed(exc)
        log.warning("message %s hit an outage, back in %.1f s (attempt not counted): %s",
                    message_id, delay, exc)
        self._count("deferred")
        return delay

    def _count(self, outcome: str) -> None:
        self.metrics.messages.labels(self.metrics.service, self.sub.queue, outcome).inc()

    def _handle(self, channel: BlockingChannel, method, props, body: bytes) -> None:
        headers = dict(props.headers or {})
        attempt = int(headers.get("x-attempts", 0)) + 1
        message_id = props.message_id or f"{method.routing_key}:{method.delivery_tag}"
        try:
            self.sub.handler(Delivery(message_id, method.routing_key, _decode(body), attempt))
        except Exception as exc:  # an outage waits, a bad message is retried then parked
            if is_transient(exc):
                self._defer(channel, props, body, attempt - 1,
                            self._transient_failure(message_id, exc), exc)
            else:
                self._retry_or_dead_letter(channel, props, body, attempt, exc)
        else:
            self._outage.reset()
            self._count("ok")
        channel.basic_ack(method.delivery_tag)
        if not self._outage.failures:  # the loop works, even when the message was bad
            self.health.ok()

    def _defer(self, channel: BlockingChannel, props, body: bytes, attempts: int,
               delay: float, exc: Exception) -> None:
        """Send the message through `<queue>.retry` with its attempt count unchanged."""
        headers = {**(props.headers or {}), "x-attempts": attempts,
                   "x-last-error": f"{type(exc).__name__}: {exc}"[:500]}
        channel.basic_publish("", f"{self.queue}.retry", body, pika.BasicProperties(
            content_type=props.content_type, delivery_mode=2, message_id=props.message_id,
            headers=headers, expiration=str(max(int(delay * 1000), 1))))

    def _retry_or_dead_letter(self, channel, props, body: bytes, attempt: int,
                              exc: Exception) -> None:
        headers = {**(props.headers or {}), "x-attempts": attempt,
                   "x-last-error": f"{type(exc).__name__}: {exc}"[:500]}
        base = {"content_type": props.content_type, "delivery_mode": 2,
                "message_id": props.message_id, "headers": headers}
        if attempt >= self.config.max_attempts:
            log.error("message %s dead-lettered after %d attempts: %s", props.message_id,
                      attempt, exc)
            channel.basic_publish("", f"{self.queue}.dlq", body, pika.BasicProperties(**base))
            self.metrics.dead_lettered.labels(self.metrics.service, self.sub.queue).inc()
            self.metrics.messages.labels(self.metrics.service, self.sub.queue,
                                         "dead_lettered").inc()
            return
        backoff_ms = int(1000 * self.config.retry_base_delay * 2 ** (attempt - 1))
        log.warning("message %s failed (attempt %d), retrying in %d ms: %s",
                    props.message_id, attempt, backoff_ms, exc)
        channel.basic_publish("", f"{self.queue}.retry", body,
                              pika.BasicProperties(**base, expiration=str(max(backoff_ms, 1))))
        self.metrics.messages.labels(self.metrics.service, self.sub.queue, "retried").inc()
