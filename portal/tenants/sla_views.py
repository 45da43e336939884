"""SLA report pages: a tenant's monthly SLA reports and their PDF and CSV downloads.

Tenant viewers see their own tenant's reports, internal staff any tenant's; every answer
is marked no-store because it carries one tenant's figures.
"""
from flask import abort, current_app, make_response, render_template

from portal.auth.access import require_roles
from portal.extensions import db
from portal.integrations import object_store
from portal.integrations.s3 import S3Unavailable
from portal.tenants import sla_report_runs
from portal.tenants.blueprint import STAFF, audit_staff_access, bp, tenant_or_404

VIEWERS = ("tenant_viewer", *STAFF)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<slug>/sla")
@require_roles(*VIEWERS)
def sla_reports(slug: str):
    """The tenant's monthly SLA reports, newest first."""
    tenant = tenant_or_404(slug)
    audit_staff_access(tenant, "sla reports")
    rows = sla_report_runs.list_for(session=db.session, tenant_id=tenant.id)
    return _no_store(make_response(render_template("tenants/sla_reports.html", tenant=tenant,
                                                   reports=rows)))


@bp.get("/<slug>/sla/<int:report_id>.<any(pdf, csv):fmt>")
@require_roles(*VIEWERS)
def download_sla_report(slug: str, report_id: int, fmt: str):
    """One SLA report's PDF or CSV, read from the reports store."""
    tenant = tenant_or_404(slug)
    report = sla_report_runs.get(session=db.session, tenant_id=tenant.id, report_id=report_id)
    if report is None:
        abort(404)
    try:
        data = object_store.from_config(current_app.config).read(
            current_app.config["S3_REPORTS_BUCKET"],
            report.pdf_key if fmt == "pdf" else report.csv_key)
    except S3Unavailable:
        abort(503, description="Report storage is unavailable; try again in a minute.")
    audit_staff_access(tenant, f"sla report {report.id} {fmt}")
    response = make_response(data)
    response.headers["Content-Type"] = sla_report_runs.CONTENT_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{report.filename(fmt)}"'
    return _no_store(response)
