"""Tenant reports: asking for one, listing them, and the signed download links.

A report row is the source of truth; its build task is sent only after the transaction
that created the row has committed. Objects live under `tenants/<tenant id>/reports/` and
every download goes through the portal: a link signed by the portal (tenant id, report id,
expiry) that, once the tenant's ownership is checked again, redirects to a freshly
pre-signed S3 URL with a short expiry.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import jobs
from portal.integrations.folder_store import FolderStore
from portal.integrations.s3 import S3Client
from portal.tenants.dashboard import MAX_DAYS, WAREHOUSE
from portal.tenants.models import REPORT_FORMATS, REPORT_KINDS, Report

TASK = "portal.tenants.tasks.build_report"
_PENDING = "tenants_reports_to_send"
_SALT = "tenants.report-download"


class LinkExpired(Exception):
    """The signed download link is older than its lifetime."""


class LinkInvalid(Exception):
    """The signed download link was tampered with or names another tenant or report."""


def validate(*, kind: str, fmt: str, date_from: date | None, date_to: date | None,
             warehouse: str | None, today: date) -> dict[str, str]:
    """Field -> message for everything wrong with a report request (empty when valid)."""
    errors = {}
    if kind not in REPORT_KINDS:
        errors["kind"] = f"Choose one of: {', '.join(REPORT_KINDS)}."
    if fmt not in REPORT_FORMATS:
        errors["fmt"] = "Choose CSV or PDF."
    if date_from is None:
        errors["date_from"] = "Give a start date."
    if date_to is None:
        errors["date_to"] = "Give an end date."
    if date_from and date_to:
        if date_from > date_to:
            errors["date_to"] = "The end date is before the start date."
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            errors["date_to"] = f"A report covers at most {MAX_DAYS} days."
        elif date_from > today:
            errors["date_from"] = "The start date is in the future."
    if warehouse and not WAREHOUSE.match(warehouse):
        errors["warehouse"] = "Letters, digits, '.', '_' or '-' only."
    return errors


def request(*, session: Session, tenant_id: int, kind: str, fmt: str, date_from: date,
            date_to: date, warehouse: str | None = None, requested_by: str | None = None,
            schedule_id: int | None = None) -> Report:
    """Queue a report; its build task is sent when this transaction commits."""
    report = Report(tenant_id=tenant_id, kind=kind, fmt=fmt, date_from=date_from,
                    date_to=date_to, warehouse=warehouse or None, status="queued",
                    rows_written=0, requested_by=requested_by, schedule_id=schedule_id)
    session.add(report)
    session.flush()
    jobs.after_commit_batch(session, _PENDING, report.id, _send_pending)
    return report


def send(report_id: int) -> None:
    """Enqueue the build of one report (replaced in tests that run no worker)."""
    celery = current_app.extensions["celery"]
    celery.send_task(TASK, args=[report_id], queue=celery.conf.task_default_queue)


def _send_pending(report_ids: list[int]) -> None:
    for report_id in report_ids:
        send(report_id)  # looked up at call time: tests replace it


def get(*, session: Session, tenant_id: int, report_id: int) -> Report | None:
    """One report of this tenant, or None (also for another tenant's report id)."""
    return session.scalar(select(Report).where(Report.id == report_id,
                                               Report.tenant_id == tenant_id))


class StillBuilding(Exception):
    """A queued or running report cannot be deleted: its worker would write it back."""


def delete(*, session: Session, tenant_id: int, report_id: int,
           s3: S3Client | FolderStore, bucket: str) -> Report | None:
    """Delete a finished report of this tenant and its stored file (None: no such report).

    The file goes first: when the store fails (S3Unavailable) the row is untouched and
    the tenant can try again, instead of a file nobody can see or delete any more.
    """
    report = get(session=session, tenant_id=tenant_id, report_id=report_id)
    if report is None:
        return None
    if report.status in ("queued", "running"):
        raise StillBuilding()
    if report.object_key and report.object_key.startswith(tenant_prefix(tenant_id)):
        s3.delete(bucket, report.object_key)
    session.delete(report)
    session.flush()
    return report


def latest(*, session: Session, tenant_id: int, limit: int = 5) -> list[Report]:
    """A tenant's most recent reports, newest first."""
    return list(session.scalars(select(Report).where(Report.tenant_id == tenant_id)
                                .order_by(Report.created_at.desc(), Report.id.desc())
                                .limit(limit)))


def list_for(*, session: Session, tenant_id: int, now: datetime,
             retention_days: int) -> tuple[list[Report], list[Report]]:
    """(current, archived) reports of a tenant, newest first; archived = past retention."""
    reports = session.scalars(select(Report).where(Report.tenant_id == tenant_id)
                              .order_by(Report.created_at.desc(), Report.id.desc())
                              .limit(200)).all()
    cutoff = now - timedelta(days=retention_days)
    return ([r for r in reports if r.created_at >= cutoff],
            [r for r in reports if r.created_at < cutoff])


def tenant_prefix(tenant_id: int) -> str:
    """Every object of a tenant lives under this prefix, and only its objects do."""
    return f"tenants/{int(tenant_id)}/reports/"


def object_key(report: Report) -> str:
    """Where a report's file is stored in the reports bucket."""
    return f"{tenant_prefix(report.tenant_id)}{report.id}/{report.filename}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def download_token(report: Report, *, emailed: bool = False) -> str:
    """A signed token naming this tenant and report; e-mailed links live longer."""
    return _serializer().dumps({"t": report.tenant_id, "r": report.id, "e": int(emailed)})


def check_token(token: str, *, tenant_id: int, report_id: int, now: datetime) -> None:
    """Raise LinkExpired or LinkInvalid unless `token` is a live link to this report."""
    try:
        claims, signed_at = _serializer().loads(token or "", return_timestamp=True)
    except BadSignature:
        raise LinkInvalid() from None
    if not isinstance(claims, dict) or (claims.get("t"), claims.get("r")) != (tenant_id,
                                                                              report_id):
        raise LinkInvalid()
    lifetime = current_app.config["TENANTS_EMAIL_LINK_SECONDS" if claims.get("e")
                                  else "TENANTS_DOWNLOAD_LINK_SECONDS"]
    if (now - signed_at).total_seconds() > lifetime:
        raise LinkExpired()


def presigned_url(*, report: Report, s3: S3Client | FolderStore, bucket: str,
                  expires_in: int) -> str:
    """A fresh S3 pre-signed URL of a finished report, inside its tenant's prefix only."""
    if report.status != "succeeded" or not report.object_key:
        raise LinkInvalid()
    if not report.object_key.startswith(tenant_prefix(report.tenant_id)):
        raise LinkInvalid()  # never sign a key outside the owner's prefix
    return s3.presigned_get(bucket, report.object_key, expires_in=expires_in,
                            filename=report.filename)
