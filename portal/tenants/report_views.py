"""Report pages: ask for a report, watch it build, download or delete it, schedule it."""
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.db import utcnow
from portal.extensions import db
from portal.integrations import object_store
from portal.integrations.s3 import S3Unavailable
from portal.tenants import dashboard, reports, schedules
from portal.tenants.blueprint import DASHBOARD_USERS, audit_staff_access, bp, tenant_or_404
from portal.tenants.forms import ReportForm, ScheduleForm


def _warehouses(tenant) -> list[str]:
    return dashboard.warehouses(session=db.session, tenant_id=tenant.id, today=utcnow().date())


def _page(tenant, form=None, schedule_form=None, status=200):
    now = utcnow()
    current, archived = reports.list_for(
        session=db.session, tenant_id=tenant.id, now=now,
        retention_days=current_app.config["TENANTS_REPORT_RETENTION_DAYS"])
    if form is None:
        form = ReportForm(formdata=None, date_from=now.date().replace(day=1), date_to=now.date(),
                          warehouses=_warehouses(tenant))
    return render_template(
        "tenants/reports.html", tenant=tenant, form=form, reports=current, archived=archived,
        schedule_form=schedule_form or ScheduleForm(formdata=None),
        schedules=schedules.list_for(session=db.session, tenant_id=tenant.id)), status


@bp.get("/<slug>/reports")
@require_roles(*DASHBOARD_USERS)
def list_reports(slug: str):
    """The tenant's reports (archived past retention), the request form and schedules."""
    tenant = tenant_or_404(slug)
    audit_staff_access(tenant, "reports")
    return _page(tenant)


@bp.post("/<slug>/reports")
@require_roles(*DASHBOARD_USERS)
def request_report(slug: str):
    """Queue a report; the page then shows it building."""
    tenant = tenant_or_404(slug)
    form = ReportForm(warehouses=_warehouses(tenant))
    form.validate()
    errors = reports.validate(kind=form.kind.data, fmt=form.fmt.data,
                              date_from=form.date_from.data, date_to=form.date_to.data,
                              warehouse=form.warehouse.data, today=utcnow().date())
    if form.errors or errors:
        form.add_errors({k: v for k, v in errors.items() if not getattr(form, k).errors})
        return _page(tenant, form=form, status=422)
    report = reports.request(session=db.session, tenant_id=tenant.id, kind=form.kind.data,
                             fmt=form.fmt.data, date_from=form.date_from.data,
                             date_to=form.date_to.data, warehouse=form.warehouse.data,
                             requested_by=current_user.email)
    audit_action("tenants.report_requested", target_type="report", target_id=report.id,
                 tenant_id=tenant.id, details={"kind": report.kind, "fmt": report.fmt,
                                               "from": str(report.date_from),
                                               "to": str(report.date_to)})
    return redirect(url_for("tenants.list_reports", slug=tenant.slug), 303)


@bp.get("/<slug>/reports/<int:report_id>")
@require_roles(*DASHBOARD_USERS)
def report_status(slug: str, report_id: int):
    """One report's row: polled by htmx while it builds, static once done."""
    tenant = tenant_or_404(slug)
    report = reports.get(session=db.session, tenant_id=tenant.id, report_id=report_id)
    if report is None:
        abort(404)
    return render_template("tenants/_report_row.html", tenant=tenant, report=report)


@bp.get("/<slug>/reports/<int:report_id>/download")
@require_roles(*DASHBOARD_USERS)
def download_report(slug: str, report_id: int):
    """Check the signed link and the tenant, then redirect to a fresh pre-signed S3 URL."""
    tenant = tenant_or_404(slug)
    report = reports.get(session=db.session, tenant_id=tenant.id, report_id=report_id)
    if report is None:
        abort(404)
    try:
        reports.check_token(request.args.get("token", ""), tenant_id=tenant.id,
                            report_id=report.id, now=utcnow())
        url = reports.presigned_url(
            report=report, s3=object_store.from_config(current_app.config),
            bucket=current_app.config["S3_REPORTS_BUCKET"],
            expires_in=current_app.config["TENANTS_S3_URL_SECONDS"])
    except reports.LinkExpired:
        abort(410, description="This download link has expired: open the reports page "
                               "for a fresh one.")
    except reports.LinkInvalid:
        abort(404)
    except S3Unavailable:
        abort(503, description="Report storage is unavailable; try again in a minute.")
    audit_staff_access(tenant, f"report {report.id} download")
    return redirect(url, 302)


@bp.post("/<slug>/reports/<int:report_id>/delete")
@require_roles(*DASHBOARD_USERS)
def delete_report(slug: str, report_id: int):
    """Delete a finished report and its file; another tenant's report is a 404."""
    tenant = tenant_or_404(slug)
    try:
        report = reports.delete(session=db.session, tenant_id=tenant.id, report_id=report_id,
                                s3=object_store.from_config(current_app.config),
                                bucket=current_app.config["S3_REPORTS_BUCKET"])
    except reports.StillBuilding:
        abort(409, description="This report is still building: delete it once it is done.")
    except S3Unavailable:
        abort(503, description="Report storage is unavailable, so the report was kept; "
                               "try again in a minute.")
    if report is None:
        abort(404)
    audit_action("tenants.report_deleted", target_type="report", target_id=report_id,
                 tenant_id=tenant.id, details={"kind": report.kind, "fmt": report.fmt,
                                               "from": str(report.date_from),
                                               "to": str(report.date_to),
                                               "object_key": report.object_key})
    return redirect(url_for("tenants.list_reports", slug=tenant.slug), 303)


@bp.post("/<slug>/schedules")
@require_roles(*DASHBOARD_USERS)
def create_schedule(slug: str):
    """Schedule a weekly or monthly report e-mailed to an address."""
    tenant = tenant_or_404(slug)
    form = ScheduleForm()
    form.validate()
    errors = schedules.validate(kind=form.kind.data, fmt=form.fmt.data,
                                cadence=form.cadence.data, email=form.email.data)
    if errors:
        form.add_errors(errors)
        return _page(tenant, schedule_form=form, status=422)
    schedule = schedules.create(session=db.session, tenant_id=tenant.id, kind=form.kind.data,
                                fmt=form.fmt.data, cadence=form.cadence.data,
                                email=form.email.data, created_by=current_user.email,
                                now=utcnow())
    audit_action("tenants.schedule_created", target_type="report_schedule",
                 target_id=schedule.id, tenant_id=tenant.id,
                 details={"kind": schedule.kind, "cadence": schedule.cadence,
                          "email": schedule.email})
    return redirect(url_for("tenants.list_reports", slug=tenant.slug), 303)


@bp.post("/<slug>/schedules/<int:schedule_id>/delete")
@require_roles(*DASHBOARD_USERS)
def delete_schedule(slug: str, schedule_id: int):
    """Stop a scheduled report."""
    tenant = tenant_or_404(slug)
    schedule = schedules.delete(session=db.session, tenant_id=tenant.id,
                                schedule_id=schedule_id)
    if schedule is None:
        abort(404)
    audit_action("tenants.schedule_deleted", target_type="report_schedule",
                 target_id=schedule_id, tenant_id=tenant.id, details={"email": schedule.email})
    return redirect(url_for("tenants.list_reports", slug=tenant.slug), 303)


@bp.app_template_global()
def report_token(report) -> str:
    """A fresh signed download token for a report row."""
    return reports.download_token(report)
