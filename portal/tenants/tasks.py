"""Celery tasks of the tenants area: rollup refresh, report builds, scheduled reports."""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from portal.db import utcnow
from portal.extensions import db
from portal.integrations import object_store
from portal.integrations.s3 import S3Unavailable
from portal.integrations.smtp import MailUnavailable
from portal.tenants import (
    build_lock,
    delivery,
    report_build,
    rollups,
    schedules,
    sla_report,
    sla_report_batch,
    sources,
)
from portal.tenants.report_build import ReportUnavailable

log = logging.getLogger(__name__)
BEAT_SCHEDULE = {
    "tenants-refresh-rollups": {"task": "portal.tenants.tasks.refresh_rollups",
                                "schedule": 60.0},
    "tenants-run-due-schedules": {"task": "portal.tenants.tasks.run_due_schedules",
                                  "schedule": 600.0},
    "tenants-reap-lost-reports": {"task": "portal.tenants.tasks.reap_lost_reports",
                                  "schedule": 60.0},
    # After the scheduled reports' 06:00 run, so last month's final samples are in.
    "tenants-monthly-sla-reports": {"task": "portal.tenants.tasks.build_sla_reports",
                                    "schedule": crontab(minute=30, hour=6, day_of_month=1)},
}


@shared_task(name="portal.tenants.tasks.refresh_rollups")
def refresh_rollups() -> dict:
    """Bring the dashboard rollups up to date with the services' tables."""
    with db.session_scope() as session, sources.reading(session) as source:
        result = rollups.refresh(session=session, source=source,
                                 low_stock_threshold=current_app.config[
                                     "TENANTS_LOW_STOCK_THRESHOLD"])
    return asdict(result)


def _record_progress(report_id: int):
    def record(rows_written: int) -> None:
        with db.session_scope() as session:
            report_build.progress(session=session, report_id=report_id,
                                  rows_written=rows_written)
    return record


@shared_task(name="portal.tenants.tasks.build_report")
def build_report(report_id: int) -> str:
    """Build one queued report into S3 under its build lock, then mail it if scheduled."""
    with build_lock.holding(db.engine, report_id) as held:
        if not held:
            return "skipped"  # a live build of this report holds the lock
        return _build(report_id)


def _build(report_id: int) -> str:
    config = current_app.config
    with db.session_scope() as session:
        report = report_build.start(session=session, report_id=report_id)
        if report is None:
            return "skipped"
        name = report_build.tenant_name(session=session, tenant_id=report.tenant_id)
    try:
        with db.session_scope() as session, sources.reading(session) as source:
            stored, written, truncated = report_build.write(
                report=report, source=source, s3=object_store.from_config(config),
                bucket=config["S3_REPORTS_BUCKET"], pdf_max_rows=config["TENANTS_PDF_MAX_ROWS"],
                on_progress=_record_progress(report_id), tenant_name=name)
    except (ReportUnavailable, S3Unavailable) as exc:
        with db.session_scope() as session:
            report_build.fail(session=session, report_id=report_id, error=str(exc))
        return "failed"
    except Exception:
        with db.session_scope() as session:
            report_build.fail(session=session, report_id=report_id,
                              error="The report could not be built; the team has been told.")
        raise
    with db.session_scope() as session:
        report = report_build.finish(session=session, report_id=report_id, stored=stored,
                                     rows_written=written, truncated=truncated)
        try:
            delivery.deliver(session=session, report=report)
        except MailUnavailable as exc:
            log.warning("report %s built but not mailed: %s", report_id, exc)
    return "succeeded"


@shared_task(name="portal.tenants.tasks.run_due_schedules")
def run_due_schedules() -> int:
    """Queue the reports of every due schedule (their builds start after the commit)."""
    with db.session_scope() as session:
        return len(schedules.run_due(session=session, now=utcnow()))


@shared_task(name="portal.tenants.tasks.reap_lost_reports")
def reap_lost_reports() -> list[int]:
    """Fail the reports left 'running' by a worker that died (their build lock is free)."""
    lost_after = timedelta(minutes=current_app.config["TENANTS_REPORT_LOST_MINUTES"])
    with db.session_scope() as session:
        lost = build_lock.reap_lost(session=session, engine=db.engine,
                                    lost_after=lost_after, now=utcnow())
    if lost:
        log.warning("reports %s failed: worker lost", lost)
    return lost


@shared_task(name="portal.tenants.tasks.build_sla_reports")
def build_sla_reports(month: str | None = None) -> dict:
    """Build and e-mail every tenant's SLA report of `month` (YYYY-MM; default: last month)."""
    now = utcnow()
    first = (sla_report_batch.parse_month(month) if month
             else sla_report.previous_month(now.date()))
    return asdict(sla_report_batch.run(month=first, now=now))
