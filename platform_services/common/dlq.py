"""The admin API over a service's dead-letter queues, for both brokers.

A message its consumer failed MAX_ATTEMPTS times waits in `<queue>.dlq`, where nothing
consumes it. These endpoints let an operator see what is there and decide:

- `GET /v1/dlq`: per consumed queue, the messages waiting, the oldest one's age, its
  error and a few sample bodies;
- `POST /v1/dlq/<queue>/redrive`: move them back to `<queue>` with a fresh attempt count
  (once the cause is fixed, they are processed as new);
- `POST /v1/dlq/<queue>/discard`: delete them.

All three need a platform token with `dlq:admin`. On RabbitMQ a DLQ is read with
basic_get (unacked messages go back when the channel closes) and redriven by
republishing each message to its queue before acking it, so a crash in between
duplicates a message rather than losing it (consumers are idempotent). On the queue
tables a redrive or discard is one UPDATE or DELETE. `meridian_dlq_messages` is the gauge
of each DLQ's depth, read at scrape time, that the alert on DLQ growth watches.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import pika
from flask import Blueprint, Flask, jsonify
from prometheus_client import Gauge
from sqlalchemy import delete, func, select, update

from platform_services.common import queue_table
from platform_services.common.app import ApiError
from platform_services.common.config import ServiceConfig
from platform_services.common.messaging import BROKER_ERRORS, Consumer, connect
from platform_services.common.observability import Metrics

log = logging.getLogger(__name__)
SCOPE = "dlq:admin"
SCOPES = {"dlq.dead_letters": SCOPE, "dlq.redrive": SCOPE, "dlq.discard": SCOPE}
SAMPLES = 3
SAMPLE_CHARS = 2000  # a sample body is cut here: the page shows it, it is not an export


@dataclass(frozen=True)
class DeadLetters:
    """What one queue's DLQ holds."""
    queue: str
    dlq: str
    count: int
    oldest_age_seconds: float | None  # None: RabbitMQ messages carry no timestamp
    first_error: str | None
    samples: list[dict[str, Any]]


def _sample(body: Any, message_id: str | None, error: str | None) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
    return {"message_id": message_id, "error": error, "body": text[:SAMPLE_CHARS]}


class TableDeadLetters:
    """The DLQs of the queue tables (the embedded default)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def _engine(self):
        return queue_table.engine_for(self.url)

    def depth(self, queue: str) -> int:
        """Messages in `queue`'s DLQ."""
        return queue_table.depth(self._engine, f"{queue}.dlq")

    def inspect(self, queue: str, display: str) -> DeadLetters:
        """Count, oldest age, first error and samples of `queue`'s DLQ."""
        m, dlq = queue_table.messages, f"{queue}.dlq"
        with self._engine.connect() as conn:
            count, age = conn.execute(select(
                func.count(), func.extract("epoch", func.now() - func.min(m.c.created_at)))
                .where(m.c.queue == dlq)).one()
            rows = conn.execute(select(m.c.message_id, m.c.payload, m.c.last_error)
                                .where(m.c.queue == dlq).order_by(m.c.id).limit(SAMPLES)).all()
        return DeadLetters(display, dlq, count, float(age) if age is not None else None,
                           rows[0].last_error if rows else None,
                           [_sample(r.payload, r.message_id, r.last_error) for r in rows])

    def redrive(self, queue: str) -> int:
        """Move every message of the DLQ back to `queue`, due now, attempts reset."""
        m = queue_table.messages
        with self._engine.begin() as conn:
            return conn.execute(update(m).where(m.c.queue == f"{queue}.dlq").values(
                queue=queue, attempts=0, last_error=None, available_at=func.now())).rowcount

    def discard(self, queue: str) -> int:
        """Delete every message of the DLQ."""
        m = queue_table.messages
        with self._engine.begin() as conn:
            return conn.execute(delete(m).where(m.c.queue == f"{queue}.dlq")).rowcount


