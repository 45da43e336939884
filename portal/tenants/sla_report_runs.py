"""Monthly SLA reports as stored rows and files: build once per tenant and month (the
table's unique key decides between two builders), keep the files in the reports store,
e-mail them to the tenant's report recipients through the portal's SMTP client."""
from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal.integrations import smtp
from portal.tenants import reports, schedules, sla_report_files
from portal.tenants.models import Tenant
from portal.tenants.sla_report import SlaMonth
from portal.tenants.sla_report_models import SlaReport

CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv"}


def object_key(*, tenant_id: int, month: date, fmt: str) -> str:
    """Where one file of a tenant's SLA report lives, inside the tenant's prefix."""
    return f"{reports.tenant_prefix(tenant_id)}sla/{month:%Y-%m}/sla-{month:%Y-%m}.{fmt}"


def get(*, session: Session, tenant_id: int, report_id: int) -> SlaReport | None:
    """One SLA report of this tenant, or None (also for another tenant's id)."""
    return session.scalar(select(SlaReport).where(SlaReport.id == report_id,
                                                  SlaReport.tenant_id == tenant_id))


def exists(*, session: Session, tenant_id: int, month: date) -> bool:
    """True when the tenant's report of `month` has been built."""
    return session.scalar(select(SlaReport.id).where(
        SlaReport.tenant_id == tenant_id, SlaReport.month == month)) is not None


def list_for(*, session: Session, tenant_id: int) -> list[SlaReport]:
    """The tenant's SLA reports, newest month first."""
    return list(session.scalars(select(SlaReport).where(SlaReport.tenant_id == tenant_id)
                                .order_by(SlaReport.month.desc())))


def store_files(*, store, bucket: str, tenant_id: int, sla: SlaMonth,
                generated_at: datetime) -> dict[str, str]:
    """Write the PDF and CSV to the reports store; fmt -> object key. Keys are fixed per
    tenant and month, so a builder that loses the race only rewrites the same files."""
    store.ensure_bucket(bucket)
    files = {"pdf": sla_report_files.pdf_bytes(sla, generated_at=generated_at),
             "csv": sla_report_files.csv_bytes(sla)}
    keys = {}
    for fmt, data in files.items():
        key = object_key(tenant_id=tenant_id, month=sla.month, fmt=fmt)
        store.upload_stream(bucket, key, [data], content_type=CONTENT_TYPES[fmt])
        keys[fmt] = key
    return keys


def record(*, session: Session, tenant_id: int, sla: SlaMonth,
           keys: dict[str, str]) -> SlaReport | None:
    """Add the month's report row; None when one already exists for the tenant and month."""
    new_id = session.scalar(insert(SlaReport).values(
        tenant_id=tenant_id, month=sla.month, availability=sla.availability_percent,
        downtime_minutes=round(float(sla.downtime_minutes), 2), target=sla.target,
        met=sla.met, credit_percent=sla.credit_percent, credit_cents=sla.credit_cents,
        incidents=len(sla.incidents), pdf_key=keys["pdf"], csv_key=keys["csv"],
    ).on_conflict_do_nothing(constraint="uq_tenants_sla_reports_tenant_month")
        .returning(SlaReport.id))
    return None if new_id is None else session.get(SlaReport, new_id)


def unmailed(*, session: Session, month: date) -> list[SlaReport]:
    """The month's reports not yet e-mailed (a failed delivery is retried by the next run)."""
    return list(session.scalars(select(SlaReport).where(
        SlaReport.month == month, SlaReport.emailed_at.is_(None)).order_by(SlaReport.id)))


def recipients(*, session: Session, tenant_id: int) -> list[str]:
    """The tenant's report recipients: the addresses of its report schedules."""
    return list(dict.fromkeys(s.email for s in schedules.list_for(session=session,
                                                                  tenant_id=tenant_id)))


def _page_link(slug: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for("tenants.sla_reports", slug=slug, _external=True)


def message(*, relay: smtp.Relay, to: list[str], tenant: Tenant, report: SlaReport,
            files: dict[str, bytes]) -> EmailMessage:
    """The e-mail carrying one SLA report, its PDF and CSV attached."""
    result = "met" if report.met else "missed"
    mail = smtp.message(
        relay=relay, to=", ".join(to),
        subject=f"{tenant.name}: SLA report {report.month:%B %Y} ({result})",
        body=(f"The SLA report of {tenant.name} for {report.month:%B %Y} is attached "
              f"(PDF and CSV).\n\nAvailability target {report.target.normalize():f}%: "
              f"{result}.\n\nAll SLA reports (sign-in required):\n"
              f"{_page_link(tenant.slug)}\n\nMeridian Platform Portal\n"))
    for fmt, data in files.items():
        maintype, subtype = CONTENT_TYPES[fmt].split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype,
                            filename=report.filename(fmt))
    return mail


def mark_emailed(*, session: Session, report_id: int, at: datetime) -> None:
    """Remember that the report went out, so later runs do not send it again."""
    report = session.get(SlaReport, report_id)
    if report is not None:
        report.emailed_at = at
        session.flush()
