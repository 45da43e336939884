"""A distributed lock so a scheduled job never runs twice at once (no cron overlap).

Redis (`SET NX PX` with a token, released only by its holder) when configured, else a
PostgreSQL transaction advisory lock held by a transaction of its own for the job's
duration: it ends with that transaction, so behind PgBouncer in transaction mode it can
neither outlive the job on a pooled server connection nor be released on another one.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine


@contextmanager
def job_lock(*, client: redis.Redis | None, engine: Engine, name: str,
             ttl_seconds: int = 3600) -> Iterator[bool]:
    """Yield True while holding the lock `name`, False if someone else holds it."""
    if client is not None:
        lock = client.lock(name, timeout=ttl_seconds, blocking=False)
        acquired = lock.acquire()
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
        return
    key = zlib.crc32(name.encode())  # advisory locks take a bigint key
    with engine.connect() as conn:
        acquired = conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
        try:
            yield bool(acquired)
        finally:
            conn.rollback()  # ends the transaction, which releases the lock
