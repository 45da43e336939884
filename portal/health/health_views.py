"""The live health fragment polled by the catalog's service page."""
from __future__ import annotations

from flask import abort, render_template

from portal.auth.access import require_roles
from portal.extensions import db
from portal.health import service as health
from portal.health.blueprint import STAFF, bp


@bp.get("/services/<slug>")
@require_roles(*STAFF)
def service_panel(slug: str):
    """Readiness and RED numbers of one service (an htmx fragment; a pure read)."""
    state = health.live_health(session=db.session, slug=slug)
    if state is None:
        abort(404, description="This service has no base URL to probe.")
    return render_template("health/_live.html", state=state)


@bp.app_template_global()
def health_probed(service) -> bool:
    """Whether the catalog page should show the live health panel for `service`."""
    return bool(getattr(service, "base_url", None))
