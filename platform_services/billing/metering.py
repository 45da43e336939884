"""Usage metering: Redis hash counters per tenant and month, flushed to PostgreSQL.

A flush renames a counter hash to a batch key atomically (new increments start a fresh
hash), adds the batch to `usage` and records its id in `usage_flushes` in one
transaction, then deletes the batch. A crash between commit and delete leaves a batch
whose id is already recorded, which the next flush just deletes — so a Redis crash loses
at most one flush interval and a process crash never counts a batch twice.
"""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import cast

import redis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from platform_services.billing.models import usage, usage_flushes
from platform_services.common.observability import Metrics

log = logging.getLogger(__name__)
MAX_QUANTITY = 1_000_000
# Rename a live counter to a batch key, or drop it from the index when it is gone; one
# script so an increment can never slip between the check and the removal.
_TAKE = """
if redis.call('exists', KEYS[1]) == 1 then
  redis.call('rename', KEYS[1], KEYS[3]) return 1
end
redis.call('srem', KEYS[2], KEYS[1]) return 0
"""


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def add_usage(conn: Connection, tenant_id: int, period: str, counts: dict[str, int]) -> None:
    """Add counts to the durable totals."""
    for meter, quantity in counts.items():
        stmt = insert(usage).values(tenant_id=tenant_id, period=period, meter=meter,
                                    quantity=quantity)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[usage.c.tenant_id, usage.c.period, usage.c.meter],
            set_={"quantity": usage.c.quantity + stmt.excluded.quantity}))


class UsageMeter:
    """Counts usage in Redis (or straight into PostgreSQL without Redis)."""

    def __init__(self, client: redis.Redis | None, engine: Engine, prefix: str,
                 metrics: Metrics) -> None:
        self.client, self.engine, self.metrics = client, engine, metrics
        self.prefix = f"{prefix}billing:"
        self.index = f"{self.prefix}usage-keys"
        self._take = client.register_script(_TAKE) if client is not None else None

    def record(self, tenant_id: int, meter: str, quantity: int) -> str:
        """Count `quantity` of `meter`; returns where it went (redis | postgresql)."""
        period = current_period()
        if self.client is not None:
            key = f"{self.prefix}usage:{tenant_id}:{period}"
            try:
                pipe = self.client.pipeline(transaction=True)
                pipe.hincrby(key, meter, quantity)
                pipe.sadd(self.index, key)
                pipe.execute()
                return "redis"
            except redis.RedisError as exc:
                log.warning("usage counted in PostgreSQL directly, Redis failed: %s", exc)
        with self.engine.begin() as conn:
            add_usage(conn, tenant_id, period, {meter: quantity})
        return "postgresql"

    def pending(self, tenant_id: int, period: str) -> dict[str, int]:
        """Counts not flushed yet (zero without Redis or when it is down)."""
        if self.client is None:
            return {}
        try:
            # redis-py types replies as "awaitable or not"; this client is the sync one
            raw = cast("dict[str, str]",
                       self.client.hgetall(f"{self.prefix}usage:{tenant_id}:{period}"))
        except redis.RedisError:
            return {}
        return {meter: int(value) for meter, value in raw.items()}

    def flush(self) -> int:
        """Move every counter into PostgreSQL; returns the number of batches applied."""
        if self.client is None:
            return 0
        assert self._take is not None  # registered with the client
        applied = 0
        for batch in self.client.scan_iter(f"{self.prefix}flushing:*"):
            applied += self._apply(batch)  # leftovers of a flush that died half-way
        for key in cast("set[str]", self.client.smembers(self.index)):
            batch = f"{self.prefix}flushing:{uuid.uuid4().hex}:{key.rsplit(':', 2)[-2]}:" \
                    f"{key.rsplit(':', 1)[-1]}"
            if self._take(keys=[key, self.index, batch]):
                applied += self._apply(batch)
        if applied:
            self.metrics.event("usage_flush", "ok", applied)
        return applied

    def _apply(self, batch: str) -> int:
        assert self.client is not None  # flush() applies batches only with Redis
        flush_id, tenant, period = batch.rsplit(":", 3)[-3:]
        counts = {m: int(v) for m, v in cast("dict[str, str]",
                                             self.client.hgetall(batch)).items()}
        with self.engine.begin() as conn:
            done = conn.scalar(select(usage_flushes.c.flush_id)
                               .where(usage_flushes.c.flush_id == flush_id))
            if done is None:
                conn.execute(usage_flushes.insert().values(flush_id=flush_id))
                add_usage(conn, int(tenant), period, counts)
        self.client.delete(batch)
        return 0 if done else 1
