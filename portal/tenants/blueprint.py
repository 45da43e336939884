"""The tenants Blueprint and the one tenant lookup every tenant page goes through."""
from flask import Blueprint, abort, request
from flask_login import current_user

from portal.auth.access import audit_action
from portal.extensions import db
from portal.tenants import service
from portal.tenants.models import Tenant

bp = Blueprint("tenants", __name__, url_prefix="/tenants")
STAFF = ("manager", "oncall", "developer")
DASHBOARD_USERS = ("tenant_viewer", "manager")  # admins pass every internal role check


def tenant_or_404(slug: str) -> Tenant:
    """The tenant of `slug` as the signed-in user may see it, or 404.

    The session is already scoped for tenant viewers (portal.db); the explicit comparison
    is a second lock on the same door.
    """
    tenant = service.get_by_slug(session=db.session, slug=slug)
    if tenant is None or current_user.tenant_id not in (None, tenant.id):
        abort(404)
    return tenant


def audit_staff_access(tenant: Tenant, what: str) -> None:
    """Record an internal user's look at a tenant's data (the one sanctioned GET write)."""
    if current_user.is_internal:
        audit_action("tenants.data_viewed", target_type="tenant", target_id=tenant.id,
                     tenant_id=tenant.id, details={"what": what, "path": request.full_path})
