"""After a scheduled report is built: e-mail its signed download link to the schedule."""
from __future__ import annotations

import logging

from flask import current_app, url_for
from sqlalchemy.orm import Session

from portal.integrations import smtp
from portal.tenants import mail, reports
from portal.tenants.models import REPORT_KINDS, Report, ReportSchedule, Tenant

log = logging.getLogger(__name__)


def download_link(report: Report, slug: str) -> str:
    """The absolute portal link (with a signed token) to download `report`."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for("tenants.download_report", slug=slug, report_id=report.id,
                       token=reports.download_token(report, emailed=True), _external=True)


def deliver(*, session: Session, report: Report) -> bool:
    """E-mail a finished scheduled report's link; False when there is nothing to send."""
    config = current_app.config
    if report.schedule_id is None or report.status != "succeeded":
        return False
    schedule = session.get(ReportSchedule, report.schedule_id)
    relay = smtp.Relay.from_config(config)
    if schedule is None or relay is None:
        log.info("report %s not mailed: schedule gone or SMTP not configured", report.id)
        return False
    tenant = session.get_one(Tenant, report.tenant_id)  # a report's tenant_id is a foreign key
    title = f"{REPORT_KINDS[report.kind]} report {report.date_from} to {report.date_to}"
    message = mail.report_message(
        relay=relay, to=schedule.email, tenant_name=tenant.name,
        title=title, link=download_link(report, tenant.slug),
        valid_days=max(1, config["TENANTS_EMAIL_LINK_SECONDS"] // 86400))
    smtp.send(message, relay=relay)
    return True
