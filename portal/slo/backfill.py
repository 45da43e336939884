"""History for a new SLO: its whole window read back from Prometheus, once, in a task.

The per-minute collection only ever looks back a day, so without this a new 30-day SLO over
counters Prometheus has kept for weeks would start at 0/0. Storing a minute replaces what was
there (samples.record), so running the backfill again changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from portal import jobs
from portal.slo import samples
from portal.slo.models import Slo
from portal.slo.samples import MinuteSample, floor_minute
from portal.slo.sources import PrometheusSource

TASK = "portal.slo.tasks.backfill_history"
# Prometheus refuses a range query of more than 11,000 points per series; a chunk of
# [a, b) reads the points a..b inclusive at a 60 s step, so 10,000 minutes stay well under.
CHUNK = timedelta(minutes=10_000)
_PENDING = "slo_backfills_to_send"


@dataclass(frozen=True)
class WindowQueries:
    """What a backfill reads of an SLO, copied so that Prometheus is read outside any
    transaction."""
    id: int
    window_days: int
    good_query: str
    total_query: str


def chunks(start: datetime, end: datetime, size: timedelta = CHUNK
           ) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive [a, b) ranges no longer than `size`."""
    out, at = [], start
    while at < end:
        out.append((at, min(at + size, end)))
        at += size
    return out


def fetch(*, source: PrometheusSource, slo: Slo | WindowQueries, now: datetime
          ) -> list[MinuteSample]:
    """Every minute of the SLO's window that Prometheus knows, read in chunks it accepts."""
    end = floor_minute(now)
    return [minute for a, b in chunks(end - timedelta(days=slo.window_days), end)
            for minute in source.samples(slo=slo, start=a, end=b)]


def backfill(*, session: Session, source: PrometheusSource, slo: Slo, now: datetime) -> int:
    """Fetch and store the SLO's window; returns minutes stored."""
    return samples.record(session=session, slo_id=slo.id,
                          samples=fetch(source=source, slo=slo, now=now))


def schedule(*, session: Session, slo_id: int) -> None:
    """Backfill the SLO's history once this session commits (when Prometheus is configured)."""
    if current_app.config.get("PROMETHEUS_URL"):
        jobs.after_commit_batch(session, _PENDING, slo_id, _send_pending)


def send(slo_id: int) -> None:
    """Enqueue the backfill of one SLO (replaced in tests that run no worker)."""
    celery = current_app.extensions["celery"]
    celery.send_task(TASK, args=[slo_id], queue=celery.conf.task_default_queue)


def _send_pending(slo_ids: list[int]) -> None:
    for slo_id in dict.fromkeys(slo_ids):
        send(slo_id)  # looked up at call time: tests replace it
