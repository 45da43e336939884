"""Liveness of report builds, and the rule that fails the builds whose worker died.

A build holds a PostgreSQL session advisory lock (LOCK_NAMESPACE, report id) on a
dedicated connection (portal.jobs) from before its report turns 'running' until after it
is finished or failed. That lock is the build's heartbeat, kept by the database itself: a
worker that dies (killed, OOM, host gone) loses its connection and PostgreSQL drops the
lock at once — or, for a host that vanished without closing TCP, after the connection's
keepalive probes give up. The beat task then fails every report that is still 'running'
LOST_AFTER minutes after it started and whose lock is free: nobody is building it any more.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal import jobs
from portal.tenants.models import Report

LOCK_NAMESPACE = 4100  # first key of the tenants area's advisory locks (selfservice: 4000)
WORKER_LOST = ("worker lost: the build stopped without finishing (its worker died or was "
               "restarted). Ask for the report again.")


@contextmanager
def holding(engine: Engine, report_id: int) -> Iterator[bool]:
    """Hold the build lock of a report for the block; yields False when another holds it."""
    with jobs.advisory_lock(engine, LOCK_NAMESPACE, report_id) as held:
        yield held


def reap_lost(*, session: Session, engine: Engine, lost_after: timedelta,
              now: datetime) -> list[int]:
    """Fail the running reports started over `lost_after` ago whose build lock is free."""
    stale = session.scalars(select(Report).where(
        Report.status == "running", Report.started_at < now - lost_after)
        .order_by(Report.id).with_for_update(skip_locked=True)).all()

    def fail(report: Report) -> None:
        report.status, report.finished_at, report.error = "failed", now, WORKER_LOST

    lost = jobs.reap_lost(session=session, engine=engine, stale=stale,
                          namespace=LOCK_NAMESPACE, key=lambda report: report.id, fail=fail)
    return [r.id for r in lost]
