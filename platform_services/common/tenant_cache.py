"""A per-process memory of the tenant registry: a path's tenant (id or slug) → tenant id.

Tenants are registered once and almost never change, yet every tenant-scoped request
resolved its path with a query; a hit here costs none. Only tenants that exist are
remembered (so unknown refs cannot fill it), each for `ttl` seconds, the longest a slug
moved to another tenant id keeps answering with the old one in this process.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Table
from sqlalchemy.engine import Engine

from platform_services.common import tenants

TTL_SECONDS = 30.0


class TenantCache:
    def __init__(self, engine: Engine, table: Table, ttl: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # Reads need no transaction: autocommit saves the BEGIN and ROLLBACK round trips.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.table, self.ttl, self.clock = table, ttl, clock
        self._known: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def resolve(self, ref: str) -> int:
        """The id of the tenant given by slug or id, or a 404 ApiError."""
        now = self.clock()
        with self._lock:
            hit = self._known.get(ref)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.engine.connect() as conn:
            tenant_id = tenants.resolve(conn, self.table, ref)
        with self._lock:
            self._known[ref] = (tenant_id, now + self.ttl)
        return tenant_id
