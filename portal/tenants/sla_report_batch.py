"""Build and e-mail one month's SLA reports for every tenant (the monthly job's body).

Each tenant is read in its own short transaction, its files are written with no
transaction open, and the row is added in another: the unique key on tenant and month
makes a second run (or a concurrent one) a no-op for tenants already done. E-mail goes
out after the rows are committed and is remembered per report, so a failed delivery is
retried by the next run and a delivered one is never sent twice by sequential runs.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from portal.extensions import db
from portal.integrations import object_store, smtp
from portal.integrations.s3 import S3Unavailable
from portal.integrations.smtp import MailUnavailable
from portal.tenants import service, sla_report, sla_report_runs
from portal.tenants.models import Tenant
from portal.tenants.sla_report_models import SlaReport

log = logging.getLogger(__name__)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass
class BatchResult:
    built: int = 0
    skipped: int = 0
    failed: int = 0
    mailed: int = 0


def parse_month(text: str) -> date:
    """'2026-11' -> date(2026, 11, 1); anything else is a ValueError with a message."""
    match = MONTH.match(text or "")
    if not match or not 2000 <= int(match[1]) <= 2999:
        raise ValueError(f"month must look like 2026-11, not {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def build_one(*, tenant_id: int, inputs: sla_report.MonthInputs, store, bucket: str,
              now: datetime) -> bool:
    """Build one tenant's report of `inputs.month`; False when it existed already."""
    with db.session_scope() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or sla_report_runs.exists(session=session, tenant_id=tenant_id,
                                                    month=inputs.month):
            return False
        sla = sla_report.compute(session=session, tenant=tenant, inputs=inputs)
    keys = sla_report_runs.store_files(store=store, bucket=bucket, tenant_id=tenant_id,
                                       sla=sla, generated_at=now)
    with db.session_scope() as session:
        return sla_report_runs.record(session=session, tenant_id=tenant_id, sla=sla,
                                      keys=keys) is not None


def mail_one(*, report_id: int, relay: smtp.Relay, store, bucket: str, now: datetime) -> bool:
    """E-mail one report to its tenant's recipients; False when it has none."""
    with db.session_scope() as session:
        # run() lists the report just before, and its tenant_id is a foreign key.
        report = session.get_one(SlaReport, report_id)
        tenant = session.get_one(Tenant, report.tenant_id)
        to = sla_report_runs.recipients(session=session, tenant_id=tenant.id)
        if not to:
            return False
        files = {fmt: store.read(bucket, key)
                 for fmt, key in (("pdf", report.pdf_key), ("csv", report.csv_key))}
        mail = sla_report_runs.message(relay=relay, to=to, tenant=tenant, report=report,
                                       files=files)
    smtp.send(mail, relay=relay)
    with db.session_scope() as session:
        sla_report_runs.mark_emailed(session=session, report_id=report_id, at=now)
    return True


def run(*, month: date, now: datetime) -> BatchResult:
    """Build every tenant's missing report of `month`, then e-mail the unsent ones."""
    config = current_app.config
    store, bucket = object_store.from_config(config), config["S3_REPORTS_BUCKET"]
    result = BatchResult()
    with db.session_scope() as session:
        inputs = sla_report.month_inputs(session=session, month=month, now=now)
        tenant_ids = [t.id for t in service.list_all(session=session)]
    for tenant_id in tenant_ids:
        try:
            built = build_one(tenant_id=tenant_id, inputs=inputs, store=store, bucket=bucket,
                              now=now)
        except S3Unavailable as exc:
            log.warning("SLA report of tenant %s for %s not stored: %s", tenant_id, month, exc)
            result.failed += 1
            continue
        result.built += built
        result.skipped += not built
    relay = smtp.Relay.from_config(config)
    if relay is None:
        return result
    with db.session_scope() as session:
        pending = [r.id for r in sla_report_runs.unmailed(session=session, month=month)]
    for report_id in pending:
        try:
            result.mailed += mail_one(report_id=report_id, relay=relay, store=store,
                                      bucket=bucket, now=now)
        except (MailUnavailable, S3Unavailable) as exc:
            log.warning("SLA report %s not mailed: %s", report_id, exc)
    return result
