"""The home page: one section per role the user holds."""
from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.access import require_roles
from portal.catalog import service as catalog
from portal.catalog import team_members
from portal.extensions import db
from portal.home import now, overview
from portal.home.blueprint import bp
from portal.oncall import service as oncall_service


@bp.get("/")
@require_roles("tenant_viewer", "developer", "oncall", "manager")
def index():
    """What each role needs first on day one, with links into its areas."""
    user = current_user
    context = {"dashboards": catalog.dashboard_links(),
               "view_functions": current_app.view_functions}
    if user.is_internal:
        # The overview's one statement also carries the service and per-plan tenant counts
        # and the user's teams.
        summary = context["overview"] = overview.overview(session=db.session, user_id=user.id)
        context["service_count"] = summary.fleet_total
        context["tenant_counts"] = summary.tenant_counts
        context["my_services"] = team_members.services_of_teams(
            session=db.session, team_slugs=summary.team_slugs)
    if "my_services" not in context:
        context["my_services"] = []
    context["now"] = _now(user, context["my_services"])
    # The panels below the first screen show what its sections have read already (memoized
    # per request), rather than reading it again.
    if user.has_role("oncall", "manager"):
        context["home_incidents"] = now.open_incidents(session=db.session, user=user)
    if user.has_role("developer"):
        context["home_jobs"] = now.home_jobs(session=db.session, user=user)
    if user.has_role("admin"):
        context["recent_audit"] = now.recent_audit(session=db.session, user=user)
    return render_template("home/index.html", **context)


@bp.get("/my-tenant")
@require_roles("tenant_viewer")
def my_tenant():
    """Shortcut to the signed-in tenant viewer's own tenant page."""
    return redirect(url_for("tenants.show", slug=current_user.tenant.slug))


def _now(user, my_services) -> dict:
    """The "needs you now" sections of the roles the user holds, theirs first (admins get
    the manager's); a rostered person without the on-call role gets on-call's last."""
    held, session = set(user.roles), db.session
    sections = {}
    if "oncall" in held:
        sections["oncall"] = now.for_oncall(session=session, user=user, my_services=my_services)
    if "developer" in held:
        sections["developer"] = now.for_developer(session=session, user=user, my_services=my_services)
    if held & {"manager", "admin"}:
        sections["manager"] = now.for_manager(session=session, user=user,
                                              my_services=my_services)
    if "tenant_viewer" in held and user.tenant is not None:
        sections["tenant"] = now.for_tenant(session=session, tenant=user.tenant)
    if "oncall" not in held and user.is_internal and oncall_service.may_respond(
            session=session, user=user):
        sections["oncall"] = now.for_oncall(session=session, user=user, my_services=my_services)
    return sections
