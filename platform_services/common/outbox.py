"""The transactional outbox (events written in the same transaction as the change they
describe) and its relay to RabbitMQ (or the queue tables of the embedded default), plus the
inbox that makes consumers idempotent.

Exactly once, end to end: a row is marked published only after the broker confirmed it,
so nothing is lost while RabbitMQ is down; the one remaining duplicate window (confirmed,
then the process dies before the mark commits) is closed by consumers recording each
message id in their `processed_messages` table in the same transaction as its effect.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Connection, Engine

from platform_services.common.config import ServiceConfig
from platform_services.common.messaging import BROKER_ERRORS, publisher_for
from platform_services.common.observability import Metrics
from platform_services.common.supervision import LoopHealth, supervise

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """The `outbox` table of one service's schema."""
    return Table(
        "outbox", metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("exchange", String(63), nullable=False),
        Column("routing_key", String(120), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(),
               nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "id", postgresql_where="published_at IS NULL"),
    )


def inbox_table(metadata: MetaData) -> Table:
    """The `processed_messages` table: ids of messages whose effect is committed."""
    return Table(
        "processed_messages", metadata,
        Column("message_id", String(120), primary_key=True),
        Column("processed_at", DateTime(timezone=True), server_default=func.now(),
               nullable=False),
    )


def enqueue(conn: Connection, table: Table, *, exchange: str, routing_key: str,
            payload: dict[str, Any]) -> None:
    """Record an event in the caller's transaction; the relay publishes it after commit."""
    conn.execute(table.insert().values(exchange=exchange, routing_key=routing_key,
                                       payload=payload))


def first_delivery(conn: Connection, table: Table, message_id: str) -> bool:
    """Record `message_id` as processed; False when it already was (a duplicate)."""
    result = conn.execute(insert(table).values(message_id=message_id)
                          .on_conflict_do_nothing(index_elements=[table.c.message_id])
                          .returning(table.c.message_id))
    return result.first() is not None


def pending_count(engine: Engine, table: Table) -> int:
    """Events not yet confirmed by the broker."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.published_at.is_(None))).scalar_one()


def backlog_age(engine: Engine, table: Table) -> float:
    """Seconds since the oldest unpublished event was written (0 when none waits)."""
    oldest = (select(func.min(table.c.id)).where(table.c.published_at.is_(None))
              .scalar_subquery())
    with engine.connect() as conn:
        age = conn.scalar(select(func.extract("epoch", func.now() - table.c.created_at))
                          .where(table.c.id == oldest))
    return float(age or 0.0)


class OutboxRelay(threading.Thread):
    """Publishes unpublished outbox rows in id order; supervised, so a broker or database
    outage (or any other failure) only pauses it until the next try."""

    def __init__(self, config: ServiceConfig, engine: Engine, table: Table,
                 metrics: Metrics, batch: int = 200) -> None:
        super().__init__(name=f"outbox-relay-{table.schema}", daemon=True)
        self.config, self.engine, self.table, self.metrics = config, engine, table, metrics
        self.batch = batch
        self.publisher = publisher_for(config)
        self.connected = threading.Event()
        self.health = LoopHealth(f"outbox-relay-{table.schema}", config.loop_stale_seconds)
        self._stopping = threading.Event()
        self._wake = threading.Event()

    def stop(self) -> None:
        """Finish the batch in hand, then exit."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Publish now instead of at the next poll (called after a commit)."""
        self._wake.set()

    def run(self) -> None:
        self.metrics.watch(self.health)
        try:
            supervise(self.health, self._stopping, self._step)
        finally:
            self.publisher.close()

    def _step(self) -> None:
        try:
            sent = self.relay_once()
        except BROKER_ERRORS:
            self.connected.clear()
            raise
        self.connected.set()
        self.health.ok(lag=backlog_age(self.engine, self.table))
        if sent < self.batch:
            self._wake.wait(self.config.relay_interval)
            self._wake.clear()

    def relay_once(self) -> int:
        """Publish one batch; rows confirmed before a broker failure stay marked."""
        t = self.table
        confirmed: list[int] = []
        failure: Exception | None = None
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.c.id, t.c.exchange, t.c.routing_key, t.c.payload)
                                .where(t.c.published_at.is_(None)).order_by(t.c.id)
                                .limit(self.batch).with_for_update(skip_locked=True)).all()
            for row in rows:
                try:
                    self.publisher.publish(row.exchange, row.routing_key, row.payload,
                                           message_id=f"{t.schema}:{row.id}")
                except BROKER_ERRORS as exc:
                    failure = exc  # commit the marks of what was confirmed, then report
                    break
                confirmed.append(row.id)
                self.metrics.published.labels(self.metrics.service, row.exchange).inc()
            if confirmed:
                conn.execute(update(t).where(t.c.id.in_(confirmed))
                             .values(published_at=func.now()))
        if failure is not None:
            raise failure
        return len(confirmed)