class RabbitDeadLetters:
    """The `<queue>.dlq` queues on RabbitMQ, a short connection per call."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config

    def _channel(self):
        conn = connect(self.config)
        return conn, conn.channel()

    def depth(self, queue: str) -> int:
        """Messages ready in `queue`'s DLQ (passive declare: never creates it)."""
        conn, channel = self._channel()
        try:
            return channel.queue_declare(f"{queue}.dlq", passive=True).method.message_count
        finally:
            conn.close()

    def inspect(self, queue: str, display: str) -> DeadLetters:
        """Count, oldest age (when messages carry a timestamp), first error and samples;
        the peeked messages return to the DLQ unchanged when the channel closes."""
        dlq = f"{queue}.dlq"
        conn, channel = self._channel()
        try:
            count = channel.queue_declare(dlq, passive=True).method.message_count
            peeked = []
            for _ in range(min(count, SAMPLES)):
                method, props, body = channel.basic_get(dlq, auto_ack=False)
                if method is None:
                    break
                peeked.append((props, body))
        finally:
            conn.close()
        samples = [_sample(body.decode(errors="replace"), props.message_id,
                           (props.headers or {}).get("x-last-error")) for props, body in peeked]
        age = None
        if peeked and peeked[0][0].timestamp:
            age = max(0.0, time.time() - float(peeked[0][0].timestamp))
        return DeadLetters(display, dlq, count, age,
                           samples[0]["error"] if samples else None, samples)

    def redrive(self, queue: str) -> int:
        """Republish each DLQ message (as many as it held when called) to `queue` with
        the attempt count cleared, confirmed by the broker before the original is acked."""
        dlq, moved = f"{queue}.dlq", 0
        conn, channel = self._channel()
        try:
            channel.confirm_delivery()
            for _ in range(channel.queue_declare(dlq, passive=True).method.message_count):
                method, props, body = channel.basic_get(dlq, auto_ack=False)
                if method is None:
                    break
                headers = {k: v for k, v in (props.headers or {}).items()
                           if k not in ("x-attempts", "x-last-error")}
                channel.basic_publish("", queue, body, pika.BasicProperties(
                    content_type=props.content_type, delivery_mode=2,
                    message_id=props.message_id, headers=headers), mandatory=True)
                channel.basic_ack(method.delivery_tag)
                moved += 1
        finally:
            conn.close()
        return moved

    def discard(self, queue: str) -> int:
        """Purge the DLQ; returns how many messages it dropped."""
        conn, channel = self._channel()
        try:
            return channel.queue_purge(f"{queue}.dlq").method.message_count
        finally:
            conn.close()


def backend_for(config: ServiceConfig) -> TableDeadLetters | RabbitDeadLetters:
    """The DLQ operations of the configured broker."""
    if queue_table.is_table_url(config.rabbitmq_url):
        return TableDeadLetters(config.rabbitmq_url)
    return RabbitDeadLetters(config)


def _unavailable(exc: Exception) -> ApiError:
    log.warning("dead-letter queues unreachable: %s", exc)
    return ApiError(503, "broker_unavailable", "the message broker is unreachable; retry "
                                               "shortly")


def register(app: Flask, config: ServiceConfig, metrics: Metrics, workers: list) -> None:
    """Serve the DLQ API for the queues `workers`' consumers read, and export their depth
    as `meridian_dlq_messages`."""
    queues = {w.sub.queue: w.queue for w in workers if isinstance(w, Consumer)}
    backend = backend_for(config) if queues else None
    gauge = Gauge("meridian_dlq_messages", "Messages waiting in a dead-letter queue.",
                  ["service", "queue"], registry=metrics.registry)
    for name, full in queues.items():
        gauge.labels(metrics.service, name).set_function(
            partial(_depth_or_nan, backend, full))
    bp = Blueprint("dlq", __name__)

    def resolve(queue: str) -> str:
        if queue not in queues:
            raise ApiError(404, "unknown_queue", f"this service consumes no queue "
                                                 f"{queue[:80]!r}")
        return queues[queue]

    @bp.get("/v1/dlq")
    def dead_letters():
        try:
            found = [asdict(backend.inspect(full, name)) for name, full in queues.items()]
        except BROKER_ERRORS as exc:
            raise _unavailable(exc) from exc
        return jsonify({"service": config.service, "queues": found})

    @bp.post("/v1/dlq/<queue>/redrive")
    def redrive(queue: str):
        full = resolve(queue)
        assert backend is not None  # resolve() found a queue, so there is a backend
        try:
            moved = backend.redrive(full)
        except BROKER_ERRORS as exc:
            raise _unavailable(exc) from exc
        log.warning("redrove %d dead letters of %s", moved, full)
        return jsonify({"queue": queue, "redriven": moved})

    @bp.post("/v1/dlq/<queue>/discard")
    def discard(queue: str):
        full = resolve(queue)
        assert backend is not None  # resolve() found a queue, so there is a backend
        try:
            dropped = backend.discard(full)
        except BROKER_ERRORS as exc:
            raise _unavailable(exc) from exc
        log.warning("discarded %d dead letters of %s", dropped, full)
        return jsonify({"queue": queue, "discarded": dropped})

    app.register_blueprint(bp)


def _depth_or_nan(backend, queue: str) -> float:
    # A scrape during a broker outage must still answer: NaN says "unknown", not 0.
    try:
        return float(backend.depth(queue))
    except BROKER_ERRORS:
        return math.nan
