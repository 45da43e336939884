"""A message queue in PostgreSQL tables: the broker of the embedded default (`portal dev`)
when RABBITMQ_URL is a PostgreSQL URL instead of an AMQP one; RabbitMQ stays the
production path.

It keeps RabbitMQ's model so the services cannot tell the difference: topic exchanges
route a published message to every queue bound with a matching pattern (`*` one word,
`#` any number), a consumer claims messages with SELECT ... FOR UPDATE SKIP LOCKED and a
lease (an SQS-style visibility timeout, so no transaction stays open while a handler runs),
failures come back after a back-off and land in `<queue>.dlq` after the last attempt.
Like a broker it owns its tables (schema `messaging`) and creates them itself on first
use, serialised by an advisory lock so concurrent services do not race.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Engine

from platform_services.common.locks import xact_lock
from platform_services.common.resources import sqlalchemy_url

SCHEMA = "messaging"
LEASE_SECONDS = 300  # a claimed message returns to the queue if not settled by then
_CREATE_LOCK = 0x6D657367  # pg_advisory_xact_lock key of table creation ("mesg")

metadata = MetaData(schema=SCHEMA)
bindings = Table(
    "bindings", metadata,
    Column("exchange", String(120), nullable=False),
    Column("pattern", String(255), nullable=False),
    Column("queue", String(120), nullable=False),
    PrimaryKeyConstraint("exchange", "pattern", "queue"),
)
messages = Table(
    "messages", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("queue", String(120), nullable=False),
    Column("message_id", String(120), nullable=False),
    Column("routing_key", String(255), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("available_at", DateTime(timezone=True), server_default=func.now(),
           nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Index("ix_messages_queue_available", "queue", "available_at", "id"),
)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def is_table_url(url: str | None) -> TypeGuard[str]:
    """Whether RABBITMQ_URL names a PostgreSQL database (this transport) rather than AMQP."""
    return url is not None and url.split("://", 1)[0].lower().startswith("postgres")


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on dots, `*` is one word, `#` zero or more."""
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), routing_key.split("."))


def engine_for(url: str) -> Engine:
    """One small pool per database and process, its tables created on first use."""
    key = sqlalchemy_url(url)
    with _engines_lock:
        if key not in _engines:
            engine = create_engine(key, pool_pre_ping=True, pool_size=2, max_overflow=4)
            with engine.begin() as conn:
                xact_lock(conn, _CREATE_LOCK)
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
                metadata.create_all(conn)
            _engines[key] = engine
    return _engines[key]


def publish(engine: Engine, *, exchange: str, routing_key: str, payload: dict[str, Any],
            message_id: str) -> int:
    """Put a copy of the message on every queue bound to `exchange` with a matching pattern.

    Returns how many queues received it; like RabbitMQ, an unrouted message is dropped.
    """
    with engine.begin() as conn:
        queues = sorted({row.queue for row in conn.execute(
            select(bindings.c.pattern, bindings.c.queue).where(bindings.c.exchange == exchange))
            if topic_matches(row.pattern, routing_key)})
        if queues:
            conn.execute(messages.insert(), [
                {"queue": q, "message_id": message_id, "routing_key": routing_key,
                 "payload": payload} for q in queues])
    return len(queues)


def bind(engine: Engine, *, queue: str, exchange: str, patterns: tuple[str, ...]) -> None:
    """Route messages of `exchange` matching any of `patterns` to `queue` (idempotent)."""
    with engine.begin() as conn:
        conn.execute(insert(bindings).on_conflict_do_nothing(), [
            {"exchange": exchange, "pattern": p, "queue": queue} for p in patterns])


@dataclass(frozen=True)
class Claimed:
    """A message leased to one consumer; `attempt` counts deliveries, this one included."""
    id: int
    message_id: str
    routing_key: str
    payload: dict[str, Any]
    attempt: int


def claim(engine: Engine, *, queue: str, limit: int = 10) -> list[Claimed]:
    """Lease up to `limit` due messages of `queue` in id order; others skip them."""
    due = (select(messages.c.id).where(messages.c.queue == queue,
                                       messages.c.available_at <= func.now())
           .order_by(messages.c.id).limit(limit).with_for_update(skip_locked=True))
    with engine.begin() as conn:
        rows = conn.execute(
            update(messages).where(messages.c.id.in_(due.scalar_subquery()))
            .values(attempts=messages.c.attempts + 1,
                    available_at=func.now() + text(f"interval '{LEASE_SECONDS} seconds'"))
            .returning(messages.c.id, messages.c.message_id, messages.c.routing_key,
                       messages.c.payload, messages.c.attempts)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def ack(engine: Engine, message: Claimed) -> None:
    """The message's effect is committed: remove it."""
    with engine.begin() as conn:
        conn.execute(delete(messages).where(messages.c.id == message.id))


def retry_later(engine: Engine, message: Claimed, *, delay: float, error: str) -> None:
    """Deliver the message again after `delay` seconds."""
    with engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == message.id).values(
            last_error=error[:500],
            available_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay)))


def release(engine: Engine, message: Claimed, *, delay: float, error: str) -> None:
    """Deliver the message again after `delay` seconds without counting this delivery:
    it failed on an outage, not on its content."""
    with engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == message.id).values(
            attempts=func.greatest(messages.c.attempts - 1, 0), last_error=error[:500],
            available_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay)))


def oldest_due_age(engine: Engine, queue: str) -> float:
    """Seconds the oldest message of `queue` that is due (not leased) has waited; 0 if none."""
    with engine.connect() as conn:
        age = conn.scalar(select(func.extract("epoch", func.now() - func.min(
            messages.c.created_at))).where(messages.c.queue == queue,
                                           messages.c.available_at <= func.now()))
    return float(age or 0.0)


def dead_letter(engine: Engine, message: Claimed, *, queue: str, error: str) -> None:
    """Move the message to `<queue>.dlq`, where no consumer takes it."""
    with engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == message.id).values(
            queue=f"{queue}.dlq", last_error=error[:500], available_at=func.now()))


def depth(engine: Engine, queue: str) -> int:
    """Messages waiting in `queue` (leased ones included)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)
                            .where(messages.c.queue == queue)).scalar_one()
