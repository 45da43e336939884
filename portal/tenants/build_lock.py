"""Liveness of report builds, and the rule that fails the builds whose worker died.

A build holds a PostgreSQL session advisory lock (LOCK_NAMESPACE, report id) on a
dedicated connection from before its report turns 'running' until after it is finished
or failed. That lock is the build's heartbeat, kept by the database itself: a worker
that dies (killed, OOM, host gone) loses its connection and PostgreSQL drops the lock at
once — or, for a host that vanished without closing TCP, after the keepalive probes set
below. The beat task then fails every report that is still 'running' LOST_AFTER minutes
after it started and whose lock is free: nobody is building it any more.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.tenants.models import Report

LOCK_NAMESPACE = 4100  # first key of the tenants area's advisory locks (selfservice: 4000)
WORKER_LOST = ("worker lost: the build stopped without finishing (its worker died or was "
               "restarted). Ask for the report again.")
# Server-side TCP keepalive on the lock's connection: a silently vanished worker host is
# noticed in about 90 s instead of the kernel's default two hours.
_KEEPALIVE = ("SET tcp_keepalives_idle = 60; SET tcp_keepalives_interval = 10; "
              "SET tcp_keepalives_count = 3")


def _try_lock(conn: Connection, report_id: int) -> bool:
    return bool(conn.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                            {"ns": LOCK_NAMESPACE, "id": report_id}))


def _unlock(conn: Connection, report_id: int) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"),
                 {"ns": LOCK_NAMESPACE, "id": report_id})


@contextmanager
def holding(engine: Engine, report_id: int) -> Iterator[bool]:
    """Hold the build lock of a report for the block; yields False when another holds it."""
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn.execute(text(_KEEPALIVE))
        got = _try_lock(conn, report_id)
        try:
            yield got
        finally:
            if got:
                _unlock(conn, report_id)
    finally:
        conn.close()


def is_free(conn: Connection, report_id: int) -> bool:
    """True when no live build holds the report's lock (checked, then released at once)."""
    free = _try_lock(conn, report_id)
    if free:
        _unlock(conn, report_id)
    return free


def reap_lost(*, session: Session, lock_conn: Connection, lost_after: timedelta,
              now: datetime) -> list[int]:
    """Fail the running reports started over `lost_after` ago whose build lock is free."""
    stale = session.scalars(select(Report).where(
        Report.status == "running", Report.started_at < now - lost_after)
        .order_by(Report.id).with_for_update(skip_locked=True)).all()
    lost = [r for r in stale if is_free(lock_conn, r.id)]
    for report in lost:
        report.status, report.finished_at, report.error = "failed", now, WORKER_LOST
    session.flush()
    return [r.id for r in lost]
