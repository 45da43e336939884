"""Per-tenant rate limits and deduplication: Redis when configured, PostgreSQL otherwise.

Rate limit: a fixed one-minute window counter per tenant (INCR + EXPIRE). Dedupe: the
first sender of a key claims it with SET NX for NOTIFY_DEDUPE_SECONDS; a failed send
releases the claim so a retry can go out. Without Redis both are answered from the
notification log, under a transaction advisory lock per tenant so two concurrent sends
of one key cannot both pass.
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from platform_services.common.locks import xact_lock
from platform_services.notification.models import notifications

log = logging.getLogger(__name__)


class Limits:
    def __init__(self, client: redis.Redis | None, prefix: str, per_minute: int,
                 dedupe_seconds: int) -> None:
        self.client, self.prefix = client, f"{prefix}notify:"
        self.per_minute, self.dedupe_seconds = per_minute, dedupe_seconds

    def _dedupe_key(self, tenant_id: int, key: str) -> str:
        return f"{self.prefix}dedupe:{tenant_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    def allow(self, conn: Connection, tenant_id: int) -> bool:
        """Count one send against the tenant's minute; False once over the limit."""
        if self.client is not None:
            key = f"{self.prefix}rate:{tenant_id}:{int(time.time() // 60)}"
            try:
                pipe = self.client.pipeline()
                pipe.incr(key)
                pipe.expire(key, 120)
                count, _ = pipe.execute()
                return count <= self.per_minute
            except redis.RedisError as exc:
                log.warning("rate limit counted in PostgreSQL, Redis failed: %s", exc)
        self._lock(conn, tenant_id)
        sent = conn.execute(select(func.count()).select_from(notifications).where(
            notifications.c.tenant_id == tenant_id, notifications.c.status != "rate_limited",
            notifications.c.created_at > datetime.now(UTC) - timedelta(minutes=1))).scalar_one()
        return sent < self.per_minute

    def claim(self, conn: Connection, tenant_id: int, key: str | None) -> bool:
        """True when this send owns `key` (or has none); False for a duplicate."""
        if key is None:
            return True
        if self.client is not None:
            try:
                return bool(self.client.set(self._dedupe_key(tenant_id, key), "1", nx=True,
                                            ex=self.dedupe_seconds))
            except redis.RedisError as exc:
                log.warning("dedupe checked in PostgreSQL, Redis failed: %s", exc)
        self._lock(conn, tenant_id)
        since = datetime.now(UTC) - timedelta(seconds=self.dedupe_seconds)
        seen = conn.scalar(select(notifications.c.id).where(
            notifications.c.tenant_id == tenant_id, notifications.c.dedupe_key == key,
            notifications.c.status.in_(("sending", "sent")),
            notifications.c.created_at > since).limit(1))
        return seen is None

    def release(self, tenant_id: int, key: str | None) -> None:
        """Give a key back after a failed send (so a retry is not taken for a duplicate)."""
        if key is not None and self.client is not None:
            try:
                self.client.delete(self._dedupe_key(tenant_id, key))
            except redis.RedisError as exc:
                log.warning("dedupe key of a failed send not released: %s", exc)

    @staticmethod
    def _lock(conn: Connection, tenant_id: int) -> None:
        xact_lock(conn, f"notify:{tenant_id}")
