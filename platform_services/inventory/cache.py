"""The hot stock cache in Redis, written through after every committed change.

Reads for dashboards come from here; reservations never do (they lock the rows). Each
entry carries its version (the SKU's latest stock change) and a write never replaces a
newer one, so concurrent writers cannot leave an older count behind; an entry lives 60 s
at most, the stock-accuracy objective, which bounds what a missed write leaves.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import cast

import redis

from platform_services.inventory.service import SkuLevels

log = logging.getLogger(__name__)
TTL_SECONDS = 60
# Atomically: keep the entry unless the stored version is newer than this one.
NEWER_WINS = """
local stored = redis.call('GET', KEYS[2])
if stored and tonumber(stored) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""


class StockCache:
    def __init__(self, client: redis.Redis | None, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self._newer_wins = client.register_script(NEWER_WINS) if client is not None else None

    def _key(self, tenant_id: int, sku: str) -> str:
        return f"{self.prefix}stock:{tenant_id}:{sku}"

    def write(self, tenant_id: int, sku: str, level: SkuLevels) -> None:
        """Store the committed stock rows of one SKU unless a newer version is stored."""
        if self._newer_wins is None:
            return
        key = self._key(tenant_id, sku)
        try:
            self._newer_wins(keys=[key, f"{key}:version"],
                             args=[json.dumps(level.rows), level.version, TTL_SECONDS])
        except redis.RedisError as exc:
            log.warning("stock cache write failed (reads fall back to PostgreSQL): %s", exc)

    def read(self, tenant_id: int, sku: str,
             load: Callable[[], SkuLevels | None]) -> tuple[list[dict], str]:
        """(rows, "cache"|"database"): the cached rows, else loaded and cached."""
        if self.client is not None:
            try:
                # redis-py types replies as "awaitable or not"; this client is the sync one
                raw = cast("str | None", self.client.get(self._key(tenant_id, sku)))
                if raw is not None:
                    return json.loads(raw), "cache"
            except redis.RedisError as exc:
                log.warning("stock cache read failed: %s", exc)
        level = load()
        if level is None:
            return [], "database"
        self.write(tenant_id, sku, level)
        return level.rows, "database"
