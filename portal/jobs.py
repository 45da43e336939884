"""Job plumbing shared by every portal area that queues background work.

- `after_commit` / `after_commit_batch`: send a task only once the transaction that wrote
  its rows has committed (a task started earlier would not see them; a rolled-back request
  must never reach a worker, a chat or a mailbox).
- `lock_connection`, `try_lock`, `unlock`, `lock_is_free`, `advisory_lock`: PostgreSQL
  session advisory locks held on a dedicated connection for a whole run. When the worker
  dies its connection closes and PostgreSQL drops the lock by itself, so "is the lock
  free?" tells a redelivered task or a reaper that the previous run is gone. The connection
  turns on server-side TCP keepalive, so a worker host that vanished without closing TCP is
  noticed in about 90 s instead of the kernel's default two hours.
- `reap_lost`: fail the rows a dead worker left 'running' — stale by the area's own rule
  and with their lock free.

platform_services/common/locks.py is the services' mirror of the lock half (same keepalive
settings): the platform services ship and run without the portal, so they cannot import
this module; change the two together.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

T = TypeVar("T")
LockKey = int | str  # an int is used as is; a string is hashed by PostgreSQL (hashtext)

_CALLBACKS = "portal.jobs.after_commit"
_BATCHES = "portal.jobs.after_commit_batches"
# Probe an idle lock connection after 60 s, every 10 s, give up after 3 misses (~90 s).
KEEPALIVE = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10,
             "tcp_keepalives_count": 3}


# -- after commit -------------------------------------------------------------------------

def after_commit(session: Session, fn: Callable[[], object]) -> None:
    """Call `fn()` once the session's transaction commits; a rollback forgets it."""
    session.info.setdefault(_CALLBACKS, []).append(fn)


def after_commit_batch(session: Session, key: str, item: object,
                       send: Callable[[list], object]) -> None:
    """Collect `item` under `key`; after the commit, `send(items)` runs once with them all.

    The items stay in `session.info[key]` until then, so a caller may take one back out
    (a job run in this process instead). `send` is called only when items are left.
    """
    pending = session.info.get(key)
    if pending is None:
        pending = session.info[key] = []
        session.info.setdefault(_BATCHES, []).append(key)
        after_commit(session, lambda: _send_batch(session, key, send))
    pending.append(item)


def _send_batch(session: Session, key: str, send: Callable[[list], object]) -> None:
    items = session.info.pop(key, [])
    if items:
        send(items)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_CALLBACKS, [])
    keys = session.info.pop(_BATCHES, [])
    try:
        for fn in callbacks:
            fn()
    finally:  # a failing send must not leave items behind for the next transaction
        for key in keys:
            session.info.pop(key, None)


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_CALLBACKS, None)
    for key in session.info.pop(_BATCHES, []):
        session.info.pop(key, None)


# -- advisory locks -----------------------------------------------------------------------

def set_keepalive(conn: Connection) -> None:
    """Turn on server-side TCP keepalive for this connection's session."""
    for name, value in KEEPALIVE.items():
        conn.execute(text(f"SET {name} = {int(value)}"))


@contextmanager
def lock_connection(engine: Engine) -> Iterator[Connection]:
    """A dedicated autocommit connection with TCP keepalive, closed (locks and all) at exit."""
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        set_keepalive(conn)
        yield conn
    finally:
        conn.close()


def _args(namespace: int | None, key: LockKey) -> tuple[str, dict]:
    if namespace is None:
        return ":k", {"k": key}  # one bigint key
    return (":ns, hashtext(:k)" if isinstance(key, str) else ":ns, :k"), {"ns": namespace,
                                                                           "k": key}


def try_lock(conn: Connection, namespace: int | None, key: LockKey) -> bool:
    """Take the session advisory lock (namespace, key) on `conn` if it is free."""
    args, params = _args(namespace, key)
    return bool(conn.scalar(text(f"SELECT pg_try_advisory_lock({args})"), params))


def unlock(conn: Connection, namespace: int | None, key: LockKey) -> None:
    """Release a lock taken by `try_lock` on the same connection."""
    args, params = _args(namespace, key)
    conn.execute(text(f"SELECT pg_advisory_unlock({args})"), params)


def is_free(conn: Connection, namespace: int | None, key: LockKey) -> bool:
    """True when nobody holds the lock (taken and released at once on `conn`)."""
    free = try_lock(conn, namespace, key)
    if free:
        unlock(conn, namespace, key)
    return free


def lock_is_free(engine: Engine, namespace: int | None, key: LockKey) -> bool:
    """`is_free` on a short-lived connection of its own."""
    with engine.connect() as conn:
        free = is_free(conn, namespace, key)
        conn.rollback()
    return free


@contextmanager
def advisory_lock(engine: Engine, namespace: int | None, key: LockKey) -> Iterator[bool]:
    """Hold the lock for the block on a dedicated keepalive connection; yields False (and
    holds nothing) when another session holds it."""
    with lock_connection(engine) as conn:
        held = try_lock(conn, namespace, key)
        try:
            yield held
        finally:
            if held:
                unlock(conn, namespace, key)


# -- lost workers -------------------------------------------------------------------------

def reap_lost(*, session: Session, engine: Engine, stale: Iterable[T], namespace: int,
              key: Callable[[T], LockKey], fail: Callable[[T], object]) -> list[T]:
    """Fail each of the `stale` rows (the area's rule: 'running' and not heard of for too
    long) whose advisory lock is free — the worker that held it is gone. Rows whose lock is
    held belong to a live worker and are left alone. Returns the failed rows."""
    with lock_connection(engine) as conn:
        lost = [row for row in stale if is_free(conn, namespace, key(row))]
    for row in lost:
        fail(row)
    session.flush()
    return lost
