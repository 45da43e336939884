"""Incident metrics computed in PostgreSQL from the recorded timestamps.

MTTA = acknowledged_at − opened_at over acknowledged incidents; MTTR = resolved_at −
opened_at over resolved ones. An incident an admin resolved without acknowledging counts
towards MTTR only. Everything is one GROUP BY per table, so the page costs the same few
queries for ten incidents or ten thousand.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, case, cast, extract, func, select
from sqlalchemy.orm import Session

from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents.models import Incident, IncidentService, Postmortem


@dataclass(frozen=True)
class Row:
    key: str
    count: int
    mtta_min: float | None
    mttr_min: float | None


@dataclass(frozen=True)
class Completion:
    key: str
    required: int
    completed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return None if not self.required else 100.0 * self.completed / self.required


def _minutes(end, start):
    return cast(extract("epoch", end - start), Float) / 60.0


MTTA = func.avg(_minutes(Incident.acknowledged_at, Incident.opened_at))
MTTR = func.avg(_minutes(Incident.resolved_at, Incident.opened_at))
MONTH = func.to_char(func.date_trunc("month", Incident.opened_at), "YYYY-MM")


def _rows(session: Session, key, since: datetime, join=None) -> list[Row]:
    stmt = select(key, func.count(), MTTA, MTTR).where(Incident.opened_at >= since)
    if join is not None:
        stmt = join(stmt)
    stmt = stmt.group_by(key).order_by(key)
    return [Row(str(k), n, a, r) for k, n, a, r in session.execute(stmt)]


def by_month(*, session: Session, since: datetime) -> list[Row]:
    """Count, MTTA and MTTR per month of opening."""
    return _rows(session, MONTH, since)


def by_severity(*, session: Session, since: datetime) -> list[Row]:
    """Count, MTTA and MTTR per severity."""
    return _rows(session, Incident.severity, since)


def by_service(*, session: Session, since: datetime) -> list[Row]:
    """Count, MTTA and MTTR per affected service (an incident counts for each service)."""
    def join(stmt):
        return (stmt.join(IncidentService, IncidentService.incident_id == Incident.id)
                .join(Service, Service.id == IncidentService.service_id))
    rows = _rows(session, Service.name, since, join)
    return sorted(rows, key=lambda r: (-r.count, r.key))


def postmortem_completion(*, session: Session, since: datetime,
                          now: datetime | None = None) -> list[Completion]:
    """Required postmortems per month of resolution: how many done, how many on time.

    Only postmortems already due count as required, so this week's are not a failure yet.
    """
    now = now or utcnow()
    month = func.to_char(func.date_trunc("month", Incident.resolved_at), "YYYY-MM")
    done = Postmortem.completed_at.is_not(None)
    stmt = (select(month, func.count(),
                   func.count(case((done, 1))),
                   func.count(case((and_(done, Postmortem.completed_at <= Postmortem.due_at), 1))))
            .join(Postmortem.incident)
            .where(Postmortem.required, Incident.resolved_at >= since,
                   (Postmortem.due_at <= now) | done)
            .group_by(month).order_by(month))
    return [Completion(k, n, c, t) for k, n, c, t in session.execute(stmt)]


def totals(rows: list[Completion]) -> Completion:
    """All months of a completion table added up."""
    return Completion("total", sum(r.required for r in rows), sum(r.completed for r in rows),
                      sum(r.on_time for r in rows))


def since_months(months: int, now: datetime | None = None) -> datetime:
    """The start of the reporting window `months` back from now."""
    return (now or utcnow()) - timedelta(days=round(months * 30.44))
