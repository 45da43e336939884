"""The hot stock cache in Redis, written through after every committed change.

Reads for dashboards come from here; reservations never do (they lock the rows). An entry
lives 60 s at most, the seed's stock-accuracy objective, so a write that raced another
cannot stay stale for longer.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import redis

log = logging.getLogger(__name__)
TTL_SECONDS = 60


class StockCache:
    def __init__(self, client: redis.Redis | None, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _key(self, tenant_id: int, sku: str) -> str:
        return f"{self.prefix}stock:{tenant_id}:{sku}"

    def write(self, tenant_id: int, sku: str, rows: list[dict[str, Any]]) -> None:
        """Store the committed stock rows of one SKU."""
        if self.client is None:
            return
        try:
            self.client.set(self._key(tenant_id, sku), json.dumps(rows), ex=TTL_SECONDS)
        except redis.RedisError as exc:
            log.warning("stock cache write failed (reads fall back to PostgreSQL): %s", exc)

    def read(self, tenant_id: int, sku: str,
             load: Callable[[], list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], str]:
        """(rows, "cache"|"database"): the cached rows, else loaded and cached."""
        if self.client is not None:
            try:
                raw = self.client.get(self._key(tenant_id, sku))
                if raw is not None:
                    return json.loads(raw), "cache"
            except redis.RedisError as exc:
                log.warning("stock cache read failed: %s", exc)
        rows = load()
        if rows:
            self.write(tenant_id, sku, rows)
        return rows, "database"
