"""Scheduled reports: weekly (last 7 days, Mondays) or monthly (last month, on the 1st),
06:00 UTC, delivered by e-mail with a signed link once built."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.security.inputs import is_email
from portal.tenants import reports
from portal.tenants.models import CADENCES, REPORT_FORMATS, REPORT_KINDS, Report, ReportSchedule

RUN_AT = time(6, 0, tzinfo=UTC)


def validate(*, kind: str, fmt: str, cadence: str, email: str) -> dict[str, str]:
    """Field -> message for everything wrong with a schedule (empty when valid)."""
    errors = {}
    if kind not in REPORT_KINDS:
        errors["kind"] = f"Choose one of: {', '.join(REPORT_KINDS)}."
    if fmt not in REPORT_FORMATS:
        errors["fmt"] = "Choose CSV or PDF."
    if cadence not in CADENCES:
        errors["cadence"] = "Choose weekly or monthly."
    if not is_email(email or ""):
        errors["email"] = "Give an e-mail address such as ops@example.com."
    return errors


def next_run(cadence: str, after: datetime) -> datetime:
    """The first scheduled run strictly after `after`."""
    start = datetime.combine(after.astimezone(UTC).date(), RUN_AT)
    days = {"byweekday": rrule.MO} if cadence == "weekly" else {"bymonthday": 1}
    run = rrule.rrule(rrule.WEEKLY if cadence == "weekly" else rrule.MONTHLY,
                      dtstart=start, **days).after(after)
    assert run is not None  # a rule without count or until never runs out of dates
    return run


def period(cadence: str, run_day: date) -> tuple[date, date]:
    """The date range a run on `run_day` reports on."""
    if cadence == "weekly":
        return run_day - timedelta(days=7), run_day - timedelta(days=1)
    last = run_day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def create(*, session: Session, tenant_id: int, kind: str, fmt: str, cadence: str, email: str,
           created_by: str | None, now: datetime) -> ReportSchedule:
    """Add a schedule; its first run is the next Monday or 1st of the month."""
    schedule = ReportSchedule(tenant_id=tenant_id, kind=kind, fmt=fmt, cadence=cadence,
                              email=email, created_by=created_by,
                              next_run_at=next_run(cadence, now))
    session.add(schedule)
    session.flush()
    return schedule


def list_for(*, session: Session, tenant_id: int) -> list[ReportSchedule]:
    """A tenant's schedules, oldest first."""
    return list(session.scalars(select(ReportSchedule).where(
        ReportSchedule.tenant_id == tenant_id).order_by(ReportSchedule.id)))


def delete(*, session: Session, tenant_id: int, schedule_id: int) -> ReportSchedule | None:
    """Remove one of this tenant's schedules; None when it is not theirs or is gone."""
    schedule = session.scalar(select(ReportSchedule).where(
        ReportSchedule.id == schedule_id, ReportSchedule.tenant_id == tenant_id))
    if schedule is not None:
        session.delete(schedule)
        session.flush()
    return schedule


def run_due(*, session: Session, now: datetime) -> list[Report]:
    """Queue the report of every schedule that is due and move it to its next run."""
    due = session.scalars(select(ReportSchedule).where(ReportSchedule.next_run_at <= now)
                          .with_for_update(skip_locked=True)).all()
    queued = []
    for schedule in due:
        date_from, date_to = period(schedule.cadence, schedule.next_run_at.date())
        queued.append(reports.request(
            session=session, tenant_id=schedule.tenant_id, kind=schedule.kind,
            fmt=schedule.fmt, date_from=date_from, date_to=date_to,
            requested_by=f"schedule:{schedule.cadence}", schedule_id=schedule.id))
        schedule.next_run_at = next_run(schedule.cadence, now)
    session.flush()
    return queued
