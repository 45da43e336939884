"""Rows for the SLA report tests: the platform's availability SLO with samples inside a
month, and customer-facing incidents at chosen times."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from portal.db import utcnow
from portal.incidents import service as incidents
from portal.slo import samples
from portal.slo.samples import MinuteSample
from portal.tenants import sla_report
from tests.unit.slo.factories import make_service, make_slo


def last_month() -> date:
    """The first day of last month (the month the monthly job reports on)."""
    return sla_report.previous_month(utcnow().date())


def record_month(session, month: date, *, good: int, total: int, minutes: int = 10) -> None:
    """`good` of `total` events spread evenly over `minutes` minutes on the month's 3rd."""
    slo = make_slo(session, make_service(session))
    start = datetime.combine(month.replace(day=3), time(), UTC)
    per_good, per_total = good // minutes, total // minutes
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(start + timedelta(minutes=i), per_good, per_total)
        for i in range(minutes)])


def incident(session, title: str, *, opened: datetime, hours: float | None = 2,
             tenants=(), customer_facing: bool = True):
    """A declared incident, resolved `hours` after it opened (None: still open)."""
    found = incidents.declare(session=session, title=title, severity="sev2",
                              actor_email=None, tenant_slugs=[t.slug for t in tenants],
                              customer_facing=customer_facing, opened_at=opened)
    if hours is not None:
        found.status, found.resolved_at = "resolved", opened + timedelta(hours=hours)
    session.flush()
    return found
