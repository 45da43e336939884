"""Tenant pages: the list for staff, and each tenant's own page."""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from portal.auth.access import require_roles
from portal.extensions import db
from portal.rendering import page_or_fragment
from portal.tenants import service
from portal.tenants.models import PLANS

bp = Blueprint("tenants", __name__, url_prefix="/tenants")


@bp.get("/")
@require_roles("manager", "oncall", "developer")
def index():
    """All tenants, filterable by plan."""
    plan = request.args.get("plan") or None
    if plan is not None and plan not in PLANS:
        abort(400, description=f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    tenants = service.list_all(session=db.session, plan=plan)
    return page_or_fragment("tenants/index.html", "tenants/_rows.html", tenants=tenants,
                            plan=plan, plans=PLANS)


@bp.get("/<slug>")
@require_roles("tenant_viewer", "manager", "oncall", "developer")
def show(slug: str):
    """One tenant's page; another tenant's slug is a 404 for a tenant viewer."""
    tenant = service.get_by_slug(session=db.session, slug=slug)
    if tenant is None:
        abort(404)
    return render_template("tenants/show.html", tenant=tenant,
                           own=current_user.tenant_id == tenant.id)
