"""Tenant pages: the list for staff, each tenant's page and its dashboard.

Report pages are in report_views and sla_views, on the same Blueprint.
"""
from flask import abort, render_template, request
from flask_login import current_user

from portal.auth.access import require_roles
from portal.db import utcnow
from portal.extensions import db
from portal.rendering import page_or_fragment, wants_fragment
from portal.tenants import (
    billing_usage,
    charts,
    dashboard,
    reports,
    rollups,
    service,
    tables,
)
from portal.tenants.blueprint import (
    DASHBOARD_USERS,
    STAFF,
    audit_staff_access,
    bp,
    tenant_or_404,
)
from portal.tenants.models import PLANS


@bp.get("/")
@require_roles(*STAFF)
def index():
    """All tenants, filterable by plan."""
    plan = request.args.get("plan") or None
    if plan is not None and plan not in PLANS:
        abort(400, description=f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    tenants = service.list_all(session=db.session, plan=plan)
    return page_or_fragment("tenants/index.html", "tenants/_rows.html", tenants=tenants,
                            plan=plan, plans=PLANS)


@bp.get("/<slug>")
@require_roles("tenant_viewer", *STAFF)
def show(slug: str):
    """One tenant's page; another tenant's slug is a 404 for a tenant viewer."""
    tenant = service.get_by_slug(session=db.session, slug=slug)
    if tenant is None:
        abort(404)
    return render_template("tenants/show.html", tenant=tenant,
                           own=current_user.tenant_id == tenant.id,
                           may_open_dashboard=current_user.has_role(*DASHBOARD_USERS))


@bp.get("/<slug>/dashboard")
@require_roles(*DASHBOARD_USERS)
def show_dashboard(slug: str):
    """Orders, fulfillment, stock and SLA of one tenant; filters swap the panels via htmx.

    Unusable filters are a 422: an htmx request gets only the filter form back with the
    messages beside the fields (the charts on screen stay), a page shows the default range.
    """
    tenant = tenant_or_404(slug)
    today = utcnow().date()
    warehouses = dashboard.warehouses(session=db.session, tenant_id=tenant.id, today=today)
    filters, form = dashboard.filter_form(request.args, today=today, warehouses=warehouses)
    errors = form["errors"]
    if errors and wants_fragment():
        return (render_template("tenants/_filters.html", tenant=tenant, filters=filters,
                                form=form), 422,
                {"HX-Retarget": "#dashboard-filters", "HX-Reswap": "outerHTML",
                 "HX-Push-Url": "false"})
    data = dashboard.aggregates(session=db.session, tenant_id=tenant.id, filters=filters,
                                today=today)
    previous = None
    if filters.compare:
        previous = dashboard.aggregates(session=db.session, tenant_id=tenant.id,
                                        filters=filters.previous(), today=today)
    audit_staff_access(tenant, "dashboard")
    return page_or_fragment(
        "tenants/dashboard.html", "tenants/_dashboard.html", http_status=422 if errors else 200,
        tenant=tenant, filters=filters, form=form, data=data,
        charts=charts.all_charts(data, float(tenant.sla_target), previous),
        deltas=dashboard.deltas(data, previous) if previous else None,
        tables=tables.per_day(data),
        as_of=rollups.data_as_of(session=db.session),
        billing=billing_usage.usage_to_date(session=db.session, tenant_id=tenant.id))


@bp.app_template_global()
def tenants_home_panel() -> dict | None:
    """A tenant viewer's own tenant, latest reports and SLA this month (home page panel)."""
    tenant = current_user.tenant if current_user.is_authenticated else None
    if tenant is None or not current_user.has_role("tenant_viewer"):
        return None
    return {"tenant": tenant,
            "reports": reports.latest(session=db.session, tenant_id=tenant.id),
            "sla": dashboard.sla_this_month(session=db.session, tenant_id=tenant.id,
                                            today=utcnow().date())}
