"""The services' advisory locks: a job that never runs twice at once, and short critical
sections serialised across replicas.

`job_lock` uses Redis (`SET NX PX` with a token, released only by its holder) when
configured, else a PostgreSQL transaction advisory lock held by a transaction of its own
for the job's duration: it ends with that transaction, so behind PgBouncer in transaction
mode it can neither outlive the job on a pooled server connection nor be released on
another one. `xact_lock` takes a transaction advisory lock inside the caller's transaction.

Both turn on server-side TCP keepalive for their transaction (SET LOCAL, so a pooled
server connection gets its settings back at commit): a holder whose host vanished
without closing TCP is noticed in about 90 s instead of the kernel's default two hours,
and PostgreSQL then ends its transaction and the lock. portal/jobs.py is the portal's
mirror of this module with the same keepalive settings; the services ship and run
without the portal (and may not import it), so the two cannot share code — change them
together.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# Probe an idle connection after 60 s, every 10 s, give up after 3 misses (~90 s).
KEEPALIVE = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10,
             "tcp_keepalives_count": 3}


def lock_key(name: str | int) -> int:
    """The bigint key of a lock: a name is hashed (advisory locks take a number)."""
    return name if isinstance(name, int) else zlib.crc32(name.encode())


def set_keepalive(conn: Connection) -> None:
    """Server-side TCP keepalive for the rest of the current transaction."""
    for setting, value in KEEPALIVE.items():
        conn.execute(text(f"SET LOCAL {setting} = {int(value)}"))


def xact_lock(conn: Connection, name: str | int) -> None:
    """Wait for the advisory lock `name`, held until the caller's transaction ends."""
    set_keepalive(conn)
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})


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
    with engine.connect() as conn:
        set_keepalive(conn)
        acquired = conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                               {"k": lock_key(name)})
        try:
            yield bool(acquired)
        finally:
            conn.rollback()  # ends the transaction, which releases the lock
